"""Crosswalks between profiles: NĐ 30/2020 → TT 05/2025 and TT 02/2019 → TT 05/2025.

The mappings are data (``crosswalks/<source>_to_<target>.toml`` and ``crosswalks/codes.toml``).
Choices, documented in docs/metadata-profiles.md:

* Text mapped to a code (Thời hạn bảo quản "Vĩnh viễn" → ``01``, "Tiếng Việt" → ``01``,
  "Quyết định" → ``02`` …) keeps its original in the target record's ``_original`` sub-dict
  (source field name → original value). The validator ignores ``_``-keys and EAD writers do
  not write them; the ingest stage stores them with the package.
* A retention of a number of years without its own code (``5 năm``) becomes ``07`` Khác and
  the text is also appended to ``description`` ("Thời hạn lưu trữ: 5 năm"), so the years
  reach the EAD file.
* Fields with no TT 05 element (``keep = true``) go to ``_original`` only; fields the mapping
  does not know are kept there too, with an info finding.
* A value that cannot be mapped leaves the target field empty (the TT 05 validator then says
  if it was required) and gives a ``crosswalk.unmapped`` warning.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from archive.errors import NotFound
from archive.findings import Finding, info, warning
from archive.metadata.profile import load_profile
from archive.metadata.values import as_text

CROSSWALK_DIR = Path(__file__).with_name("crosswalks")


@cache
def _codes() -> dict[str, Any]:
    with (CROSSWALK_DIR / "codes.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def _mapping(source: str, target: str) -> dict[str, Any]:
    path = CROSSWALK_DIR / f"{source}_to_{target}.toml"
    if not path.exists():
        raise NotFound("crosswalk", f"{source} → {target}")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def map_text(table: str, text: str) -> str | None:
    """Map a text value to a code with ``codes.toml`` table ``table``; None when unknown."""
    codes = _codes()
    key = _key(text)
    found = codes.get(table, {}).get(key)
    if found is not None:
        return str(found)
    if key in {str(v) for v in codes.get(table, {}).values()}:
        return key  # already a code
    for pattern, code in codes.get(f"{table}_patterns", {}).items():
        if re.fullmatch(pattern, key):
            return str(code)
    return None


def _append(record: dict[str, Any], field: str, text: str) -> None:
    previous = record.get(field)
    record[field] = f"{previous}; {text}" if previous else text


def crosswalk(
    record: Mapping[str, Any],
    source: str,
    target: str = "tt05-2025",
    kind: str = "dossier",
    *,
    dossier: Mapping[str, Any] | None = None,
    ordinal: int | None = None,
    path: str | None = None,
) -> tuple[dict[str, Any], list[Finding]]:
    """Map one ``source`` record to ``target``; return (new record, findings).

    ``kind`` is ``"dossier"``, ``"document"`` (the source profile's document kind) or a source
    kind name (``"incoming"``). ``dossier`` (already crosswalked) and ``ordinal`` let derived
    codes (docCode) and inherited values (maintenance, mode, language) be filled in.
    """
    mapping = _mapping(source, target)
    src_profile = load_profile(source)
    kind_name = {"dossier": src_profile.dossier_kind, "document": src_profile.document_kind}.get(kind, kind)
    spec = mapping.get("kinds", {}).get(kind_name)
    if spec is None:
        raise NotFound("crosswalk kind", f"{source}:{kind_name}")
    fields: Mapping[str, Any] = spec.get("fields", {})
    lookup = {k.casefold(): k for k in fields}
    out: dict[str, Any] = {}
    original: dict[str, Any] = {}
    findings: list[Finding] = []
    for key, value in record.items():
        if key in ("file", "sha256") or value in (None, "", []):
            if key in ("file", "sha256"):
                out[key] = value
            continue
        if key == "kind" or key.startswith("_"):
            continue
        rule = fields.get(lookup.get(key.casefold(), ""))
        if rule is None:
            original[key] = value
            findings.append(_note("crosswalk.field_unmapped", key, path, value=None))
            continue
        if isinstance(rule, str):
            out[rule] = value
            continue
        findings += _apply(rule, key, value, out, original, path)
    for name in spec.get("inherit", []):
        if name not in out and dossier is not None and dossier.get(name) not in (None, ""):
            out[name] = dossier[name]
    for name, rule in spec.get("derive", {}).items():
        if name not in out:
            value = _derive(rule, dossier, ordinal)
            if value is not None:
                out[name] = value
    if original:
        out["_original"] = original
    return out, findings


def _apply(
    rule: Mapping[str, Any],
    key: str,
    value: object,
    out: dict[str, Any],
    original: dict[str, Any],
    path: str | None,
) -> list[Finding]:
    if rule.get("keep"):
        original[key] = value
        return []
    target = str(rule["to"])
    if "format" in rule and isinstance(value, Mapping):
        text = str(rule["format"]).format_map(
            {k: value.get(k, "") for k in re.findall(r"{(\w+)}", rule["format"])}
        )
        original[key] = value
        _append(out, target, str(rule.get("prefix", "")) + " ".join(text.split()))
        return []
    if "map" not in rule:
        if "prefix" in rule or target in out:
            original[key] = value
            _append(out, target, str(rule.get("prefix", "")) + (as_text(value) or str(value)))
        else:
            out[target] = value
        return []
    items = value if isinstance(value, list) else [value]
    if rule.get("multi") and isinstance(value, str):
        items = [p.strip() for p in re.split(r"[,;]| và ", value) if p.strip()]
    codes: list[str] = []
    findings: list[Finding] = []
    for item in items:
        code = map_text(str(rule["map"]), str(item))
        if code is None:
            findings.append(_note("crosswalk.unmapped", key, path, value=str(item)))
        else:
            codes.append(code)
    original[key] = value
    if codes:
        out[target] = codes if rule.get("multi") and len(codes) > 1 else codes[0]
        if rule["map"] == "maintenance" and codes[0] == "07" and _key(str(value)) != "khác":
            _append(out, "description", f"Thời hạn lưu trữ: {value}")
    return findings


def _derive(rule: Mapping[str, Any], dossier: Mapping[str, Any] | None, ordinal: int | None) -> str | None:
    parts: list[str] = []
    for part in rule.get("parts", []):
        if part == "@ordinal":
            if ordinal is None:
                return None
            parts.append(str(ordinal).zfill(int(rule.get("pad", 0))))
        elif str(part).startswith("@dossier."):
            value = (dossier or {}).get(str(part).removeprefix("@dossier."))
            if value in (None, ""):
                return None
            parts.append(str(value))
    return str(rule.get("separator", "")).join(parts) if parts else None


def _note(code: str, key: str, path: str | None, value: str | None) -> Finding:
    if code == "crosswalk.unmapped":
        return warning(
            code,
            f"{key}: không chuyển được giá trị {value!r} sang bảng mã của chuẩn đích; giữ nguyên trong _original.",
            f"{key}: value {value!r} has no code in the target profile; kept in _original.",
            path=path,
            field=key,
            evidence={"value": (value or "")[:80]},
        )
    return info(
        code,
        f"Trường {key} không có tương ứng trong chuẩn đích; giữ nguyên trong _original.",
        f"Field {key} has no counterpart in the target profile; kept in _original.",
        path=path,
        field=key,
    )


def crosswalk_dossier(
    data: Mapping[str, Any], source: str | None = None, target: str = "tt05-2025"
) -> tuple[dict[str, Any], list[Finding]]:
    """Crosswalk a whole ``{"profile", "dossier", "documents"}`` record to ``target``."""
    src = source or str(data.get("profile") or "")
    dossier, findings = crosswalk(data.get("dossier") or {}, src, target, "dossier")
    documents: list[dict[str, Any]] = []
    for index, doc in enumerate(data.get("documents") or [], start=1):
        ordinal = _doc_ordinal(doc) or index
        kind = str(doc.get("kind") or "document")
        mapped, found = crosswalk(
            doc, src, target, kind, dossier=dossier, ordinal=ordinal, path=doc.get("file")
        )
        documents.append(mapped)
        findings += found
    return {"profile": target, "dossier": dossier, "documents": documents}, findings


def _doc_ordinal(doc: Mapping[str, Any]) -> int | None:
    for key, value in doc.items():
        if key.casefold() == "docordinal":
            text = as_text(value)
            if text is not None and text.strip().isdigit():
                return int(text)
    return None
