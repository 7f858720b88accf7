"""Fixity audits over the catalog (kiểm tra định kỳ): check every stored copy, repair, report.

:func:`run_audit` feeds the fixity engine (``archive.fixity``) with the catalog's copies,
oldest-checked first, compares each with the catalog checksum and with the bag manifest on the
same replica, repairs a bad copy from a replica whose copy verifies, and records the outcome in
the catalog and the event log (TT 02/2019 Điều 9, TT 05/2025 Điều 26–31). Progress is committed
in batches, so an interrupted audit loses at most one batch; with a ``cursor_path`` the next run
skips the copies the interrupted one already checked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import (
    CopyStatus,
    Dossier,
    EventType,
    FileCopy,
    Outcome,
    Package,
    PackageState,
    RecordState,
    StoredFile,
)
from archive.fixity.audit import AuditCursor, CopyCheck, ExpectedCopy, audit_copies, audit_parallel
from archive.fixity.audit import CopyStatus as CheckStatus
from archive.fixity.hashing import IoBudget
from archive.fixity.repair import quarantine_unknown, repair_from_any
from archive.storage import Replica, StorageError
from archive.vntime import as_utc, utcnow, vn_iso

log = logging.getLogger(__name__)

AuditMode = Literal["due", "all"]
HELD = (PackageState.STORED, PackageState.SUPERSEDED)
BATCH_COPIES = 200  # commit progress every N copies…
BATCH_SECONDS = 5.0  # …or every N seconds, whichever comes first
CHUNK = 500  # copies fetched from the catalog at a time
MANIFESTS = ("manifest-sha256.txt", "tagmanifest-sha256.txt")


@dataclass(slots=True)
class ReplicaTally:
    """What one audit run found on one replica (counts of copies; bytes read)."""

    files: int = 0
    bytes: int = 0
    ok: int = 0
    damaged: int = 0
    missing: int = 0
    truncated: int = 0
    unreadable: int = 0
    manifest_disagrees: int = 0
    repaired: int = 0
    unrecoverable: int = 0
    unknown: int = 0  # files the catalog does not know, quarantined


@dataclass(frozen=True, slots=True)
class AuditProgress:
    """Passed to the ``progress`` callback after each copy: done so far and the planned total."""

    files_done: int
    bytes_done: int
    files_total: int
    bytes_total: int


@dataclass(slots=True)
class AuditSummary:
    """The outcome of one audit run; ``complete`` is False when it was stopped early."""

    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    complete: bool = True
    chain_ok: bool = True
    chain_checked: int = 0
    chain_head: str = ""
    unrecoverable_remaining: int = 0  # copies marked unrecoverable in the catalog after the run
    per_replica: dict[str, ReplicaTally] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(int(getattr(t, name)) for t in self.per_replica.values())

    @property
    def seconds(self) -> float:
        end = self.finished_at or utcnow()
        return max((end - self.started_at).total_seconds(), 1e-6)

    @property
    def mb_s(self) -> float:
        return self.total("bytes") / 1e6 / self.seconds

    @property
    def healthy(self) -> bool:
        """True when every checked copy is fine or was repaired and the event chain verifies."""
        return self.chain_ok and self.unrecoverable_remaining == 0 and self.total("unrecoverable") == 0

    def to_json(self) -> dict[str, Any]:
        names = [f for f in ReplicaTally.__dataclass_fields__]
        return {
            "mode": self.mode,
            "started_at": vn_iso(self.started_at),
            "finished_at": vn_iso(self.finished_at),
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "mb_s": round(self.mb_s, 2),
            **{n: self.total(n) for n in names},
            "unrecoverable_remaining": self.unrecoverable_remaining,
            "chain_ok": self.chain_ok,
            "chain_checked": self.chain_checked,
            "chain_head": self.chain_head,
            "healthy": self.healthy,
            "per_replica": {k: asdict(v) for k, v in sorted(self.per_replica.items())},
        }


class _Row(NamedTuple):
    copy_id: int
    replica: str
    key: str
    sha256: str
    size: int
    path: str
    storage_key: str
    dossier_id: int | None


def _selection(
    replica: str, mode: AuditMode, now: datetime, interval_days: int, since: datetime | None
) -> Any:
    q = (
        select(FileCopy.id, StoredFile.size)
        .join(StoredFile, FileCopy.file_id == StoredFile.id)
        .join(Package, StoredFile.package_id == Package.id)
        .where(FileCopy.replica == replica, FileCopy.status != CopyStatus.DELETED, Package.state.in_(HELD))
    )
    if mode == "due":
        limit = now - timedelta(days=interval_days)
        q = q.where(or_(FileCopy.last_verified_at.is_(None), FileCopy.last_verified_at < limit))
    if since is not None:
        q = q.where(or_(FileCopy.last_checked_at.is_(None), FileCopy.last_checked_at < since))
    return q.order_by(FileCopy.last_checked_at.asc().nulls_first(), FileCopy.id)


def _read_manifests(replica: Replica, storage_key: str) -> dict[str, str]:
    """``{path: sha256}`` from the bag's SHA-256 manifests on ``replica`` (empty when unreadable)."""
    out: dict[str, str] = {}
    for name in MANIFESTS:
        try:
            with replica.open(f"{storage_key}/{name}") as fh:
                for raw in fh:
                    sha, _, path = raw.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
                    if path.strip():
                        out[path.strip().replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")] = (
                            sha.lower()
                        )
        except (OSError, StorageError):
            continue
    return out


class _Plan:
    """The copies one run will check, per replica, fetched from the catalog in chunks."""

    def __init__(self, sessions: sessionmaker[Session], ids: dict[str, list[int]]) -> None:
        self.sessions = sessions
        self.ids = ids
        self.pending: dict[tuple[str, str], _Row] = {}
        self._lock = threading.Lock()

    def expected(self, replica: Replica) -> Iterator[ExpectedCopy]:
        ids = self.ids.get(replica.name, [])
        manifests: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with self.sessions() as s:
                rows = {
                    r[0]: _Row(*r)
                    for r in s.execute(
                        select(
                            FileCopy.id,
                            FileCopy.replica,
                            FileCopy.key,
                            StoredFile.sha256,
                            StoredFile.size,
                            StoredFile.path,
                            Package.storage_key,
                            Package.dossier_id,
                        )
                        .join(StoredFile, FileCopy.file_id == StoredFile.id)
                        .join(Package, StoredFile.package_id == Package.id)
                        .where(FileCopy.id.in_(chunk))
                    )
                }
            for copy_id in chunk:
                row = rows.get(copy_id)
                if row is None:
                    continue
                if row.storage_key not in manifests:
                    if len(manifests) > 64:
                        manifests.clear()
                    manifests[row.storage_key] = _read_manifests(replica, row.storage_key)
                with self._lock:
                    self.pending[(row.replica, row.key)] = row
                yield ExpectedCopy(row.key, row.sha256, row.size, manifests[row.storage_key].get(row.path))

    def take(self, check: CopyCheck) -> _Row:
        with self._lock:
            return self.pending.pop((check.replica, check.key))


def run_audit(
    sessions: sessionmaker[Session],
    replicas: Sequence[Replica],
    *,
    mode: AuditMode = "due",
    replica_names: Iterable[str] | None = None,
    interval_days: int = 90,
    budget_mb_s: float = 50,
    progress: Callable[[AuditProgress], None] | None = None,
    stop: threading.Event | None = None,
    parallel: bool = True,
    time_limit_s: float | None = None,
    cursor_path: Path | None = None,
    scan_unknown: bool | None = None,
    unknown_grace: timedelta = timedelta(hours=24),
) -> AuditSummary:
    """Check the catalog's copies on ``replicas`` (``mode="due"``: not verified within
    ``interval_days``; ``"all"``: every copy), repair what is bad, and record everything.

    Reads are throttled to ``budget_mb_s`` MB/s in total. The run ends early, between two
    copies, when ``stop`` is set or ``time_limit_s`` has passed (``complete`` is then False).
    With ``cursor_path``, an incomplete run leaves a cursor there and the next run skips the
    copies already checked since that run started. Files under ``aip/`` that the catalog does
    not know are quarantined (``scan_unknown``, default: only in ``"all"`` mode); a stray file
    outside any catalogued package is left alone until it is older than ``unknown_grace`` (it
    may belong to an accession in progress).
    """
    wanted = set(replica_names) if replica_names is not None else {r.name for r in replicas}
    unknown_names = wanted - {r.name for r in replicas}
    if unknown_names:
        raise ValueError(f"unknown replica(s): {', '.join(sorted(unknown_names))}")
    targets = [r for r in replicas if r.name in wanted]
    cursor = AuditCursor.load(cursor_path) if cursor_path is not None else None
    resume = cursor is not None and cursor_path is not None and cursor_path.exists()
    if cursor is not None and cursor_path is not None and not resume:
        cursor.save(cursor_path)
    summary = AuditSummary(mode=mode, started_at=utcnow())
    summary.per_replica = {r.name: ReplicaTally() for r in targets}
    since = as_utc(cursor.started_at) if resume and cursor is not None else None
    ids: dict[str, list[int]] = {}
    files_total = bytes_total = 0
    with sessions() as s:
        for r in targets:
            rows = s.execute(_selection(r.name, mode, summary.started_at, interval_days, since)).all()
            ids[r.name] = [row[0] for row in rows]
            files_total += len(rows)
            bytes_total += sum(int(row[1]) for row in rows)
    plan = _Plan(sessions, ids)
    halt = threading.Event()
    timer = threading.Timer(time_limit_s, halt.set) if time_limit_s else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    budget = IoBudget(budget_mb_s)
    fixer = _Fixer(sessions, replicas, summary)
    if parallel and len(targets) > 1:
        results: Iterator[CopyCheck] = audit_parallel(
            [(r, plan.expected(r)) for r in targets], budget, workers=len(targets), stop=halt
        )
    else:
        results = (c for r in targets for c in audit_copies(r, plan.expected(r), budget=budget, stop=halt))
    done_files = done_bytes = 0
    try:
        for check in results:
            row = plan.take(check)
            fixer.handle(check, row)
            done_files += 1
            done_bytes += row.size
            if progress is not None:
                progress(AuditProgress(done_files, done_bytes, files_total, bytes_total))
            if (stop is not None and stop.is_set()) or halt.is_set():
                # Stop now: copies other threads checked ahead are not recorded, so the next
                # run checks them again (nothing is marked verified without being recorded).
                halt.set()
                break
    finally:
        close = getattr(results, "close", None)  # a generator: closing it ends the replica threads
        if close is not None:
            close()
        fixer.flush()
        if timer is not None:
            timer.cancel()
    summary.complete = done_files == files_total
    if summary.complete and (scan_unknown if scan_unknown is not None else mode == "all"):
        for r in targets:
            fixer.quarantine_strays(r, unknown_grace)
    _finish(sessions, summary, [r.name for r in targets])
    if cursor_path is not None and summary.complete:
        cursor_path.unlink(missing_ok=True)
    return summary


class _Fixer:
    """Persists results in batches and repairs bad copies as soon as they are found."""

    def __init__(self, sessions: sessionmaker[Session], replicas: Sequence[Replica], summary: AuditSummary):
        self.sessions = sessions
        self.replicas = {r.name: r for r in replicas}
        self.summary = summary
        self.batch: list[dict[str, Any]] = []
        self.flushed_at = time.monotonic()

    def handle(self, check: CopyCheck, row: _Row) -> None:
        tally = self.summary.per_replica[check.replica]
        tally.files += 1
        tally.bytes += check.actual_size or 0
        if check.status is CheckStatus.OK:
            tally.ok += 1
            self.batch.append(
                {"id": row.copy_id, "status": CopyStatus.OK, "last_checked_at": check.checked_at,
                 "last_verified_at": check.checked_at}
            )  # fmt: skip
            if check.manifest_agrees is False:
                tally.manifest_disagrees += 1
                self._manifest_warning(check)
        else:
            setattr(tally, check.status.value, getattr(tally, check.status.value) + 1)
            self.repair(check, row, tally)
        if len(self.batch) >= BATCH_COPIES or time.monotonic() - self.flushed_at >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            with self.sessions() as s, s.begin():
                s.execute(update(FileCopy), self.batch)
            self.batch = []
        self.flushed_at = time.monotonic()

    def _manifest_warning(self, check: CopyCheck) -> None:
        finding = check.to_finding()
        log.warning(
            "bag manifest disagrees with the catalog", extra={"key": check.key, "replica": check.replica}
        )
        with self.sessions() as s, s.begin():
            events.record(
                s, EventType.FIXITY_CHECK, object_type="file", object_id=check.key,
                outcome=Outcome.WARNING, detail=f"manifest on {check.replica} disagrees with the catalog",
                data=finding.to_json() if finding else {},
            )  # fmt: skip

    def repair(self, check: CopyCheck, row: _Row, tally: ReplicaTally) -> None:
        target = self.replicas[check.replica]
        sources = [r for name, r in self.replicas.items() if name != check.replica]
        finding = check.to_finding()
        try:
            result = repair_from_any(row.key, row.sha256, row.size, sources, target)
            repaired, detail, source = result.ok, result.detail, result.source
        except (StorageError, OSError) as exc:  # the target cannot be written: retry next run
            repaired, detail, source = False, f"cannot write {check.replica}: {exc}", None
        now = utcnow()
        with self.sessions() as s, s.begin():
            copy = s.get(FileCopy, row.copy_id)
            assert copy is not None
            copy.last_checked_at = check.checked_at
            events.record(
                s, EventType.FIXITY_CHECK, object_type="file", object_id=row.key,
                outcome=Outcome.FAILURE, detail=f"{check.status.value} on {check.replica}",
                data=finding.to_json() if finding else {},
            )  # fmt: skip
            if repaired:
                tally.repaired += 1
                copy.status, copy.last_verified_at = CopyStatus.OK, now
                events.record(
                    s, EventType.RECOVERY, object_type="file", object_id=row.key,
                    detail=f"copy on {check.replica} replaced from {source}",
                    data={"replica": check.replica, "source": source, "sha256": row.sha256},
                )  # fmt: skip
                return
            tally.unrecoverable += 1
            copy.status = CopyStatus.UNRECOVERABLE
            dossier = s.get(Dossier, row.dossier_id) if row.dossier_id is not None else None
            if dossier is not None and dossier.state is not RecordState.DESTROYED:
                dossier.state = RecordState.DAMAGED
            events.record(
                s, EventType.RECOVERY, object_type="file", object_id=row.key, outcome=Outcome.FAILURE,
                detail=f"no intact copy to repair {check.replica} from: {detail}",
                data={"replica": check.replica, "dossier": dossier.code if dossier else None},
            )  # fmt: skip
        log.error(
            "unrecoverable copy: no replica holds an intact copy",
            extra={"key": row.key, "replica": check.replica, "detail": detail},
        )

    def quarantine_strays(self, replica: Replica, grace: timedelta) -> None:
        with self.sessions() as s:
            known = set(s.scalars(select(FileCopy.key).where(FileCopy.replica == replica.name)))
            packages = set(s.scalars(select(Package.storage_key)))
        old_before = utcnow() - grace
        strays = [k for k in replica.list("aip/") if k not in known]
        for key in strays:
            package = "/".join(key.split("/")[:3])
            st = replica.stat(key)
            if package not in packages and (st is None or st.mtime > old_before):
                continue  # maybe an accession in progress: leave it until it is old
            new_key = quarantine_unknown(replica, key)
            self.summary.per_replica[replica.name].unknown += 1
            with self.sessions() as s, s.begin():
                events.record(
                    s, EventType.QUARANTINE, object_type="file", object_id=key, outcome=Outcome.WARNING,
                    detail=f"file not in the catalog moved to {new_key} on {replica.name}",
                    data={"replica": replica.name, "moved_to": new_key, "size": st.size if st else None},
                )  # fmt: skip


def _finish(sessions: sessionmaker[Session], summary: AuditSummary, names: list[str]) -> None:
    """Verify the event chain, count what is left unrecoverable, and record the run's event."""
    with sessions() as s, s.begin():
        chain = events.verify_chain(s)
        summary.chain_ok, summary.chain_checked, summary.chain_head = chain.ok, chain.checked, chain.head_hash
        if not chain.ok:
            log.error("event chain broken", extra={"seq": chain.broken_seq, "reason": chain.reason})
        summary.unrecoverable_remaining = int(
            s.scalar(
                select(func.count())
                .select_from(FileCopy)
                .where(FileCopy.replica.in_(names), FileCopy.status == CopyStatus.UNRECOVERABLE)
            )
            or 0
        )
        summary.finished_at = utcnow()
        bad = summary.total("damaged") + summary.total("missing") + summary.total("truncated")
        outcome = (
            Outcome.FAILURE
            if not summary.healthy
            else Outcome.WARNING
            if bad or summary.total("unknown") or not summary.complete
            else Outcome.SUCCESS
        )
        events.record(
            s, EventType.FIXITY_CHECK, object_type="audit-run", object_id=vn_iso(summary.started_at),
            outcome=outcome,
            detail=f"{summary.mode} audit: {summary.total('files')} copies, {bad} bad, "
            f"{summary.total('repaired')} repaired, {summary.total('unrecoverable')} unrecoverable",
            data=summary.to_json(),
        )  # fmt: skip


def audit_report(
    sessions: sessionmaker[Session], interval_days: int, today: date, limit: int = 200
) -> dict[str, Any]:
    """Fixity health per replica and per agency, and the overdue and unrecoverable copies.

    A copy is overdue when it has not verified within ``interval_days`` before ``today``
    (start of day, UTC). Lists hold at most ``limit`` items each.
    """
    from archive.catalog import Agency

    cutoff = datetime(today.year, today.month, today.day, tzinfo=utcnow().tzinfo) - timedelta(
        days=interval_days
    )
    overdue = or_(FileCopy.last_verified_at.is_(None), FileCopy.last_verified_at < cutoff)
    held = (FileCopy.status != CopyStatus.DELETED, Package.state.in_(HELD))

    def tallies(s: Session, group: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        q = (
            select(group, FileCopy.status, func.count(), func.sum(StoredFile.size),
                   func.max(FileCopy.last_checked_at), func.sum(_case(overdue)))
            .join(StoredFile, FileCopy.file_id == StoredFile.id)
            .join(Package, StoredFile.package_id == Package.id)
            .join(Dossier, Package.dossier_id == Dossier.id, isouter=True)
            .join(Agency, Dossier.agency_id == Agency.id, isouter=True)
            .where(*held)
            .group_by(group, FileCopy.status)
        )  # fmt: skip
        for name, status, count, size, last, late in s.execute(q):
            t = out.setdefault(
                str(name),
                {"copies": 0, "bytes": 0, "overdue": 0, "last_checked_at": None}
                | {st.value: 0 for st in CopyStatus if st is not CopyStatus.DELETED},
            )
            t["copies"] += count
            t["bytes"] += int(size or 0)
            t["overdue"] += int(late or 0)
            t[CopyStatus(status).value] += count
            if last is not None and (t["last_checked_at"] is None or as_utc(last) > t["last_checked_at"]):
                t["last_checked_at"] = as_utc(last)
        for t in out.values():
            t["last_checked_at"] = vn_iso(t["last_checked_at"]) if t["last_checked_at"] else None
        return out

    def items(s: Session, *cond: Any) -> list[dict[str, Any]]:
        q = (
            select(FileCopy.replica, FileCopy.key, FileCopy.status, FileCopy.last_verified_at, Dossier.code)
            .join(StoredFile, FileCopy.file_id == StoredFile.id)
            .join(Package, StoredFile.package_id == Package.id)
            .join(Dossier, Package.dossier_id == Dossier.id, isouter=True)
            .where(*held, *cond)
            .order_by(FileCopy.last_verified_at.asc().nulls_first(), FileCopy.id)
            .limit(limit)
        )
        return [
            {"replica": r, "key": k, "status": CopyStatus(st).value, "dossier": code,
             "last_verified_at": vn_iso(as_utc(v)) if v else None}
            for r, k, st, v, code in s.execute(q)
        ]  # fmt: skip

    with sessions() as s:
        return {
            "today": today.isoformat(),
            "interval_days": interval_days,
            "replicas": tallies(s, FileCopy.replica),
            "agencies": tallies(s, Agency.code),
            "overdue": items(s, overdue),
            "unrecoverable": items(s, FileCopy.status == CopyStatus.UNRECOVERABLE),
        }


def _case(cond: Any) -> Any:
    from sqlalchemy import case

    return case((cond, 1), else_=0)
