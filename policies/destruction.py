"""Destruction of an approved disposal case (thực hiện hủy), resumable after a crash.

For each dossier of the case, in order:

1. on every replica, delete every package of the dossier (``delete_prefix``), then verify
   nothing is left (``list`` empty, ``exists`` false for each recorded copy) and mark those
   ``FileCopy`` rows DELETED, one transaction and one event per replica;
   The dossier's extracted text kept on the replicas (``texts/<code>/``) goes with them.
2. purge derivatives: extracted text in the catalog, caches and thumbnails (``purge_derivatives``),
   the search index (``purge_index``) and pending index updates;
3. write the tombstone (codes, title, dates, file hashes, decision references: never content),
   reduce descriptive metadata to the summary, set dossier, documents and packages DESTROYED
   and the item's ``destroyed_at``.

Every step is idempotent, so running ``execute`` again after a crash at any point finishes the
work and leaves no copy behind (ARCHITECTURE invariant 4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import (
    CopyStatus,
    DisposalCase,
    DisposalItem,
    DisposalState,
    Dossier,
    EventType,
    FileCopy,
    IndexOutbox,
    Package,
    PackageState,
    RecordState,
    StoredFile,
    Tombstone,
    User,
)
from archive.db import transaction
from archive.errors import NotFound
from archive.replica_registers import TEXTS_PREFIX
from archive.storage import Replica
from archive.vntime import utcnow
from policies.disposal import ARCHIVIST_ROLES, agent_of, guard_case, require_state
from policies.errors import DestructionIncomplete, InvalidTransition
from policies.holds import refuse_if_held, require_role

log = logging.getLogger(__name__)

PurgeCallback = Callable[[Sequence[int]], None]
StepHook = Callable[[str, str], None]  # (dossier code, replica name), after each replica


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    case_code: str
    destroyed: list[str] = field(default_factory=list)  # dossier codes destroyed by this run
    already_destroyed: list[str] = field(default_factory=list)  # done by an earlier run
    late: bool = False  # executed after the deadline

    def to_json(self) -> dict[str, object]:
        return {
            "case": self.case_code,
            "destroyed": self.destroyed,
            "already_destroyed": self.already_destroyed,
            "late": self.late,
        }


def _load(session: Session, case_id: int, user_id: int) -> tuple[DisposalCase, User]:
    case, user = session.get(DisposalCase, case_id), session.get(User, user_id)
    if case is None:
        raise NotFound("disposal case", case_id)
    if user is None:
        raise NotFound("user", user_id)
    return case, user


def _prefix(package: Package) -> str:
    return package.storage_key.rstrip("/") + "/"


def execute(
    session_factory: sessionmaker[Session],
    case: DisposalCase,
    actor: User,
    replicas: Sequence[Replica],
    purge_index: PurgeCallback,
    today: date,
    *,
    purge_derivatives: PurgeCallback | None = None,
    after_replica: StepHook | None = None,
) -> ExecutionReport:
    """Destroy every dossier of an APPROVED (or interrupted EXECUTING) case; return what was done.

    ``replicas`` must include every replica holding a live copy; ``purge_index`` and
    ``purge_derivatives`` receive dossier ids and must be idempotent. ``after_replica`` is
    called after each replica of each dossier is done (progress, or a crash test).
    Raises RoleRequired, InvalidTransition, LegalHoldActive, DestructionIncomplete.
    """
    with transaction(session_factory) as s:
        c, me = _load(s, case.id, actor.id)
        require_role(me, ARCHIVIST_ROLES, "execute a disposal")
        require_state(c, "execute", DisposalState.APPROVED, DisposalState.EXECUTING)
        guard_case(s, c, me, "destruction")
        given = {r.name for r in replicas}
        stray = s.scalars(
            select(FileCopy.replica)
            .join(StoredFile, FileCopy.file_id == StoredFile.id)
            .join(Package, StoredFile.package_id == Package.id)
            .join(DisposalItem, DisposalItem.dossier_id == Package.dossier_id)
            .where(DisposalItem.case_id == c.id, FileCopy.status != CopyStatus.DELETED)
            .where(FileCopy.replica.not_in(given))
        ).first()
        if stray is not None:
            raise DestructionIncomplete(stray, "", "this replica holds copies but was not given to execute")
        late = c.deadline is not None and today > c.deadline
        resumed = c.state is DisposalState.EXECUTING
        c.state = DisposalState.EXECUTING
        events.record(
            s,
            EventType.DISPOSAL,
            object_type="disposal_case",
            object_id=c.code,
            agent=agent_of(me),
            detail="destruction resumed" if resumed else "destruction started",
            data={"replicas": sorted(given), "deadline": c.deadline, "today": today, "late": late},
        )
        todo = [(i.id, i.dossier_id) for i in c.items if i.destroyed_at is None]
        done = [s.get(Dossier, i.dossier_id) for i in c.items if i.destroyed_at is not None]
        report = ExecutionReport(c.code, already_destroyed=[d.code for d in done if d], late=late)
    for item_id, dossier_id in sorted(todo):
        code = _destroy_copies(session_factory, dossier_id, actor, replicas, after_replica)
        _finish_dossier(session_factory, case.id, item_id, actor, purge_index, purge_derivatives)
        report.destroyed.append(code)
    with transaction(session_factory) as s:
        c, me = _load(s, case.id, actor.id)
        c.state, c.executed_at = DisposalState.DESTROYED, utcnow()
        events.record(
            s,
            EventType.DISPOSAL,
            object_type="disposal_case",
            object_id=c.code,
            agent=agent_of(me),
            detail="destruction completed on every replica and index",
            data={"destroyed": report.destroyed, "already_destroyed": report.already_destroyed},
        )
    return report


def _destroy_copies(
    session_factory: sessionmaker[Session],
    dossier_id: int,
    actor: User,
    replicas: Sequence[Replica],
    after_replica: StepHook | None,
) -> str:
    with transaction(session_factory) as s:
        dossier = s.get(Dossier, dossier_id)
        if dossier is None:
            raise NotFound("dossier", dossier_id)
        refuse_if_held(s, [dossier], "destruction", agent_of(actor))
        if dossier.state is not RecordState.UNDER_REVIEW:
            raise InvalidTransition(f"dossier {dossier.code}", dossier.state.value, "destroy")
        code = dossier.code
        prefixes = [_prefix(p) for p in dossier.packages]
        prefixes.append(f"{TEXTS_PREFIX}{code}/")  # its extracted text, kept beside the AIPs
        package_ids = [p.id for p in dossier.packages]
    for replica in replicas:
        removed = 0
        for prefix in prefixes:
            removed += replica.delete_prefix(prefix)
            leftover = next(iter(replica.list(prefix)), None)
            if leftover is not None:
                raise DestructionIncomplete(replica.name, prefix, f"{leftover} is still listed")
        with transaction(session_factory) as s:
            copies = s.scalars(
                select(FileCopy)
                .join(StoredFile, FileCopy.file_id == StoredFile.id)
                .where(StoredFile.package_id.in_(package_ids), FileCopy.replica == replica.name)
            ).all()
            for copy in copies:
                if replica.exists(copy.key):
                    raise DestructionIncomplete(replica.name, copy.key, "the object still exists")
                copy.status, copy.last_checked_at = CopyStatus.DELETED, utcnow()
            events.record(
                s,
                EventType.DELETION,
                object_type="dossier",
                object_id=code,
                agent=agent_of(actor),
                detail=f"packages deleted from replica {replica.name} and verified absent",
                data={
                    "replica": replica.name,
                    "prefixes": prefixes,
                    "objects_removed": removed,
                    "copies_marked_deleted": len(copies),
                },
            )
        log.info("dossier copies destroyed", extra={"dossier": code, "replica": replica.name})
        if after_replica is not None:
            after_replica(code, replica.name)
    return code


def _summary(dossier: Dossier, case: DisposalCase) -> dict[str, object]:
    """What descriptive metadata is kept of a destroyed dossier: identification, never content."""
    return {
        "code": dossier.code,
        "arc_code": dossier.arc_code,
        "title": dossier.title,
        "start_date": dossier.start_date.isoformat() if dossier.start_date else None,
        "end_date": dossier.end_date.isoformat() if dossier.end_date else None,
        "maintenance": dossier.maintenance,
        "retention_years": dossier.retention_years,
        "document_count": len(dossier.documents),
        "disposal_case": case.code,
        "decision_reference": case.decision_reference,
    }


def _finish_dossier(
    session_factory: sessionmaker[Session],
    case_id: int,
    item_id: int,
    actor: User,
    purge_index: PurgeCallback,
    purge_derivatives: PurgeCallback | None,
) -> None:
    with transaction(session_factory) as s:
        case, _ = _load(s, case_id, actor.id)
        item = s.get(DisposalItem, item_id)
        dossier = s.get(Dossier, item.dossier_id) if item else None
        if item is None or dossier is None:
            raise NotFound("disposal item", item_id)
        doc_ids = [d.id for d in dossier.documents]
        for doc in dossier.documents:
            doc.text_content = doc.text_method = doc.subject = None
            doc.descriptive = {}
            doc.state = RecordState.DESTROYED
        if purge_derivatives is not None:
            purge_derivatives([dossier.id])
        purge_index([dossier.id])
        s.execute(
            delete(IndexOutbox).where(IndexOutbox.entity == "dossier", IndexOutbox.entity_id == dossier.id)
        )
        if doc_ids:
            s.execute(
                delete(IndexOutbox).where(
                    IndexOutbox.entity == "document", IndexOutbox.entity_id.in_(doc_ids)
                )
            )
        s.add(IndexOutbox(entity="dossier", entity_id=dossier.id, op="delete"))
        s.add_all(IndexOutbox(entity="document", entity_id=i, op="delete") for i in doc_ids)
        events.record(
            s,
            EventType.DELETION,
            object_type="dossier",
            object_id=dossier.code,
            agent=agent_of(actor),
            detail="derivatives, extracted text and index entries purged",
            data={"documents": len(doc_ids)},
        )
        now = utcnow()
        files = s.scalars(
            select(StoredFile).join(Package).where(Package.dossier_id == dossier.id).order_by(StoredFile.id)
        ).all()
        if s.scalar(select(Tombstone).where(Tombstone.dossier_id == dossier.id)) is None:
            s.add(
                Tombstone(
                    dossier_id=dossier.id,
                    code=dossier.code,
                    title=dossier.title,
                    start_date=dossier.start_date,
                    end_date=dossier.end_date,
                    disposal_case_id=case.id,
                    decision_reference=case.decision_reference,
                    destroyed_at=now,
                    file_hashes=[
                        {"package": f.package.storage_key, "path": f.path, "size": f.size, "sha256": f.sha256}
                        for f in files
                    ],
                )
            )
        dossier.descriptive = {"summary": _summary(dossier, case)}
        dossier.state = RecordState.DESTROYED
        for package in dossier.packages:
            package.state = PackageState.DESTROYED
        item.destroyed_at = now
        events.record(
            s,
            EventType.DEACCESSION,
            object_type="dossier",
            object_id=dossier.code,
            agent=agent_of(actor),
            detail="dossier destroyed; tombstone kept",
            data={"case": case.code, "decision_reference": case.decision_reference, "files": len(files)},
        )


def tombstone_of(session: Session, dossier: Dossier) -> Tombstone | None:
    return session.scalar(select(Tombstone).where(Tombstone.dossier_id == dossier.id))
