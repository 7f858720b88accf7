"""Errors raised on purpose by archive/: for when the code cannot go on.

Problems found in input are findings (archive.findings), not exceptions.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base for errors raised on purpose by archive/."""


class ConfigError(ArchiveError, ValueError):
    """The configuration is unusable (unknown key, bad value, too few replicas)."""


class NotFound(ArchiveError, LookupError):
    """A catalog object does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind, self.key = kind, key


class Conflict(ArchiveError):
    """The request conflicts with the current state (duplicate, wrong state, legal hold)."""


class PermissionDenied(ArchiveError, PermissionError):
    """The actor may not do this."""


class IntegrityError(ArchiveError):
    """Stored data does not verify (checksum mismatch, broken event chain)."""


class ReplicaWriteFailed(ArchiveError, OSError):
    def __init__(self, replica: str, aip_id: str) -> None:
        super().__init__(f"cannot write AIP {aip_id} to replica {replica}")
        self.replica, self.aip_id = replica, aip_id
