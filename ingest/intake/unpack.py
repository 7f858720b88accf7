"""Intake of one submission into the staging area: copy, read the declaration, verify checksums.

``stage_submission`` is the only entry point. It accepts a folder, a ZIP of that folder,
a BagIt bag, or a zipped bag; copies everything into ``staging_root/<submission-id>/``
(nothing is ever written outside it); reads ``metadata.json`` / ``metadata.xlsx``; and
compares every file's SHA-256 with the declaration (or the bag manifest). Any error
finding rejects the submission and removes its staging folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography import x509

from archive.findings import Finding, has_errors
from archive.vntime import as_utc, utcnow

from . import refusals
from .checksums import compare_declared, verify_bag_payload
from .copying import ByteBudget, copy_into
from .declaration import METADATA_NAMES, Declaration, read_declaration
from .edxml import is_edxml, peek_header
from .edxmlsource import answer_for, find_messages, stage_edxml
from .errors import StagingError, SubmissionRefused
from .foldersource import stage_folder
from .names import check_name
from .sipsource import is_sip, stage_sip
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
    if is_edxml(source):  # one message: staged as a folder holding it
        name = check_name(os.fsencode(source.name))
        if isinstance(name, Finding):
            raise SubmissionRefused([name])
        budget = ByteBudget(limits)
        budget.add_file()
        with source.open("rb") as stream:
            return SourceKind.EDXML, {name.path: copy_into(stream, dest / name.path, name.path, budget)}
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


def _answers(payload_root: Path, staged: dict[str, StagedFile]) -> tuple[dict[str, object], ...]:
    """For a refused edXML submission: what each message's status answer refers to."""
    found = []
    for path in find_messages(payload_root, staged):
        header = peek_header(payload_root / path)
        if header is not None:
            found.append(answer_for(path, header))
    return tuple(found)


def stage_submission(
    source: Path,
    staging_root: Path,
    *,
    limits: IntakeLimits,
    received_at: datetime | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    edxml_mappings: Path | None = None,
    agency_code: str | None = None,
) -> StagedSubmission | IntakeRejected:
    """Copy the submission at ``source`` into ``staging_root/<uuid>/`` and verify it.

    ``received_at`` (aware; default now, UTC) is when the upload finished. Returns a
    :class:`StagedSubmission` carrying warnings only (e.g. ``intake.file_unlisted``), or an
    :class:`IntakeRejected` with the error findings, its staging folder already removed.
    Raises :class:`StagingError` when the staging area itself is unusable; any unexpected
    error also removes the staging folder before it propagates.

    edXML messages (one ``.edxml``/``.xml`` file, or a folder/ZIP of them without
    ``metadata.json``) are decoded by :func:`~ingest.intake.edxmlsource.stage_edxml`, their
    envelope signatures checked against ``trust_roots``, their fields mapped with the
    profiles in ``edxml_mappings`` (over the built-in ones), the submitting agency's
    (``agency_code``) first.
    """
    received = as_utc(received_at) if received_at is not None else utcnow()
    submission_id, dest = _make_staging(staging_root)
    answers: tuple[dict[str, object], ...] = ()
    payload: dict[str, StagedFile] = {}
    payload_root = dest
    try:
        kind, staged = _stage(source, dest, limits)
        content_root = _content_root(dest)
        payload_root = content_root
        if kind in (SourceKind.BAG, SourceKind.ZIPPED_BAG):
            payload_root = content_root / BAG_PAYLOAD
            if not payload_root.is_dir():
                raise SubmissionRefused([refusals.bag_invalid("the bag has no data/ folder")])
        payload = _payload(staged, dest, payload_root)
        no_metadata = not any((payload_root / name).is_file() for name in METADATA_NAMES)
        edxml = sip = None
        edxml_kinds = (SourceKind.FOLDER, SourceKind.ZIP, SourceKind.EDXML)
        if no_metadata and kind in edxml_kinds and find_messages(payload_root, payload):
            kind = SourceKind.EDXML
            edxml = stage_edxml(
                payload_root, payload, limits, trust_roots=trust_roots, mapping_dir=edxml_mappings,
                agency_code=agency_code,
            )  # fmt: skip
        if no_metadata and edxml is None and is_sip(payload_root):
            sip = stage_sip(payload_root, payload)
        if edxml is not None:
            declaration: Declaration | list[Finding] = edxml.declaration
            answers = tuple(dict(a) for a in edxml.answers)
            payload = edxml.files
        elif sip is not None:
            declaration = sip.declaration
        else:
            declaration = read_declaration(
                payload_root, require_sha256=kind in (SourceKind.FOLDER, SourceKind.ZIP)
            )
        if not isinstance(declaration, Declaration):
            raise SubmissionRefused(declaration)
        if edxml is not None:
            findings = compare_declared(payload, declaration.declared, not_documents=edxml.messages)
            findings.extend(edxml.findings)
        elif sip is not None:
            findings = compare_declared(payload, declaration.declared, not_documents=sip.not_documents)
            if kind in (SourceKind.BAG, SourceKind.ZIPPED_BAG):
                findings.extend(verify_bag_payload(content_root, payload))
        else:
            findings = _verify(kind, content_root, payload, declaration)
        if has_errors(findings):
            raise SubmissionRefused(findings)
    except SubmissionRefused as refused:
        if not answers and payload:
            answers = _answers(payload_root, payload)
        shutil.rmtree(dest, ignore_errors=True)
        log.info(
            "submission rejected",
            extra={"submission_id": submission_id, "codes": [f.code for f in refused.findings]},
        )
        return IntakeRejected(submission_id, received, refused.findings, answers)
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
        answers=answers,
    )
