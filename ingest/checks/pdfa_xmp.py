"""PDF/A metadata rules (ISO 19005-1 §6.7, 19005-2/3 §6.6): the XMP packet and the Info dictionary.

* the catalog has a Metadata stream holding well-formed XMP (RDF/XML); PDF/A-1: unfiltered;
  no ``bytes``/``encoding`` attributes in the ``xpacket`` header;
* ``pdfaid:part``/``pdfaid:conformance`` are in the PDF/A identification namespace;
* each Info entry (Title, Author, Subject, Keywords, Producer, Creator, CreationDate, ModDate)
  agrees with its XMP equivalent;
* every property outside the schemas predefined by XMP 2004/2005 is described by a PDF/A
  extension schema (``pdfaExtension:schemas``), checked at namespace level.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pikepdf
from lxml import etree

from archive.findings import Finding
from ingest.checks.pdfa_walk import Profile, rule_finding

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
INFO_TO_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Keywords": "pdf:Keywords",
    "/Producer": "pdf:Producer",
    "/Creator": "xmp:CreatorTool",
}
INFO_DATES = {"/CreationDate": "xmp:CreateDate", "/ModDate": "xmp:ModifyDate"}
PREDEFINED = {
    "http://purl.org/dc/elements/1.1/",
    "http://ns.adobe.com/xap/1.0/",
    "http://ns.adobe.com/xap/1.0/rights/",
    "http://ns.adobe.com/xap/1.0/mm/",
    "http://ns.adobe.com/xap/1.0/bj/",
    "http://ns.adobe.com/xap/1.0/t/pg/",
    "http://ns.adobe.com/xmp/1.0/DynamicMedia/",
    "http://ns.adobe.com/pdf/1.3/",
    "http://ns.adobe.com/photoshop/1.0/",
    "http://ns.adobe.com/camera-raw-settings/1.0/",
    "http://ns.adobe.com/exif/1.0/",
    "http://ns.adobe.com/exif/1.0/aux/",
    "http://ns.adobe.com/tiff/1.0/",
    "http://ns.adobe.com/xmp/Identifier/qual/1.0/",
    PDFAID,
    "http://www.aiim.org/pdfa/ns/extension/",
    "http://www.aiim.org/pdfa/ns/schema#",
    "http://www.aiim.org/pdfa/ns/property#",
    "http://www.aiim.org/pdfa/ns/type#",
    "http://www.aiim.org/pdfa/ns/field#",
    "http://www.aiim.org/pdfua/ns/id/",  # PDF/UA identification, predefined by ISO 14289
    "http://www.w3.org/XML/1998/namespace",
    RDF,
}
SCHEMA_NS = "http://www.aiim.org/pdfa/ns/schema#"
DATE_TOLERANCE_S = 2
PDF_DATE = re.compile(
    r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?$"
)
PACKET_HEADER = re.compile(rb"<\?xpacket\s[^?]*\?>")


def _c(profile: Profile, part1: str, part2: str) -> str:
    return part1 if profile.part == 1 else part2


def _xmp_text(value: Any) -> str:
    if isinstance(value, list | set | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def parse_pdf_date(value: str) -> datetime | None:
    """Parse a PDF date (``D:YYYYMMDDHHmmSSOHH'mm'``, every part after the year optional)."""
    match = PDF_DATE.match(value.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    tz = None
    if sign in ("+", "-"):
        offset = timedelta(hours=int(oh or 0), minutes=int(om or 0))
        tz = timezone(offset if sign == "+" else -offset)
    elif sign == "Z":
        tz = UTC
    try:
        return datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz)
    except ValueError:
        return None


def _same_instant(info_value: str, xmp_value: str) -> bool:
    a = parse_pdf_date(info_value)
    try:
        b = datetime.fromisoformat(xmp_value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if a is None:
        return False
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    # Signing tools (pyHanko among them) write Info and XMP from two clock readings, which can
    # straddle a second; a difference that small says nothing about the document.
    return abs((a - b).total_seconds()) <= DATE_TOLERANCE_S


def check_info(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    """Compare each Info dictionary entry with its XMP equivalent."""
    info = pdf.trailer.get("/Info")
    if not isinstance(info, pikepdf.Dictionary):
        return []
    meta = pdf.open_metadata()
    found: list[Finding] = []
    pairs = [(k, p, False) for k, p in INFO_TO_XMP.items()] + [(k, p, True) for k, p in INFO_DATES.items()]
    for key, prop, is_date in pairs:
        if key not in info:
            continue
        doc_value = str(info[key])
        xmp_value = meta.get(prop)
        if xmp_value is None:
            same = False
        elif is_date:
            same = _same_instant(doc_value, str(xmp_value))
        else:
            same = _xmp_text(xmp_value) == doc_value
        if not same:
            found.append(
                rule_finding(
                    "xmp_info_mismatch",
                    f"Siêu dữ liệu XMP ({prop}) không khớp với từ điển Info ({key}).",
                    f"XMP metadata ({prop}) does not match the Info dictionary ({key}).",
                    path,
                    _c(profile, "6.7.3", "6.6.2.1"),
                    key=key.lstrip("/"),
                    xmp=prop,
                )
            )
    return found


def _described_namespaces(root: Any) -> set[str]:
    return {
        (el.text or "").strip() for el in root.iter(f"{{{SCHEMA_NS}}}namespaceURI") if (el.text or "").strip()
    }


def _used_namespaces(root: Any) -> set[str]:
    used: set[str] = set()
    for desc in root.iter(f"{{{RDF}}}Description"):
        for name in desc.attrib:
            if name.startswith("{"):
                used.add(name[1:].split("}")[0])
        for child in desc:
            if isinstance(child.tag, str) and child.tag.startswith("{"):
                used.add(child.tag[1:].split("}")[0])
    return used


def check_xmp(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    """The XMP packet: present, well-formed, unfiltered (PDF/A-1), PDF/A id, extension schemas."""
    clause = _c(profile, "6.7.2", "6.6.2.1")
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return [
            rule_finding(
                "xmp_missing",
                "Danh mục tài liệu không có luồng siêu dữ liệu XMP.",
                "The document catalog has no XMP metadata stream.",
                path,
                clause,
            )
        ]
    found: list[Finding] = []
    if profile.part == 1 and "/Filter" in stream:
        found.append(
            rule_finding(
                "xmp_filtered",
                "Luồng siêu dữ liệu XMP bị nén, PDF/A-1 không cho phép.",
                "The XMP metadata stream is filtered, which PDF/A-1 forbids.",
                path,
                "6.7.2",
            )
        )
    try:
        data = stream.read_bytes()
    except pikepdf.PdfError:
        data = b""
    header = PACKET_HEADER.search(data[:512])
    if header and (b"bytes=" in header.group(0) or b"encoding=" in header.group(0)):
        found.append(
            rule_finding(
                "xmp_packet_header",
                "Đầu gói XMP có thuộc tính bytes/encoding, không được phép.",
                "The XMP packet header has a bytes or encoding attribute, which PDF/A forbids.",
                path,
                _c(profile, "6.7.5", "6.6.2.1"),
            )
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        found.append(
            rule_finding(
                "xmp_malformed",
                "Siêu dữ liệu XMP không phải XML hợp lệ.",
                "The XMP metadata is not well-formed XML.",
                path,
                clause,
                error=str(exc)[:200],
            )
        )
        return found
    part_values = [el.text for el in root.iter(f"{{{PDFAID}}}part")] + [
        d.get(f"{{{PDFAID}}}part") for d in root.iter(f"{{{RDF}}}Description") if d.get(f"{{{PDFAID}}}part")
    ]
    if not part_values:
        found.append(
            rule_finding(
                "xmp_pdfaid",
                "Siêu dữ liệu XMP thiếu pdfaid:part trong không gian tên định danh PDF/A.",
                "The XMP has no pdfaid:part in the PDF/A identification namespace.",
                path,
                _c(profile, "6.7.11", "6.6.4"),
            )
        )
    undescribed = sorted(_used_namespaces(root) - PREDEFINED - _described_namespaces(root))
    if undescribed:
        found.append(
            rule_finding(
                "xmp_extension_schema_missing",
                "Siêu dữ liệu XMP dùng thuộc tính ngoài lược đồ chuẩn mà không khai báo lược đồ mở rộng PDF/A.",
                "The XMP uses properties outside the predefined schemas without a PDF/A extension schema.",
                path,
                _c(profile, "6.7.8", "6.6.2.3"),
                namespaces=undescribed[:10],
            )
        )
    return found
