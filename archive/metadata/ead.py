"""TT 05/2025 EAD files: ``EAD.xml`` (hồ sơ, root ``<simpledc>``) and ``EAD_doc_<n>.xml``.

Elements follow the profile's field order (``ead = true`` fields only: the 18 of §5.1 for a
dossier, the 21 of §5.3 for a document). An absent value is written as an empty element so
every file carries the full frame; a multi-valued field (language) repeats its element.
``file``, ``sha256`` and the ``ead = false`` fields (organId …) are not EAD elements and are
not written; reading back gives them no value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from archive.metadata.profile import Profile, RecordKind, load_profile
from archive.metadata.values import as_text

_PREFIXES = {"document": "EAD_doc", "aip_document": "EAD_doc", "picture": "EAD_pic", "media": "EAD_media"}
_DOSSIER_FILE = "EAD.xml"


def _profile(data: Mapping[str, Any], profile: Profile | None) -> Profile:
    if profile is not None:
        return profile
    name = str(data.get("profile") or "tt05-2025")
    if name != "tt05-2025":
        raise ValueError(f"EAD files are written from TT 05/2025 metadata, not {name!r}; crosswalk first")
    return load_profile(name)


def record_xml(kind: RecordKind, record: Mapping[str, Any]) -> bytes:
    """Serialise one record as ``<simpledc>`` with the kind's EAD elements in order."""
    root = etree.Element(kind.xml_root or "simpledc")
    lookup = {k.casefold(): v for k, v in record.items() if isinstance(k, str)}
    for spec in kind.fields:
        if not spec.ead:
            continue
        value = next(
            (lookup[n.casefold()] for n in (spec.name, *spec.aliases) if n.casefold() in lookup), None
        )
        values = value if isinstance(value, list) else [value]
        for item in values or [None]:
            element = etree.SubElement(root, spec.name)
            text = as_text(item) if item is not None else None
            if text is not None:
                element.text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def ead_dossier_xml(data: Mapping[str, Any], profile: Profile | None = None) -> bytes:
    """Return the ``EAD.xml`` bytes for the dossier part of ``data`` (metadata.json shape)."""
    prof = _profile(data, profile)
    return record_xml(prof.kind(prof.dossier_kind), data.get("dossier") or {})


def ead_document_xml(document: Mapping[str, Any], profile: Profile | None = None) -> bytes:
    """Return the ``EAD_doc`` (or ``EAD_pic``/``EAD_media``) bytes for one document."""
    prof = profile or load_profile("tt05-2025")
    return record_xml(prof.kind(str(document.get("kind") or prof.document_kind)), document)


def write_ead_dossier(data: Mapping[str, Any], out: Path, profile: Profile | None = None) -> list[Path]:
    """Write ``EAD.xml`` and one ``EAD_doc_<n>.xml`` per document (n from 1) into directory ``out``.

    Returns the written paths, dossier file first. Files are written whole, then renamed, so a
    crash never leaves a half-written file under the final name.
    """
    prof = _profile(data, profile)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write(out / _DOSSIER_FILE, ead_dossier_xml(data, prof))]
    for n, doc in enumerate(data.get("documents") or [], start=1):
        kind = str(doc.get("kind") or prof.document_kind)
        written.append(_write(out / f"{_PREFIXES.get(kind, 'EAD_doc')}_{n}.xml", ead_document_xml(doc, prof)))
    return written


def _write(path: Path, content: bytes) -> Path:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(content)
    tmp.replace(path)
    return path


def parse_record_xml(content: bytes, kind: RecordKind) -> dict[str, Any]:
    """Read a ``<simpledc>`` record back: element → text; repeated elements → a list.

    Empty elements are left out. Unknown elements are kept under their own name so the
    validator reports them (``metadata.unknown_field``).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(content, parser)
    record: dict[str, Any] = {}
    for element in root:
        if not isinstance(element.tag, str):
            continue
        text = (element.text or "").strip()
        if not text:
            continue
        spec = kind.field(element.tag)
        name = spec.name if spec else element.tag
        if name in record:
            previous = record[name]
            record[name] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            record[name] = text
    return record


def read_ead_dossier(directory: Path, profile: Profile | None = None) -> dict[str, Any]:
    """Read ``EAD.xml`` and ``EAD_doc_<n>.xml`` / ``EAD_pic_<n>`` / ``EAD_media_<n>`` from ``directory``."""
    prof = profile or load_profile("tt05-2025")
    dossier = parse_record_xml((directory / _DOSSIER_FILE).read_bytes(), prof.kind(prof.dossier_kind))
    numbered: list[tuple[int, dict[str, Any]]] = []
    for kind_name, prefix in _PREFIXES.items():
        if kind_name not in prof.kinds or (kind_name == "aip_document"):
            continue
        for path in directory.glob(f"{prefix}_*.xml"):
            number = path.stem.removeprefix(prefix + "_")
            if not number.isdigit():
                continue
            doc = parse_record_xml(path.read_bytes(), prof.kind(kind_name))
            if kind_name != prof.document_kind:
                doc["kind"] = kind_name
            numbered.append((int(number), doc))
    return {
        "profile": prof.name,
        "dossier": dossier,
        "documents": [d for _, d in sorted(numbered, key=lambda t: t[0])],
    }
