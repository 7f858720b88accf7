"""The archivist's dashboard figures: real queries over the catalog, one function per picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from archive.catalog import (
    Agency,
    CopyStatus,
    Dossier,
    FileCopy,
    RecordState,
    StoredFile,
    Submission,
    SubmissionState,
)
from archive.vntime import as_utc


@dataclass(frozen=True, slots=True)
class HoldingCount:
    agency_code: str
    agency_name: str
    year: int | None  # năm kết thúc công việc (end date), else the year it was catalogued
    dossiers: int


@dataclass(frozen=True, slots=True)
class ReplicaHealth:
    replica: str
    ok: int
    damaged: int
    missing: int
    overdue: int  # live copies not verified within the fixity interval
    oldest_verified_at: datetime | None

    @property
    def total(self) -> int:
        return self.ok + self.damaged + self.missing


@dataclass(frozen=True, slots=True)
class Dashboard:
    holdings: list[HoldingCount]
    submissions: dict[SubmissionState, int]
    replicas: list[ReplicaHealth]
    storage: dict[str, int]  # replica → bytes held (live copies)
    due_for_disposal: int  # dossiers under review (Xem xét hủy)
    fixity_interval_days: int


def holdings_by_agency_and_year(s: Session) -> list[HoldingCount]:
    """Dossiers held (not destroyed) per agency and year, ordered by agency then year."""
    year = func.coalesce(extract("year", Dossier.end_date), extract("year", Dossier.created_at))
    rows = s.execute(
        select(Agency.code, Agency.name, year.label("year"), func.count(Dossier.id))
        .join(Agency, Agency.id == Dossier.agency_id)
        .where(Dossier.state != RecordState.DESTROYED)
        .group_by(Agency.code, Agency.name, year)
        .order_by(Agency.code, year)
    ).all()
    return [HoldingCount(code, name, int(y) if y is not None else None, int(n)) for code, name, y, n in rows]


def submissions_by_state(s: Session) -> dict[SubmissionState, int]:
    """Every submission state with its count (zero included, in workflow order)."""
    rows = s.execute(select(Submission.state, func.count()).group_by(Submission.state)).all()
    counts = {state: n for state, n in rows}
    return {state: int(counts.get(state, 0)) for state in SubmissionState}


_LIVE = (CopyStatus.OK, CopyStatus.DAMAGED, CopyStatus.MISSING, CopyStatus.UNRECOVERABLE)


def fixity_by_replica(s: Session, now: datetime, interval_days: int) -> list[ReplicaHealth]:
    """Copies per replica by status, the oldest verification and the overdue count.

    A copy is overdue when it is live (not deleted by disposal) and was never verified or
    last verified before ``now - interval_days``. Unrecoverable copies count as missing.
    """
    cutoff = as_utc(now) - timedelta(days=interval_days)
    overdue = (FileCopy.last_verified_at.is_(None)) | (FileCopy.last_verified_at < cutoff)
    rows = s.execute(
        select(
            FileCopy.replica,
            func.sum(case((FileCopy.status == CopyStatus.OK, 1), else_=0)),
            func.sum(case((FileCopy.status == CopyStatus.DAMAGED, 1), else_=0)),
            func.sum(case((FileCopy.status.in_([CopyStatus.MISSING, CopyStatus.UNRECOVERABLE]), 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
            func.min(FileCopy.last_verified_at),
        )
        .where(FileCopy.status.in_(_LIVE))
        .group_by(FileCopy.replica)
        .order_by(FileCopy.replica)
    ).all()
    return [
        ReplicaHealth(
            replica,
            int(ok or 0),
            int(damaged or 0),
            int(missing or 0),
            int(late or 0),
            as_utc(oldest) if oldest else None,
        )
        for replica, ok, damaged, missing, late, oldest in rows
    ]


def storage_by_replica(s: Session) -> dict[str, int]:
    """Bytes held per replica: the sizes of stored files whose copy there is not deleted."""
    rows = s.execute(
        select(FileCopy.replica, func.sum(StoredFile.size))
        .join(StoredFile, StoredFile.id == FileCopy.file_id)
        .where(FileCopy.status != CopyStatus.DELETED)
        .group_by(FileCopy.replica)
        .order_by(FileCopy.replica)
    ).all()
    return {replica: int(total or 0) for replica, total in rows}


def due_for_disposal(s: Session) -> int:
    return int(s.scalar(select(func.count()).where(Dossier.state == RecordState.UNDER_REVIEW)) or 0)


def build_dashboard(s: Session, now: datetime, fixity_interval_days: int) -> Dashboard:
    return Dashboard(
        holdings=holdings_by_agency_and_year(s),
        submissions=submissions_by_state(s),
        replicas=fixity_by_replica(s, now, fixity_interval_days),
        storage=storage_by_replica(s),
        due_for_disposal=due_for_disposal(s),
        fixity_interval_days=fixity_interval_days,
    )


__all__ = [
    "Dashboard",
    "HoldingCount",
    "ReplicaHealth",
    "build_dashboard",
    "due_for_disposal",
    "fixity_by_replica",
    "holdings_by_agency_and_year",
    "storage_by_replica",
    "submissions_by_state",
]
