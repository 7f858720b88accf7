"""Export a dossier's AIP as a standard package (xuất gói AIP): a folder, or a ZIP file.

The AIP on the replicas already is the standard package (a BagIt bag whose payload is an
E-ARK CSIP; docs/packages.md), so exporting is copying the current version's files out of
the first replica whose copies all verify, streamed, each checked against the catalog's
SHA-256 on the way. A ZIP holds the bag under one top folder ``<code>_v<version>/``.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from archive import events
from archive.catalog import Dossier, EventType, Package, PackageState, RecordState
from archive.errors import Conflict, IntegrityError, NotFound
from archive.storage import Replica, StorageError

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    dossier_code: str
    aip_uuid: str
    version: int
    files: int
    bytes: int
    replica: str


def _copy(src: BinaryIO, out: IO[bytes], expected: str) -> int:
    h = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        h.update(chunk)
        out.write(chunk)
        size += len(chunk)
    if h.hexdigest() != expected:
        raise IntegrityError("copy does not match the catalog's SHA-256")
    return size


def _write_folder(replica: Replica, package: Package, out: Path) -> int:
    total = 0
    for f in package.files:
        target = out / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with replica.open(f"{package.storage_key}/{f.path}") as src, target.open("wb") as dst:
            total += _copy(src, dst, f.sha256)
    return total


def _write_zip(replica: Replica, package: Package, out: Path, top: str) -> int:
    total = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for f in sorted(package.files, key=lambda f: f.path):
            with (
                replica.open(f"{package.storage_key}/{f.path}") as src,
                zf.open(f"{top}/{f.path}", "w") as dst,
            ):
                total += _copy(src, dst, f.sha256)
    return total


def export_aip(
    sessions: sessionmaker[Session],
    replicas: Sequence[Replica],
    dossier_code: str,
    out: Path,
    *,
    agent: events.Agent = events.SYSTEM,
) -> ExportResult:
    """Write the current AIP of ``dossier_code`` to ``out`` (a ZIP when it ends in ``.zip``).

    Raises NotFound (no such dossier, no stored AIP), Conflict (``out`` exists, dossier
    destroyed), IntegrityError (no replica holds a verifying copy). Nothing is left at
    ``out`` on failure.
    """
    out = Path(out)
    if out.exists():
        raise Conflict(f"{out} already exists")
    with sessions() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
        if dossier is None:
            raise NotFound("dossier", dossier_code)
        if dossier.state is RecordState.DESTROYED:
            raise Conflict(f"dossier {dossier_code} was destroyed")
        package = s.scalar(
            select(Package)
            .where(Package.dossier_id == dossier.id, Package.state == PackageState.STORED)
            .options(selectinload(Package.files))
            .order_by(Package.version.desc())
        )
        if package is None:
            raise NotFound("stored AIP of dossier", dossier_code)
        s.expunge_all()
    top = f"{dossier_code}_v{package.version:04d}"
    as_zip = out.suffix.lower() == ".zip"
    partial = out.with_name(out.name + ".partial")
    problems: list[str] = []
    for replica in replicas:
        _remove(partial)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            total = (
                _write_zip(replica, package, partial, top)
                if as_zip
                else _write_folder(replica, package, partial)
            )
        except (OSError, StorageError, IntegrityError) as exc:
            problems.append(f"{replica.name}: {exc}")
            continue
        partial.rename(out)
        with sessions() as s, s.begin():
            events.record(
                s, EventType.DISSEMINATION, object_type="package", object_id=package.storage_key, agent=agent,
                detail=f"AIP exported as a {'ZIP' if as_zip else 'folder'} package",
                data={"dossier": dossier_code, "files": len(package.files), "bytes": total, "replica": replica.name},
            )  # fmt: skip
        return ExportResult(
            out, dossier_code, package.uuid, package.version, len(package.files), total, replica.name
        )
    _remove(partial)
    raise IntegrityError(f"no replica holds a verifying copy of {package.storage_key}: {'; '.join(problems)}")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
