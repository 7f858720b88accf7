"""METS documents in the E-ARK CSIP shape used by TT 05/2025 (root and representation METS).

A METS document is built from :class:`MetsSpec`, a plain description of what the package
holds; the hrefs are relative to the folder of the METS file. Ids are ``uuid-{UUID}``,
checksums SHA-256, dates ISO 8601 in Vietnam time. Output validates against
``mets1_12.xsd`` with the DILCIS CSIP/SIP extension schemas (``archive.schemas``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lxml import etree

from archive.schemas import CSIP_NS, METS_NS, SIP_NS, XLINK_NS, XSI_NS
from archive.vntime import vn_iso
from ingest.package.bagging import SOFTWARE, SOFTWARE_VERSION, PackageFile

CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
# mets/@PROFILE by package type: the E-ARK SIP and DIP profiles extend CSIP; E-ARK has no
# METS profile of its own for an AIP, so an AIP states the CSIP profile it conforms to.
PROFILES = {
    "SIP": "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml",
    "AIP": CSIP_PROFILE,
    "DIP": "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml",
}
CONTENT_INFORMATION_TYPE = "tt05-2025"  # csip:OTHERCONTENTINFORMATIONTYPE
# The TT 05/2025 descriptive records (<simpledc>) are not EAD: METS says so (mdRef OTHERMDTYPE).
TT05_MDTYPE = "TT05-2025-EAD"
FINDING_AID_NAME = "EAD2002.xml"  # metadata/descriptive/EAD2002.xml: the dossier as EAD 2002
NSMAP = {"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "sip": SIP_NS, "xsi": XSI_NS}

PackageType = Literal["SIP", "AIP", "DIP"]
RecordStatus = Literal["NEW", "REVISED"]


def schema_location(schemas: str) -> str:
    """xsi:schemaLocation of a METS file whose package ``schemas/`` folder is at ``schemas``."""
    return f"{METS_NS} {schemas}/mets1_12.xsd {XLINK_NS} {schemas}/xlink.xsd"


def new_id() -> str:
    """Return a fresh METS/PREMIS id of the form ``uuid-{UUID}`` (TT 05/2025, E-ARK CSIP)."""
    return f"uuid-{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class MetsFile:
    """A file referenced from a METS document; ``href`` is relative to the METS file's folder."""

    href: str
    size: int
    sha256: str
    mimetype: str
    created: datetime
    puid: str | None = None  # PRONOM id, e.g. "fmt/354"
    format_name: str | None = None
    described_by: tuple[str, ...] = ()  # hrefs of the descriptive files about it (→ DMDID)

    @classmethod
    def of(
        cls,
        pf: PackageFile,
        base: str = "",
        puid: str | None = None,
        name: str | None = None,
        described_by: tuple[str, ...] = (),
    ) -> MetsFile:
        """Describe ``pf`` relative to ``base`` (the METS folder inside the package, '' = root)."""
        prefix = base.rstrip("/") + "/" if base else ""
        if prefix and not pf.rel.startswith(prefix):
            raise ValueError(f"{pf.rel} is not under {base}")
        return cls(
            pf.rel[len(prefix) :], pf.size, pf.sha256, pf.mimetype, pf.created, puid, name, described_by
        )


@dataclass(frozen=True, slots=True)
class MetsSpec:
    """What a METS document describes.

    ``descriptive`` go to dmdSec (EAD), ``preservation`` to amdSec/digiprovMD (PREMIS and
    report files, AIP only), ``groups`` to fileSec as ``(USE, files)``; ``representations``
    are ``(name, METS file of that representation)`` and become a fileGrp plus an mptr.
    """

    objid: str
    label: str
    package_type: PackageType
    created: datetime
    agency: str  # Source-Organization; cơ quan nộp lưu
    agency_code: str = ""  # mã định danh of the agency: the submitter's IDENTIFICATIONCODE
    archive: str = ""  # the archive keeping the AIP (PRESERVATION agent), when known
    record_status: RecordStatus = "NEW"  # REVISED for AIP version 2 on
    modified: datetime | None = None  # LASTMODDATE; defaults to ``created``
    schemas: str = "schemas"  # where the package's schemas/ is, relative to this METS file
    descriptive: Sequence[MetsFile] = ()
    preservation: Sequence[MetsFile] = ()
    groups: Sequence[tuple[str, Sequence[MetsFile]]] = ()
    representations: Sequence[tuple[str, MetsFile]] = ()
    alt_ids: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (TYPE, value) altRecordID
    struct_label: str = "CSIP"


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{XLINK_NS}}}{tag}"


def _md_type(f: MetsFile) -> tuple[str, str | None]:
    name = f.href.rsplit("/", 1)[-1]
    if name == FINDING_AID_NAME:
        return "EAD", None  # a real EAD 2002 finding aid
    if name.startswith("EAD"):
        return "OTHER", TT05_MDTYPE
    if name.startswith("PREMIS"):
        return "PREMIS", None
    if name == "luutru-catalog.json":
        return "OTHER", "luutru-catalog"
    return "OTHER", "luutru-report" if f.mimetype == "application/json" else "OTHER"


def _md_ref(parent: etree._Element, f: MetsFile) -> None:
    md_type, other = _md_type(f)
    ref = etree.SubElement(parent, _m("mdRef"))
    ref.set("LOCTYPE", "URL")
    ref.set(_x("type"), "simple")
    ref.set(_x("href"), f.href)
    ref.set("MDTYPE", md_type)
    if other:
        ref.set("OTHERMDTYPE", other)
    ref.set("MIMETYPE", f.mimetype)
    ref.set("SIZE", str(f.size))
    ref.set("CREATED", vn_iso(f.created))
    ref.set("CHECKSUM", f.sha256)
    ref.set("CHECKSUMTYPE", "SHA-256")


def _file(parent: etree._Element, f: MetsFile, dmd_ids: dict[str, str] | None = None) -> str:
    fid = new_id()
    el = etree.SubElement(parent, _m("file"))
    el.set("ID", fid)
    linked = [dmd_ids[h] for h in f.described_by if dmd_ids and h in dmd_ids]
    if linked:
        el.set("DMDID", " ".join(linked))
    el.set("MIMETYPE", f.mimetype)
    el.set("SIZE", str(f.size))
    el.set("CREATED", vn_iso(f.created))
    el.set("CHECKSUM", f.sha256)
    el.set("CHECKSUMTYPE", "SHA-256")
    if f.format_name:
        el.set(f"{{{SIP_NS}}}FILEFORMATNAME", f.format_name)
    if f.puid:
        el.set(f"{{{SIP_NS}}}FORMATREGISTRY", "PRONOM")
        el.set(f"{{{SIP_NS}}}FORMATREGISTRYKEY", f.puid)
    loc = etree.SubElement(el, _m("FLocat"))
    loc.set("LOCTYPE", "URL")
    loc.set(_x("type"), "simple")
    loc.set(_x("href"), f.href)
    return fid


def _header(root: etree._Element, spec: MetsSpec) -> None:
    hdr = etree.SubElement(root, _m("metsHdr"))
    hdr.set("CREATEDATE", vn_iso(spec.created))
    hdr.set("LASTMODDATE", vn_iso(spec.modified or spec.created))
    hdr.set("RECORDSTATUS", spec.record_status)
    hdr.set(f"{{{CSIP_NS}}}OAISPACKAGETYPE", spec.package_type)
    software = etree.SubElement(hdr, _m("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _m("name")).text = SOFTWARE
    note = etree.SubElement(software, _m("note"))
    note.set(f"{{{CSIP_NS}}}NOTETYPE", "SOFTWARE VERSION")
    note.text = SOFTWARE_VERSION
    # The agency (cơ quan nộp lưu) formed the dossier and submits it: E-ARK SIP's "archival
    # creator agent" (ARCHIVIST, SIP9-14) and "submitting agent" (CREATOR, SIP15-20), each
    # with the agency's identification code (mã định danh).
    for role in ("ARCHIVIST", "CREATOR"):
        agency = etree.SubElement(hdr, _m("agent"), ROLE=role, TYPE="ORGANIZATION")
        etree.SubElement(agency, _m("name")).text = spec.agency
        if spec.agency_code:
            code = etree.SubElement(agency, _m("note"))
            code.set(f"{{{CSIP_NS}}}NOTETYPE", "IDENTIFICATIONCODE")
            code.text = spec.agency_code
    if spec.archive:
        keeper = etree.SubElement(hdr, _m("agent"), ROLE="PRESERVATION", TYPE="ORGANIZATION")
        etree.SubElement(keeper, _m("name")).text = spec.archive
    for alt_type, value in spec.alt_ids:
        etree.SubElement(hdr, _m("altRecordID"), TYPE=alt_type).text = value


def build_mets(spec: MetsSpec) -> bytes:
    """Return the METS document for ``spec`` as UTF-8 XML bytes."""
    root = etree.Element(_m("mets"), nsmap=NSMAP)
    root.set("OBJID", spec.objid)
    root.set("LABEL", spec.label)
    root.set("TYPE", "Mixed")
    root.set("PROFILE", PROFILES[spec.package_type])
    root.set(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE", "OTHER")
    root.set(f"{{{CSIP_NS}}}OTHERCONTENTINFORMATIONTYPE", CONTENT_INFORMATION_TYPE)
    root.set(f"{{{XSI_NS}}}schemaLocation", schema_location(spec.schemas))
    _header(root, spec)

    dmd_ids: list[str] = []
    dmd_by_href: dict[str, str] = {}
    for f in spec.descriptive:
        dmd_id = new_id()
        dmd = etree.SubElement(root, _m("dmdSec"), ID=dmd_id, CREATED=vn_iso(f.created), STATUS="CURRENT")
        _md_ref(dmd, f)
        dmd_ids.append(dmd_id)
        dmd_by_href[f.href] = dmd_id
    amd_ids: list[str] = []
    if spec.preservation:
        amd_id = new_id()
        amd = etree.SubElement(root, _m("amdSec"), ID=amd_id)
        for f in spec.preservation:
            digi_id = new_id()
            digi = etree.SubElement(amd, _m("digiprovMD"), ID=digi_id, STATUS="CURRENT")
            _md_ref(digi, f)
            amd_ids.append(digi_id)

    file_sec = etree.SubElement(root, _m("fileSec"), ID=new_id())
    group_ids: list[tuple[str, str]] = []
    for use, files in spec.groups:
        if not files:
            continue
        gid = new_id()
        grp = etree.SubElement(file_sec, _m("fileGrp"), ID=gid, USE=use)
        for f in files:
            _file(grp, f, dmd_by_href)
        group_ids.append((use, gid))
    rep_ids: list[tuple[str, str, MetsFile]] = []
    for name, rep_mets in spec.representations:
        gid = new_id()
        grp = etree.SubElement(file_sec, _m("fileGrp"), ID=gid, USE=f"Representations/{name}")
        grp.set(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE", "OTHER")
        grp.set(f"{{{CSIP_NS}}}OTHERCONTENTINFORMATIONTYPE", CONTENT_INFORMATION_TYPE)
        _file(grp, rep_mets)
        rep_ids.append((name, gid, rep_mets))

    smap = etree.SubElement(root, _m("structMap"), ID=new_id(), TYPE="PHYSICAL", LABEL=spec.struct_label)
    top = etree.SubElement(smap, _m("div"), ID=new_id(), LABEL=spec.objid)
    if dmd_ids or amd_ids:
        meta = etree.SubElement(top, _m("div"), ID=new_id(), LABEL="Metadata")
        if dmd_ids:
            meta.set("DMDID", " ".join(dmd_ids))
        if amd_ids:
            meta.set("ADMID", " ".join(amd_ids))
    for use, gid in group_ids:
        div = etree.SubElement(top, _m("div"), ID=new_id(), LABEL=use)
        etree.SubElement(div, _m("fptr"), FILEID=gid)
    for name, gid, rep_mets in rep_ids:
        div = etree.SubElement(top, _m("div"), ID=new_id(), LABEL=f"Representations/{name}")
        mptr = etree.SubElement(div, _m("mptr"), LOCTYPE="URL")
        mptr.set(_x("type"), "simple")
        mptr.set(_x("href"), rep_mets.href)
        mptr.set(_x("title"), gid)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@dataclass(frozen=True, slots=True)
class MetsSummary:
    """What :func:`read_mets` takes back out of a METS document."""

    objid: str
    label: str
    package_type: str
    created: str
    agency: str
    alt_ids: dict[str, str]
    descriptive: list[str]  # hrefs
    preservation: list[str]
    files: dict[str, list[dict[str, str]]]  # USE -> [{href, size, sha256, mimetype, puid, dmd}]
    agency_code: str = ""
    record_status: str = ""
    descriptive_types: dict[str, str] = field(default_factory=dict)  # href -> MDTYPE/OTHERMDTYPE


def read_mets(xml: bytes) -> MetsSummary:
    """Parse a METS document written by :func:`build_mets` (or another CSIP writer)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    root = etree.fromstring(xml, parser)
    hdr = root.find(_m("metsHdr"))
    agency = agency_code = ""
    alt: dict[str, str] = {}
    if hdr is not None:
        for agent in hdr.findall(_m("agent")):
            if agent.get("TYPE") == "ORGANIZATION" and agent.get("ROLE") in ("CREATOR", "ARCHIVIST"):
                agency = agent.findtext(_m("name")) or ""
                for note in agent.findall(_m("note")):
                    if note.get(f"{{{CSIP_NS}}}NOTETYPE") == "IDENTIFICATIONCODE":
                        agency_code = note.text or ""
                break
        alt = {a.get("TYPE", ""): a.text or "" for a in hdr.findall(_m("altRecordID"))}
    md_types = {
        r.get(_x("href"), ""): r.get("OTHERMDTYPE") or r.get("MDTYPE", "")
        for r in root.iterfind(f"{_m('dmdSec')}/{_m('mdRef')}")
    }
    dmd = [r.get(_x("href"), "") for r in root.iterfind(f"{_m('dmdSec')}/{_m('mdRef')}")]
    amd = [r.get(_x("href"), "") for r in root.iterfind(f"{_m('amdSec')}/{_m('digiprovMD')}/{_m('mdRef')}")]
    dmd_href = {
        d.get("ID", ""): r.get(_x("href"), "")
        for d in root.iterfind(_m("dmdSec"))
        for r in d.iterfind(_m("mdRef"))
    }
    files: dict[str, list[dict[str, str]]] = {}
    for grp in root.iterfind(f"{_m('fileSec')}/{_m('fileGrp')}"):
        rows = files.setdefault(grp.get("USE", ""), [])
        for f in grp.iter(_m("file")):
            loc = f.find(_m("FLocat"))
            rows.append(
                {
                    "href": loc.get(_x("href"), "") if loc is not None else "",
                    "size": f.get("SIZE", ""),
                    "sha256": (f.get("CHECKSUM") or "").lower(),
                    "mimetype": f.get("MIMETYPE", ""),
                    "puid": f.get(f"{{{SIP_NS}}}FORMATREGISTRYKEY", ""),
                    "dmd": " ".join(dmd_href[i] for i in (f.get("DMDID") or "").split() if i in dmd_href),
                }
            )
    return MetsSummary(
        objid=root.get("OBJID", ""),
        label=root.get("LABEL", ""),
        package_type=hdr.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE", "") if hdr is not None else "",
        created=hdr.get("CREATEDATE", "") if hdr is not None else "",
        agency=agency,
        alt_ids=alt,
        agency_code=agency_code,
        record_status=hdr.get("RECORDSTATUS", "") if hdr is not None else "",
        descriptive_types=md_types,
        descriptive=dmd,
        preservation=amd,
        files=files,
    )
