"""Rebuild the catalog from the AIPs alone (khôi phục danh mục từ gói AIP).

AIPs are self-describing (METS, EAD, PREMIS, bag manifests), so when the catalog is lost and
no backup is usable, every package on the replicas can be read back into an empty catalog:
agencies, dossiers, documents, packages, stored files and one copy row per replica holding
the package. Reading an AIP is the packaging layer's job (``ingest.package.read_aip``); the
archive core does not import it, so the caller passes a :data:`PackageReader`
(``luutru.rebuild.aip_reader`` is the one the CLI uses).

Copies are recorded as present but not yet verified (``last_verified_at`` empty), so the next
fixity audit checks every one of them first.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.accession import AccessionRequest, commit_accession
from archive.agencies import create_agency
from archive.catalog import Agency, EventType, FileCopy, Outcome, Package, StoredFile
from archive.errors import ArchiveError, Conflict
from archive.replica_registers import export_registers, restore_registers, restore_texts
from archive.storage import Replica
from archive.vntime import vn_iso

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackageDescription:
    """What an AIP says about itself, shaped for the catalog.

    ``request.dossier.agency_id`` is ignored: the agency is looked up (or created) by
    ``agency_code``.
    """

    agency_code: str
    agency_name: str
    request: AccessionRequest
    stored_at: datetime | None = None  # when the AIP was made (METS creation date)


# Reads the package at ``storage_key`` on ``replica``; raises ValueError or OSError when it
# is not a readable, valid AIP.
PackageReader = Callable[[Replica, str], PackageDescription]


@dataclass(slots=True)
class RebuildResult:
    packages: int = 0
    dossiers: int = 0
    files: int = 0
    agencies: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # storage key → why it could not be read
    restored_events: int = 0  # events of the old chain brought back from the replicas
    restored_agencies: int = 0
    texts: int = 0  # documents whose extracted text came back from the replicas
    register_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "packages": self.packages,
            "dossiers": self.dossiers,
            "files": self.files,
            "agencies": self.agencies,
            "failed": self.failed,
            "restored_events": self.restored_events,
            "restored_agencies": self.restored_agencies,
            "texts": self.texts,
            "register_problems": self.register_problems,
            "ok": self.ok,
        }


def package_keys(replica: Replica) -> list[str]:
    """Storage keys (``aip/<uuid>/vNNNN``) of the packages on ``replica``, sorted by id and version."""
    keys = {"/".join(k.split("/")[:3]) for k in replica.list("aip/") if k.endswith("/bagit.txt")}
    return sorted(k for k in keys if k.count("/") == 2)


def rebuild_catalog(
    sessions: sessionmaker[Session],
    replicas: Sequence[Replica],
    reader: PackageReader,
    *,
    progress: Callable[[str], None] | None = None,
) -> RebuildResult:
    """Recreate the catalog from every package on ``replicas``; the catalog must be empty.

    Each package is read from the first replica that holds it and can be read; copy rows are
    made for every replica holding it. Raises Conflict when the catalog already has packages.
    """
    with sessions() as s:
        if s.scalar(select(Package.id).limit(1)) is not None:
            raise Conflict("the catalog is not empty: rebuild only into an empty catalog")
    registers = restore_registers(sessions, replicas)
    holders: dict[str, list[Replica]] = {}
    for replica in replicas:
        for key in package_keys(replica):
            holders.setdefault(key, []).append(replica)
    result = RebuildResult(
        restored_events=registers.events,
        restored_agencies=registers.agencies,
        register_problems=registers.problems,
    )
    for key in sorted(holders):
        if progress is not None:
            progress(key)
        desc: PackageDescription | None = None
        reasons: list[str] = []
        for replica in holders[key]:
            try:
                desc = reader(replica, key)
                break
            except (ValueError, OSError, ArchiveError) as exc:
                reasons.append(f"{replica.name}: {exc}")
        if desc is None:
            result.failed[key] = "; ".join(reasons)
            log.error("package could not be read back", extra={"key": key})
            continue
        _commit_one(sessions, holders[key], desc, result)
    with sessions() as s, s.begin():
        events.record(
            s, EventType.RECOVERY, object_type="catalog", object_id="rebuild",
            outcome=Outcome.SUCCESS if result.ok else Outcome.WARNING,
            detail=f"catalog rebuilt from {result.packages} AIP(s) on {len(replicas)} replica(s)",
            data=result.to_json() | {"replicas": [r.name for r in replicas]},
        )  # fmt: skip
    export_registers(sessions, replicas)  # the replicas' event log continues with the rebuild's
    return result


def _commit_one(
    sessions: sessionmaker[Session],
    holders: Sequence[Replica],
    desc: PackageDescription,
    result: RebuildResult,
) -> None:
    with sessions() as s, s.begin():
        agency = s.scalar(select(Agency).where(Agency.code == desc.agency_code))
        if agency is None:
            agency = create_agency(s, desc.agency_code, desc.agency_name or desc.agency_code)
            result.agencies.append(desc.agency_code)
        dossier = dataclasses.replace(desc.request.dossier, agency_id=agency.id)
        request = dataclasses.replace(
            desc.request, dossier=dossier, submission_id=None, reason="catalog rebuild"
        )
        package_id = commit_accession(s, holders, request)
        package = s.get(Package, package_id)
        assert package is not None
        if desc.stored_at is not None:
            package.stored_at = desc.stored_at
        file_ids = select(StoredFile.id).where(StoredFile.package_id == package_id)
        s.execute(
            update(FileCopy)
            .where(FileCopy.file_id.in_(file_ids))
            .values(last_verified_at=None, last_checked_at=None)
            .execution_options(synchronize_session=False)
        )
        result.texts += restore_texts(s, holders, request.dossier.code)
        if request.version == 1:
            result.dossiers += 1
        result.packages += 1
        result.files += len(request.files)
        events.record(
            s, EventType.RECOVERY, object_type="package", object_id=package.storage_key,
            detail="catalog rows recreated from the AIP",
            data={"replicas": [r.name for r in holders], "created": vn_iso(desc.stored_at)},
        )  # fmt: skip
