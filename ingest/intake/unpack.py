"""Intake of one submission into the staging area: copy, read the declaration, verify checksums.

``stage_submission`` is the only entry point. It accepts a folder, a ZIP of that folder,
a BagIt bag, or a zipped bag; copies everything into ``staging_root/<submission-id>/``
(nothing is ever written outside it); reads ``metadata.json`` / ``metadata.xlsx``; and
compares every file's SHA-256 with the declaration (or the bag manifest). Any error
finding rejects the submission and removes its staging folder.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from archive.findings import Finding, has_errors
from archive.vntime import as_utc, utcnow

from . import refusals
from .checksums import compare_declared, verify_bag_payload
from .declaration import METADATA_NAMES, Declaration, read_declaration
from .errors import StagingError, SubmissionRefused
from .foldersource import stage_folder
from .submission import IntakeLimits, IntakeRejected, SourceKind, StagedFile, StagedSubmission
from .zipsource import IGNORED_ZIP_FOLDERS, is_zip, stage_zip

__all__ = ["stage_submission"]

log = logging.getLogger(__name__)

BAG_DECLARATION = "bagit.txt"
BAG_PAYLOAD = "data"


def _content_root(root: Path) -> Path:
    """Where the submission starts: ``root``, or the one folder a ZIP of a folder holds."""
    markers = (*METADATA_NAMES, BAG_DECLARATION)
    if any((root / name).is_file() for name in markers):
        return root
    entries = [p for p in root.iterdir() if p.name not in IGNORED_ZIP_FOLDERS]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return root


def _payload(staged: dict[str, StagedFile], root: Path, payload_root: Path) -> dict[str, StagedFile]:
    """Re-key staged files relative to ``payload_root``, dropping those outside it."""
    prefix = payload_root.relative_to(root).as_posix()
    if prefix == ".":
        return dict(staged)
    cut = prefix + "/"
    return {
        path[len(cut) :]: replace(item, path=path[len(cut) :])
        for path, item in staged.items()
        if path.startswith(cut)
    }


def _verify(
    kind: SourceKind, content_root: Path, payload: dict[str, StagedFile], declaration: Declaration
) -> list[Finding]:
    findings = compare_declared(payload, declaration.declared, not_documents={declaration.metadata_file})
    # a 0-byte document is most often a failed export or copy: never archived without a look
    findings.extend(refusals.empty_file(p) for p in sorted(payload) if payload[p].size == 0)
    if kind in (SourceKind.BAG, SourceKind.ZIPPED_BAG):
        findings.extend(verify_bag_payload(content_root, payload))
    return findings


def _stage(source: Path, dest: Path, limits: IntakeLimits) -> tuple[SourceKind, dict[str, StagedFile]]:
    if source.is_dir():
        kind = SourceKind.BAG if (source / BAG_DECLARATION).is_file() else SourceKind.FOLDER
        return kind, stage_folder(source, dest, limits)
    if is_zip(source):
        staged = stage_zip(source, dest, limits)
        bag = (_content_root(dest) / BAG_DECLARATION).is_file()
        return (SourceKind.ZIPPED_BAG if bag else SourceKind.ZIP), staged
    raise SubmissionRefused([refusals.source_unreadable(source.name, "neither a folder nor a ZIP file")])


def _make_staging(staging_root: Path) -> tuple[str, Path]:
    try:
        staging_root.mkdir(parents=True, exist_ok=True)
        submission_id = str(uuid.uuid4())
        dest = staging_root / submission_id
        dest.mkdir(mode=0o750)
    except OSError as exc:
        raise StagingError(f"cannot create a staging folder under {staging_root}: {exc}") from exc
    return submission_id, dest


def stage_submission(
    source: Path,
    staging_root: Path,
    *,
    limits: IntakeLimits,
    received_at: datetime | None = None,
) -> StagedSubmission | IntakeRejected:
    """Copy the submission at ``source`` into ``staging_root/<uuid>/`` and verify it.

    ``received_at`` (aware; default now, UTC) is when the upload finished. Returns a
    :class:`StagedSubmission` carrying warnings only (e.g. ``intake.file_unlisted``), or an
    :class:`IntakeRejected` with the error findings, its staging folder already removed.
    Raises :class:`StagingError` when the staging area itself is unusable; any unexpected
    error also removes the staging folder before it propagates.
    """
    received = as_utc(received_at) if received_at is not None else utcnow()
    submission_id, dest = _make_staging(staging_root)
    try:
        kind, staged = _stage(source, dest, limits)
        content_root = _content_root(dest)
        payload_root = content_root
        if kind in (SourceKind.BAG, SourceKind.ZIPPED_BAG):
            payload_root = content_root / BAG_PAYLOAD
            if not payload_root.is_dir():
                raise SubmissionRefused([refusals.bag_invalid("the bag has no data/ folder")])
        declaration = read_declaration(
            payload_root, require_sha256=kind in (SourceKind.FOLDER, SourceKind.ZIP)
        )
        if not isinstance(declaration, Declaration):
            raise SubmissionRefused(declaration)
        payload = _payload(staged, dest, payload_root)
        findings = _verify(kind, content_root, payload, declaration)
        if has_errors(findings):
            raise SubmissionRefused(findings)
    except SubmissionRefused as refused:
        shutil.rmtree(dest, ignore_errors=True)
        log.info(
            "submission rejected",
            extra={"submission_id": submission_id, "codes": [f.code for f in refused.findings]},
        )
        return IntakeRejected(submission_id, received, refused.findings)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    log.info("submission staged", extra={"submission_id": submission_id, "files": len(payload)})
    return StagedSubmission(
        submission_id=submission_id,
        kind=kind,
        root=dest,
        payload_root=payload_root,
        metadata_file=declaration.metadata_file,
        profile=declaration.profile,
        dossier=declaration.dossier,
        documents=declaration.documents,
        files=tuple(payload[p] for p in sorted(payload)),
        received_at=received,
        findings=tuple(findings),
    )
