"""The receipt (giấy biên nhận) given to the records officer for a staged submission.

It lists every file received with its size and SHA-256, when the upload finished
(``received_at``) and when the submission counts as received under the office-hours rule
(``counted_from``). Times are aware UTC inside and ISO 8601 +07:00 in ``to_json()``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from archive.findings import Finding
from archive.vntime import as_utc, vn_iso

from .office_hours import DEFAULT_OFFICE_DAYS, DEFAULT_OFFICE_HOURS, effective_receipt_time
from .submission import StagedFile, StagedSubmission

__all__ = ["Receipt", "make_receipt"]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What was received, when, and what intake noticed.

    ``files`` are ``(path, size in bytes, sha256 hex)`` in path order; ``total_bytes`` is
    their sum; ``received_at`` and ``counted_from`` are aware UTC, ``counted_from`` being
    the effective receipt time (start of the next office-hours period when received
    outside them). ``findings`` are intake warnings (a rejected submission gets no receipt).
    """

    submission_id: str
    files: tuple[tuple[str, int, str], ...]
    total_bytes: int
    received_at: datetime
    counted_from: datetime
    findings: tuple[Finding, ...] = field(default=())
    profile: str = ""
    metadata_file: str = ""

    def __post_init__(self) -> None:
        for moment in (self.received_at, self.counted_from):
            if moment.tzinfo is None:
                raise ValueError("receipt times must be timezone-aware")
        if self.counted_from < self.received_at:
            raise ValueError("a submission cannot count from before it was received")
        if self.total_bytes != sum(size for _, size, _ in self.files):
            raise ValueError("total_bytes must be the sum of the file sizes")

    def to_json(self) -> dict[str, Any]:
        """Return the receipt as JSON-able data, times as ISO 8601 in Vietnam time (+07:00)."""
        return {
            "submission_id": self.submission_id,
            "status": "received",
            "profile": self.profile,
            "metadata_file": self.metadata_file,
            "received_at": vn_iso(self.received_at),
            "counted_from": vn_iso(self.counted_from),
            "file_count": len(self.files),
            "total_bytes": self.total_bytes,
            "files": [{"path": p, "size": s, "sha256": h} for p, s, h in self.files],
            "findings": [f.to_json() for f in self.findings],
        }


def _row(item: StagedFile) -> tuple[str, int, str]:
    return (item.path, item.size, item.sha256)


def make_receipt(
    staged: StagedSubmission,
    *,
    office_hours: Sequence[str] = DEFAULT_OFFICE_HOURS,
    office_days: Collection[int] = DEFAULT_OFFICE_DAYS,
    holidays: Collection[date] = frozenset(),
    extra_working_days: Collection[date] = frozenset(),
) -> Receipt:
    """Build the receipt of ``staged``, computing ``counted_from`` with the office-hours rule."""
    received = as_utc(staged.received_at)
    counted = effective_receipt_time(
        received,
        office_hours=office_hours,
        office_days=office_days,
        holidays=holidays,
        extra_working_days=extra_working_days,
    )
    files = tuple(_row(f) for f in sorted(staged.files, key=lambda f: f.path))
    return Receipt(
        submission_id=staged.submission_id,
        files=files,
        total_bytes=sum(size for _, size, _ in files),
        received_at=received,
        counted_from=counted,
        findings=staged.findings,
        profile=staged.profile,
        metadata_file=staged.metadata_file,
    )
