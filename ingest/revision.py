"""Metadata corrections: a new AIP version with the corrected description; the old one is kept.

The content files are not touched: they are copied from a replica copy that verifies, the
descriptive metadata (EAD) is rewritten, the preservation history (PREMIS events, validation and
signature reports) is carried over with a ``metadata modification`` event added, and the new
version is accessioned like any AIP (every replica first, then the catalog, which marks the old
version superseded).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.accession import AccessionRequest, FileEntry, accession
from archive.catalog import Dossier, EventType, FileRole, Package, PackageState, RecordState, StoredFile
from archive.errors import Conflict, IntegrityError, NotFound
from archive.findings import Finding, Severity
from archive.metadata import load_profile, validate_dossier
from archive.metadata.ead import ead_document_xml, ead_dossier_xml
from archive.storage import Replica
from archive.vntime import utcnow
from ingest.assemble import (
    REP_DATA,
    TAG_FILES,
    aip_description,
    catalog_record,
    dossier_record,
    keeping_archive,
)
from ingest.package import AipPreservation, FileFormat, build_aip, build_sip, read_aip
from ingest.package.aip import report_name
from ingest.package.csip import REP, REP_PREMIS
from ingest.package.premis import Outcome, PremisAgent, PremisEvent, read_premis

REPORTS = "data/metadata/preservation/reports"
PREMIS_REP = f"data/{REP_PREMIS}"
REP_DATA_IN = "representations/rep1/data/"  # PREMIS file ids are paths inside data/


class InvalidCorrection(Conflict):
    """The corrected metadata does not validate against the profile."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        errors = [f for f in findings if f.severity is Severity.ERROR]
        super().__init__("; ".join(f"{f.field or f.path}: {f.message_en}" for f in errors))
        self.findings = list(findings)


def corrected_metadata(
    dossier: Dossier, changes: Mapping[str, Any], document_changes: Mapping[int, Mapping[str, Any]]
) -> dict[str, Any]:
    """The dossier's TT 05/2025 metadata with ``changes`` applied (None removes a field)."""
    head = {k: v for k, v in dict(dossier.descriptive).items() if not k.startswith("_")}
    for key, value in changes.items():
        if value is None:
            head.pop(key, None)
        else:
            head[key] = value
    docs = []
    for doc in dossier.documents:
        data = dict(doc.descriptive)
        for key, value in (document_changes.get(doc.ordinal) or {}).items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        docs.append(data)
    return {"profile": "tt05-2025", "dossier": head, "documents": docs}


def _copy_verified(package: Package, replicas: Sequence[Replica], dest: Path) -> None:
    """Copy every file of ``package`` from the first replica whose copies all verify."""
    for replica in replicas:
        shutil.rmtree(dest, ignore_errors=True)
        ok = True
        for f in package.files:
            target = dest / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            try:
                with replica.open(f"{package.storage_key}/{f.path}") as src, target.open("wb") as out:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            except OSError:
                ok = False
                break
            if h.hexdigest() != f.sha256:
                ok = False
                break
        if ok:
            return
    raise IntegrityError(f"no replica holds a verifying copy of {package.storage_key}")


def revise_dossier(
    sessions: sessionmaker[Session],
    replicas: Sequence[Replica],
    work_root: Path,
    dossier_code: str,
    *,
    changes: Mapping[str, Any],
    document_changes: Mapping[int, Mapping[str, Any]] | None = None,
    actor: events.Agent,
    reason: str,
    profile_overrides: Path | None = None,
) -> int:
    """Make a new AIP version of ``dossier_code`` with corrected metadata; return the new package id.

    Raises NotFound, Conflict (destroyed dossier, nothing changed), InvalidCorrection (the
    corrected metadata has errors), IntegrityError (no verifying copy to build from).
    """
    if not reason.strip():
        raise Conflict("a correction needs a reason (lý do chỉnh sửa)")
    with sessions() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
        if dossier is None:
            raise NotFound("dossier", dossier_code)
        if dossier.state is RecordState.DESTROYED:
            raise Conflict(f"dossier {dossier_code} was destroyed")
        package = s.scalar(
            select(Package)
            .where(Package.dossier_id == dossier.id, Package.state == PackageState.STORED)
            .order_by(Package.version.desc())
        )
        if package is None:
            raise NotFound("stored AIP of dossier", dossier_code)
        metadata = corrected_metadata(dossier, changes, document_changes or {})
        before = {
            "dossier": dict(dossier.descriptive),
            "documents": [dict(d.descriptive) for d in dossier.documents],
        }
        formats = {
            f.path.removeprefix(REP_DATA): FileFormat(f.puid, f.format_name, f.format_version, f.mime)
            for f in package.files
            if f.role is FileRole.ORIGINAL
        }
        agency_name, agency_id, agency_code = dossier.agency.name, dossier.agency_id, dossier.agency.code
        archive_code, archive_name = keeping_archive(dossier.agency)
        aip_uuid, version = package.uuid, package.version + 1
        package.files  # noqa: B018 - load before the session closes
        s.expunge_all()
    if {"dossier": metadata["dossier"], "documents": metadata["documents"]} == before:
        raise Conflict("nothing to correct: the metadata is unchanged")
    findings = validate_dossier(load_profile("tt05-2025", profile_overrides), metadata)
    if any(f.severity is Severity.ERROR for f in findings):
        raise InvalidCorrection(findings)

    work = work_root / f"revise-{uuid.uuid4()}"
    try:
        old = work / "old"
        _copy_verified(package, replicas, old)
        summary = read_aip(old)
        reports_dir = old / REPORTS
        validation = _reports(reports_dir / "validation", formats)
        signatures = _reports(reports_dir / "signatures", formats)
        change = PremisEvent(
            f"uuid-{uuid.uuid4()}", "metadata modification", utcnow(), Outcome.SUCCESS,
            detail=f"AIP version {version}: descriptive metadata corrected by {actor.name}: {reason}",
            agents=((actor.name, "implementer"), ("luutru", "executing program")),
            objects=(dossier_code,),
        )  # fmt: skip
        actor_agent = PremisAgent(actor.name, actor.name, actor.type, note="made the correction")
        old_premis = read_premis((old / PREMIS_REP).read_bytes())
        sip = work / "sip"
        build_sip(
            old / REP_DATA, metadata, sip, agency=agency_name, agency_code=agency_code,
            dossier_ead=ead_dossier_xml, document_ead=ead_document_xml, formats=formats,
        )  # fmt: skip
        aip = work / "aip"
        manifest = build_aip(
            sip, aip, aip_id=aip_uuid, version=version,
            preservation=AipPreservation(
                events=[*summary.events, change],
                agents=[*(a for a in summary.agents if a.identifier != actor.name), actor_agent],
                formats=formats, validation_reports=validation, signature_reports=signatures,
                signatures={f.identifier.removeprefix(REP_DATA_IN): f.signatures for f in old_premis.files},
                significant_properties={
                    f.identifier.removeprefix(REP_DATA_IN): f.significant_properties for f in old_premis.files
                },
                creating_applications={
                    f.identifier.removeprefix(REP_DATA_IN): f.creating_application
                    for f in old_premis.files if f.creating_application
                },
                carried=carried_evidence(old, package.version),
                catalog_record=catalog_record(metadata, "tt05-2025", {
                    f.path.removeprefix(REP_DATA): {
                        "mime": f.mime, "puid": f.puid, "format_name": f.format_name,
                        "format_version": f.format_version, "properties": dict(f.properties),
                    }
                    for f in package.files if f.role is FileRole.ORIGINAL
                }),
                **aip_description(metadata, agency_code, agency_name, archive_code, archive_name),
            ),
        )  # fmt: skip
        ordinal_by_file = {
            str(d.get("file")): int(d.get("docOrdinal") or i)
            for i, d in enumerate(metadata["documents"], start=1)
        }
        original = {f.path: f for f in package.files}
        files = []
        for e in manifest.entries:
            if e.path.startswith(REP_DATA):
                old_file: StoredFile | None = original.get(e.path)
                files.append(
                    FileEntry(
                        e.path, e.size, e.sha256, FileRole.ORIGINAL, ordinal_by_file.get(e.path.removeprefix(REP_DATA)),
                        old_file.mime if old_file else None, old_file.puid if old_file else None,
                        old_file.format_name if old_file else None, old_file.format_version if old_file else None,
                        dict(old_file.properties) if old_file else {},
                    )
                )  # fmt: skip
            else:
                files.append(
                    FileEntry(
                        e.path,
                        e.size,
                        e.sha256,
                        FileRole.TAG if TAG_FILES.match(e.path) else FileRole.METADATA,
                    )
                )
        record = dossier_record(metadata, agency_id, "tt05-2025")
        request = AccessionRequest(
            aip, aip_uuid, version, files, record, None, actor, reason=f"metadata correction: {reason}"
        )
        package_id = accession(sessions, replicas, request)
        with sessions() as s, s.begin():
            events.record(
                s, EventType.METADATA_MODIFICATION, object_type="dossier", object_id=dossier_code,
                agent=actor, detail=f"new AIP version {version}: {reason}",
                data={"changes": dict(changes), "documents": {str(k): dict(v) for k, v in (document_changes or {}).items()}},
            )  # fmt: skip
        return package_id
    finally:
        shutil.rmtree(work, ignore_errors=True)


def carried_evidence(old_bag: Path, old_version: int) -> dict[str, bytes]:
    """Every preservation file of the previous version, to keep in the new one.

    The old version's own files go under ``versions/v000n/`` (its PREMIS, reports, …); what it
    had carried from still earlier versions stays under ``versions/`` as it was, so the
    evidence of every version is reachable from the newest AIP alone.
    """
    out: dict[str, bytes] = {}
    for folder, prefix in (
        (old_bag / "data" / "metadata" / "preservation", ""),
        (old_bag / "data" / REP / "metadata" / "preservation", f"{REP}/"),
    ):
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if prefix == "" and rel.startswith("versions/"):
                out[rel] = path.read_bytes()
            else:
                out[f"versions/v{old_version:04d}/{prefix}{rel}"] = path.read_bytes()
    return out


def _reports(folder: Path, formats: Mapping[str, FileFormat]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel in formats:
        path = folder / f"{report_name(rel)}.json"
        if path.is_file():
            out[rel] = json.loads(path.read_text(encoding="utf-8"))
    return out
