"""Stage a ZIP submission: check every entry first, then stream each one out with counting.

Never ``extractall``: each entry name is decoded from its raw bytes, checked and
NFC-normalised by :mod:`ingest.intake.names`, and written by :func:`copy_into`.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

from archive.findings import Finding

from . import refusals
from .copying import ByteBudget, copy_into, prepare_target, ratio_exceeded
from .errors import SubmissionRefused
from .names import NameRegistry, SafeName, check_name, raw_zip_name, shown_name
from .submission import IntakeLimits, StagedFile

__all__ = ["IGNORED_ZIP_FOLDERS", "stage_zip"]

IGNORED_ZIP_FOLDERS = frozenset({"__MACOSX"})  # AppleDouble side files added by macOS Finder
_ENCRYPTED = 0x1
_SPECIAL_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def _entry_kind(info: zipfile.ZipInfo) -> str:
    """Return ``dir``, ``file``, ``symlink`` or a special kind from the Unix mode bits."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "symlink"
    if kind in _SPECIAL_KINDS:
        return _SPECIAL_KINDS[kind]
    if kind == stat.S_IFDIR or info.filename.endswith("/"):
        return "dir"
    return "file"


def _plan(archive: zipfile.ZipFile, limits: IntakeLimits) -> list[tuple[zipfile.ZipInfo, SafeName]]:
    """Check every entry from the central directory; return the files to extract or refuse."""
    findings: list[Finding] = []
    registry = NameRegistry()
    plan: list[tuple[zipfile.ZipInfo, SafeName]] = []
    files = 0
    declared_total = 0
    for info in archive.infolist():
        raw, _utf8_flag = raw_zip_name(info)
        name = check_name(raw)
        if isinstance(name, Finding):
            findings.append(name)
            continue
        if name.parts[0] in IGNORED_ZIP_FOLDERS:
            continue
        kind = _entry_kind(info)
        if kind == "symlink":
            findings.append(refusals.symlink(name.path))
            continue
        if kind not in ("dir", "file"):
            findings.append(refusals.special_file(name.path, kind))
            continue
        if info.flag_bits & _ENCRYPTED:
            findings.append(refusals.encrypted_zip(name.path))
            continue
        clash = registry.add(name, shown_name(raw), is_dir=kind == "dir")
        if clash is not None:
            findings.append(clash)
            continue
        if kind == "dir":
            continue
        files += 1
        declared_total += info.file_size
        if info.file_size > limits.max_file_bytes:
            findings.append(refusals.too_large(name.path, info.file_size, limits.max_file_bytes))
        elif ratio_exceeded(info.file_size, info, limits):
            ratio = round(info.file_size / max(info.compress_size, 1), 1)
            findings.append(
                refusals.zip_bomb(
                    name.path, "compression ratio above the limit", ratio=ratio, limit=limits.zip_max_ratio
                )
            )
        plan.append((info, name))
    if files > limits.max_files:
        findings.append(refusals.too_many_files(files, limits.max_files))
    if declared_total > limits.max_bytes:
        findings.append(
            refusals.zip_bomb(
                None, "declared total size above the limit", declared=declared_total, limit=limits.max_bytes
            )
        )
    if findings:
        raise SubmissionRefused(findings)
    return plan


def stage_zip(source: Path, dest: Path, limits: IntakeLimits) -> dict[str, StagedFile]:
    """Extract the ZIP ``source`` into the empty folder ``dest``; return the files by path.

    Raises :class:`SubmissionRefused` with every problem found in the central directory,
    or with the first one met while extracting (corrupt data, size beyond the limits).
    """
    dest = dest.resolve()
    budget = ByteBudget(limits)
    staged: dict[str, StagedFile] = {}
    try:
        with zipfile.ZipFile(source) as archive:
            for info, name in _plan(archive, limits):
                target = prepare_target(dest, name)
                budget.add_file()
                with archive.open(info) as stream:
                    staged[name.path] = copy_into(stream, target, name.path, budget, entry=info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise SubmissionRefused([refusals.zip_corrupt(str(exc))]) from exc
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise SubmissionRefused([refusals.zip_corrupt(str(exc))]) from exc
    return staged


def is_zip(source: Path) -> bool:
    """Tell whether ``source`` is a file that looks like a ZIP (by content or by name)."""
    return source.is_file() and (source.suffix.lower() == ".zip" or zipfile.is_zipfile(source))
