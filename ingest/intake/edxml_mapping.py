"""Map edXML envelopes onto TT 05/2025 dossier and document fields, with a mapping profile per agency.

The profile is data (TOML): ``edxml_mappings/default.toml`` for every agency, then
``<OrganId>.toml`` (from this folder, then from the configured folder) on top of it. What the
envelope says is taken from the envelope; what it cannot say (dossier code, title, retention,
access mode) comes from the agency's profile — a ``[[dossiers]]`` entry naming the messages'
``DocumentId`` values, or its ``[dossier]`` table — or stays missing, and the metadata check
then asks an archivist to complete it (``intake.field_to_complete``). Nothing is guessed.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from archive.findings import Finding, info

from .edxml import EdxmlMessage

__all__ = ["EDXML_SOURCE", "EdxmlMapping", "load_mapping", "map_messages"]

EDXML_SOURCE = "edxml"  # value of the dossier's ``_source`` key
BUILTIN = Path(__file__).with_name("edxml_mappings")
_ORGAN_ID = re.compile(r"^[0-9A-Z.]{1,35}$")  # REGULATIONS §2.2: ≤ 35 characters, . 0-9 A-Z
_DATE = re.compile(r"^\s*(\d{4})[/-](\d{1,2})[/-](\d{1,2})|^\s*(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True, slots=True)
class EdxmlMapping:
    """A mapping profile, merged: the files read, fields for every dossier and document, the
    document-type table (folded names → codes), and dossiers defined by ``DocumentId``."""

    files: tuple[str, ...]
    dossier: Mapping[str, Any]
    document: Mapping[str, Any]
    document_types: Mapping[str, str]
    dossiers: tuple[Mapping[str, Any], ...] = field(default=())


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a Vietnamese name (đ → d)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_mapping(organ_id: str, extra_dir: Path | None = None) -> EdxmlMapping:
    """The mapping for the agency ``organ_id`` (its edXML ``OrganId``), merged over the default."""
    layers = [BUILTIN / "default.toml"]
    if _ORGAN_ID.match(organ_id or ""):
        for folder in (BUILTIN, extra_dir):
            if folder is not None and (folder / f"{organ_id}.toml").is_file():
                layers.append(folder / f"{organ_id}.toml")
    dossier: dict[str, Any] = {}
    document: dict[str, Any] = {}
    types: dict[str, str] = {}
    dossiers: list[Mapping[str, Any]] = []
    for path in layers:
        data = _read(path)
        dossier.update(data.get("dossier") or {})
        document.update(data.get("document") or {})
        types.update({fold(k): str(v) for k, v in (data.get("document_types") or {}).items()})
        dossiers.extend(d for d in data.get("dossiers") or [] if isinstance(d, dict))
    return EdxmlMapping(tuple(p.name for p in layers), dossier, document, types, tuple(dossiers))


def edxml_date(text: Any) -> str | None:
    """``YYYY/MM/DD`` (the standard), ``YYYY-MM-DD`` or ``DD/MM/YYYY`` → ``DD/MM/YYYY``."""
    match = _DATE.match(str(text or ""))
    if not match:
        return None
    y, m, d = (
        (match.group(1), match.group(2), match.group(3))
        if match.group(1)
        else (match.group(6), match.group(5), match.group(4))
    )
    try:
        return date(int(y), int(m), int(d)).strftime("%d/%m/%Y")
    except ValueError:
        return None


def _get(tree: Any, *path: str) -> Any:
    for key in path:
        if isinstance(tree, list):
            tree = tree[0] if tree else None
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _text(tree: Any, *path: str) -> str:
    value = _get(tree, *path)
    return value.strip() if isinstance(value, str) else ""


def _type_code(header: Mapping[str, Any], mapping: EdxmlMapping) -> str | None:
    name = _text(header, "DocumentType", "TypeName")
    if not name:
        return None
    folded = fold(name)
    if folded in mapping.document_types:
        return mapping.document_types[folded]
    for known, code in mapping.document_types.items():  # "Công văn hỏa tốc" → Công văn
        if folded.startswith(known + " "):
            return code
    return None


def provenance(message: EdxmlMessage) -> dict[str, Any]:
    """The envelope facts kept with each document (``_edxml``): who sent it to whom, when, the
    exchange's trace, what it answers. Kept as received, for PREMIS and the archivist."""
    header = message.header
    return {
        "message": message.path,
        "document_id": _text(header, "DocumentId"),
        "from": _get(header, "From") or {},
        "to": _get(header, "To") or [],
        "promulgation": _get(header, "PromulgationInfo") or {},
        "document_type": _get(header, "DocumentType") or {},
        "signer": _get(header, "SignerInfo") or {},
        "response_for": _get(header, "ResponseFor") or [],
        "steering_type": _text(header, "SteeringType"),
        "due_date": _text(header, "DueDate"),
        "other": _get(header, "OtherInfo") or {},
        "trace": dict(message.trace),
        "signed": message.signed,
    }


def _documents(message: EdxmlMessage, mapping: EdxmlMapping) -> list[dict[str, Any]]:
    header = message.header
    base: dict[str, Any] = dict(mapping.document)
    found: dict[str, Any] = {
        "codeNumber": _text(header, "Code", "CodeNumber"),
        "codeNotation": _text(header, "Code", "CodeNotation"),
        "issuedDate": edxml_date(_text(header, "PromulgationInfo", "PromulgationDate")),
        "organName": _text(header, "From", "OrganName"),
        "subject": _text(header, "Subject"),
        "typeName": _type_code(header, mapping),
    }
    pages = _text(header, "OtherInfo", "PageAmount")
    if pages.isdigit() and int(pages) > 0:
        found["numberOfPage"] = int(pages)
    base.update({k: v for k, v in found.items() if v})
    trail = provenance(message)
    out = []
    for index, attachment in enumerate(message.attachments):
        doc = dict(base)
        doc["file"] = attachment.file.path
        doc["sha256"] = attachment.file.sha256
        if index and attachment.description and doc.get("subject"):
            doc["description"] = f"Tệp kèm theo: {attachment.description}"
        doc["_edxml"] = {
            **trail,
            "attachment": {
                "content_id": attachment.content_id,
                "name": attachment.name,
                "declared_type": attachment.declared_type,
                "description": attachment.description,
            },
        }
        out.append(doc)
    return out


def _sortable(day: str) -> tuple[int, int, int]:
    d, m, y = (int(x) for x in day.split("/"))
    return (y, m, d)


def map_messages(
    messages: Sequence[EdxmlMessage], mapping: EdxmlMapping
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Finding]]:
    """Dossier fields, documents and notes for the document messages of one submission."""
    documents = [doc for message in messages for doc in _documents(message, mapping)]
    ids = {_text(m.header, "DocumentId") for m in messages} - {""}
    dossier: dict[str, Any] = dict(mapping.dossier)
    chosen = next((d for d in mapping.dossiers if ids and ids <= set(d.get("documents") or [])), None)
    if chosen is not None:
        dossier.update({k: v for k, v in chosen.items() if k != "documents"})
    dates = sorted({d["issuedDate"] for d in documents if d.get("issuedDate")}, key=_sortable)
    if dates:
        dossier.setdefault("startDate", dates[0])
        dossier.setdefault("endDate", dates[-1])
    dossier["totalDoc"] = len(documents)
    dossier["_source"] = EDXML_SOURCE
    for doc in documents:  # a document's access mode is the dossier's unless the profile says otherwise
        if dossier.get("mode") and not doc.get("mode"):
            doc["mode"] = dossier["mode"]
    code = dossier.get("fileCode")
    if code:
        for ordinal, doc in enumerate(documents, start=1):
            doc.setdefault("docCode", f"{code}.{ordinal:07d}")
    taken = sorted(set(mapping.dossier) | ({k for k in chosen if k != "documents"} if chosen else set()))
    notes = [
        info(
            "edxml.mapped_from_profile",
            f"Các trường lấy từ hồ sơ ánh xạ ({', '.join(mapping.files)}), không từ thông điệp: "
            f"hồ sơ: {', '.join(taken) or '—'}; văn bản: {', '.join(sorted(mapping.document)) or '—'}.",
            f"Fields taken from the mapping profile ({', '.join(mapping.files)}), not from the messages: "
            f"dossier: {', '.join(taken) or '—'}; documents: {', '.join(sorted(mapping.document)) or '—'}.",
            evidence={"files": list(mapping.files), "dossier": taken, "documents": sorted(mapping.document)},
        )
    ]
    return dossier, documents, notes
