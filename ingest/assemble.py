"""From an inspected submission to an AIP on disk and the accession request that stores it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive.accession import AccessionRequest, DocumentRecord, DossierRecord, FileEntry
from archive.catalog import AccessMode, Agency, FileRole
from archive.events import Agent
from archive.findings import Finding, Severity
from archive.metadata.aip_records import aip_records, arc_file_code, finding_aid_xml
from archive.metadata.ead import ead_document_xml, ead_dossier_xml
from archive.metadata.values import parse_date
from ingest.edxml_premis import exchange_events
from ingest.package import AipPreservation, FileFormat, build_aip, build_sip
from ingest.package.bagging import SOFTWARE_VERSION
from ingest.package.premis import Outcome, PremisAgent, PremisEvent, PremisSignature
from ingest.validate import Inspection

AIP_NAMESPACE = uuid.UUID("6f1c2a4e-4b7e-5d0a-9c3e-6c7575747275")  # luutru AIP ids (uuid5)
REP_DATA = "data/representations/rep1/data/"
TAG_FILES = re.compile(r"^(bagit\.txt|bag-info\.txt|(tag)?manifest-\w+\.txt|fetch\.txt)$")
DATE_FORMATS = ("DD/MM/YYYY", "MM/YYYY", "YYYY", "YYYY-MM-DD")
# TT 05/2025 maintenance codes → years (None = permanent); 07 Khác takes the years from the text.
RETENTION_YEARS: dict[str, int | None] = {"01": None, "02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
SOFTWARE = PremisAgent("luutru", "luutru", "software", version=SOFTWARE_VERSION)
CATALOG_RECORD_FORMAT = "luutru-catalog/1"


def aip_uuid_for(submission_id: str) -> str:
    """The AIP id of a submission: the same on every retry, so a re-run finishes the same AIP."""
    return str(uuid.uuid5(AIP_NAMESPACE, submission_id))


def retention_years(maintenance: str | None, text: str | None) -> int | None:
    if maintenance in RETENTION_YEARS:
        return RETENTION_YEARS[maintenance]
    m = re.search(r"(\d{1,3})\s*năm", text or "")
    return int(m.group(1)) if m else None


def _date(value: Any, *, last: bool = False) -> date | None:
    span = parse_date(value, DATE_FORMATS)
    if span is None:
        return None
    return span.last if last else span.first


def _mode(value: Any, default: AccessMode) -> AccessMode:
    try:
        return AccessMode(str(value).strip())
    except ValueError:
        return default


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def dossier_record(metadata: Mapping[str, Any], agency_id: int, profile: str) -> DossierRecord:
    d = metadata.get("dossier") or {}
    mode = _mode(d.get("mode"), AccessMode.CONDITIONAL)
    code = str(d.get("fileCode") or d.get("arcFileCode"))
    docs: list[DocumentRecord] = []
    for index, doc in enumerate(metadata.get("documents") or [], start=1):
        ordinal = _int(doc.get("docOrdinal")) or index
        docs.append(
            DocumentRecord(
                ordinal=ordinal,
                doc_code=str(doc.get("docCode") or f"{code}.{ordinal:07d}"),
                type_code=doc.get("typeName"),
                type_name=(doc.get("_original") or {}).get("TypeName")
                if isinstance(doc.get("_original"), dict)
                else None,
                code_number=doc.get("codeNumber"),
                code_notation=doc.get("codeNotation"),
                issued_date=_date(doc.get("issuedDate")),
                organ_name=doc.get("organName"),
                subject=doc.get("subject"),
                page_count=_int(doc.get("numberOfPage")),
                confidence_level=doc.get("confidenceLevel"),
                access_mode=_mode(doc.get("mode"), mode),
                descriptive=dict(doc),
            )
        )
    maintenance = d.get("maintenance")
    raw_original = d.get("_original")
    original: Mapping[str, Any] = raw_original if isinstance(raw_original, dict) else {}
    retention_text = original.get("Maintenance") or original.get("maintenance") or None
    language = d.get("language")
    return DossierRecord(
        code=code,
        title=str(d.get("title") or ""),
        profile=profile,
        agency_id=agency_id,
        maintenance=str(maintenance) if maintenance else None,
        retention_years=retention_years(maintenance, retention_text or d.get("description")),
        retention_text=retention_text,
        access_mode=mode,
        language=",".join(language) if isinstance(language, list) else language,
        start_date=_date(d.get("startDate")),
        end_date=_date(d.get("endDate"), last=True),
        descriptive=dict(d),
        documents=docs,
    )


def _premis_events(
    ins: Inspection, steps: Mapping[str, Sequence[Finding]], agency_code: str
) -> list[PremisEvent]:
    received = ins.staged.received_at
    when = datetime.now(received.tzinfo)
    events = [
        PremisEvent(
            f"uuid-{uuid.uuid4()}", "ingestion", received, Outcome.SUCCESS,
            detail=f"Submission {ins.staged.submission_id} received ({ins.staged.kind})",
            agents=((agency_code, "submitter"), ("luutru", "executing program")),
            objects=(str((ins.metadata.get("dossier") or {}).get("fileCode") or ""),),
        ),
        PremisEvent(
            f"uuid-{uuid.uuid4()}", "fixity check", received, Outcome.SUCCESS,
            detail="SHA-256 of every file matched the submitter's declaration at receipt",
            agents=(("luutru", "executing program"),),
            objects=tuple(sorted({f.path for f in ins.staged.files})),
        ),
    ]  # fmt: skip
    names = {
        "metadata": "validation",
        "format identification": "format identification",
        "text encoding": "validation",
        "pdf and signatures": "digital signature validation",
        "virus check": "virus check",
    }
    for step, found in steps.items():
        if step not in names:
            continue
        worst = {f.severity for f in found}
        outcome = (
            Outcome.FAILURE
            if Severity.ERROR in worst
            else Outcome.WARNING
            if Severity.WARNING in worst
            else Outcome.SUCCESS
        )
        detail = f"{step}: {len(found)} finding(s)"
        if step == "virus check" and not ins.malware_scanned:
            outcome, detail = Outcome.WARNING, "not scanned: no malware scanner installed"
        objects = sorted(ins.signature_reports) if step == "pdf and signatures" else []
        events.append(
            PremisEvent(
                f"uuid-{uuid.uuid4()}", names[step], when, outcome, detail=detail,
                outcome_detail="; ".join(sorted({f.code for f in found}))[:2000],
                agents=(("luutru", "executing program"),), objects=objects,
            )
        )  # fmt: skip
    events.extend(exchange_events(ins.staged.documents, received))  # edXML: how it travelled before
    return events


def _signatures(ins: Inspection) -> dict[str, list[PremisSignature]]:
    out: dict[str, list[PremisSignature]] = {}
    for rel, report in ins.signature_reports.items():
        out[rel] = [
            PremisSignature(
                encoding="PAdES (CMS SignedData, base64 signature value)",
                method=str(s.evidence.get("signature_mechanism") or s.evidence.get("md_algorithm") or ""),
                value=str(s.evidence.get("signature_value_b64") or ""),
                validation_rules="ETSI EN 319 102-1 (pyHanko)",
                signer=s.signer,
                properties=(
                    f"field: {s.field}",
                    f"kind: {s.kind.value}",
                    f"signing time: {s.signed_at}",
                    f"digest algorithm: {s.evidence.get('md_algorithm')}",
                    f"validation result: {'valid' if s.valid else 'not valid'}",
                    f"intact: {s.intact}",
                    f"trusted: {s.trusted}",
                    f"modification: {s.modification.value}",
                    f"signer certificate SHA-256: {s.evidence.get('signer_certificate_sha256')}",
                ),
            )
            for s in report.signatures
        ]
    return out


def keeping_archive(agency: Agency) -> tuple[str, str]:
    """(code, name) of the archive keeping ``agency``'s records: its archive_code, else the top agency."""
    top = agency
    while top.parent is not None:
        top = top.parent
    return agency.archive_code or top.code, top.name


def aip_description(
    metadata: Mapping[str, Any], agency_code: str, agency_name: str, archive_code: str, archive_name: str
) -> dict[str, Any]:
    """The AIP's descriptive records and agents (AipPreservation keyword arguments)."""
    file_code = str((metadata.get("dossier") or {}).get("fileCode") or "")
    arc_code = arc_file_code(archive_code, file_code)
    dossier_xml, document_xmls = aip_records(metadata, arc_code)
    aid = finding_aid_xml(
        metadata, arc_code=arc_code, agency_name=agency_name, agency_code=agency_code,
        archive_name=archive_name, created=datetime.now().date(),
    )  # fmt: skip
    return {
        "dossier_record": dossier_xml,
        "document_records": document_xmls,
        "finding_aid": aid,
        "agency_code": agency_code,
        "archive": archive_name,
    }


def _creating_applications(ins: Inspection) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for rel, pdf in ins.pdf_reports.items():
        if pdf.producer:
            out[rel] = (pdf.producer, None)
    return out


def build_packages(
    ins: Inspection,
    steps: Mapping[str, Sequence[Finding]],
    work_dir: Path,
    *,
    agency_code: str,
    agency_name: str,
    archive_code: str = "",
    archive_name: str = "",
    people: Sequence[tuple[str, str, str]] = (),
) -> tuple[Path, str]:
    """Build (or reuse, after a crash) the SIP and the AIP; return the AIP path and id.

    ``archive_code`` (mã cơ quan lưu trữ) prefixes the AIP's arcFileCode; ``archive_name``
    is the archive named as PRESERVATION agent. ``people`` are ``(username, full name, role)``
    of the persons known to have acted (the officer who submitted, the archivist who accepted):
    PREMIS person agents linked to the ingestion event.
    """
    aip_id = aip_uuid_for(ins.staged.submission_id)
    sip_dir, aip_dir = work_dir / "sip", work_dir / "aip"
    if aip_dir.is_dir():  # written by a previous run: build_aip renames only when complete
        return aip_dir, aip_id
    formats = {rel: FileFormat(i.puid, i.format, i.version, i.mime) for rel, i in ins.identities.items()}
    if not sip_dir.is_dir():
        build_sip(
            ins.staged.payload_root,
            ins.metadata,
            sip_dir,
            agency=agency_name,
            dossier_ead=ead_dossier_xml,
            document_ead=ead_document_xml,
            formats=formats,
            agency_code=agency_code,
        )
    validation = {
        rel: {
            "identity": ins.identities[rel].to_json() if rel in ins.identities else None,
            "pdf": ins.pdf_reports[rel].to_json() if rel in ins.pdf_reports else None,
            "findings": [f.to_json() for f in ins.findings if f.path == rel],
        }
        for rel in {f.path for f in ins.staged.files}
    }
    events = _premis_events(ins, steps, agency_code)
    events[0] = replace(
        events[0], agents=(*events[0].agents, *((user, role) for user, _name, role in people))
    )
    preservation = AipPreservation(
        events=events,
        agents=(
            SOFTWARE,
            PremisAgent(agency_code, agency_name, "organization", note="submitting agency"),
            *(PremisAgent(user, name or user, "person", note=role) for user, name, role in people),
        ),
        formats=formats,
        validation_reports=validation,
        signature_reports={rel: r.evidence for rel, r in ins.signature_reports.items()},
        signatures=_signatures(ins),
        creating_applications=_creating_applications(ins),
        catalog_record=catalog_record(ins.metadata, ins.staged.profile, file_facts(ins)),
        **aip_description(ins.metadata, agency_code, agency_name, archive_code, archive_name),
    )
    build_aip(sip_dir, aip_dir, aip_id=aip_id, version=1, preservation=preservation)
    return aip_dir, aip_id


def file_facts(ins: Inspection) -> dict[str, dict[str, Any]]:
    """What the catalog keeps about each content file (format, technical properties), by path."""
    out: dict[str, dict[str, Any]] = {}
    for rel in sorted({f.path for f in ins.staged.files}):
        ident = ins.identities.get(rel)
        pdf = ins.pdf_reports.get(rel)
        sig = ins.signature_reports.get(rel)
        props: dict[str, Any] = {}
        if pdf is not None:
            props["pdf"] = {"version": pdf.pdf_version, "pdfa": pdf.pdfa.claimed, "pages": pdf.page_count}
        if sig is not None:
            props["signatures"] = [s.to_json() | {"findings": None} for s in sig.signatures]
            props["signatures_valid"] = sig.valid
        out[rel] = {
            "mime": ident.mime if ident else None,
            "puid": ident.puid if ident else None,
            "format_name": ident.format if ident else None,
            "format_version": ident.version if ident else None,
            "properties": json.loads(json.dumps(props, default=str)),
        }
    return out


def catalog_record(metadata: Mapping[str, Any], profile: str, facts: Mapping[str, Any]) -> bytes:
    """``metadata/preservation/luutru-catalog.json``: the catalog's own view of the dossier.

    The submitted metadata as the catalog keeps it (incl. organId and the other non-EAD
    fields, dates as written) and each content file's format and technical properties, so a
    catalog rebuilt from the AIPs alone holds the same rows as the one that was lost.
    """
    body = {
        "format": CATALOG_RECORD_FORMAT,
        "profile": profile,
        "dossier": dict(metadata.get("dossier") or {}),
        "documents": [dict(d) for d in metadata.get("documents") or []],
        "files": dict(facts),
    }
    return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8")


def accession_request(
    ins: Inspection,
    aip_dir: Path,
    aip_id: str,
    manifest: Sequence[tuple[str, int, str]],
    *,
    agency_id: int,
    actor: Agent,
) -> AccessionRequest:
    """Describe the AIP's files and records for ``archive.accession``."""
    record = dossier_record(ins.metadata, agency_id, ins.staged.profile)
    ordinal_by_file: dict[str, int] = {}
    for index, doc in enumerate(ins.metadata.get("documents") or [], start=1):
        ordinal_by_file[str(doc.get("file"))] = _int(doc.get("docOrdinal")) or index
    facts = file_facts(ins)
    files = []
    for path, size, sha256 in manifest:
        if path.startswith(REP_DATA):
            rel = path.removeprefix(REP_DATA)
            fact = facts.get(rel, {})
            files.append(
                FileEntry(
                    path, size, sha256, FileRole.ORIGINAL, ordinal_by_file.get(rel),
                    fact.get("mime"), fact.get("puid"), fact.get("format_name"), fact.get("format_version"),
                    fact.get("properties") or {},
                )
            )  # fmt: skip
        else:
            role = FileRole.TAG if TAG_FILES.match(path) else FileRole.METADATA
            files.append(FileEntry(path, size, sha256, role))
    return AccessionRequest(
        aip_dir=aip_dir,
        aip_uuid=aip_id,
        version=1,
        files=files,
        dossier=record,
        submission_id=ins.staged.submission_id,
        actor=actor,
    )
