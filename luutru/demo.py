"""Demo archive: three agencies, one user per role, an API token, and real sample dossiers ingested."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.agencies import create_agency
from archive.catalog import Agency, Role, TokenScope, User
from archive.events import Agent
from ingest.service import RECEIVING, BatchSource
from luutru import accounts
from luutru.config import Settings
from luutru.samples.clamav import write_test_database
from luutru.services import Services

DEMO_PASSWORD = "luutru-demo-2025"  # printed by `luutru demo`; demo data directories only

DEMO_AGENCIES = (
    ("000.00.00.H54", "Ủy ban nhân dân tỉnh Thái Bình", "UBND"),
    ("000.00.07.H54", "Sở Nội vụ tỉnh Thái Bình", "SNV"),
    ("000.00.14.H54", "Sở Tài chính tỉnh Thái Bình", "STC"),
)

DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...], str | None], ...] = (
    ("admin", "Quản trị hệ thống", (Role.ADMINISTRATOR,), None),
    ("luutru", "Trần Thị Bình (lưu trữ viên)", (Role.ARCHIVIST,), None),
    ("hoidong1", "Lê Văn Cường (Chủ tịch Hội đồng)", (Role.COUNCIL_MEMBER,), None),
    ("hoidong2", "Phạm Thị Dung (Ủy viên)", (Role.COUNCIL_MEMBER,), None),
    ("hoidong3", "Hoàng Văn Em (Ủy viên)", (Role.COUNCIL_MEMBER,), None),
    ("giamdoc", "Nguyễn Văn Phúc (Giám đốc)", (Role.DECIDER,), None),
    ("kiemtra", "Vũ Thị Giang (kiểm tra)", (Role.AUDITOR,), None),
    ("docgia", "Đỗ Minh Hải (độc giả)", (Role.RESEARCHER,), None),
    ("vanthu", "Bùi Thị Lan (văn thư)", (Role.AGENCY_OFFICER,), "000.00.07.H54"),
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    agencies: int
    users: int
    token: str | None  # API token secret for the demo agency, shown once


def seed(session: Session) -> DemoSeed:
    """Create the demo agencies, users and an API token; idempotent (existing rows are kept)."""
    by_code: dict[str, Agency] = {}
    parent: Agency | None = None
    for code, name, short in DEMO_AGENCIES:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            agency = create_agency(session, code, name, short_name=short, parent=parent)
        by_code[code] = agency
        parent = parent or agency
    users = 0
    for username, full_name, roles, agency_code in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            agency = by_code[agency_code] if agency_code else None
            accounts.create_user(session, username, full_name, DEMO_PASSWORD, roles, agency=agency)
            users += 1
    token = None
    if users:
        scopes = (TokenScope.SUBMIT, TokenScope.READ_OWN, TokenScope.SEARCH)
        token = accounts.issue_token(session, by_code["000.00.07.H54"], "demo", scopes).secret
    return DemoSeed(agencies=len(by_code), users=users, token=token)


def install_demo_signatures(settings: Settings) -> Path | None:
    """Give the demo a malware scan that really runs: the EICAR-only TEST database in ``<data_dir>/clamav``.

    Without signatures nothing is scanned and every sample dossier would wait for review
    (``malware.not_scanned`` is a warning). Returns the database written, or None when the
    operator named a database (``clamav_database``), which is then used as it is.
    """
    if settings.clamav_database is not None:
        return None
    return write_test_database(settings.data_dir / "clamav")


def ingest_corpus(
    services: Services, limit: int | None = None, progress: Callable[[str], None] | None = None
) -> Counter[str]:
    """Build (once) and ingest the sample dossiers; return how many ended in each outcome.

    The sample PDFs are signed by a generated TEST hierarchy whose root is imported as the
    demo's trust anchor, so their signatures validate in this data directory and nowhere else.
    Call :func:`install_demo_signatures` before ``services.ingest`` is first used.
    """
    from luutru.samples.corpus import SPECS, build_corpus
    from luutru.samples.pki import TestPki

    data = services.settings.data_dir
    source = data / "demo-source"
    wanted = len(SPECS) if limit is None else min(limit, len(SPECS))
    marker = source / f".complete-{wanted}"
    if not marker.exists():
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(data / "demo-pki", ignore_errors=True)
        pki = TestPki.create(data / "demo-pki")
        services.settings.trust_path.mkdir(parents=True, exist_ok=True)
        shutil.copy(pki.root, services.settings.trust_path / "demo-test-root.pem")
        build_corpus(source, pki, limit=wanted, progress=progress)
        marker.touch()
    outcomes: Counter[str] = Counter()
    folders = sorted(p for p in source.iterdir() if p.is_dir())
    from luutru.samples.corpus import AGENCIES

    officer = Agent.person("vanthu")
    sources = [BatchSource(folder, _agency_of(folder, AGENCIES), officer) for folder in folders]
    shown = -1

    def step(index: int, label: str) -> None:
        nonlocal shown
        if progress and label != RECEIVING and index > shown:  # one line per dossier, as it is checked
            shown = index
            progress(f"ingest {folders[index].name}")

    # ingest_many checks the next dossier's files while it packages this one
    with closing(services.ingest.ingest_many(sources, source_kind="demo", progress=step)) as items:
        for item in items:
            if item.error is not None:  # the demo's own corpus must go in: stop as before
                raise item.error
            assert item.result is not None
            outcomes[item.result.status] += 1
    if progress:
        progress("chỉ mục tìm kiếm / search index (OCR)")
    services.search.drain_all()
    return outcomes


def _agency_of(folder: Path, agencies: dict[str, tuple[str, str]]) -> str:
    import json

    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    code = str(meta["dossier"]["organId"])
    assert code in agencies
    return code
