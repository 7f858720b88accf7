"""Read and write dossier metadata: JSON, archivists' XLSX/CSV listings, TT 05/2025 EAD XML.

Every reader returns the submission shape ``{"profile", "dossier": {...}, "documents": [...]}``.

Listings (mục lục hồ sơ): one row per dossier, one row per document; column headers are the
profile's Vietnamese labels (``Tiêu đề hồ sơ``) or its field names (``title``), any case, a
trailing ``*`` ignored. Title rows above the header are skipped (the header is the first row
naming at least two fields). A document row finds its dossier through a ``Mã hồ sơ`` /
``fileCode`` column; with one dossier it may be left out. Files are named by a ``Tệp`` /
``file`` column, checksums by ``sha256``.

* XLSX: the dossier sheet is named ``Hồ sơ`` (else the first sheet), the document sheet
  ``Văn bản`` / ``Tài liệu`` (else the second sheet, if any).
* CSV (UTF-8, optional BOM): the file lists dossiers; documents come from the sibling file
  ``<stem>.documents.csv`` if it exists.

Excel drops leading zeros of codes typed as numbers; a whole number in a code column is read
back as a two-digit code (``1`` → ``"01"``). Dates typed as Excel dates become ``DD/MM/YYYY``.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive import boundedjson
from archive.metadata.ead import (
    ead_document_xml,
    ead_dossier_xml,
    parse_record_xml,
    read_ead_dossier,
    write_ead_dossier,
)
from archive.metadata.profile import FieldSpec, Profile, RecordKind, load_profile

__all__ = [
    "ead_document_xml",
    "ead_dossier_xml",
    "parse_record_xml",
    "read_csv",
    "read_ead_dossier",
    "read_json",
    "read_listing",
    "read_metadata",
    "read_xlsx",
    "write_ead_dossier",
    "write_json",
]

_FILE_HEADERS = {"file", "tệp", "tệp tin", "tên tệp", "đường dẫn tệp"}
_SHA_HEADERS = {"sha256", "sha-256", "mã băm sha-256", "giá trị băm"}
_LINK_HEADERS = {"mã hồ sơ", "filecode", "arcfilecode", "mã hồ sơ lưu trữ"}
_KIND_HEADERS = {"kind", "loại bản ghi"}
_DOSSIER_SHEETS = {"hồ sơ", "ho so", "dossier", "dossiers", "mục lục hồ sơ"}
_DOCUMENT_SHEETS = {"văn bản", "van ban", "tài liệu", "tai lieu", "document", "documents", "mục lục văn bản"}


def read_json(path: Path) -> dict[str, Any]:
    """Read a ``metadata.json``; raise ValueError when it is not a JSON object.

    Parsed by :func:`archive.boundedjson.load_file` (16 MiB, depth 64): a refused file raises
    :class:`~archive.boundedjson.JsonRefused`, a ValueError, never RecursionError.
    """
    data = boundedjson.load_file(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a JSON object")
    return data


def write_json(data: Mapping[str, Any], path: Path) -> Path:
    """Write metadata as UTF-8 JSON (NFC kept as given, non-ASCII unescaped), atomically."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _norm(header: object) -> str:
    text = unicodedata.normalize("NFC", str(header or "")).strip().rstrip("*").strip()
    text = text.removesuffix("(*)").strip()
    return " ".join(text.split()).casefold()


def _header_map(kind: RecordKind) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for spec in kind.fields:
        for key in (spec.name, spec.label_vi, *spec.aliases):
            out.setdefault(_norm(key), spec)
    return out


def _cell(value: object, spec: FieldSpec | None) -> object:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if spec is not None and spec.type == "code" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"
    if isinstance(value, str):
        return value.strip()
    return value


def _find_header(rows: Sequence[Sequence[object]], kind: RecordKind) -> int | None:
    known = _header_map(kind)
    for index, row in enumerate(rows[:10]):
        if sum(1 for cell in row if _norm(cell) in known) >= 2:
            return index
    return None


def _records(rows: Sequence[Sequence[object]], kind: RecordKind) -> list[dict[str, Any]]:
    """Turn listing rows into records keyed by field name (plus file/sha256/_dossier/kind)."""
    start = _find_header(rows, kind)
    if start is None:
        return []
    known = _header_map(kind)
    columns: list[tuple[int, str, FieldSpec | None]] = []
    for col, header in enumerate(rows[start]):
        key = _norm(header)
        if key in known:
            columns.append((col, known[key].name, known[key]))
        elif key in _FILE_HEADERS:
            columns.append((col, "file", None))
        elif key in _SHA_HEADERS:
            columns.append((col, "sha256", None))
        elif key in _KIND_HEADERS:
            columns.append((col, "kind", None))
        elif key in _LINK_HEADERS:
            columns.append((col, "_dossier", None))
        elif key:
            columns.append((col, str(header).strip(), None))  # unknown: the validator says so
    records: list[dict[str, Any]] = []
    for row in rows[start + 1 :]:
        record: dict[str, Any] = {}
        for col, name, spec in columns:
            value = _cell(row[col] if col < len(row) else None, spec)
            if value not in (None, ""):
                record[name] = value
        if record:
            records.append(record)
    return records


def _guess_profile(rows: Sequence[Sequence[object]]) -> str:
    """Pick the profile whose dossier fields the header row names exactly most often."""
    best, best_score = "tt05-2025", 0
    for name in ("tt05-2025", "nd30-2020", "tt02-2019"):
        kind = load_profile(name).kind(load_profile(name).dossier_kind)
        exact = {key for spec in kind.fields for key in (spec.name, spec.label_vi)}
        start = _find_header(rows, kind)
        header = rows[start] if start is not None else []
        score = sum(1 for cell in header if str(cell or "").strip().rstrip("*").strip() in exact)
        if score > best_score:
            best, best_score = name, score
    return best


def _assemble(
    profile: Profile, dossier_rows: Sequence[Sequence[object]], document_rows: Sequence[Sequence[object]]
) -> list[dict[str, Any]]:
    dossiers = _records(dossier_rows, profile.kind(profile.dossier_kind))
    documents = _records(document_rows, profile.kind(profile.document_kind)) if document_rows else []
    code_spec = profile.kind(profile.dossier_kind).field("fileCode") or profile.kind(
        profile.dossier_kind
    ).field("arcFileCode")
    out: list[dict[str, Any]] = []
    for dossier in dossiers:
        code = str(dossier.get(code_spec.name, "")) if code_spec else ""
        docs = [
            {k: v for k, v in d.items() if k != "_dossier"}
            for d in documents
            if (len(dossiers) == 1 and "_dossier" not in d) or str(d.get("_dossier", "")) == code
        ]
        out.append({"profile": profile.name, "dossier": dossier, "documents": docs})
    return out


def read_xlsx(path: Path, profile: str | None = None) -> list[dict[str, Any]]:
    """Read an XLSX listing (read-only, row by row); return one dossier dict per dossier row."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = {_norm(ws.title): ws for ws in workbook.worksheets}
        ordered = list(workbook.worksheets)
        dossier_ws = next((sheets[n] for n in _DOSSIER_SHEETS if n in sheets), ordered[0])
        document_ws = next((sheets[n] for n in _DOCUMENT_SHEETS if n in sheets), None)
        if document_ws is None and len(ordered) > 1:
            document_ws = next(ws for ws in ordered if ws is not dossier_ws)
        dossier_rows = [list(r) for r in dossier_ws.iter_rows(values_only=True)]
        document_rows = [list(r) for r in document_ws.iter_rows(values_only=True)] if document_ws else []
    finally:
        workbook.close()
    prof = load_profile(profile or _guess_profile(dossier_rows))
    return _assemble(prof, dossier_rows, document_rows)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        yield from csv.reader(fh)


def read_csv(path: Path, profile: str | None = None, documents: Path | None = None) -> list[dict[str, Any]]:
    """Read a CSV dossier listing (+ ``<stem>.documents.csv``); one dossier dict per row."""
    dossier_rows = list(_csv_rows(path))
    documents = documents or path.with_name(f"{path.stem}.documents.csv")
    document_rows = list(_csv_rows(documents)) if documents.exists() else []
    prof = load_profile(profile or _guess_profile(dossier_rows))
    return _assemble(prof, dossier_rows, document_rows)


def read_listing(path: Path, profile: str | None = None) -> list[dict[str, Any]]:
    """Read every dossier of an XLSX or CSV listing."""
    suffix = path.suffix.casefold()
    if suffix == ".xlsx":
        return read_xlsx(path, profile)
    if suffix == ".csv":
        return read_csv(path, profile)
    raise ValueError(f"{path.name}: not a listing (.xlsx or .csv expected)")


def read_metadata(path: Path, profile: str | None = None) -> dict[str, Any]:
    """Read one dossier's metadata from JSON, XLSX, CSV, or a directory of EAD files.

    A listing holding several dossiers raises ValueError: use ``read_listing`` for those.
    """
    if path.is_dir():
        return read_ead_dossier(path)
    if path.suffix.casefold() == ".json":
        return read_json(path)
    dossiers = read_listing(path, profile)
    if len(dossiers) != 1:
        raise ValueError(f"{path.name}: expected one dossier, found {len(dossiers)}")
    return dossiers[0]
