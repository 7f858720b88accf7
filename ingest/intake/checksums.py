"""Checksums at receipt: hash staged files and compare them with what the submitter declared.

Invariant 1 of the archive: nothing is accepted whose checksums at receipt differ from
what the submitter declared. For a folder or a ZIP the declaration is the ``sha256`` of
each document in ``metadata.json``; for a BagIt bag it is the payload manifest
(``manifest-sha256.txt`` or ``manifest-sha512.txt``), checked line by line here.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Collection, Mapping
from pathlib import Path

from archive.findings import Finding

from . import refusals
from .submission import StagedFile

__all__ = [
    "CHUNK",
    "compare_declared",
    "hash_file",
    "hash_tree",
    "read_manifest",
    "verify_bag_payload",
]

CHUNK = 1024 * 1024  # read and write in 1 MiB pieces
BAG_ALGORITHMS = ("sha256", "sha512")  # accepted payload manifests, strongest last
_MANIFEST_LINE = re.compile(r"^([0-9A-Fa-f]+)[ \t]+(.+)$")


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


def _decode_manifest_path(text: str) -> str:
    # BagIt 1.0 §2.1.3: CR, LF and % in paths are percent-encoded.
    text = text.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n")
    return unicodedata.normalize("NFC", text.replace("%25", "%"))


def read_manifest(path: Path) -> dict[str, str] | Finding:
    """Parse a BagIt manifest into ``{path relative to data/: lower-case digest}``."""
    entries: dict[str, str] = {}
    try:
        with path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                match = _MANIFEST_LINE.match(line)
                if match is None:
                    return refusals.bag_invalid(f"{path.name} line {number} is malformed")
                name = _decode_manifest_path(match.group(2).strip()).replace("\\", "/")
                if not name.startswith("data/") or ".." in name.split("/"):
                    return refusals.bag_invalid(f"{path.name} line {number} names a file outside data/")
                entries[name.removeprefix("data/")] = match.group(1).lower()
    except UnicodeDecodeError:
        return refusals.bag_invalid(f"{path.name} is not UTF-8")
    return entries


def _check_oxum(bag_root: Path, payload: Mapping[str, StagedFile]) -> Finding | None:
    info = bag_root / "bag-info.txt"
    if not info.is_file():
        return None
    with info.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key.strip().lower() == "payload-oxum":
                octets, _, streams = value.strip().partition(".")
                expected = f"{sum(f.size for f in payload.values())}.{len(payload)}"
                if f"{octets}.{streams}" != expected:
                    return refusals.bag_invalid(f"Payload-Oxum {value.strip()} but received {expected}")
    return None


def verify_bag_payload(bag_root: Path, payload: Mapping[str, StagedFile]) -> list[Finding]:
    """Check the bag's payload against its SHA-256 / SHA-512 manifests and Payload-Oxum.

    ``payload`` is keyed by path relative to ``data/``. Every manifest line must match a
    received file, and every received payload file must be in every accepted manifest.
    """
    manifests = [(alg, bag_root / f"manifest-{alg}.txt") for alg in BAG_ALGORITHMS]
    present = [(alg, path) for alg, path in manifests if path.is_file()]
    if not present:
        return [refusals.bag_invalid("no manifest-sha256.txt or manifest-sha512.txt")]
    findings: list[Finding] = []
    for algorithm, manifest_path in present:
        entries = read_manifest(manifest_path)
        if isinstance(entries, Finding):
            findings.append(entries)
            continue
        for rel, digest in sorted(entries.items()):
            got = payload.get(rel)
            if got is None:
                findings.append(refusals.file_missing(rel))
                continue
            actual = got.sha256 if algorithm == "sha256" else hash_file(bag_root / "data" / rel, algorithm)[1]
            if actual != digest:
                findings.append(refusals.checksum_mismatch(rel, algorithm, digest, actual))
        for rel in sorted(set(payload) - set(entries)):
            findings.append(refusals.bag_invalid(f"payload file {rel} is not in {manifest_path.name}"))
    oxum = _check_oxum(bag_root, payload)
    if oxum is not None:
        findings.append(oxum)
    return findings
