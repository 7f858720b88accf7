"""Backups of the catalog and of every AIP's metadata, and restoring the catalog from them.

TT 02/2019/TT-BNV Điều 10: incremental backup every day, full backup on the 1st of each
month, metadata kept as XML. A backup directory holds:

- ``catalog.db`` (SQLite, taken with the online backup API while the archive runs) or
  ``catalog.dump`` (PostgreSQL, ``pg_dump -Fc``);
- ``metadata/<storage key>/…`` — the METS, EAD and PREMIS XML files of each AIP included,
  copied from a replica whose copy hashes to the catalog's SHA-256;
- ``backup.json`` — kind, times, the catalog file and its SHA-256, the AIPs included and the
  event-chain head at the time of the copy;
- ``checkpoints/<seq>.json`` — a signed checkpoint of that head, with the archive's public key
  beside it (``archive.chain_checkpoints``), when the caller passes its ``CheckpointWriter``.

The AIPs themselves live on two or more replicas (TT 02/2019 Điều 8); the backup is what
lets the catalog come back when its database is lost.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from archive import db, events
from archive.catalog import Event, EventType, Outcome, Package, PackageState, StoredFile
from archive.chain_checkpoints import CheckpointWriter, chain_head
from archive.errors import ArchiveError, Conflict
from archive.fixity.hashing import copy_hashed, sha256_file
from archive.storage import Replica, StorageError
from archive.vntime import as_utc, utcnow, vn_iso

log = logging.getLogger(__name__)

BackupKind = Literal["full", "incremental"]
MANIFEST = "backup.json"
METADATA_PREFIXES = ("METS", "EAD", "PREMIS")


class BackupError(ArchiveError):
    """A backup could not be taken or restored (tool missing, checksum wrong, target not empty)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup wrote: where, what kind, the catalog copy and the AIPs whose metadata it holds."""

    path: Path
    kind: BackupKind
    started_at: datetime
    finished_at: datetime
    since: datetime | None  # incremental: AIPs stored since this time (the previous backup)
    catalog_file: str
    catalog_sha256: str
    aips: list[str] = field(default_factory=list)
    metadata_files: int = 0
    missing_metadata: list[str] = field(default_factory=list)  # no replica had a verifying copy
    chain_head: str = ""
    chain_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing_metadata

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "started_at": vn_iso(self.started_at),
            "finished_at": vn_iso(self.finished_at),
            "since": vn_iso(self.since) if self.since else None,
            "catalog": {"file": self.catalog_file, "sha256": self.catalog_sha256},
            "aips": self.aips,
            "metadata_files": self.metadata_files,
            "missing_metadata": self.missing_metadata,
            "chain_head": self.chain_head,
            "chain_checked": self.chain_checked,
            "ok": self.ok,
        }


def default_destination(backups_root: Path, kind: BackupKind, now: datetime | None = None) -> Path:
    """``<backups_root>/<UTC timestamp>-<kind>``."""
    return backups_root / f"{(now or utcnow()).strftime('%Y%m%dT%H%M%SZ')}-{kind}"


def last_backup_time(session: Session) -> datetime | None:
    """The start time of the last successful backup recorded in the event log, if any."""
    ev = session.scalars(
        select(Event)
        .where(Event.type == EventType.BACKUP, Event.outcome == Outcome.SUCCESS)
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    if ev is None or not ev.data.get("started_at_utc"):
        return None
    return as_utc(datetime.fromisoformat(ev.data["started_at_utc"]))


def make_backup(
    sessions: sessionmaker[Session],
    catalog_url: str,
    replicas: list[Replica],
    dest: Path,
    *,
    kind: BackupKind = "incremental",
    checkpoints: CheckpointWriter | None = None,
) -> BackupResult:
    """Back up the catalog and the XML metadata of the AIPs into ``dest`` (created; must not exist).

    ``incremental`` takes the AIPs stored since the last successful backup (all of them when
    there was none); ``full`` takes every held AIP. With ``checkpoints``, the chain's head as
    copied is anchored in ``dest/checkpoints/``. Records a ``luutru:backup`` event. Raises
    BackupError when the catalog cannot be copied (e.g. ``pg_dump`` missing).
    """
    started = utcnow()
    dest.mkdir(parents=True, exist_ok=False)
    with sessions() as s:
        since = last_backup_time(s) if kind == "incremental" else None
        q = select(Package).where(Package.state.in_((PackageState.STORED, PackageState.SUPERSEDED)))
        if since is not None:
            q = q.where(Package.stored_at >= since)
        packages = [(p.storage_key, p.id) for p in s.scalars(q.order_by(Package.id))]
        wanted = {
            pid: [
                (f.path, f.sha256) for f in s.scalars(select(StoredFile).where(StoredFile.package_id == pid))
            ]
            for _, pid in packages
        }
    missing: list[str] = []
    count = 0
    for storage_key, pid in packages:
        for path, sha in wanted[pid]:
            if not PurePosixPath(path).name.startswith(METADATA_PREFIXES) or not path.endswith(".xml"):
                continue
            out = dest / "metadata" / storage_key / path
            if _copy_verified(replicas, f"{storage_key}/{path}", sha, out):
                count += 1
            else:
                missing.append(f"{storage_key}/{path}")
    with sessions() as s:
        chain = events.verify_chain(s)
        head = chain_head(s)  # read before the copy: the copy holds at least this head
    catalog_file = _dump_catalog(catalog_url, dest)
    checkpoint = checkpoints.write_to_dir(dest, head) if checkpoints and head else None
    catalog_sha, _ = sha256_file(dest / catalog_file)
    result = BackupResult(
        dest, kind, started, utcnow(), since, catalog_file, catalog_sha, [k for k, _ in packages],
        count, missing, chain.head_hash, chain.checked,
    )  # fmt: skip
    manifest = result.to_json() | {"started_at_utc": started.isoformat(), "format": 1}
    if checkpoint is not None:
        manifest["checkpoint"] = checkpoint.relative_to(dest).as_posix()
    (dest / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    manifest_sha, _ = sha256_file(dest / MANIFEST)
    with sessions() as s, s.begin():
        events.record(
            s, EventType.BACKUP, object_type="backup", object_id=dest.name,
            outcome=Outcome.SUCCESS if result.ok else Outcome.WARNING,
            detail=f"{kind} backup: catalog and metadata of {len(packages)} AIP(s) to {dest}",
            data={"kind": kind, "started_at_utc": started.isoformat(), "manifest_sha256": manifest_sha,
                  "catalog_sha256": catalog_sha, "aips": len(packages), "missing_metadata": missing[:50]},
        )  # fmt: skip
    log.info("backup written", extra={"path": str(dest), "kind": kind, "aips": len(packages)})
    return result


def _copy_verified(replicas: list[Replica], key: str, sha256: str, out: Path) -> bool:
    """Copy ``key`` from the first replica whose bytes hash to ``sha256``; False when none does."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    for replica in replicas:
        try:
            with replica.open(key) as src, open(tmp, "wb") as dst:
                got, _ = copy_hashed(src, dst)
        except (OSError, StorageError):
            continue
        if got == sha256:
            tmp.replace(out)
            return True
    tmp.unlink(missing_ok=True)
    return False


def _pg_conninfo(url: URL) -> tuple[str, list[str]]:
    """A libpq URI for ``url`` and the ``-n <schema>`` options when it pins a search_path."""
    options = str(url.query.get("options", ""))
    schema_args: list[str] = []
    for part in options.split():
        if part.startswith("-csearch_path="):
            schema_args += ["-n", part.split("=", 1)[1].split(",")[0]]
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return conninfo, schema_args


def _dump_catalog(catalog_url: str, dest: Path) -> str:
    url = make_url(catalog_url)
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise BackupError("in-memory SQLite catalogs cannot be backed up")
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(dest / "catalog.db")
        try:
            src.backup(dst)  # online backup API: consistent while the archive keeps writing
        finally:
            dst.close()
            src.close()
        return "catalog.db"
    if url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed")
        conninfo, schema = _pg_conninfo(url)
        cmd = ["pg_dump", "-Fc", "--no-owner", *schema, "-f", str(dest / "catalog.dump"), conninfo]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        return "catalog.dump"
    raise BackupError(f"no backup method for {url.get_backend_name()}")


@dataclass(frozen=True, slots=True)
class RestoreResult:
    catalog_url: str
    chain_ok: bool
    chain_head: str
    expected_head: str
    events: int

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.chain_head == self.expected_head

    def to_json(self) -> dict[str, Any]:
        url = make_url(self.catalog_url).render_as_string(hide_password=True)
        return {"catalog": url, "chain_ok": self.chain_ok, "chain_head": self.chain_head,
                "expected_head": self.expected_head, "events": self.events, "ok": self.ok}  # fmt: skip


def read_manifest(backup: Path) -> dict[str, Any]:
    """The ``backup.json`` of a backup directory, after checking the catalog file's SHA-256."""
    path = backup / MANIFEST
    if not path.is_file():
        raise BackupError(f"{backup} is not a backup: no {MANIFEST}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    catalog = backup / manifest["catalog"]["file"]
    if not catalog.is_file() or sha256_file(catalog)[0] != manifest["catalog"]["sha256"]:
        raise BackupError(f"catalog copy {catalog} is missing or does not match its SHA-256")
    return manifest


def catalog_is_empty(catalog_url: str) -> bool:
    """True when the catalog has no tables, or has tables but no package, dossier or event row."""
    url = make_url(catalog_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return True
    engine = db.make_engine(catalog_url)
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            for table in ("package", "dossier", "event", "agency"):
                if table in names and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                    return False
        return True
    finally:
        engine.dispose()


def restore_backup(backup: Path, catalog_url: str) -> RestoreResult:
    """Put the backup's catalog in place at ``catalog_url``, which must be empty.

    SQLite: the backup database is copied into place (online backup API). PostgreSQL:
    ``pg_restore`` into the configured database. The restored event chain is verified and must
    end at the head recorded in ``backup.json``. Raises Conflict for a non-empty catalog,
    BackupError for a damaged backup or a failed restore.
    """
    manifest = read_manifest(backup)
    if not catalog_is_empty(catalog_url):
        raise Conflict("the catalog is not empty: restore only into an empty catalog")
    source = backup / manifest["catalog"]["file"]
    url = make_url(catalog_url)
    if url.get_backend_name() == "sqlite" and source.suffix == ".db":
        assert url.database
        target = Path(url.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    elif url.get_backend_name() == "postgresql" and source.suffix == ".dump":
        if shutil.which("pg_restore") is None:
            raise BackupError("pg_restore is not installed")
        conninfo, _ = _pg_conninfo(url)
        cmd = [
            "pg_restore",
            "--no-owner",
            "--clean",
            "--if-exists",
            "--exit-on-error",
            "-d",
            conninfo,
            str(source),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")
    else:
        raise BackupError(f"backup holds {source.name}; cannot restore it into {url.get_backend_name()}")
    engine = db.make_engine(catalog_url)
    try:
        with db.session_factory(engine)() as s:
            chain = events.verify_chain(s)
    finally:
        engine.dispose()
    result = RestoreResult(catalog_url, chain.ok, chain.head_hash, manifest["chain_head"], chain.checked)
    log.info("catalog restored", extra={"backup": str(backup), "ok": result.ok})
    return result
