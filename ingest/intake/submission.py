"""What intake produces: a staged submission or a rejection, and the limits it enforces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from archive.findings import Finding, has_errors
from archive.vntime import vn_iso

__all__ = ["IntakeLimits", "IntakeRejected", "SourceKind", "StagedFile", "StagedSubmission"]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """Bounds on one submission, checked before and while copying.

    ``max_files``: regular files in the submission; ``max_bytes``: their total size in
    bytes, counted as they are written (ZIP headers can lie); ``max_file_bytes``: one file;
    ``zip_max_ratio``: largest accepted uncompressed/compressed ratio of one ZIP entry.
    """

    max_files: int = 10_000
    max_bytes: int = 20 * 1024 * MiB
    max_file_bytes: int = 4 * 1024 * MiB
    zip_max_ratio: float = 200.0

    def __post_init__(self) -> None:
        if min(self.max_files, self.max_bytes, self.max_file_bytes) <= 0 or self.zip_max_ratio <= 1:
            raise ValueError("intake limits must be positive and zip_max_ratio above 1")


class SourceKind(StrEnum):
    """How the submission arrived."""

    FOLDER = "folder"
    ZIP = "zip"
    BAG = "bag"  # BagIt bag as a folder
    ZIPPED_BAG = "zipped-bag"
    EDXML = "edxml"  # edXML messages (QCVN 102:2016): one file, or a folder/ZIP of them


@dataclass(frozen=True, slots=True)
class StagedFile:
    """One file as received: path relative to the payload root (NFC, ``/``), size, SHA-256."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class StagedSubmission:
    """A submission copied into ``root`` with every checksum verified.

    ``payload_root`` is where ``metadata.json`` and the documents are (``root`` itself, the
    single folder inside a ZIP, or the bag's ``data/``); ``files`` are relative to it.
    ``dossier`` and ``documents`` are the parsed metadata, not yet checked against the
    profile. ``findings`` holds warnings only: any error makes an :class:`IntakeRejected`.
    """

    submission_id: str
    kind: SourceKind
    root: Path
    payload_root: Path
    metadata_file: str
    profile: str
    dossier: Mapping[str, Any]
    documents: Sequence[Mapping[str, Any]]
    files: tuple[StagedFile, ...]
    received_at: datetime
    findings: tuple[Finding, ...] = field(default=())
    # edXML: what a status answer refers to, per message (``edxmlsource.answer_for``)
    answers: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class IntakeRejected:
    """A submission refused at intake; its staging folder has been removed."""

    submission_id: str
    received_at: datetime
    findings: tuple[Finding, ...]
    answers: tuple[Mapping[str, Any], ...] = ()  # edXML messages refused: what a status answers

    def __post_init__(self) -> None:
        if not has_errors(self.findings):
            raise ValueError("a rejection needs at least one error finding")

    def to_json(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "status": "rejected",
            "received_at": vn_iso(self.received_at),
            "findings": [f.to_json() for f in self.findings],
        }
