"""Self-repair (phục hồi): replace a bad copy with a good one from another replica.

A repair never trusts the source: the bytes are streamed from the source into a temporary
name on the target, hashed on the way, and renamed into place only when they hash to the
catalog's SHA-256 (``Replica.put_file(..., expected_sha256=...)``). A source that does not
verify is refused; when no source verifies the copy is unrecoverable and the caller must
raise an incident (biên bản xử lý sự cố, TT 05/2025 Phụ lục VII).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from archive.findings import Finding, error, info
from archive.storage.base import Replica
from archive.storage.errors import ChecksumMismatch, ObjectMissing, StorageError
from archive.vntime import utcnow

log = logging.getLogger(__name__)


class RepairStatus(StrEnum):
    REPAIRED = "repaired"
    UNRECOVERABLE = "unrecoverable"  # no source copy verifies


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What a repair did: which key, from which source to which target, when (aware UTC)."""

    key: str
    target: str
    status: RepairStatus
    source: str | None
    sha256: str
    size: int
    repaired_at: datetime
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is RepairStatus.REPAIRED

    def to_finding(self) -> Finding:
        evidence = {
            "target": self.target,
            "source": self.source,
            "sha256": self.sha256,
            "detail": self.detail,
        }
        if self.ok:
            return info(
                "fixity.repair.done",
                "Đã phục hồi bản sao từ kho lưu trữ khác",
                "Copy repaired from another replica",
                path=self.key,
                evidence=evidence,
            )
        return error(
            "fixity.repair.unrecoverable",
            "Không phục hồi được: không còn bản sao nào nguyên vẹn",
            "Cannot repair: no intact copy is left",
            path=self.key,
            evidence=evidence,
        )


def repair_copy(key: str, sha256: str, size: int, source: Replica, target: Replica) -> RepairResult:
    """Copy ``key`` from ``source`` to ``target`` if and only if the source bytes verify.

    Returns REPAIRED when the target now holds a copy hashing to ``sha256`` with ``size``
    bytes; UNRECOVERABLE (target untouched) when the source copy is missing, of the wrong
    size or does not hash to ``sha256``. Raises StorageError/OSError when the target cannot
    be written.
    """

    def unrecoverable(detail: str) -> RepairResult:
        log.warning("repair refused", extra={"key": key, "source": source.name, "target": target.name})
        return RepairResult(
            key, target.name, RepairStatus.UNRECOVERABLE, source.name, sha256, size, utcnow(), detail
        )

    st = source.stat(key)
    if st is None:
        return unrecoverable(f"missing on {source.name}")
    if st.size != size:
        return unrecoverable(f"size {st.size} on {source.name}, expected {size}")
    try:
        with source.open(key) as stream:
            stored = target.put_file(stream, key, expected_sha256=sha256)
    except ObjectMissing:
        return unrecoverable(f"missing on {source.name}")
    except ChecksumMismatch as exc:
        return unrecoverable(f"checksum {exc.actual} on {source.name}")
    if stored.size != size:  # same hash, different size cannot happen; guard against a bad catalog row
        raise StorageError(f"repaired {key!r} has {stored.size} bytes, catalog says {size}")
    log.info("copy repaired", extra={"key": key, "source": source.name, "target": target.name})
    return RepairResult(key, target.name, RepairStatus.REPAIRED, source.name, sha256, size, utcnow())


def repair_from_any(
    key: str, sha256: str, size: int, sources: Sequence[Replica], target: Replica
) -> RepairResult:
    """Try each source in turn (skipping ``target`` itself); return the first REPAIRED result.

    When no source verifies, return UNRECOVERABLE with every source's reason in ``detail``.
    """
    reasons: list[str] = []
    for source in sources:
        if source is target or source.name == target.name:
            continue
        result = repair_copy(key, sha256, size, source, target)
        if result.ok:
            return result
        reasons.append(result.detail)
    return RepairResult(
        key, target.name, RepairStatus.UNRECOVERABLE, None, sha256, size, utcnow(),
        "; ".join(reasons) or "no other replica",
    )  # fmt: skip


def quarantine_unknown(replica: Replica, key: str, *, area: str = "quarantine") -> str:
    """Move a file the catalog does not know out of ``aip/`` into ``<area>/<UTC stamp>/<key>``.

    Nothing is deleted outright: the archivist decides what the file was. Returns the new key.
    """
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    new_key = f"{area}/{stamp}/{key}"
    with replica.open(key) as stream:
        stored = replica.put_file(stream, new_key)
    check = replica.verify(new_key, stored.sha256)
    if not check.ok:
        raise StorageError(f"quarantine copy of {key!r} does not verify on {replica.name}")
    replica.delete(key)
    log.warning("unknown file quarantined", extra={"key": key, "replica": replica.name, "to": new_key})
    return new_key
