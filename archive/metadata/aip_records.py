"""Descriptive metadata of an AIP: the TT 05/2025 AIP records and an EAD 2002 finding aid.

An AIP does not keep the SIP's records as they came: TT 05/2025 gives the AIP its own
variants (``aip_dossier``: ``arcFileCode`` instead of ``fileCode``; ``aip_document``:
``arcFileCode`` and ``docOrdinal``), and inside XML every date is ISO 8601 (``YYYY-MM-DD``,
``YYYY-MM`` or ``YYYY``; the Vietnamese DD/MM/YYYY form belongs to rendered views only).

The TT 05 records are ``<simpledc>`` elements, not EAD. So that catalogues that import EAD
(AtoM and the like) can take a dossier, :func:`finding_aid_xml` also writes a real EAD 2002
finding aid (``urn:isbn:1-931666-22-9``): the dossier as ``archdesc level="file"`` and one
``c level="item"`` per document, valid against ``ead_2002.xsd``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from lxml import etree

from archive.metadata.ead import record_xml
from archive.metadata.profile import Profile, load_profile
from archive.metadata.values import parse_date
from archive.schemas import EAD_NS

DATE_FORMATS = ("DD/MM/YYYY", "MM/YYYY", "YYYY", "YYYY-MM-DD")
_ISO_MONTH_FORMATS = ("MM/YYYY",)


def arc_file_code(archive_code: str, file_code: str) -> str:
    """Mã hồ sơ lưu trữ: the archive's code + the dossier code (TT 05/2025 §2.2), '.'-joined."""
    if not archive_code or file_code.startswith(archive_code + "."):
        return file_code
    return f"{archive_code}.{file_code}"


def iso_date(value: Any) -> str | None:
    """A TT 05 date as ISO 8601 at the precision written (05/2024 → 2024-05); None if no date."""
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    span = parse_date(text, DATE_FORMATS)
    if span is None:
        return None
    if span.first == span.last:
        return span.first.isoformat()
    if span.first.month == 1 and span.last.month == 12 and span.first.day == 1 and span.last.day == 31:
        return f"{span.first.year:04d}"
    return f"{span.first.year:04d}-{span.first.month:02d}"


def _iso_dates(record: Mapping[str, Any], kind_fields: Sequence[Any]) -> dict[str, Any]:
    out = dict(record)
    lookup = {k.casefold(): k for k in record if isinstance(k, str)}
    for spec in kind_fields:
        if spec.type != "date":
            continue
        for name in (spec.name, *spec.aliases):
            key = lookup.get(name.casefold())
            if key is not None and (iso := iso_date(record[key])) is not None:
                out[key] = iso
    return out


def aip_records(
    data: Mapping[str, Any], arc_code: str, profile: Profile | None = None
) -> tuple[bytes, list[bytes]]:
    """The AIP's ``EAD.xml`` and ``EAD_doc_<n>.xml`` bytes for TT 05/2025 metadata ``data``."""
    prof = profile or load_profile("tt05-2025")
    dossier_kind = prof.kind("aip_dossier")
    dossier = _iso_dates({**(data.get("dossier") or {}), "arcFileCode": arc_code}, dossier_kind.fields)
    docs: list[bytes] = []
    for n, doc in enumerate(data.get("documents") or [], start=1):
        kind_name = str(doc.get("kind") or prof.document_kind)
        kind = prof.kind("aip_document" if kind_name == prof.document_kind else kind_name)
        record = {**doc, "arcFileCode": arc_code}
        record.setdefault("docOrdinal", n)
        docs.append(record_xml(kind, _iso_dates(record, kind.fields)))
    return record_xml(dossier_kind, dossier), docs


def _e(tag: str) -> str:
    return f"{{{EAD_NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _e(tag), **attrs)
    if text:
        el.text = text
    return el


def _unitdate(did: etree._Element, start: Any, end: Any = None) -> None:
    first, last = iso_date(start), iso_date(end) if end is not None else None
    if not first:
        return
    normal = first if not last or last == first else f"{first}/{last}"
    shown = str(start) if not last or last == first else f"{start} – {end}"
    _sub(did, "unitdate", shown, normal=normal, era="ce", calendar="gregorian")


def finding_aid_xml(
    data: Mapping[str, Any],
    *,
    arc_code: str,
    agency_name: str,
    agency_code: str = "",
    archive_name: str = "",
    created: date | None = None,
) -> bytes:
    """The dossier as an EAD 2002 finding aid (UTF-8 bytes), valid against ``ead_2002.xsd``."""
    d = data.get("dossier") or {}
    title = str(d.get("title") or arc_code)
    root = etree.Element(_e("ead"), nsmap={None: EAD_NS})
    header = _sub(
        root, "eadheader", langencoding="iso639-2b", dateencoding="iso8601", countryencoding="iso3166-1"
    )
    _sub(header, "eadid", arc_code, countrycode="VN")
    _sub(_sub(_sub(header, "filedesc"), "titlestmt"), "titleproper", title)
    profiledesc = _sub(header, "profiledesc")
    creation = _sub(profiledesc, "creation", "luutru ")
    when = created or date.today()
    _sub(creation, "date", when.isoformat(), normal=when.isoformat())
    _sub(_sub(profiledesc, "langusage"), "language", "Tiếng Việt", langcode="vie")

    archdesc = _sub(root, "archdesc", level="file")
    did = _sub(archdesc, "did")
    _sub(did, "unitid", arc_code, countrycode="VN", type="arcFileCode")
    _sub(did, "unittitle", title)
    _unitdate(did, d.get("startDate"), d.get("endDate"))
    origination = _sub(did, "origination", label="Cơ quan, tổ chức lập hồ sơ")
    corp = _sub(origination, "corpname", agency_name)
    organ_id = str(d.get("organId") or agency_code or "")
    if organ_id:
        corp.set("authfilenumber", organ_id)
    if archive_name:
        _sub(_sub(did, "repository"), "corpname", archive_name)
    documents = data.get("documents") or []
    _sub(_sub(did, "physdesc"), "extent", f"{len(documents)} tài liệu / documents")
    if d.get("mode"):
        _sub(_sub(archdesc, "accessrestrict"), "p", f"Chế độ sử dụng / access mode: {d['mode']}")
    if d.get("maintenance"):
        _sub(_sub(archdesc, "appraisal"), "p", f"Thời hạn lưu trữ / retention: {d['maintenance']}")
    if d.get("description"):
        _sub(_sub(archdesc, "scopecontent"), "p", str(d["description"]))
    if documents:
        dsc = _sub(archdesc, "dsc")
        for n, doc in enumerate(documents, start=1):
            c = _sub(dsc, "c", level="item")
            cdid = _sub(c, "did")
            _sub(cdid, "unitid", str(doc.get("docCode") or f"{arc_code}.{n:07d}"))
            _sub(
                cdid,
                "unittitle",
                str(doc.get("subject") or doc.get("imageTitle") or doc.get("movieTitle") or n),
            )
            _unitdate(cdid, doc.get("issuedDate") or doc.get("photoTime") or doc.get("recordDate"))
            if doc.get("organName"):
                _sub(_sub(cdid, "origination"), "corpname", str(doc["organName"]))
            if doc.get("numberOfPage"):
                _sub(_sub(cdid, "physdesc"), "extent", f"{doc['numberOfPage']} trang / pages")
            if doc.get("file"):
                _sub(cdid, "note").append(_p(f"representations/rep1/data/{doc['file']}"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _p(text: str) -> etree._Element:
    el = etree.Element(_e("p"))
    el.text = text
    return el
