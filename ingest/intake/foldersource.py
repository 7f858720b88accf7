"""Stage a folder submission (plain folder or BagIt bag): scan it all first, then copy.

Links are never followed; devices, FIFOs and sockets are refused, as are names that are
not valid UTF-8 at the byte level (``os.fsencode``) or that collide after NFC.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from archive.findings import Finding

from . import refusals
from .copying import ByteBudget, copy_into, prepare_target
from .errors import SubmissionRefused
from .names import NameRegistry, SafeName, check_name, shown_name
from .submission import IntakeLimits, StagedFile

__all__ = ["stage_folder"]

_SPECIAL_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}
_READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
)


def _scan(source: Path, limits: IntakeLimits) -> list[tuple[bytes, SafeName]]:
    """Walk ``source`` without following links; return the regular files or refuse."""
    findings: list[Finding] = []
    registry = NameRegistry()
    plan: list[tuple[bytes, SafeName]] = []
    total = 0
    stack: list[bytes] = [b""]
    while stack:
        prefix = stack.pop()
        folder = os.path.join(os.fsencode(source), prefix) if prefix else os.fsencode(source)
        with os.scandir(folder) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        for entry in ordered:
            raw = prefix + b"/" + entry.name if prefix else entry.name
            name = check_name(raw)
            if isinstance(name, Finding):
                findings.append(name)
                continue
            info = entry.stat(follow_symlinks=False)
            kind = stat.S_IFMT(info.st_mode)
            if kind == stat.S_IFLNK:
                findings.append(refusals.symlink(name.path))
            elif kind in _SPECIAL_KINDS:
                findings.append(refusals.special_file(name.path, _SPECIAL_KINDS[kind]))
            elif kind == stat.S_IFDIR:
                clash = registry.add(name, shown_name(raw), is_dir=True)
                if clash is not None:
                    findings.append(clash)
                stack.append(raw)
            elif kind == stat.S_IFREG:
                clash = registry.add(name, shown_name(raw), is_dir=False)
                if clash is not None:
                    findings.append(clash)
                    continue
                plan.append((raw, name))
                total += info.st_size
                if info.st_size > limits.max_file_bytes:
                    findings.append(refusals.too_large(name.path, info.st_size, limits.max_file_bytes))
                if len(plan) > limits.max_files:
                    findings.append(refusals.too_many_files(len(plan), limits.max_files))
                    raise SubmissionRefused(findings)  # stop walking a huge tree
            else:
                findings.append(refusals.special_file(name.path, "unknown"))
    if total > limits.max_bytes:
        findings.append(refusals.too_large(None, total, limits.max_bytes))
    if findings:
        raise SubmissionRefused(findings)
    return plan


def stage_folder(source: Path, dest: Path, limits: IntakeLimits) -> dict[str, StagedFile]:
    """Copy the folder ``source`` into the empty folder ``dest``; return the files by path.

    Each file is opened with ``O_NOFOLLOW`` and checked to be a regular file again, so a
    file swapped for a link or a FIFO after the scan is refused too.
    """
    dest = dest.resolve()
    budget = ByteBudget(limits)
    staged: dict[str, StagedFile] = {}
    base = os.fsencode(source)
    for raw, name in _scan(source, limits):
        target = prepare_target(dest, name)
        budget.add_file()
        try:
            fd = os.open(os.path.join(base, raw), _READ_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a link after the scan
                raise SubmissionRefused([refusals.symlink(name.path)]) from exc
            raise SubmissionRefused([refusals.source_unreadable(name.path, str(exc))]) from exc
        with os.fdopen(fd, "rb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise SubmissionRefused([refusals.special_file(name.path, "changed during intake")])
            os.set_blocking(stream.fileno(), True)
            staged[name.path] = copy_into(stream, target, name.path, budget)
    return staged
