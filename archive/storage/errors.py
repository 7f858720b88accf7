"""Errors raised on purpose by archive.storage: for when a replica cannot do what was asked."""

from __future__ import annotations

from archive.errors import ArchiveError


class StorageError(ArchiveError):
    """Base for errors raised by the storage replicas."""


class InvalidKey(StorageError, ValueError):
    """An object key is not a safe relative POSIX path (``..``, absolute, backslash, NUL...)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid storage key {key!r}: {reason}")
        self.key, self.reason = key, reason


class ObjectMissing(StorageError, FileNotFoundError):
    """The object does not exist on this replica (or belongs to an unfinished package)."""

    def __init__(self, replica: str, key: str) -> None:
        super().__init__(f"object {key!r} not found on replica {replica}")
        self.replica, self.key = replica, key


class ChecksumMismatch(StorageError):
    """Bytes written to a temporary name did not hash to the expected SHA-256; nothing was stored."""

    def __init__(self, replica: str, key: str, expected: str, actual: str) -> None:
        super().__init__(
            f"checksum mismatch writing {key!r} to replica {replica}: expected {expected}, got {actual}"
        )
        self.replica, self.key, self.expected, self.actual = replica, key, expected, actual


class PackageConflict(StorageError):
    """A different package (or a plain object) already sits under this key; packages are immutable."""

    def __init__(self, replica: str, key: str) -> None:
        super().__init__(f"a different package already exists at {key!r} on replica {replica}")
        self.replica, self.key = replica, key


class PackageWriteFailed(StorageError, OSError):
    """A package put failed midway; the partial package was removed (or is left for ``recover()``)."""

    def __init__(self, replica: str, key: str, cause: BaseException) -> None:
        super().__init__(f"cannot write package {key!r} to replica {replica}: {cause}")
        self.replica, self.key = replica, key
