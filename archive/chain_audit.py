"""Verify the event chain against the signed checkpoints kept on the replicas and in backups.

``events.verify_chain`` recomputes every link, which catches a row changed, inserted or
deleted on its own. What it cannot see — the newest events deleted, or the chain rewritten
and every later hash recomputed — shows against a checkpoint (``archive.chain_checkpoints``):

* truncation: the chain ends before the newest checkpoint's ``seq``;
* rewriting: the catalog's hash at a checkpoint's ``seq`` differs from the signed one.

The checkpoints are matched newest first. Because a hash commits to everything before it, a
checkpoint that matches vouches for the whole prefix, and the first one that does not match is
found by bisection (a few reads, however many checkpoints there are). Its list of event hashes
then names the first missing or changed event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import Event
from archive.chain_checkpoints import (
    PREFIX,
    Checkpoint,
    CheckpointInvalid,
    read_checkpoint,
    read_file,
    seq_of,
)
from archive.storage import Replica, StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckpointSource:
    """Where checkpoints were found (a replica, a backup) and how to read one by its seq."""

    name: str
    seqs: frozenset[int]
    read: Callable[[int], Checkpoint]


def replica_source(replica: Replica, keys: dict[str, Ed25519PublicKey]) -> CheckpointSource:
    """The checkpoints under ``checkpoints/`` on a replica (an unreadable replica lists none)."""
    try:
        seqs = frozenset(s for s in map(seq_of, replica.list(PREFIX)) if s is not None)
    except (StorageError, OSError) as exc:
        log.warning("checkpoints unreadable", extra={"replica": replica.name, "error": str(exc)})
        seqs = frozenset()
    return CheckpointSource(replica.name, seqs, lambda seq: read_checkpoint(replica, seq, keys))


def directory_source(name: str, root: Path, keys: dict[str, Ed25519PublicKey]) -> CheckpointSource:
    """The checkpoints under ``root/checkpoints/`` (a backup directory)."""
    folder = root / PREFIX.rstrip("/")
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    seqs = frozenset(s for s in (seq_of(n) for n in names) if s is not None)
    return CheckpointSource(name, seqs, lambda seq: read_file(root / f"{PREFIX}{seq:012d}.json", keys))


@dataclass
class EvidenceReport:
    """The chain checked end to end: its own links, then against the newest checkpoints."""

    chain: events.ChainReport
    head_seq: int
    checkpoints: int = 0  # distinct checkpoint seqs found
    newest: Checkpoint | None = None
    sources: dict[str, int] = field(default_factory=dict)  # source → newest seq it holds
    invalid: list[str] = field(default_factory=list)  # "source seq: why" (bad signature, unreadable)
    broken_seq: int | None = None
    broken_uuid: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.broken_seq is None and not self.invalid

    def to_json(self) -> dict[str, Any]:
        broken = None
        if not self.chain.ok:
            broken = self.chain.to_json()["broken"]
        elif self.broken_seq is not None or self.invalid:
            broken = {"seq": self.broken_seq, "uuid": self.broken_uuid, "reason": self.reason}
        return {
            "ok": self.ok,
            "checked": self.chain.checked,
            "head_hash": self.chain.head_hash,
            "head_seq": self.head_seq,
            "broken": broken,
            "checkpoints": {
                "count": self.checkpoints,
                "newest": None
                if self.newest is None
                else {"seq": self.newest.seq, "hash": self.newest.hash, "signed_at": self.newest.signed_at},
                "sources": self.sources,
                "invalid": self.invalid,
            },
        }


class _Reader:
    """Reads the checkpoint of a seq from the first source holding a valid copy; notes bad copies."""

    def __init__(self, sources: Sequence[CheckpointSource], report: EvidenceReport) -> None:
        self.sources, self.report = sources, report
        self._cache: dict[int, Checkpoint | None] = {}

    def get(self, seq: int) -> Checkpoint | None:
        if seq not in self._cache:
            found = None
            for src in self.sources:
                if seq not in src.seqs:
                    continue
                try:
                    cp = src.read(seq)
                except (CheckpointInvalid, StorageError, OSError) as exc:
                    self.report.invalid.append(f"{src.name} {seq}: {exc}")
                    continue
                if cp.seq != seq:
                    self.report.invalid.append(f"{src.name} {seq}: the file holds checkpoint {cp.seq}")
                    continue
                found = found or cp
            self._cache[seq] = found
        return self._cache[seq]


def _hash_at(session: Session, seq: int) -> tuple[str, str] | None:
    row = session.execute(select(Event.hash, Event.uuid).where(Event.seq == seq)).first()
    return (row[0], row[1]) if row else None


def verify_with_checkpoints(
    session: Session,
    sources: Sequence[CheckpointSource],
    progress: Callable[[int], None] | None = None,
) -> EvidenceReport:
    """Verify the chain's links, then the chain against the checkpoints in ``sources``.

    Fails, naming the first missing or changed event, when the chain is shorter than a
    checkpoint or differs from one; fails too when a checkpoint's signature does not verify
    (someone altered the evidence itself).
    """
    chain = events.verify_chain(session, progress)
    head = session.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1)) or 0
    report = EvidenceReport(chain, int(head))
    report.sources = {s.name: max(s.seqs, default=0) for s in sources}
    if not chain.ok:
        return report
    seqs = sorted(set().union(*(s.seqs for s in sources)) if sources else set())
    report.checkpoints = len(seqs)
    reader = _Reader(sources, report)

    def matches(seq: int) -> bool:
        cp = reader.get(seq)
        if cp is None:
            return True  # no valid copy: already reported as invalid
        found = _hash_at(session, seq)
        return found is not None and found[0] == cp.hash

    if not seqs:
        return report
    report.newest = reader.get(seqs[-1])
    if matches(seqs[-1]):
        if report.invalid:
            report.reason = "a checkpoint file is unreadable or its signature does not verify"
        return report
    lo, hi = 0, len(seqs) - 1  # seqs[hi] does not match; find the first that does not
    while lo < hi:
        mid = (lo + hi) // 2
        if matches(seqs[mid]):
            lo = mid + 1
        else:
            hi = mid
    first_bad = reader.get(seqs[lo])
    assert first_bad is not None
    vouched = seqs[lo - 1] if lo > 0 else 0
    _name_first_difference(session, report, first_bad, vouched)
    return report


def _name_first_difference(session: Session, report: EvidenceReport, cp: Checkpoint, vouched: int) -> None:
    """Name the first event after ``vouched`` that is missing from or differs with ``cp``."""
    listed = cp.listed()
    for seq in range(vouched + 1, cp.seq + 1):
        if seq > report.head_seq:
            report.broken_seq = seq
            report.reason = (
                f"event {seq} is missing: the chain ends at {report.head_seq}, but checkpoint "
                f"{cp.seq} (signed {cp.signed_at}) vouches for {cp.count} events (truncated or deleted)"
            )
            return
        if seq not in listed:
            continue
        found = _hash_at(session, seq)
        if found is None or found[0] != listed[seq]:
            report.broken_seq, report.broken_uuid = seq, found[1] if found else None
            report.reason = (
                f"event {seq} differs from checkpoint {cp.seq} (signed {cp.signed_at}): "
                "it was changed, deleted or the chain was recomputed from here"
            )
            return
    report.broken_seq = vouched + 1  # the checkpoint lists no hashes that far back (capped)
    report.reason = f"the chain differs from checkpoint {cp.seq} somewhere after event {vouched}"


__all__ = [
    "CheckpointSource",
    "EvidenceReport",
    "directory_source",
    "replica_source",
    "verify_with_checkpoints",
]
