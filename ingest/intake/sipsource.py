"""SIPs made by other systems: TT 05/2025 SIP_hoso and E-ARK CSIP/SIP (commons-ip, RODA-in).

A payload with ``METS.xml`` at its top and no ``metadata.json`` is read as a SIP:

* every file the METS documents name (root METS, and each ``representations/*/METS.xml``) with
  a checksum is compared with what arrived — a mismatch or a missing file is a refusal
  (invariant 1), exactly as for a declared ``metadata.json``;
* descriptive metadata: TT 05/2025 ``metadata/descriptive/EAD.xml`` (root ``simpledc``) with
  ``representations/rep1/metadata/descriptive/EAD_doc_<n>.xml``; or Dublin Core
  (``dc.xml`` or any DC record under ``metadata/descriptive``); or EAD 2002/EAD3
  (``archdesc/did``); mapped to the TT 05/2025 fields;
* documents are the files under ``representations/*/data/``. A TT 05 EAD_doc is paired with
  its file through the representation's structMap (a div naming both), or else by order
  when there are as many EAD_doc files as data files.

Required fields the SIP does not give are for an archivist to complete in review
(``intake.field_to_complete``), never a refusal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lxml import etree

from archive.findings import Finding
from archive.metadata import load_profile
from archive.metadata.ead import parse_record_xml

from . import refusals
from .checksums import hash_file
from .declaration import Declaration
from .errors import SubmissionRefused
from .submission import StagedFile

__all__ = ["SipIntake", "is_sip", "stage_sip"]

METS = "METS.xml"
METS_NS = "http://www.loc.gov/METS/"
XLINK = "{http://www.w3.org/1999/xlink}href"
DC_NS = "http://purl.org/dc/elements/1.1/"
EAD_NAMESPACES = ("urn:isbn:1-931666-22-9", "http://ead3.archivists.org/schema/")
TT05_SIP = "tt05-sip"
EARK_SIP = "e-ark-sip"
_ALGORITHMS = {"SHA-256": "sha256", "SHA-512": "sha512", "SHA-1": "sha1", "MD5": "md5"}
_LANGUAGES = {"vi": "01", "vie": "01", "en": "02", "eng": "02", "fr": "03", "fra": "03", "fre": "03"}
_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@dataclass(frozen=True, slots=True)
class SipIntake:
    declaration: Declaration
    not_documents: tuple[str, ...]  # METS, descriptive metadata, schemas…: kept, not documents
    findings: tuple[Finding, ...]


def is_sip(payload_root: Path) -> bool:
    return (payload_root / METS).is_file()


def _parse(path: Path, rel: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise SubmissionRefused([refusals.metadata_invalid(rel, f"not well-formed XML: {exc}")]) from exc
    if tree.docinfo.doctype:
        raise SubmissionRefused(
            [refusals.metadata_invalid(rel, "a DOCTYPE is not accepted (XML bomb, external entities)")]
        )
    return tree.getroot()


def _href(base: str, raw: str) -> str:
    text = unquote(raw.strip()).removeprefix("file://").removeprefix("file:")
    while text.startswith("./"):
        text = text[2:]
    joined = f"{base}/{text}" if base else text
    parts: list[str] = []
    for part in joined.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return unicodedata.normalize("NFC", "/".join(parts))


def _mets_files(payload_root: Path, staged: Mapping[str, StagedFile]) -> list[str]:
    found = [METS]
    for path in sorted(staged):
        if path.startswith("representations/") and path.count("/") == 2 and path.endswith("/" + METS):
            found.append(path)
    return found


def _verify(
    payload_root: Path, staged: Mapping[str, StagedFile], roots: dict[str, etree._Element]
) -> tuple[list[Finding], dict[str, list[str]]]:
    """Compare every checksum the METS documents give; return findings and, per METS, its file hrefs in order."""
    findings: list[Finding] = []
    order: dict[str, list[str]] = {}
    for rel, root in roots.items():
        base = rel.rpartition("/")[0]
        hrefs = order.setdefault(rel, [])
        for node in root.iter(f"{{{METS_NS}}}file", f"{{{METS_NS}}}mdRef"):
            loc = node.find(f"{{{METS_NS}}}FLocat") if node.tag.endswith("file") else node
            href = _href(base, loc.get(XLINK, "")) if loc is not None else ""
            if not href:
                continue
            if node.tag.endswith("}file"):
                hrefs.append(href)
            digest, kind = (node.get("CHECKSUM") or "").strip().lower(), node.get("CHECKSUMTYPE") or ""
            got = staged.get(href)
            if got is None:
                findings.append(refusals.file_missing(href))
                continue
            if not digest:
                continue
            algorithm = _ALGORITHMS.get(kind.upper(), "")
            if not algorithm:
                findings.append(refusals.metadata_invalid(rel, f"unknown CHECKSUMTYPE {kind!r} for {href}"))
                continue
            actual = got.sha256 if algorithm == "sha256" else hash_file(payload_root / href, algorithm)[1]
            if actual != digest:
                findings.append(refusals.checksum_mismatch(href, algorithm, digest, actual))
    return findings, order


def _dc_date(text: str) -> str | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    y, m, d = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return f"{d}/{m}/{y}"


def _from_dc(root: etree._Element) -> dict[str, Any]:
    def values(name: str) -> list[str]:
        return [(e.text or "").strip() for e in root.iter(f"{{{DC_NS}}}{name}") if (e.text or "").strip()]

    dossier: dict[str, Any] = {}
    if title := values("title"):
        dossier["title"] = title[0]
    if ident := values("identifier"):
        dossier["fileCode"] = ident[0]
    dates = [d for raw in values("date") for d in (_dc_date(p) for p in re.split(r"\s*/\s*", raw)) if d]
    if dates:
        dossier["startDate"], dossier["endDate"] = dates[0], dates[-1]
    languages = [_LANGUAGES.get(v.lower()) for v in values("language")]
    if [c for c in languages if c]:
        dossier["language"] = [c for c in languages if c]
    if description := values("description"):
        dossier["description"] = description[0]
    if subject := values("subject"):
        dossier["keyword"] = ", ".join(subject)
    return dossier


def _from_ead(root: etree._Element) -> dict[str, Any]:
    def first(name: str) -> etree._Element | None:
        return next(
            (e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name), None
        )

    dossier: dict[str, Any] = {}
    for field, element in (("title", "unittitle"), ("fileCode", "unitid")):
        node = first(element)
        if node is not None and "".join(node.itertext()).strip():
            dossier[field] = " ".join("".join(node.itertext()).split())
    date = first("unitdate") if first("unitdate") is not None else first("unitdatestructured")
    if date is not None:
        raw = date.get("normal") or "".join(date.itertext())
        dates = [d for d in (_dc_date(p) for p in raw.split("/")) if d]
        if dates:
            dossier["startDate"], dossier["endDate"] = dates[0], dates[-1]
    return dossier


def _descriptive(
    payload_root: Path, staged: Mapping[str, StagedFile]
) -> tuple[str, dict[str, Any], list[dict[str, Any]] | None, list[str]]:
    """(source, dossier fields, TT 05 documents or None, metadata files read)."""
    profile = load_profile("tt05-2025")
    ead = "metadata/descriptive/EAD.xml"
    if ead in staged:
        root = _parse(payload_root / ead, ead)
        if etree.QName(root).localname == "simpledc":
            dossier = parse_record_xml((payload_root / ead).read_bytes(), profile.kind(profile.dossier_kind))
            docs: list[tuple[int, dict[str, Any], str]] = []
            for path in staged:
                name = path.rsplit("/", 1)[-1]
                if "/metadata/descriptive/" in path and name.startswith("EAD_doc_") and name[8:-4].isdigit():
                    record = parse_record_xml(
                        (payload_root / path).read_bytes(), profile.kind(profile.document_kind)
                    )
                    docs.append((int(name[8:-4]), record, path))
            docs.sort(key=lambda t: (t[2].split("/metadata/")[0], t[0]))
            return TT05_SIP, dossier, [d for _, d, _ in docs], [ead, *(p for _, _, p in docs)]
        if etree.QName(root).namespace in EAD_NAMESPACES or etree.QName(root).localname == "ead":
            return EARK_SIP, _from_ead(root), None, [ead]
    for path in sorted(staged):
        if path.startswith("metadata/descriptive/") and path.lower().endswith(".xml"):
            root = _parse(payload_root / path, path)
            if any(isinstance(e.tag, str) and e.tag.startswith(f"{{{DC_NS}}}") for e in root.iter()):
                return EARK_SIP, _from_dc(root), None, [path]
            if etree.QName(root).namespace in EAD_NAMESPACES:
                return EARK_SIP, _from_ead(root), None, [path]
    return EARK_SIP, {}, None, []


def stage_sip(payload_root: Path, staged: Mapping[str, StagedFile]) -> SipIntake:
    """Verify the METS checksums of the SIP under ``payload_root`` and map its description.

    Raises :class:`SubmissionRefused` on a checksum mismatch, a file the METS names but the SIP
    lacks, unreadable METS, or TT 05 EAD_doc files that cannot be paired with data files.
    """
    roots = {rel: _parse(payload_root / rel, rel) for rel in _mets_files(payload_root, staged)}
    problems, order = _verify(payload_root, staged, roots)
    if problems:
        raise SubmissionRefused(problems)
    source, dossier, tt05_docs, read = _descriptive(payload_root, staged)
    data = [p for rel in roots for p in order[rel] if re.match(r"^representations/[^/]+/data/", p)]
    data += sorted(p for p in staged if re.match(r"^representations/[^/]+/data/", p) and p not in data)
    if tt05_docs is not None:
        if len(tt05_docs) != len(data):
            raise SubmissionRefused(
                [
                    refusals.metadata_invalid(
                        read[0],
                        f"{len(tt05_docs)} EAD_doc files for {len(data)} data files: cannot pair them",
                    )
                ]
            )
        documents = [{**doc, "file": path} for doc, path in zip(tt05_docs, data, strict=True)]
    else:
        documents = [{"file": path} for path in data]
    if not documents:
        raise SubmissionRefused(
            [refusals.metadata_invalid(METS, "the SIP has no files under representations/*/data/")]
        )
    for doc in documents:
        doc["sha256"] = staged[doc["file"]].sha256
    dossier["_source"] = source
    dossier.setdefault("totalDoc", len(documents))
    declared = {doc["file"]: doc["sha256"] for doc in documents}
    not_documents = tuple(p for p in staged if p not in declared)
    return SipIntake(Declaration(METS, "tt05-2025", dossier, tuple(documents), declared), not_documents, ())
