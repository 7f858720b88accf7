"""Build a SIP: a BagIt bag whose payload is an E-ARK CSIP package (TT 05/2025 SIP_hoso).

Input is a staged dossier: a folder of files and the validated metadata in the submission
shape ``{"profile": "tt05-2025", "dossier": {...}, "documents": [{"file": "rel/path.pdf",
"sha256": "...", ...}]}``, plus the EAD XML of the dossier and of each document. The EAD
writer lives elsewhere (``archive.metadata.io``); pass its output as bytes or the function
itself, so this module does not depend on it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.vntime import utcnow
from ingest.package.bagging import (
    FileFormat,
    ManifestEntry,
    PackageFile,
    Progress,
    place_file,
    safe_relative,
    write_bag_tags,
    write_bytes_file,
)
from ingest.package.csip import (
    DOSSIER_EAD,
    FINDING_AID,
    REP_DATA,
    XML,
    copy_schemas,
    declare_schema,
    document_ead_path,
    prepare_out_dir,
    write_mets_files,
)
from ingest.package.errors import ChecksumMismatch, PackageError

log = logging.getLogger(__name__)

EadSource = bytes | Callable[[Mapping[str, Any]], bytes]
DocumentEadSource = Sequence[bytes] | Callable[[Mapping[str, Any]], bytes]


@dataclass(frozen=True, slots=True)
class SipManifest:
    """A SIP written to ``path``: its payload files and every file of the bag with SHA-256."""

    path: Path
    file_code: str  # mã hồ sơ
    payload: list[PackageFile]  # paths relative to data/
    entries: list[ManifestEntry]  # paths relative to the bag root, tag files included


def dossier_file_code(metadata: Mapping[str, Any]) -> str:
    """Return the dossier's fileCode (mã hồ sơ), or arcFileCode for AIP-shaped metadata."""
    dossier = metadata.get("dossier") or {}
    code = dossier.get("fileCode") or dossier.get("arcFileCode")
    if not code or not isinstance(code, str):
        raise PackageError("metadata.dossier.fileCode (mã hồ sơ) is required to build a package")
    return code


def build_sip(
    staging_dir: Path,
    metadata: Mapping[str, Any],
    out_dir: Path,
    *,
    agency: str,
    dossier_ead: EadSource,
    document_ead: DocumentEadSource,
    formats: Mapping[str, FileFormat] | None = None,
    agency_code: str = "",
    finding_aid: EadSource | None = None,
    link: bool = True,
    progress: Progress | None = None,
) -> SipManifest:
    """Write the SIP bag for a staged dossier at ``out_dir`` and return its manifest.

    ``dossier_ead`` is the EAD.xml bytes or a function called with ``metadata``;
    ``document_ead`` is one EAD_doc per document (same order) or a function called with each
    document dict; both are TT 05/2025 ``<simpledc>`` records (METS ``OTHERMDTYPE``
    ``TT05-2025-EAD``, schema ``schemas/tt05-2025-ead.xsd``). ``finding_aid``, when given, is
    an EAD 2002 finding aid stored as ``metadata/descriptive/EAD2002.xml``. ``agency_code`` is
    the agency's identification code (METS submitting agent, E-ARK SIP).
    ``formats`` maps a document's ``file`` to its identified format. Files are
    hard-linked when ``link`` and possible, otherwise streamed; each is read once.

    The bag is written to ``<out_dir>.partial`` and renamed at the end, so ``out_dir`` is
    either absent or complete. Raises ChecksumMismatch when a file differs from its declared
    ``sha256`` (invariant 1), UnsafePath for a path leaving the staging folder,
    FileExistsError when ``out_dir`` exists, PackageError for unusable metadata.
    """
    staging_dir, out_dir = Path(staging_dir), Path(out_dir)
    file_code = dossier_file_code(metadata)
    documents: Sequence[Mapping[str, Any]] = metadata.get("documents") or []
    if not callable(document_ead) and len(document_ead) != len(documents):
        raise PackageError(f"{len(documents)} documents but {len(document_ead)} EAD_doc files")
    formats = formats or {}
    work = prepare_out_dir(out_dir)
    data_dir = work / "data"
    try:
        payload = _place_payload(staging_dir, data_dir, documents, formats, link, progress)
        ead = dossier_ead(metadata) if callable(dossier_ead) else dossier_ead
        payload.append(write_bytes_file(data_dir, DOSSIER_EAD, declare_schema(ead, DOSSIER_EAD), XML))
        described_by: dict[str, list[str]] = {}
        for n, doc in enumerate(documents, 1):
            doc_ead = document_ead(doc) if callable(document_ead) else document_ead[n - 1]
            rel = document_ead_path(n)
            payload.append(write_bytes_file(data_dir, rel, declare_schema(doc_ead, rel), XML))
            file_key = safe_relative(str(doc.get("file") or "")).as_posix()
            described_by.setdefault(file_key, []).append(rel.removeprefix("representations/rep1/"))
        if finding_aid is not None:
            aid = finding_aid(metadata) if callable(finding_aid) else finding_aid
            payload.append(write_bytes_file(data_dir, FINDING_AID, declare_schema(aid, FINDING_AID), XML))
        payload += copy_schemas(data_dir)
        title = str((metadata.get("dossier") or {}).get("title") or file_code)
        payload += write_mets_files(
            data_dir,
            payload,
            objid=file_code,
            label=title,
            package_type="SIP",
            agency=agency,
            created=utcnow(),
            formats=formats,
            alt_ids=(("fileCode", file_code), ("profile", str(metadata.get("profile", "")))),
            agency_code=agency_code,
            described_by=described_by,
        )
        info = {
            "Source-Organization": agency,
            "External-Identifier": file_code,
            "External-Description": " ".join(title.split())[:500],
            "Bag-Group-Identifier": str(metadata.get("profile", "")),
        }
        entries = write_bag_tags(work, payload, info)
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("SIP written", extra={"file_code": file_code, "files": len(payload)})
    return SipManifest(out_dir, file_code, sorted(payload, key=lambda f: f.rel), entries)


def _place_payload(
    staging_dir: Path,
    data_dir: Path,
    documents: Sequence[Mapping[str, Any]],
    formats: Mapping[str, FileFormat],
    link: bool,
    progress: Progress | None,
) -> list[PackageFile]:
    placed: list[PackageFile] = []
    seen: set[str] = set()
    for doc in documents:
        rel = safe_relative(str(doc.get("file") or "")).as_posix()
        if rel in seen:
            continue  # one file may carry several documents (a whole dossier scanned in one PDF)
        seen.add(rel)
        src = staging_dir / rel
        if not src.is_file():
            raise PackageError(f"staged file missing: {rel}")
        fmt = formats.get(rel)
        pf = place_file(
            src,
            data_dir,
            f"{REP_DATA}/{rel}",
            link=link,
            mimetype=fmt.mimetype if fmt else None,
            progress=progress,
        )
        declared = str(doc.get("sha256") or "").lower()
        if declared and declared != pf.sha256:
            raise ChecksumMismatch(rel, declared, pf.sha256)
        placed.append(pf)
    return placed
