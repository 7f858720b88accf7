"""How luutru wires destruction to its index and caches: shared by the CLI and the web console.

``policies.destruction.execute`` takes callbacks for the parts it cannot know: the search index
(``purge_index``) and derivatives such as the reading-room page images (``purge_derivatives``).
Both are built here once, so ``luutru disposal execute`` and the console's "execute" button
destroy exactly the same things (ARCHITECTURE invariant 4: gone from every index and cache).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.agency_code import file_code_prefixes
from archive.catalog import Agency, DisposalCase, DisposalItem, Document, Dossier, Package, StoredFile, User
from archive.events import Agent
from archive.fixity.hashing import sha256_file
from archive.vntime import VN_TZ
from ingest.service import INTERNAL_SOURCE, IngestResult
from luutru import pages
from luutru.config import Settings
from luutru.services import Services
from policies.destruction import ExecutionReport, execute
from policies.disposal_documents import disposal_file_bundle

Purge = Callable[[Sequence[int]], None]


def page_cache_root(settings: Settings) -> Path:
    """The one page-image cache (reading room, console, previews): ``<data_dir>/cache/pages/<sha256>/``."""
    return pages.cache_root(settings.data_dir)


def papers_dir(settings: Settings, case_code: str) -> Path:
    """Where a case's papers (biên bản, danh mục, quyết định) are written."""
    return settings.data_dir / "disposal" / case_code


def documents_by_dossier(session: Session, case: DisposalCase) -> dict[int, list[int]]:
    """Document ids of every dossier the case lists, by dossier id."""
    items = select(DisposalItem.dossier_id).where(DisposalItem.case_id == case.id)
    docs: dict[int, list[int]] = {}
    for doc_id, dossier_id in session.execute(
        select(Document.id, Document.dossier_id).where(Document.dossier_id.in_(items))
    ):
        docs.setdefault(dossier_id, []).append(doc_id)
    return docs


def hashes_by_dossier(session: Session, case: DisposalCase) -> dict[int, set[str]]:
    """SHA-256 of every stored file of the case's dossiers (the page cache is keyed by them)."""
    items = select(DisposalItem.dossier_id).where(DisposalItem.case_id == case.id)
    out: dict[int, set[str]] = {}
    query = (
        select(Package.dossier_id, StoredFile.sha256)
        .join(StoredFile, StoredFile.package_id == Package.id)
        .where(Package.dossier_id.in_(items))
    )
    for dossier_id, sha in session.execute(query):
        if dossier_id is not None:
            out.setdefault(dossier_id, set()).add(sha)
    return out


def index_purger(settings: Settings, docs_by_dossier: dict[int, list[int]]) -> Purge:
    """Delete the dossiers and their documents from the embedded FTS5 index (Elasticsearch: outbox)."""
    path = settings.search_db_path

    def purge(dossier_ids: Sequence[int]) -> None:
        if settings.search_backend != "fts5" or not path.exists():
            return
        from search.index.fts5 import Fts5Index

        index = Fts5Index(path)
        try:
            ids = [f"dossier:{d}" for d in dossier_ids]
            ids += [f"doc:{doc}" for d in dossier_ids for doc in docs_by_dossier.get(d, [])]
            index.delete(ids)
        finally:
            index.close()

    return purge


def thumbnail_cache_root(settings: Settings) -> Path:
    """The console's own thumbnail cache before ``luutru.pages``; ``pages.forget`` still sweeps it."""
    return settings.data_dir / "cache" / pages.LEGACY_THUMBS


def cache_purger(settings: Settings, hashes: dict[int, set[str]]) -> Purge:
    """Forget every cached page image of the dossiers' files, whichever screen made it (idempotent)."""
    root = page_cache_root(settings)

    def purge(dossier_ids: Sequence[int]) -> None:
        pages.forget(root, (sha for d in dossier_ids for sha in hashes.get(d, set())))

    return purge


@dataclass
class Progress:
    """What the destruction did, step by step: (dossier code, replica name)."""

    steps: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, dossier_code: str, replica: str) -> None:
        self.steps.append((dossier_code, replica))


def execute_case(
    services: Services, case: DisposalCase, actor: User, today: date, progress: Progress | None = None
) -> tuple[ExecutionReport, list[Path]]:
    """Destroy the case's dossiers on every replica, index and cache; then write its papers.

    ``case`` and ``actor`` may come from a closed session (only their ids are used).
    Raises whatever ``policies.destruction.execute`` raises (RoleRequired, InvalidTransition,
    LegalHoldActive, DestructionIncomplete).
    """
    settings = services.settings
    with services.session() as s:
        docs = documents_by_dossier(s, case)
        hashes = hashes_by_dossier(s, case)
    report = execute(
        services.sessions,
        case,
        actor,
        services.replicas,
        index_purger(settings, docs),
        today,
        purge_derivatives=cache_purger(settings, hashes),
        after_replica=progress,
    )
    with services.sessions.begin() as s:
        fresh = s.get(DisposalCase, case.id)
        assert fresh is not None
        paths = disposal_file_bundle(s, fresh, papers_dir(settings, fresh.code))
    # execute() raised unless every dossier is gone everywhere: the papers can be archived now
    archive_papers(services, case.id, paths, actor_name=actor.username)
    return report, paths


PAPER_TYPES = (("bien-ban", "20", "Biên bản hủy tài liệu"), ("quyet-dinh", "02", "Quyết định hủy tài liệu"))


def archive_papers(
    services: Services, case_id: int, paths: Sequence[Path], *, actor_name: str
) -> IngestResult:
    """Archive the case's papers as a permanent dossier of their own (hồ sơ về việc hủy tài liệu).

    The papers are the evidence of a lawful destruction; they are kept permanently (maintenance
    01) and go through the same ingest as any dossier, except that the archive's own documents
    carry no agency signature. Re-running for the same papers returns the same submission.
    """
    with services.session() as s:
        case = s.get(DisposalCase, case_id)
        assert case is not None
        item = s.scalars(select(DisposalItem).where(DisposalItem.case_id == case_id)).first()
        dossier = s.get(Dossier, item.dossier_id) if item else None
        agency = dossier.agency if dossier else s.scalars(select(Agency).order_by(Agency.id)).first()
        assert agency is not None
        agency_code, year = agency.code, (case.decided_at or case.created_at).year
        case_code, case_title = case.code, case.title
        start = case.created_at.astimezone(VN_TZ).date()
        end = (case.executed_at or case.decided_at or case.created_at).astimezone(VN_TZ).date()
    folder = services.settings.staging_path / f"papers-{case_code}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "giay-to").mkdir(parents=True)
    documents = []
    prefix = file_code_prefixes(agency_code)[-1]
    file_code = f"{prefix}.{year}.HUY.{case_code}"
    for n, path in enumerate(paths, start=1):
        target = folder / "giay-to" / path.name
        shutil.copyfile(path, target)
        type_code, subject = next(
            ((t, label) for key, t, label in PAPER_TYPES if key in path.name),
            ("32", f"Danh mục tài liệu hết thời hạn lưu trữ ({path.suffix.lstrip('.').upper()})"),
        )
        documents.append(
            {
                "file": f"giay-to/{path.name}", "sha256": sha256_file(target)[0], "docCode": f"{file_code}.{n:07d}",
                "typeName": type_code, "issuedDate": end.strftime("%d/%m/%Y"), "organName": agency.name,
                "subject": f"{subject} — {case_code}", "language": "01", "mode": "02", "confidenceLevel": "01",
            }
        )  # fmt: skip
    metadata = {
        "profile": "tt05-2025",
        "dossier": {
            "organId": agency_code, "fileCode": file_code,
            "title": f"Hồ sơ về việc hủy tài liệu hết thời hạn lưu trữ: {case_title}",
            "maintenance": "01", "mode": "02", "language": "01",
            "startDate": start.strftime("%d/%m/%Y"), "endDate": end.strftime("%d/%m/%Y"),
            "totalDoc": len(documents), "riskRecovery": "0",
            "description": f"Hồ sơ hủy {case_code}, lập tự động bởi hệ thống; người thực hiện: {actor_name}",
        },
        "documents": documents,
    }  # fmt: skip
    (folder / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    try:
        return services.ingest.ingest(
            folder, agency_code, actor=Agent.person(actor_name), source_kind=INTERNAL_SOURCE
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "Progress",
    "cache_purger",
    "documents_by_dossier",
    "execute_case",
    "hashes_by_dossier",
    "index_purger",
    "page_cache_root",
    "papers_dir",
    "thumbnail_cache_root",
]
