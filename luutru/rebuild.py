"""Read an AIP on a replica back into catalog terms, for ``archive.rebuild.rebuild_catalog``.

This is the glue between the packaging layer (``ingest.package.read_aip``) and the archive
core, which may not import ``ingest``. Local replicas are read in place; other backends (S3)
are copied to a temporary directory first.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.accession import AccessionRequest, FileEntry
from archive.catalog import FileRole
from archive.fixity.hashing import sha256_file
from archive.rebuild import PackageDescription
from archive.storage import LocalReplica, Replica
from archive.vntime import as_utc
from ingest.assemble import REP_DATA, TAG_FILES, dossier_record
from ingest.package import AipSummary, read_aip
from ingest.package.errors import PackageError

DEFAULT_PROFILE = "tt05-2025"


def aip_reader(replica: Replica, storage_key: str) -> PackageDescription:
    """Read the AIP at ``storage_key`` on ``replica`` (every checksum re-verified).

    Raises ValueError when the package is not a valid AIP.
    """
    if isinstance(replica, LocalReplica):
        return describe(replica.root / storage_key)
    with tempfile.TemporaryDirectory(prefix="luutru-rebuild-") as tmp:
        local = Path(tmp) / "aip"
        prefix = storage_key + "/"
        for key in replica.list(prefix):
            out = local / key[len(prefix) :]
            out.parent.mkdir(parents=True, exist_ok=True)
            with replica.open(key) as src, out.open("wb") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
        return describe(local)


def describe(path: Path) -> PackageDescription:
    """Describe the AIP folder at ``path`` for the catalog."""
    try:
        summary = read_aip(path, verify=True)
    except PackageError as exc:
        raise ValueError(str(exc)) from exc
    agency_code = summary.agency_code or next(
        (a.identifier for a in summary.agents if a.agent_type == "organization"), ""
    )
    if not agency_code:
        raise ValueError(f"{path}: no organization agent in the PREMIS metadata (agency code)")
    profile = summary.bag_info.get("Bag-Group-Identifier") or DEFAULT_PROFILE
    if summary.catalog is not None:  # the catalog's own record of the dossier, kept in the AIP
        metadata = {"dossier": summary.catalog["dossier"], "documents": summary.catalog["documents"]}
        profile = summary.catalog.get("profile") or profile
    else:  # an AIP from before luutru-catalog.json: the TT 05 records (AIP variant or SIP's)
        dossier = {**summary.dossier, "fileCode": summary.file_code}
        metadata = {"dossier": dossier, "documents": summary.documents}
    record = dossier_record(metadata, 0, profile)
    request = AccessionRequest(
        aip_dir=path,
        aip_uuid=summary.aip_id or summary.bag_info.get("AIP-Identifier", ""),
        version=summary.version or int(summary.bag_info.get("AIP-Version", "1")),
        files=_files(path, summary),
        dossier=record,
    )
    return PackageDescription(
        agency_code=agency_code,
        agency_name=summary.agency or summary.bag_info.get("Source-Organization", ""),
        request=request,
        stored_at=_created(summary.created),
    )


def _files(path: Path, summary: AipSummary) -> list[FileEntry]:
    """Every file of the bag with size and SHA-256 (from the verified manifests where listed)."""
    manifest: dict[str, str] = {}
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        if (path / name).is_file():
            for line in (path / name).read_text("utf-8").splitlines():
                sha, _, rel = line.partition(" ")
                if rel.strip():
                    manifest[rel.strip()] = sha.lower()
    # Content files follow the documents' order (EAD_doc_1… and the METS Data group alike).
    if summary.catalog is not None:  # documents name their file: the ordinals are exact
        ordinals: dict[str, int] = {}
        for index, doc in enumerate(summary.catalog.get("documents") or [], start=1):
            raw = str(doc.get("docOrdinal") or "").strip()
            ordinals[REP_DATA + str(doc.get("file"))] = int(raw) if raw.isdigit() else index
    else:
        ordinals = (
            {f.path: i for i, f in enumerate(summary.files, start=1)}
            if len(summary.files) == len(summary.documents)
            else {}
        )
    content = {f.path: f for f in summary.files}
    facts: dict[str, Any] = (summary.catalog or {}).get("files") or {}
    entries: list[FileEntry] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        sha = manifest.get(rel) or sha256_file(file)[0]
        size = file.stat().st_size
        if rel in content:
            aip_file = content[rel]
            fact = facts.get(rel.removeprefix(REP_DATA), {})
            entries.append(
                FileEntry(
                    rel, size, sha, FileRole.ORIGINAL, ordinals.get(rel),
                    fact.get("mime") or aip_file.mimetype, fact.get("puid") or aip_file.puid,
                    fact.get("format_name"), fact.get("format_version"), fact.get("properties") or {},
                )
            )  # fmt: skip
        else:
            entries.append(
                FileEntry(rel, size, sha, FileRole.TAG if TAG_FILES.match(rel) else FileRole.METADATA)
            )
    return entries


def _created(value: str) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return None
