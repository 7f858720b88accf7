"""Read what the submitter declares: ``metadata.json`` (or ``metadata.xlsx``).

Only the envelope is checked here: a profile name, a dossier object and a list of
documents, each naming a file and (outside bags) its SHA-256. The fields themselves are
checked later by the metadata engine against the profile. See docs/submission-format.md.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive import boundedjson
from archive.findings import Finding

from . import refusals

__all__ = ["METADATA_NAMES", "Declaration", "read_declaration"]

METADATA_NAMES = ("metadata.json", "metadata.xlsx")
MAX_METADATA_BYTES = boundedjson.MAX_METADATA_BYTES
MAX_SHEET_ROWS = 100_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Declaration:
    """The parsed metadata file: profile, dossier fields, documents, declared checksums.

    ``declared`` maps each document's NFC path to its lower-case SHA-256 hex (empty for a
    document without one, allowed only in bags where the manifest declares checksums).
    """

    metadata_file: str
    profile: str
    dossier: Mapping[str, Any]
    documents: tuple[Mapping[str, Any], ...]
    declared: Mapping[str, str]


def read_declaration(payload_root: Path, *, require_sha256: bool) -> Declaration | list[Finding]:
    """Read ``metadata.json`` or ``metadata.xlsx`` under ``payload_root``.

    Returns the :class:`Declaration` or the findings that refuse it
    (``intake.metadata_missing``, ``intake.metadata_invalid_json``, ``intake.metadata_invalid``).
    """
    json_path = payload_root / METADATA_NAMES[0]
    xlsx_path = payload_root / METADATA_NAMES[1]
    if json_path.is_file():
        loaded = _load_json(json_path)
        name = METADATA_NAMES[0]
    elif xlsx_path.is_file():
        loaded = _load_xlsx(xlsx_path)
        name = METADATA_NAMES[1]
    else:
        return [refusals.metadata_missing()]
    if isinstance(loaded, Finding):
        return [loaded]
    return _envelope(name, loaded, require_sha256=require_sha256)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _load_json(path: Path) -> Any | Finding:
    """Parse within the limits of :mod:`archive.boundedjson` (depth 64, 16 MiB): never recurses."""
    try:
        return boundedjson.load_file(
            path, max_bytes=MAX_METADATA_BYTES, object_pairs_hook=_reject_duplicate_keys
        )
    except boundedjson.JsonRefused as exc:
        return refusals.metadata_refused(path.name, exc)


def _cell(value: Any) -> Any:
    """Turn a spreadsheet cell into the value metadata.json would hold (dates as DD/MM/YYYY)."""
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _size(values: Any) -> int:
    return sum(len(str(v)) + 4 for v in values if v is not None)


def _load_xlsx(path: Path) -> Any | Finding:
    """Read sheet ``dossier`` (rows: field, value; ``profile`` is one of them) and sheet
    ``documents`` (a header row of field names, then one row per document)."""
    from openpyxl import load_workbook  # heavy import, only when a workbook is submitted

    name = path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        return refusals.metadata_invalid(name, f"unreadable workbook: {exc}")
    try:
        if "dossier" not in book.sheetnames or "documents" not in book.sheetnames:
            return refusals.metadata_invalid(name, "sheets 'dossier' and 'documents' are required")
        dossier: dict[str, Any] = {}
        size = 0  # characters of the metadata read so far (an estimate of its JSON size)
        for count, row in enumerate(book["dossier"].iter_rows(min_row=2, values_only=True)):
            if count > MAX_SHEET_ROWS:
                return refusals.metadata_invalid(name, "too many rows in sheet 'dossier'")
            if row and row[0] not in (None, "") and len(row) > 1 and row[1] not in (None, ""):
                dossier[str(row[0]).strip()] = _cell(row[1])
                size += _size(row[:2])
                if size > MAX_METADATA_BYTES:
                    return refusals.metadata_refused(name, boundedjson.too_large(size, MAX_METADATA_BYTES))
        profile = dossier.pop("profile", None)
        rows = book["documents"].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        documents: list[dict[str, Any]] = []
        for count, row in enumerate(rows):
            if count > MAX_SHEET_ROWS:
                return refusals.metadata_invalid(name, "too many rows in sheet 'documents'")
            doc = {h: _cell(v) for h, v in zip(header, row, strict=False) if h and v not in (None, "")}
            size += _size(doc.values())
            if size > MAX_METADATA_BYTES:  # the same limit as metadata.json, on what the sheets hold
                return refusals.metadata_refused(name, boundedjson.too_large(size, MAX_METADATA_BYTES))
            if doc:
                documents.append(doc)
    finally:
        book.close()
    return {"profile": profile, "dossier": dossier, "documents": documents}


def _envelope(name: str, data: Any, *, require_sha256: bool) -> Declaration | list[Finding]:
    if not isinstance(data, dict):
        return [refusals.metadata_invalid(name, "the top level must be an object")]
    problems: list[Finding] = []
    profile = data.get("profile")
    if not isinstance(profile, str) or not profile.strip():
        problems.append(refusals.metadata_invalid(name, "'profile' must be a non-empty string", "profile"))
    dossier = data.get("dossier")
    if not isinstance(dossier, dict):
        problems.append(refusals.metadata_invalid(name, "'dossier' must be an object", "dossier"))
    documents = data.get("documents")
    if not isinstance(documents, list) or not documents:
        problems.append(refusals.metadata_invalid(name, "'documents' must be a non-empty list", "documents"))
        documents = []
    declared: dict[str, str] = {}
    for index, doc in enumerate(documents):
        where = f"documents[{index}]"
        if not isinstance(doc, dict):
            problems.append(refusals.metadata_invalid(name, f"{where} must be an object", where))
            continue
        file = doc.get("file")
        if not isinstance(file, str) or not file.strip():
            problems.append(refusals.metadata_invalid(name, f"{where}.file must be a path", f"{where}.file"))
            continue
        path = unicodedata.normalize("NFC", file.strip().replace("\\", "/"))
        while path.startswith("./"):
            path = path[2:]
        digest = doc.get("sha256")
        if isinstance(digest, str) and _SHA256.match(digest.strip().lower()):
            digest = digest.strip().lower()
        elif digest is None and not require_sha256:
            digest = ""
        else:
            problems.append(
                refusals.metadata_invalid(name, f"{where}.sha256 must be 64 hex digits", f"{where}.sha256")
            )
            continue
        if path in declared:
            problems.append(refusals.metadata_invalid(name, f"{path} is listed twice", f"{where}.file"))
            continue
        declared[path] = digest
    if problems:
        return problems
    assert isinstance(profile, str) and isinstance(dossier, dict)
    return Declaration(name, profile.strip(), dossier, tuple(documents), declared)
