"""Accession: an AIP on disk becomes a holding — on every replica first, then in the catalog.

Invariant 2: the catalog shows an AIP only once every replica holds it whole. The replicas are
written first (each put is atomic and idempotent), verified against the AIP's manifest, and only
then do the catalog rows, the events and the search-outbox entries commit in one transaction.
A crash before that commit leaves the catalog as it was; running the accession again re-puts
(nothing to write: identical content) and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import (
    AccessMode,
    CopyStatus,
    Document,
    Dossier,
    EventType,
    FileCopy,
    FileRole,
    IndexOutbox,
    Package,
    PackageKind,
    PackageState,
    StoredFile,
    Submission,
    SubmissionState,
)
from archive.errors import Conflict, ReplicaWriteFailed
from archive.faults import checkpoint
from archive.storage import Replica
from archive.vntime import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file of the AIP bag (path relative to the bag root) with what its bytes must hash to."""

    path: str
    size: int
    sha256: str
    role: FileRole = FileRole.METADATA
    document_ordinal: int | None = None
    mime: str | None = None
    puid: str | None = None
    format_name: str | None = None
    format_version: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DocumentRecord:  # tài liệu, as the catalog will hold it
    ordinal: int
    doc_code: str
    type_code: str | None = None
    type_name: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    organ_name: str | None = None
    subject: str | None = None
    page_count: int | None = None
    confidence_level: str | None = None
    access_mode: AccessMode = AccessMode.CONDITIONAL
    descriptive: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DossierRecord:  # hồ sơ
    code: str
    title: str
    profile: str
    agency_id: int
    maintenance: str | None = None
    retention_years: int | None = None
    retention_text: str | None = None
    access_mode: AccessMode = AccessMode.CONDITIONAL
    language: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    descriptive: Mapping[str, Any] = field(default_factory=dict)
    documents: Sequence[DocumentRecord] = ()


@dataclass(frozen=True, slots=True)
class AccessionRequest:
    aip_dir: Path
    aip_uuid: str
    version: int
    files: Sequence[FileEntry]
    dossier: DossierRecord
    submission_id: str | None = None
    actor: events.Agent = events.SYSTEM
    reason: str = "ingest"


def storage_key(aip_uuid: str, version: int) -> str:
    return f"aip/{aip_uuid}/v{version:04d}"


def write_replicas(
    replicas: Sequence[Replica],
    request: AccessionRequest,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Put the AIP on every replica at once and check each copy against the manifest; raise on any gap.

    The replicas are written in parallel (one thread each: the kernel copies and ``hashlib``
    release the GIL), so a large AIP costs the slowest replica, not their sum. The AIP
    directory is the ingest's own and is deleted after the commit, so the first replica may
    take its files instead of copying them (hard links on the same file system); the others
    copy, which keeps every replica's bytes its own.
    """
    key = storage_key(request.aip_uuid, request.version)
    expected = {f"{key}/{f.path}": (f.size, f.sha256) for f in request.files}

    def put(n: int, replica: Replica) -> None:
        if progress:
            progress(f"replica {replica.name}")
        stored = replica.put_package(request.aip_dir, key, source_disposable=n == 0)
        got = {o.key: (o.size, o.sha256) for o in stored}
        if got != expected:
            missing = sorted(set(expected) - set(got))[:5]
            wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])[:5]
            log.error("replica does not hold the AIP whole", extra={"replica": replica.name, "aip": key})
            raise ReplicaWriteFailed(replica.name, f"{key} (missing {missing}, differing {wrong})")

    with ThreadPoolExecutor(max_workers=max(1, len(replicas)), thread_name_prefix="replica") as pool:
        futures = [pool.submit(put, n, replica) for n, replica in enumerate(replicas)]
        failure: BaseException | None = None
        for done, future in enumerate(as_completed(futures), start=1):
            exc = future.exception()
            if exc is not None:
                failure = failure or exc
                continue
            if failure is None:
                checkpoint(f"accession.after_replica_{done}")
    if failure is not None:
        raise failure


def accession(
    sessions: sessionmaker[Session],
    replicas: Sequence[Replica],
    request: AccessionRequest,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Write the AIP to every replica, then commit it to the catalog; return the package id.

    Idempotent: an AIP already in the catalog (same uuid and version) is returned as it is.
    Raises ReplicaWriteFailed when a replica does not end up holding it whole (nothing is
    committed then), Conflict when the dossier code belongs to another AIP.
    """
    with sessions() as s:
        existing = s.scalar(
            select(Package.id).where(Package.uuid == request.aip_uuid, Package.version == request.version)
        )
        if existing is not None:
            return existing
    write_replicas(replicas, request, progress)
    checkpoint("accession.before_commit")
    with sessions() as s, s.begin():
        package_id = commit_accession(s, replicas, request)
    checkpoint("accession.after_commit")
    # the event log and the agency register follow the AIP onto every replica, so that the
    # catalog can be rebuilt from the replicas alone (archive.replica_registers)
    from archive.replica_registers import export_registers

    export_registers(sessions, replicas)
    return package_id


def commit_accession(s: Session, replicas: Sequence[Replica], request: AccessionRequest) -> int:
    rec = request.dossier
    now = utcnow()
    dossier = s.scalar(select(Dossier).where(Dossier.code == rec.code))
    if dossier is not None and request.version == 1:
        raise Conflict(f"dossier {rec.code} is already in the archive")
    if dossier is None:
        dossier = Dossier(code=rec.code, agency_id=rec.agency_id, title=rec.title, profile=rec.profile)
        s.add(dossier)
    _apply(dossier, rec)
    documents = _sync_documents(s, dossier, rec.documents)
    for old in s.scalars(
        select(Package).where(Package.uuid == request.aip_uuid, Package.state == PackageState.STORED)
    ):
        old.state = PackageState.SUPERSEDED
    key = storage_key(request.aip_uuid, request.version)
    package = Package(
        uuid=request.aip_uuid,
        version=request.version,
        kind=PackageKind.AIP,
        state=PackageState.STORED,
        dossier=dossier,
        submission_id=request.submission_id,
        storage_key=key,
        size=sum(f.size for f in request.files),
        file_count=len(request.files),
        reason=request.reason,
        stored_at=now,
    )
    s.add(package)
    s.flush()
    for f in request.files:
        doc = documents.get(f.document_ordinal) if f.document_ordinal is not None else None
        stored = StoredFile(
            package_id=package.id,
            document_id=doc.id if doc else None,
            path=f.path,
            role=f.role,
            size=f.size,
            sha256=f.sha256,
            mime=f.mime,
            puid=f.puid,
            format_name=f.format_name,
            format_version=f.format_version,
            properties=dict(f.properties),
        )
        stored.copies = [
            FileCopy(
                replica=r.name,
                key=f"{key}/{f.path}",
                status=CopyStatus.OK,
                last_verified_at=now,
                last_checked_at=now,
            )
            for r in replicas
        ]
        s.add(stored)
    if request.submission_id:
        sub = s.get(Submission, request.submission_id)
        if sub is not None:
            sub.state = SubmissionState.ARCHIVED
            sub.dossier_id = dossier.id
    s.flush()
    for r in replicas:
        events.record(
            s,
            EventType.REPLICATION,
            object_type="package",
            object_id=key,
            agent=events.SYSTEM,
            detail=f"AIP written and verified on replica {r.name}",
            data={"replica": r.name, "files": len(request.files)},
        )
    events.record(
        s,
        EventType.ACCESSION,
        object_type="dossier",
        object_id=dossier.code,
        agent=request.actor,
        detail=f"AIP {key} accessioned ({request.reason})",
        data={"package": key, "submission": request.submission_id, "documents": len(documents)},
    )
    s.add(IndexOutbox(entity="dossier", entity_id=dossier.id, op="upsert"))
    s.add_all(IndexOutbox(entity="document", entity_id=d.id, op="upsert") for d in documents.values())
    return package.id


def _apply(dossier: Dossier, rec: DossierRecord) -> None:
    dossier.title = rec.title
    dossier.profile = rec.profile
    dossier.maintenance = rec.maintenance
    dossier.retention_years = rec.retention_years
    dossier.retention_text = rec.retention_text
    dossier.access_mode = rec.access_mode
    dossier.language = rec.language
    dossier.start_date = rec.start_date
    dossier.end_date = rec.end_date
    dossier.descriptive = dict(rec.descriptive)


def _sync_documents(s: Session, dossier: Dossier, records: Sequence[DocumentRecord]) -> dict[int, Document]:
    """Create or update the dossier's documents by ordinal (a new AIP version keeps their ids)."""
    current = {d.ordinal: d for d in dossier.documents}
    for rec in records:
        doc = current.get(rec.ordinal)
        if doc is None:
            doc = Document(ordinal=rec.ordinal, doc_code=rec.doc_code)
            dossier.documents.append(doc)
            current[rec.ordinal] = doc
        for name in (
            "doc_code", "type_code", "type_name", "code_number", "code_notation", "issued_date",
            "organ_name", "subject", "page_count", "confidence_level", "access_mode",
        ):  # fmt: skip
            setattr(doc, name, getattr(rec, name))
        doc.descriptive = dict(rec.descriptive)
    s.flush()
    return current
