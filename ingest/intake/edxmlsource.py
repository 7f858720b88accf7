"""Turn staged edXML messages (one message, or a folder/ZIP of the messages of one dossier) into
a declaration the pipeline checks like any other: attachments decoded and staged beside the
messages, zipped attachments unpacked under the ZIP limits, envelope fields mapped.

Layout in staging (relative to the payload root)::

    <message>.edxml                      the message as received (kept: its signature covers all)
    attachments/<message stem>/<name>    each decoded attachment
    attachments/<message stem>/<name>-files/...   the members of a zipped attachment

The messages are not documents (``not_documents``); each attachment (or zip member) is one
document, with the envelope's fields and the envelope facts under ``_edxml``.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from archive.findings import Finding, Severity, has_errors

from . import edxml_refusals as refuse
from . import refusals
from .copying import ByteBudget
from .declaration import Declaration
from .edxml import EDXML_NS, EdxmlAttachment, EdxmlMessage, is_edxml, read_message
from .edxml_mapping import load_mapping, map_messages
from .edxml_signature import verify_envelope
from .errors import SubmissionRefused
from .submission import IntakeLimits, StagedFile
from .zipsource import stage_zip

__all__ = ["EdxmlIntake", "answer_for", "find_messages", "stage_edxml"]

MESSAGE_SUFFIXES = (".edxml", ".xml")
ATTACHMENTS = "attachments"
_OFFICE_MARKERS = ("[Content_Types].xml", "mimetype", "META-INF/manifest.xml")


@dataclass(frozen=True, slots=True)
class EdxmlIntake:
    """What the messages of one submission give: a declaration, the decoded files, the
    message paths (not documents), notes (warnings and information) and, per message, what a
    status answer refers to (``ResponseFor``)."""

    declaration: Declaration
    files: dict[str, StagedFile]
    messages: tuple[str, ...]
    findings: tuple[Finding, ...]
    answers: tuple[Mapping[str, Any], ...]


def find_messages(payload_root: Path, staged: Mapping[str, StagedFile]) -> list[str]:
    """The top-level files of the payload that are edXML messages, in name order."""
    return sorted(
        path
        for path in staged
        if "/" not in path and path.lower().endswith(MESSAGE_SUFFIXES) and is_edxml(payload_root / path)
    )


def answer_for(path: str, header: Mapping[str, Any]) -> dict[str, Any]:
    """What a Status message answering the message ``path`` refers to (edXML ``ResponseFor``)."""

    def part(name: str) -> Mapping[str, Any]:
        value = header.get(name)
        return value if isinstance(value, dict) else {}

    code, sender, promulgation = part("Code"), part("From"), part("PromulgationInfo")
    number, notation = str(code.get("CodeNumber") or ""), str(code.get("CodeNotation") or "")
    return {
        "message": path,
        "OrganId": str(sender.get("OrganId") or ""),
        "OrganName": str(sender.get("OrganName") or ""),
        "Code": f"{number}/{notation}" if number and notation else number or notation,
        "PromulgationDate": str(promulgation.get("PromulgationDate") or ""),
        "DocumentId": str(header.get("DocumentId") or ""),
    }


def _sniff(path: Path) -> str:
    """What the bytes are: ``pdf``, ``office`` (OOXML/ODF, itself a ZIP), ``zip`` or ``other``."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return "other"
        return "office" if names & set(_OFFICE_MARKERS) else "zip"
    return "other"


def _checked_type(attachment: EdxmlAttachment, found: str) -> Finding | None:
    declared = attachment.declared_type.lower()
    labelled = "pdf" if "pdf" in declared else "zip" if "zip" in declared else ""
    if labelled and labelled != found and not (labelled == "zip" and found == "office"):
        return refuse.content_type_mismatch(attachment.file.path, attachment.declared_type, found)
    return None


def _unpack(payload_root: Path, attachment: EdxmlAttachment, limits: IntakeLimits) -> list[EdxmlAttachment]:
    """Replace a zipped attachment by its members (staged by the ZIP rules); the ZIP is removed."""
    source = payload_root / attachment.file.path
    folder_rel = f"{attachment.file.path}-files"
    dest = payload_root / folder_rel
    dest.mkdir(parents=True, exist_ok=False)  # names are unique in the message's folder
    members = stage_zip(source, dest, limits)
    source.unlink()
    return [
        EdxmlAttachment(
            content_id=attachment.content_id,
            name=f"{attachment.name}/{member.path}",
            declared_type="",
            description=f"{attachment.name}: {member.path}",
            file=StagedFile(f"{folder_rel}/{member.path}", member.size, member.sha256),
        )
        for member in members.values()
    ]


def _manifest_problems(message: EdxmlMessage) -> list[Finding]:
    carried = {a.content_id for a in message.attachments} | {a.name for a in message.attachments}
    problems = []
    for reference in message.manifest:
        wanted = str(reference.get("ContentId") or reference.get("AttachmentName") or "")
        if wanted and wanted not in carried and str(reference.get("AttachmentName") or "") not in carried:
            problems.append(refuse.manifest_missing(message.path, wanted))
    return problems


def _agency_of(messages: Sequence[EdxmlMessage]) -> str:
    """The OrganId present in every message (as sender or recipient), else the first sender."""
    counts: Counter[str] = Counter()
    for message in messages:
        ids = {str((message.header.get("From") or {}).get("OrganId") or "")}
        to = message.header.get("To") or []
        for recipient in to if isinstance(to, list) else [to]:
            if isinstance(recipient, dict):
                ids.add(str(recipient.get("OrganId") or ""))
        counts.update(ids - {""})
    common = [organ for organ, n in counts.most_common() if n == len(messages)]
    if common:
        return common[0]
    first = messages[0].header.get("From") or {}
    return str(first.get("OrganId") or "") if isinstance(first, dict) else ""


def stage_edxml(
    payload_root: Path,
    staged: Mapping[str, StagedFile],
    limits: IntakeLimits,
    *,
    trust_roots: Sequence[x509.Certificate] = (),
    mapping_dir: Path | None = None,
    agency_code: str | None = None,
) -> EdxmlIntake:
    """Decode, check and map the messages among ``staged`` (files under ``payload_root``).

    The mapping profile is the submitting agency's (``agency_code``, its OrganId) when given,
    else that of the OrganId every message shares (as sender or recipient).

    Raises :class:`SubmissionRefused` with the reasons when a message cannot be taken
    (malformed, a status message, a bad attachment, an invalid envelope signature…).
    """
    paths = find_messages(payload_root, staged)
    budget = ByteBudget(limits, files=len(staged), bytes=sum(f.size for f in staged.values()))
    messages: list[EdxmlMessage] = []
    findings: list[Finding] = []
    for path in paths:
        stem = path.rsplit(".", 1)[0]
        folder_rel = f"{ATTACHMENTS}/{stem}"
        folder = payload_root / ATTACHMENTS / stem
        folder.mkdir(parents=True, exist_ok=False)
        message = read_message(payload_root / path, path, folder, folder_rel, budget)
        if message.kind == "status":
            raise SubmissionRefused(
                [refuse.status_message(path, str(message.header.get("StatusCode") or ""))]
            )
        if message.namespace != EDXML_NS:
            findings.append(refuse.namespace_unexpected(path, message.namespace))
        problems = _manifest_problems(message)
        if not message.attachments:
            problems.append(refuse.no_attachment(path))
        if problems:
            raise SubmissionRefused(problems)
        attachments: list[EdxmlAttachment] = []
        for attachment in message.attachments:
            budget.add_file()
            found = _sniff(payload_root / attachment.file.path)
            mismatch = _checked_type(attachment, found)
            if mismatch is not None:
                findings.append(mismatch)
            attachments.extend(_unpack(payload_root, attachment, limits) if found == "zip" else [attachment])
        messages.append(dataclasses.replace(message, attachments=tuple(attachments)))
        if message.signed:
            findings.extend(verify_envelope(payload_root / path, path, trust_roots))
        else:
            findings.append(refuse.unsigned(path))
    if has_errors(findings):
        raise SubmissionRefused([f for f in findings if f.severity is Severity.ERROR])
    files = dict(staged)
    for message in messages:
        for attachment in message.attachments:
            files[attachment.file.path] = attachment.file
    total = sum(f.size for f in files.values())
    if total > limits.max_bytes:
        raise SubmissionRefused([refuse.attachment_too_large(None, total, limits.max_bytes)])
    if len(files) > limits.max_files:
        raise SubmissionRefused([refusals.too_many_files(len(files), limits.max_files)])
    mapping = load_mapping(agency_code or _agency_of(messages), mapping_dir)
    dossier, documents, notes = map_messages(messages, mapping)
    findings.extend(notes)
    declared = {str(doc["file"]): str(doc["sha256"]) for doc in documents}
    declaration = Declaration(paths[0], "tt05-2025", dossier, tuple(documents), declared)
    return EdxmlIntake(
        declaration,
        files,
        tuple(paths),
        tuple(findings),
        tuple(answer_for(m.path, m.header) for m in messages),
    )
