"""Build an AIP from a SIP bag, and read an AIP back (the catalog can be rebuilt from AIPs).

The AIP is the SIP plus preservation metadata: ``metadata/preservation/PREMIS.xml`` (the
dossier as intellectual entity, package-level events, agents),
``representations/rep1/metadata/preservation/PREMIS_rep1.xml`` (file objects with fixity,
format, significant properties, signatures, and the events about them), and the validation
and signature reports kept as JSON evidence under ``metadata/preservation/reports/``. Both
METS documents are rewritten with ``csip:OAISPACKAGETYPE="AIP"`` and the bag re-manifested.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from archive.bags import parse_tag_file, validate_bag
from archive.vntime import utcnow
from ingest.package.bagging import (
    SOFTWARE,
    SOFTWARE_VERSION,
    FileFormat,
    ManifestEntry,
    PackageFile,
    Progress,
    place_file,
    read_manifest,
    write_bag_tags,
    write_bytes_file,
)
from ingest.package.csip import (
    DOSSIER_EAD,
    FINDING_AID,
    REP,
    REP_DATA,
    REP_METS,
    REP_NAME,
    REP_PREMIS,
    REPORTS,
    ROOT_METS,
    ROOT_PREMIS,
    XML,
    declare_schema,
    document_ead_path,
    prepare_out_dir,
    write_mets_files,
)
from ingest.package.errors import ChecksumMismatch, InvalidPackage
from ingest.package.mets import read_mets
from ingest.package.premis import (
    EventType,
    Outcome,
    PremisAgent,
    PremisEntity,
    PremisEvent,
    PremisFile,
    PremisRelationship,
    PremisSignature,
    premis_xml,
    read_premis,
)

log = logging.getLogger(__name__)
SOFTWARE_AGENT = PremisAgent(SOFTWARE, SOFTWARE, "software", SOFTWARE_VERSION)
AGENCY_AGENT_ID = "source-organization"
CATALOG_RECORD = "metadata/preservation/luutru-catalog.json"
ARCHIVE_AGENT_ID = "archive"


@dataclass(frozen=True, slots=True)
class AipPreservation:
    """Preservation facts gathered by the pipeline, keyed by the document's ``file`` path.

    ``validation_reports`` and ``signature_reports`` are JSON-able values stored verbatim as
    ``reports/validation/<key>.json`` and ``reports/signatures/<key>.json``.
    """

    events: Sequence[PremisEvent] = ()
    agents: Sequence[PremisAgent] = ()
    formats: Mapping[str, FileFormat] = field(default_factory=dict)
    validation_reports: Mapping[str, Any] = field(default_factory=dict)
    signature_reports: Mapping[str, Any] = field(default_factory=dict)
    signatures: Mapping[str, Sequence[PremisSignature]] = field(default_factory=dict)
    significant_properties: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    creating_applications: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    # The AIP's own descriptive records (TT 05 AIP variants, ISO dates): EAD.xml bytes, one
    # EAD_doc per document in order, and the EAD 2002 finding aid. None keeps the SIP's.
    dossier_record: bytes | None = None
    document_records: Sequence[bytes] = ()
    finding_aid: bytes | None = None
    agency_code: str = ""  # the submitting agency's identification code (METS, PREMIS)
    archive: str = ""  # the archive keeping the AIP (METS PRESERVATION agent)
    # Evidence of earlier versions kept verbatim: path under metadata/preservation/ → bytes
    # (e.g. "versions/v0001/reports/validation/x.json", "versions/v0001/PREMIS.xml").
    carried: Mapping[str, bytes] = field(default_factory=dict)
    catalog_record: bytes | None = None  # luutru-catalog.json: the catalog's view of the dossier


@dataclass(frozen=True, slots=True)
class AipManifest:
    """An AIP on disk: every file of the bag (tag files included) with size and SHA-256."""

    path: Path
    aip_id: str
    version: int
    file_code: str  # mã hồ sơ
    entries: list[ManifestEntry]


@dataclass(frozen=True, slots=True)
class AipFile:
    """A content file of the AIP; ``path`` is relative to the bag root (``data/...``)."""

    path: str
    size: int
    sha256: str
    mimetype: str
    puid: str | None


@dataclass(frozen=True, slots=True)
class AipSummary:
    """What an AIP says about itself (:func:`read_aip`)."""

    aip_id: str
    version: int
    file_code: str
    agency: str
    package_type: str
    created: str  # ISO 8601 as written in METS
    dossier: dict[str, Any]  # leaf fields of EAD.xml
    documents: list[dict[str, Any]]  # leaf fields of each EAD_doc, in order
    files: list[AipFile]
    events: list[PremisEvent]
    agents: list[PremisAgent]
    bag_info: dict[str, str]
    agency_code: str = ""  # METS IDENTIFICATIONCODE of the agency
    catalog: dict[str, Any] | None = None  # luutru-catalog.json, when the AIP has one


def report_name(key: str) -> str:
    """The file name (without .json) under which the report of ``key`` is stored."""
    return re.sub(r"[^\w.-]+", "_", key.replace("/", "__"), flags=re.UNICODE).strip("._") or "report"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode("utf-8")


def build_aip(
    sip_dir: Path,
    out_dir: Path,
    *,
    aip_id: str,
    version: int,
    preservation: AipPreservation,
    link: bool = True,
    progress: Progress | None = None,
) -> AipManifest:
    """Turn the SIP bag at ``sip_dir`` into an AIP bag at ``out_dir``; return its manifest.

    Every SIP payload file is read once: placed (hard link or copy) and checked against the
    SIP's SHA-256 manifest. Raises InvalidPackage for a SIP that is not a valid bag,
    ChecksumMismatch for a changed file, FileExistsError when ``out_dir`` exists. The AIP is
    written to ``<out_dir>.partial`` and renamed when complete.
    """
    sip_dir, out_dir = Path(sip_dir), Path(out_dir)
    report = validate_bag(sip_dir, fast=True)
    if not report.valid:
        raise InvalidPackage(str(sip_dir), [f"{i.code}: {i.message_en}" for i in report.errors])
    try:
        sip_mets = read_mets((sip_dir / "data" / ROOT_METS).read_bytes())
    except (OSError, etree.XMLSyntaxError) as exc:
        raise InvalidPackage(str(sip_dir), [f"METS.xml: {exc}"]) from exc
    file_code = sip_mets.alt_ids.get("fileCode") or sip_mets.objid
    profile = sip_mets.alt_ids.get("profile", "")
    expected = read_manifest(sip_dir, "sha256")
    work = prepare_out_dir(out_dir)
    data_dir = work / "data"
    try:
        payload: list[PackageFile] = []
        for rel in sorted(expected):
            if rel in (ROOT_METS, REP_METS) or rel.startswith(
                ("metadata/preservation/", f"{REP}/metadata/preservation/")
            ):
                continue  # regenerated below
            if preservation.dossier_record is not None and rel.startswith(
                ("metadata/descriptive/", f"{REP}/metadata/descriptive/")
            ):
                continue  # the AIP's own records replace the SIP's
            fmt = preservation.formats.get(rel.removeprefix(REP_DATA + "/"))
            pf = place_file(
                sip_dir / "data" / rel,
                data_dir,
                rel,
                link=link,
                mimetype=fmt.mimetype if fmt else None,
                progress=progress,
            )
            if pf.sha256 != expected[rel]:
                raise ChecksumMismatch(rel, expected[rel], pf.sha256)
            payload.append(pf)
        if preservation.dossier_record is not None:
            payload += _write_records(data_dir, preservation)
        payload += _write_preservation(
            data_dir, payload, file_code, sip_mets.label, sip_mets.agency, aip_id, version, preservation
        )
        alt_ids: tuple[tuple[str, str], ...] = (
            ("fileCode", file_code),
            ("profile", profile),
            ("aip-id", aip_id),
            ("aip-version", str(version)),
        )
        if version > 1:
            alt_ids += (("PREVIOUSVERSION", previous_version_id(aip_id, version)),)
        sip_rep = read_mets((sip_dir / "data" / REP_METS).read_bytes())
        described_by = {
            row["href"].removeprefix("data/"): row["dmd"].split()
            for row in sip_rep.files.get("Data", [])
            if row.get("dmd")
        }
        payload += write_mets_files(
            data_dir,
            payload,
            objid=file_code,
            label=sip_mets.label,
            package_type="AIP",
            agency=sip_mets.agency,
            created=utcnow(),
            formats=preservation.formats,
            alt_ids=alt_ids,
            agency_code=preservation.agency_code or sip_mets.agency_code,
            archive=preservation.archive,
            record_status="REVISED" if version > 1 else "NEW",
            described_by=described_by,
        )
        info = {
            "Source-Organization": sip_mets.agency,
            "External-Identifier": file_code,
            "External-Description": " ".join(sip_mets.label.split())[:500],
            "Bag-Group-Identifier": profile,
            "AIP-Identifier": aip_id,
            "AIP-Version": str(version),
        }
        entries = write_bag_tags(work, payload, info)
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("AIP built", extra={"aip_id": aip_id, "version": version, "files": len(entries)})
    return AipManifest(out_dir, aip_id, version, file_code, entries)


def previous_version_id(aip_id: str, version: int) -> str:
    """Identifier of the AIP version before ``version`` (``<aip id>/v0001``)."""
    return f"{aip_id}/v{version - 1:04d}"


def _write_records(data_dir: Path, p: AipPreservation) -> list[PackageFile]:
    assert p.dossier_record is not None
    written = [write_bytes_file(data_dir, DOSSIER_EAD, declare_schema(p.dossier_record, DOSSIER_EAD), XML)]
    for n, record in enumerate(p.document_records, start=1):
        rel = document_ead_path(n)
        written.append(write_bytes_file(data_dir, rel, declare_schema(record, rel), XML))
    if p.finding_aid is not None:
        written.append(
            write_bytes_file(data_dir, FINDING_AID, declare_schema(p.finding_aid, FINDING_AID), XML)
        )
    return written


FILE_EVENTS = {
    EventType.FIXITY_CHECK,
    EventType.FORMAT_IDENTIFICATION,
    EventType.VALIDATION,
    EventType.VIRUS_CHECK,
    EventType.MESSAGE_DIGEST_CALCULATION,
    "digital signature validation",
}


def _write_preservation(
    data_dir: Path,
    payload: Sequence[PackageFile],
    file_code: str,
    title: str,
    agency: str,
    aip_id: str,
    version: int,
    p: AipPreservation,
) -> list[PackageFile]:
    written: list[PackageFile] = []
    for folder, reports in (("validation", p.validation_reports), ("signatures", p.signature_reports)):
        for key, value in sorted(reports.items()):
            rel = f"{REPORTS}/{folder}/{report_name(key)}.json"
            written.append(write_bytes_file(data_dir, rel, _json(value), "application/json"))
    if p.catalog_record is not None:
        written.append(write_bytes_file(data_dir, CATALOG_RECORD, p.catalog_record, "application/json"))
    for rel, content in sorted(p.carried.items()):
        mime = "application/json" if rel.endswith(".json") else XML
        written.append(write_bytes_file(data_dir, f"metadata/preservation/{rel}", content, mime))
    data_files = [f for f in payload if f.rel.startswith(REP_DATA + "/")]
    known = {f.rel for f in data_files}
    rep_id = f"{file_code}/{REP_NAME}"

    def object_id(ref: str) -> str:
        return f"{REP_DATA}/{ref}" if f"{REP_DATA}/{ref}" in known else ref

    creation = PremisEvent(
        identifier=f"uuid-{uuid.uuid4()}",
        event_type=EventType.INFORMATION_PACKAGE_CREATION,
        when=utcnow(),
        outcome=Outcome.SUCCESS,
        detail=f"SIP → AIP {aip_id} version {version}",
        agents=[(SOFTWARE, "executing program")],
        objects=[file_code, rep_id],
    )
    agents = [SOFTWARE_AGENT, *(a for a in p.agents if a.identifier != SOFTWARE)]
    agency_id = p.agency_code or AGENCY_AGENT_ID
    if agency and not any(a.agent_type == "organization" for a in agents):
        agents.append(
            PremisAgent(agency_id, agency, "organization", note="submitting agency; cơ quan nộp lưu")
        )
    if p.archive and not any(a.identifier == ARCHIVE_AGENT_ID for a in agents):
        agents.append(
            PremisAgent(ARCHIVE_AGENT_ID, p.archive, "organization", note="archive; cơ quan lưu trữ")
        )
    known_agents = {a.identifier for a in agents}
    events = []
    for e in [*p.events, creation]:
        objects = [object_id(o) for o in e.objects]
        if not objects:  # every event says what it was about
            objects = sorted(known) if str(e.event_type) in FILE_EVENTS and known else [file_code]
        links = [(a, r) for a, r in e.agents if a in known_agents]
        for agent_id, _role in e.agents:
            if agent_id not in known_agents:  # an agent named only in an event: describe it
                agents.append(PremisAgent(agent_id, agent_id, "person"))
                known_agents.add(agent_id)
                links.append((agent_id, _role))
        if not any(a == SOFTWARE for a, _ in links):
            links.append((SOFTWARE, "executing program"))
        events.append(replace(e, objects=objects, agents=links))
    files = []
    for f in data_files:
        key = f.rel.removeprefix(REP_DATA + "/")
        fmt = p.formats.get(key, FileFormat())
        files.append(
            PremisFile(
                identifier=f.rel,
                size=f.size,
                sha256=f.sha256,
                format_name=fmt.name or fmt.mimetype or f.mimetype,
                puid=fmt.puid,
                format_version=fmt.version,
                original_name=key,
                significant_properties=p.significant_properties.get(key, {}),
                signatures=p.signatures.get(key, ()),
                creating_application=p.creating_applications.get(key),
                relationships=[PremisRelationship("structural", "is included in", [rep_id])],
            )
        )
    rep_entity = PremisEntity(
        rep_id,
        category="representation",
        relationships=[
            PremisRelationship("structural", "is included in", [file_code]),
            *([PremisRelationship("structural", "includes", sorted(known))] if known else []),
        ],
    )
    entity_relationships = [PremisRelationship("structural", "includes", [rep_id])]
    if version > 1:
        entity_relationships.append(
            PremisRelationship("derivation", "has source", [previous_version_id(aip_id, version)])
        )
    entity = PremisEntity(
        file_code,
        title,
        significant_properties={"aip-id": aip_id, "aip-version": str(version)},
        relationships=entity_relationships,
    )
    rep_events = [e for e in events if any(o in known for o in e.objects)]
    root_events = [e for e in events if e not in rep_events]
    root_xml = premis_xml(entities=[entity, rep_entity], events=root_events, agents=agents)
    rep_xml = premis_xml(
        entities=[rep_entity], files=files, events=rep_events, agents=agents, schemas="../../../../schemas"
    )
    written.append(write_bytes_file(data_dir, ROOT_PREMIS, root_xml, XML))
    written.append(write_bytes_file(data_dir, REP_PREMIS, rep_xml, XML))
    return written


def ead_fields(xml: bytes) -> dict[str, Any]:
    """Return the leaf elements of an EAD file as ``{local name: text}`` (lists when repeated).

    Works for the flat TT 05/2025 ``<simpledc>`` shape and for nested EAD alike.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    root = etree.fromstring(xml, parser)
    fields: dict[str, Any] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or len(el) or el is root:
            continue
        name = etree.QName(el).localname
        text = (el.text or "").strip()
        if name in fields:
            prev = fields[name]
            fields[name] = [*prev, text] if isinstance(prev, list) else [prev, text]
        else:
            fields[name] = text
    return fields


def read_aip(path: Path, *, verify: bool = False) -> AipSummary:
    """Read an AIP written by :func:`build_aip` (``verify`` re-checks every checksum first).

    Raises InvalidPackage when the folder is not a valid bag or lacks METS/PREMIS/EAD.
    """
    path = Path(path)
    report = validate_bag(path, fast=not verify)
    if not report.valid:
        raise InvalidPackage(str(path), [f"{i.code}: {i.message_en}" for i in report.errors])
    data = path / "data"
    try:
        mets = read_mets((data / ROOT_METS).read_bytes())
        rep_mets = read_mets((data / REP_METS).read_bytes())
        dossier_href = next((h for h in mets.descriptive if h.endswith(DOSSIER_EAD)), None)
        dossier = ead_fields((data / dossier_href).read_bytes()) if dossier_href else {}
        documents = [
            ead_fields((data / REP / href).read_bytes()) for href in _by_number(rep_mets.descriptive)
        ]
        premis_docs = [
            read_premis((data / ROOT_PREMIS).read_bytes()),
            read_premis((data / REP_PREMIS).read_bytes()),
        ]
    except (OSError, etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidPackage(str(path), [str(exc)]) from exc
    events: dict[str, PremisEvent] = {}
    agents: dict[str, PremisAgent] = {}
    puids: dict[str, str | None] = {}
    for doc in premis_docs:
        events.update((e.identifier, e) for e in doc.events)
        agents.update((a.identifier, a) for a in doc.agents)
        puids.update((f.identifier, f.puid) for f in doc.files)
    files = [
        AipFile(
            path=f"data/{REP}/{row['href']}",
            size=int(row["size"] or 0),
            sha256=row["sha256"],
            mimetype=row["mimetype"],
            puid=row["puid"] or puids.get(f"{REP}/{row['href']}"),
        )
        for row in rep_mets.files.get("Data", [])
    ]
    bag_info = dict(parse_tag_file((path / "bag-info.txt").read_text("utf-8")))
    catalog_path = path / "data" / CATALOG_RECORD
    catalog = json.loads(catalog_path.read_text("utf-8")) if catalog_path.is_file() else None
    return AipSummary(
        aip_id=mets.alt_ids.get("aip-id", ""),
        version=int(mets.alt_ids.get("aip-version") or 0),
        file_code=mets.alt_ids.get("fileCode") or mets.objid,
        agency=mets.agency,
        package_type=mets.package_type,
        created=mets.created,
        dossier=dossier,
        documents=documents,
        files=files,
        events=sorted(events.values(), key=lambda e: e.when),
        agents=list(agents.values()),
        bag_info=bag_info,
        agency_code=mets.agency_code,
        catalog=catalog,
    )


def _by_number(hrefs: Sequence[str]) -> list[str]:
    def number(href: str) -> tuple[int, str]:
        m = re.search(r"_(\d+)\.xml$", href)
        return (int(m.group(1)) if m else 0, href)

    return sorted(hrefs, key=number)


def event_time(summary: AipSummary) -> datetime | None:
    """Return the time of the AIP's information package creation event, if recorded."""
    for e in summary.events:
        if e.event_type == EventType.INFORMATION_PACKAGE_CREATION:
            return e.when
    return None
