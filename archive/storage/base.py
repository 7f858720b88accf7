"""The storage replica interface (bản sao lưu trữ) and the small data types it returns.

A replica holds objects under keys that are relative POSIX paths such as
``aip/<aip-id>/v0001/data/METS.xml``. Two backends implement :class:`Replica`: a local
directory (``archive.storage.local``) and an S3-compatible bucket (``archive.storage.s3``).

Invariant (ARCHITECTURE 2): ``put_package`` is atomic on every backend. Readers (``open``,
``stat``, ``exists``, ``list``) see a package wholly or not at all, and ``recover()`` removes
what a crash left behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from archive.storage.errors import InvalidKey

# Top-level names the backends use for their own bookkeeping; never valid in a caller's key.
RESERVED_TOP = frozenset({".tmp", ".pending", ".manifests"})

PutProgress = Callable[["StoredObject"], None]


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object as written: its full key, size in bytes and lowercase hex SHA-256."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """Size in bytes and last modification time (aware UTC) of a stored object."""

    size: int
    mtime: datetime


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of re-hashing one stored object.

    ``exists`` is False when the object is absent (then ``actual_sha256`` is None and
    ``size`` is 0). ``ok`` is True only when it exists and its SHA-256 equals ``expected_sha256``.
    """

    key: str
    expected_sha256: str
    exists: bool
    actual_sha256: str | None
    size: int

    @property
    def ok(self) -> bool:
        return self.exists and self.actual_sha256 == self.expected_sha256


@runtime_checkable
class Replica(Protocol):
    """A place that keeps one full copy of the holdings (local directory or S3 bucket)."""

    name: str

    def put_package(
        self,
        src_dir: Path,
        key: str,
        *,
        progress: PutProgress | None = None,
        source_disposable: bool = False,
    ) -> list[StoredObject]:
        """Store every file under ``src_dir`` as ``<key>/<relative path>``, atomically.

        ``source_disposable``: the caller will only ever delete ``src_dir`` afterwards, so the
        replica may take its files rather than copy them (a local replica hard-links them
        when on the same file system; S3 always uploads). Give it to one replica at most.
        Re-putting an identical package returns the stored objects and writes nothing.
        Raises PackageConflict when different content already sits at ``key``,
        PackageWriteFailed when the write fails (nothing is left visible).
        """
        ...

    def put_file(self, src: Path | BinaryIO, key: str, *, expected_sha256: str | None = None) -> StoredObject:
        """Store one object: temporary name → verify → durable → rename. Raises ChecksumMismatch."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open an object for streamed reading. Raises ObjectMissing."""
        ...

    def stat(self, key: str) -> ObjectStat | None:
        """Return size and mtime, or None when the object is absent."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield every object key starting with ``prefix`` (internal names excluded), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove one object; absent objects are ignored."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; return how many were removed."""
        ...

    def exists(self, key: str) -> bool:
        """True when the object is present and visible."""
        ...

    def verify(self, key: str, sha256: str, *, budget: Any = None) -> VerifyResult:
        """Re-hash the object (streamed, throttled by an ``IoBudget`` when given)."""
        ...

    def recover(self) -> int:
        """Remove leftovers of interrupted puts; return how many leftovers were removed."""
        ...

    def describe(self) -> dict[str, str]:
        """Short facts for the console: backend, location, name."""
        ...


def check_key(key: str, *, allow_empty: bool = False) -> str:
    """Return ``key`` when it is a safe relative POSIX path; raise InvalidKey otherwise.

    Rejected: empty keys (unless ``allow_empty``, for prefixes), NUL, backslashes, absolute
    paths, ``.`` or ``..`` segments, empty segments (``a//b``) and the reserved top-level
    names the backends use for bookkeeping (``.tmp``, ``.pending``, ``.manifests``).
    A trailing ``/`` is allowed only when ``allow_empty`` (prefix use).
    """
    if not isinstance(key, str):
        raise InvalidKey(repr(key), "not a string")
    if key == "":
        if allow_empty:
            return key
        raise InvalidKey(key, "empty")
    if "\x00" in key:
        raise InvalidKey(key, "contains NUL")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute path")
    body = key[:-1] if allow_empty and key.endswith("/") else key
    parts = body.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidKey(key, f"bad path segment {part!r}")
    if parts[0] in RESERVED_TOP:
        raise InvalidKey(key, f"reserved name {parts[0]!r}")
    return key


def package_key(key: str) -> str:
    """Return a package key without a trailing slash, checked."""
    return check_key(key.rstrip("/"))


def walk_files(src_dir: Path) -> list[tuple[str, Path]]:
    """Return ``(relative POSIX path, path)`` for every regular file under ``src_dir``, sorted.

    Symbolic links are refused (a package holds real files only); raises InvalidKey.
    """
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(src_dir):
        dirnames.sort()
        base = Path(dirpath)
        for d in dirnames:
            if (base / d).is_symlink():
                raise InvalidKey(str(base / d), "symbolic link in package")
        for fname in sorted(filenames):
            path = base / fname
            if path.is_symlink() or not path.is_file():
                raise InvalidKey(str(path), "not a regular file")
            rel = path.relative_to(src_dir).as_posix()
            check_key(rel)
            out.append((rel, path))
    out.sort(key=lambda item: item[0])
    return out
