"""Fixity audits (kiểm tra tính toàn vẹn): re-hash every stored copy and say what is wrong.

The engine works on plain data so the catalog can feed it: the caller passes
:class:`ExpectedCopy` rows (key, SHA-256 and size from the catalog) and gets one
:class:`CopyCheck` per copy, as soon as it is checked, so progress (last verified time per
copy) can be persisted and an interrupted sweep resumed with :class:`AuditCursor`.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from archive.findings import Finding, error, warning
from archive.fixity.hashing import IoBudget
from archive.storage.base import Replica
from archive.vntime import utcnow


class StopFlag(Protocol):
    """Anything with ``is_set()``; a ``threading.Event`` is one."""

    def is_set(self) -> bool: ...


class CopyStatus(StrEnum):
    """What an audit found for one copy on one replica."""

    OK = "ok"
    DAMAGED = "damaged"  # hư hỏng: same key, different bytes (flipped byte, overwritten, grown)
    MISSING = "missing"  # thất lạc: the catalog expects it, the replica does not have it
    TRUNCATED = "truncated"  # shorter than the catalog size
    UNKNOWN = "unknown"  # on the replica, not in the catalog (see find_unknown)
    UNREADABLE = "unreadable"  # present but could not be read (I/O or permission error)


@dataclass(frozen=True, slots=True)
class ExpectedCopy:
    """What the catalog says one stored object should be.

    ``manifest_sha256`` is the checksum written in the AIP's own manifest, when the caller has
    it; a disagreement with ``sha256`` is reported (``CopyCheck.manifest_agrees``).
    """

    key: str
    sha256: str
    size: int
    manifest_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class CopyCheck:
    """The result of checking one copy: status, what was read, and when (aware UTC)."""

    key: str
    replica: str
    status: CopyStatus
    expected_sha256: str
    expected_size: int
    actual_sha256: str | None
    actual_size: int | None
    checked_at: datetime
    manifest_agrees: bool | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is CopyStatus.OK and self.manifest_agrees is not False

    def to_finding(self) -> Finding | None:
        """Return the finding for a bad copy (code ``fixity.copy.<status>``), None when fine."""
        if self.ok:
            return None
        evidence: dict[str, Any] = {
            "replica": self.replica,
            "expected_sha256": self.expected_sha256,
            "expected_size": self.expected_size,
            "actual_sha256": self.actual_sha256,
            "actual_size": self.actual_size,
        }
        if self.status is CopyStatus.OK:
            return warning(
                "fixity.manifest.disagrees",
                "Mã băm trong danh mục và trong gói AIP không khớp nhau",
                "The catalog checksum and the AIP manifest checksum disagree",
                path=self.key,
                evidence=evidence,
            )
        vi, en = _MESSAGES[self.status]
        return error(f"fixity.copy.{self.status.value}", vi, en, path=self.key, evidence=evidence)


_MESSAGES: dict[CopyStatus, tuple[str, str]] = {
    CopyStatus.DAMAGED: ("Bản sao bị hư hỏng (mã băm không khớp)", "Copy is damaged (checksum mismatch)"),
    CopyStatus.MISSING: ("Bản sao bị thiếu trên kho lưu trữ", "Copy is missing from the replica"),
    CopyStatus.TRUNCATED: (
        "Bản sao bị cắt cụt (kích thước nhỏ hơn)",
        "Copy is truncated (smaller than expected)",
    ),
    CopyStatus.UNKNOWN: ("Tệp không có trong danh mục", "File is not in the catalog"),
    CopyStatus.UNREADABLE: ("Không đọc được bản sao", "Copy cannot be read"),
}


def check_copy(replica: Replica, expected: ExpectedCopy, *, budget: IoBudget | None = None) -> CopyCheck:
    """Check one copy: stat first (missing/truncated need no read), then re-hash, streamed."""
    manifest_agrees = (
        None if expected.manifest_sha256 is None else expected.manifest_sha256 == expected.sha256
    )

    def result(status: CopyStatus, sha: str | None, size: int | None, detail: str = "") -> CopyCheck:
        return CopyCheck(
            expected.key, replica.name, status, expected.sha256, expected.size,
            sha, size, utcnow(), manifest_agrees, detail,
        )  # fmt: skip

    try:
        st = replica.stat(expected.key)
        if st is None:
            return result(CopyStatus.MISSING, None, None)
        if st.size < expected.size:
            return result(CopyStatus.TRUNCATED, None, st.size)
        verified = replica.verify(expected.key, expected.sha256, budget=budget)
    except OSError as exc:
        return result(CopyStatus.UNREADABLE, None, None, f"{type(exc).__name__}: {exc}")
    if not verified.exists:
        return result(CopyStatus.MISSING, None, None)
    if verified.size < expected.size:
        return result(CopyStatus.TRUNCATED, verified.actual_sha256, verified.size)
    if not verified.ok or verified.size != expected.size:
        return result(CopyStatus.DAMAGED, verified.actual_sha256, verified.size)
    return result(CopyStatus.OK, verified.actual_sha256, verified.size)


def audit_copies(
    replica: Replica,
    expected: Iterable[ExpectedCopy],
    *,
    budget: IoBudget | None = None,
    progress: Callable[[CopyCheck], None] | None = None,
    stop: StopFlag | None = None,
) -> Iterator[CopyCheck]:
    """Check each expected copy on ``replica`` in the given order, yielding one result each.

    The sweep ends early, between two copies, when ``stop`` is set; every copy yielded so far
    was fully checked, so the caller may persist it and resume later (see AuditCursor).
    """
    for item in expected:
        if stop is not None and stop.is_set():
            return
        check = check_copy(replica, item, budget=budget)
        if progress is not None:
            progress(check)
        yield check


def find_unknown(replica: Replica, known_keys: Container[str], prefix: str = "aip/") -> Iterator[str]:
    """Yield the keys under ``prefix`` on ``replica`` that the catalog does not know."""
    for key in replica.list(prefix):
        if key not in known_keys:
            yield key


_DONE = object()


def audit_parallel(
    replicas_with_expected: Sequence[tuple[Replica, Iterable[ExpectedCopy]]],
    budget: IoBudget | None = None,
    workers: int = 2,
    *,
    stop: threading.Event | None = None,
) -> Iterator[CopyCheck]:
    """Audit several replicas at once, one thread per replica (at most ``workers``).

    Results arrive in completion order. Exceptions from a worker are re-raised here. Closing
    the iterator early (or setting ``stop``) makes every worker end after its current copy.
    """
    halt = threading.Event()
    results: queue.Queue[object] = queue.Queue(maxsize=256)

    def should_stop() -> bool:
        return halt.is_set() or (stop is not None and stop.is_set())

    class _Stop:
        def is_set(self) -> bool:
            return should_stop()

    def run(replica: Replica, expected: Iterable[ExpectedCopy]) -> None:
        try:
            for check in audit_copies(replica, expected, budget=budget, stop=_Stop()):
                _put(check)
        except BaseException as exc:
            _put(exc)
        finally:
            _put(_DONE)

    def _put(item: object) -> None:
        while True:
            try:
                results.put(item, timeout=0.1)
                return
            except queue.Full:
                if halt.is_set():
                    return

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fixity")
    try:
        for replica, expected in replicas_with_expected:
            pool.submit(run, replica, expected)
        remaining = len(replicas_with_expected)
        while remaining:
            item = results.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                assert isinstance(item, CopyCheck)
                yield item
    finally:
        halt.set()
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(slots=True)
class AuditCursor:
    """Remembers which copies a sweep has verified, so an interrupted sweep can resume.

    Usage: ``cursor = AuditCursor.load(path)``; audit ``cursor.pending(replica.name, rows)``;
    for each result call ``cursor.record(check)`` and, every N results, ``cursor.save(path)``.
    Start a new sweep with ``AuditCursor()`` (or ``cursor.reset()``) once a sweep is complete.
    """

    started_at: datetime = field(default_factory=utcnow)
    done: set[tuple[str, str]] = field(default_factory=set)  # (replica name, key)

    def pending(self, replica: str, expected: Iterable[ExpectedCopy]) -> Iterator[ExpectedCopy]:
        """Yield the expected copies not yet checked on ``replica`` in this sweep."""
        for item in expected:
            if (replica, item.key) not in self.done:
                yield item

    def record(self, check: CopyCheck) -> None:
        self.done.add((check.replica, check.key))

    def reset(self) -> None:
        self.started_at = utcnow()
        self.done.clear()

    def to_json(self) -> dict[str, Any]:
        return {"started_at": self.started_at.isoformat(), "done": sorted([r, k] for r, k in self.done)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditCursor:
        return cls(datetime.fromisoformat(data["started_at"]), {(r, k) for r, k in data["done"]})

    def save(self, path: Path) -> None:
        """Write the cursor atomically (temporary file, then rename)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> AuditCursor:
        """Read a saved cursor, or start a new sweep when ``path`` does not exist."""
        if not path.exists():
            return cls()
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
