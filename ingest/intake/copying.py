"""Write received bytes into the staging folder: streamed, counted, hashed in one pass.

Each file gets its SHA-256 (checked against the declaration) and, in the same read, the
SHA-512 the bag manifests need; both are remembered (``archive.fixity.hashing``) so that
packaging, which hard-links the staged file, does not read it again.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from archive.fixity.hashing import Digests, remember_digests
from archive.storage.directio import DirectWriter

from . import refusals
from .checksums import CHUNK
from .errors import SubmissionRefused
from .names import SafeName
from .submission import IntakeLimits, StagedFile

__all__ = ["ALGORITHMS", "RATIO_FLOOR", "ByteBudget", "copy_into", "prepare_target", "ratio_exceeded"]

ALGORITHMS = ("sha256", "sha512")  # declared checksums; the packages' bag manifests

# Small entries compress extremely well when they are repetitive (XML, blank forms); the
# ratio limit applies only once an entry has expanded past this many bytes.
RATIO_FLOOR = 1024 * 1024

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@dataclass(slots=True)
class ByteBudget:
    """Running totals of one submission against its :class:`IntakeLimits`."""

    limits: IntakeLimits
    files: int = 0
    bytes: int = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise SubmissionRefused([refusals.too_many_files(self.files, self.limits.max_files)])


def prepare_target(dest: Path, name: SafeName) -> Path:
    """Create the parent folders of ``name`` under ``dest`` and return the file path.

    ``dest`` must be resolved. Names are already checked, and staging never holds links,
    so the result is inside ``dest``; it is checked anyway, because this is the one place
    where a path leaving the staging folder would do harm.
    """
    target = dest.joinpath(*name.parts)
    if not target.parent.resolve().is_relative_to(dest):
        raise SubmissionRefused([refusals.path_traversal(name.path)])
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def ratio_exceeded(expanded: int, entry: zipfile.ZipInfo, limits: IntakeLimits) -> bool:
    """Tell whether ``expanded`` bytes from ``entry`` break the compression-ratio limit."""
    if expanded <= RATIO_FLOOR:
        return False
    return expanded > limits.zip_max_ratio * max(entry.compress_size, 1)


def _over(path: str, size: int, limit: int, entry: zipfile.ZipInfo | None) -> SubmissionRefused:
    if entry is None:
        return SubmissionRefused([refusals.too_large(path, size, limit)])
    return SubmissionRefused([refusals.zip_bomb(path, "more bytes than allowed", written=size, limit=limit)])


def copy_into(
    source: IO[bytes],
    target: Path,
    rel: str,
    budget: ByteBudget,
    *,
    entry: zipfile.ZipInfo | None = None,
) -> StagedFile:
    """Copy ``source`` to the new file ``target`` in 1 MiB chunks; return its size and SHA-256.

    Bytes are counted as they are written, so a ZIP entry whose header understates its
    size, or a file that grows while it is copied, is stopped at the limit
    (``intake.zip_bomb`` for ZIP entries, ``intake.too_large`` otherwise).
    """
    limits = budget.limits
    digests = Digests(ALGORITHMS)
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    fd = os.open(target, _OPEN_FLAGS, 0o640)
    try:
        with DirectWriter(fd) as out:  # a large file goes around the page cache past its first 16 MiB
            while n := _fill(source, view):
                chunk = view[:n]
                size += n
                budget.bytes += n
                if size > limits.max_file_bytes:
                    raise _over(rel, size, limits.max_file_bytes, entry)
                if budget.bytes > limits.max_bytes:
                    raise _over(rel, budget.bytes, limits.max_bytes, entry)
                if entry is not None and (size > entry.file_size or ratio_exceeded(size, entry, limits)):
                    raise SubmissionRefused(
                        [
                            refusals.zip_bomb(
                                rel,
                                "entry expands beyond its header or the ratio limit",
                                written=size,
                                declared=entry.file_size,
                                compressed=entry.compress_size,
                            )
                        ]
                    )
                digests.update(chunk)
                out.write(chunk)
    finally:
        os.close(fd)  # after the writer waited for its last write
    found = digests.hexdigests()
    remember_digests(target, found)
    return StagedFile(rel, size, found["sha256"])


def _fill(source: IO[bytes], view: memoryview) -> int:
    """Read the next piece of ``source`` into ``view`` (no new bytes object when it can)."""
    readinto = getattr(source, "readinto", None)
    if readinto is not None:
        return int(readinto(view) or 0)
    data = source.read(len(view))
    view[: len(data)] = data
    return len(data)
