"""Checksums at receipt: hash staged files and compare them with what the submitter declared.

Invariant 1 of the archive: nothing is accepted whose checksums at receipt differ from
what the submitter declared. For a folder or a ZIP the declaration is the ``sha256`` of
each document in ``metadata.json``; for a BagIt bag it is the payload manifest
(``manifest-<algorithm>.txt``), read by :mod:`archive.bags` and compared file by file here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import unicodedata
from collections.abc import Collection, Mapping
from pathlib import Path

from archive.bags import validate_bag
from archive.findings import Finding, Severity

from . import refusals
from .submission import StagedFile

__all__ = [
    "CHUNK",
    "compare_declared",
    "hash_file",
    "hash_tree",
    "verify_bag_payload",
]

CHUNK = 1024 * 1024  # read and write in 1 MiB pieces


def hash_file(path: Path, algorithm: str = "sha256") -> tuple[int, str]:
    """Return ``(size in bytes, hex digest)`` of ``path``, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def hash_tree(root: Path) -> dict[str, StagedFile]:
    """Hash every regular file under ``root``, keyed by its NFC ``/`` path relative to ``root``.

    Symbolic links are not followed and not listed (staging never holds any).
    """
    result: dict[str, StagedFile] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            rel = unicodedata.normalize("NFC", path.relative_to(root).as_posix())
            size, sha256 = hash_file(path)
            result[rel] = StagedFile(rel, size, sha256)
    return result


def compare_declared(
    actual: Mapping[str, StagedFile],
    declared: Mapping[str, str],
    *,
    not_documents: Collection[str] = (),
) -> list[Finding]:
    """Compare received files with declared SHA-256 values.

    ``declared`` maps path to hex digest; an empty digest means "declared elsewhere" (bag
    manifest) and only the presence is checked. Files in ``not_documents`` (the metadata
    file itself) need no declaration. Gives ``intake.checksum_mismatch`` and
    ``intake.file_missing`` (errors) and ``intake.file_unlisted`` (warning).
    """
    findings: list[Finding] = []
    for path, digest in declared.items():
        got = actual.get(path)
        if got is None:
            findings.append(refusals.file_missing(path))
        elif digest and digest.lower() != got.sha256:
            findings.append(refusals.checksum_mismatch(path, "sha256", digest.lower(), got.sha256))
    for path in sorted(actual):
        if path not in declared and path not in not_documents:
            findings.append(refusals.file_unlisted(path))
    return findings


# Bag warnings that weigh in the decision (review); the others are recorded as information:
# a bag made by bagit-python (BagIt 0.97) or without Payload-Oxum is a valid bag (RFC 8493).
_BAG_WARNINGS = frozenset({"bag.weak_algorithm", "bag.unicode_normalization", "bag.manifest_duplicate"})


def verify_bag_payload(bag_root: Path, payload: Mapping[str, StagedFile]) -> list[Finding]:
    """Check a staged bag with :func:`archive.bags.validate_bag` and its payload against every manifest.

    The bag's structure (declaration, manifest syntax, completeness, Payload-Oxum) is checked
    by the same validator as ``luutru bag validate`` (RFC 8493, BagIt 0.93–0.97), without
    reading the payload; then each manifest checksum is compared with the file received —
    the SHA-256 computed at staging, other algorithms hashed here. ``payload`` is keyed by
    path relative to ``data/``. Errors refuse the bag (``intake.bag_invalid``,
    ``intake.file_missing``, ``intake.checksum_mismatch``).
    """
    report = validate_bag(bag_root, fast=True)
    findings: list[Finding] = []
    for found in report.findings():
        rel = (found.path or "").removeprefix("data/")
        if found.code == "bag.missing_file" and found.path and found.path.startswith("data/"):
            findings.append(refusals.file_missing(rel))
        elif found.severity is Severity.ERROR:
            findings.append(refusals.bag_invalid_finding(found))
        else:
            weight = Severity.WARNING if found.code in _BAG_WARNINGS else Severity.INFO
            findings.append(dataclasses.replace(found, severity=weight))
    for algorithm, entries in sorted(report.manifests.items()):
        for rel, digest in sorted(entries.items()):
            key = unicodedata.normalize("NFC", rel.removeprefix("data/"))
            got = payload.get(key)
            if got is None:
                continue  # reported above as a missing file
            actual = got.sha256 if algorithm == "sha256" else hash_file(bag_root / "data" / key, algorithm)[1]
            if actual != digest:
                findings.append(refusals.checksum_mismatch(key, algorithm, digest, actual))
    return findings
