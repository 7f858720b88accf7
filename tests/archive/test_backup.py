"""Backups (TT 02/2019 Điều 10) and restore on real ingested AIPs, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from tests.support.dossiers import AGENCY, make_dossier
from tests.support.pki import TestPki

from archive import db, events
from archive.backup import BackupError, catalog_is_empty, make_backup, read_manifest, restore_backup
from archive.catalog import Event, EventType, Package
from archive.errors import Conflict
from archive.storage import LocalReplica
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


def ingest(settings: Settings, pki: TestPki, work: Path, notation: str, *, first: bool) -> None:
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(settings.data_dir / "none.toml")}
    if settings.database_url:
        env["LUUTRU_DATABASE_URL"] = settings.database_url
    if first:
        prepare_data_dir(settings)
        shutil.copy(pki.root, settings.trust_path / "root.pem")
        install_test_signatures(settings)
        result = CliRunner().invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env)
        assert result.exit_code == 0, result.output
    src = make_dossier(
        work / notation, pki, notation=notation, extra_files=False, subjects=(f"Kế hoạch {notation}",)
    )
    result = CliRunner().invoke(cli, ["ingest", str(src), "--json"], env=env)
    assert result.exit_code == 0, result.output


def test_incremental_takes_what_is_new_and_full_takes_everything(
    settings: Settings, pki: TestPki, tmp_path: Path
) -> None:
    ingest(settings, pki, tmp_path / "src", "05.CCHC", first=True)
    svc = Services.build(settings)
    first = make_backup(svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "b1", kind="incremental")
    assert first.since is None and len(first.aips) == 1 and first.ok
    # METS, EAD and PREMIS XML copied, each hashing to the catalog
    xml = sorted(p.relative_to(tmp_path / "b1" / "metadata" / first.aips[0]).as_posix()
                 for p in (tmp_path / "b1" / "metadata").rglob("*.xml"))  # fmt: skip
    assert "data/METS.xml" in xml and "data/metadata/descriptive/EAD.xml" in xml
    assert "data/representations/rep1/metadata/preservation/PREMIS_rep1.xml" in xml
    assert first.metadata_files == len(xml) and not any("xsd" in x for x in xml)
    r1 = svc.replicas[0]
    assert isinstance(r1, LocalReplica)
    mets = r1.root / first.aips[0] / "data/METS.xml"
    assert (tmp_path / "b1/metadata" / first.aips[0] / "data/METS.xml").read_bytes() == mets.read_bytes()
    manifest = read_manifest(tmp_path / "b1")
    assert manifest["kind"] == "incremental" and manifest["catalog"]["file"] == "catalog.db"
    assert manifest["chain_head"] == first.chain_head and len(first.chain_head) == 64

    ingest(settings, pki, tmp_path / "src", "07.TCCB", first=False)
    second = make_backup(
        svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "b2", kind="incremental"
    )
    assert second.since is not None and len(second.aips) == 1 and second.aips != first.aips
    full = make_backup(svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "b3", kind="full")
    assert sorted(full.aips) == sorted(first.aips + second.aips)
    with svc.session() as s:
        backups = s.scalars(select(Event).where(Event.type == EventType.BACKUP)).all()
        assert [e.data["kind"] for e in backups] == ["incremental", "incremental", "full"]
        assert events.verify_chain(s).ok
    svc.close()


def test_metadata_is_taken_from_the_replica_that_verifies(
    settings: Settings, pki: TestPki, tmp_path: Path
) -> None:
    ingest(settings, pki, tmp_path / "src", "05.CCHC", first=True)
    svc = Services.build(settings)
    r1, r2 = svc.replicas
    assert isinstance(r1, LocalReplica) and isinstance(r2, LocalReplica)
    with svc.session() as s:
        key = s.scalars(select(Package.storage_key)).one()
    (r1.root / key / "data/METS.xml").write_bytes(b"<damaged/>")
    good = hashlib.sha256((r2.root / key / "data/METS.xml").read_bytes()).hexdigest()
    result = make_backup(svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "b", kind="full")
    copied = tmp_path / "b/metadata" / key / "data/METS.xml"
    assert result.ok and hashlib.sha256(copied.read_bytes()).hexdigest() == good
    (r2.root / key / "data/METS.xml").write_bytes(b"<also damaged/>")
    worse = make_backup(svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "c", kind="full")
    assert not worse.ok and worse.missing_metadata == [f"{key}/data/METS.xml"]
    svc.close()


def test_restore_refuses_a_non_empty_catalog_and_a_damaged_backup(
    settings: Settings, pki: TestPki, tmp_path: Path
) -> None:
    ingest(settings, pki, tmp_path / "src", "05.CCHC", first=True)
    svc = Services.build(settings)
    make_backup(svc.sessions, settings.catalog_url, svc.replicas, tmp_path / "b", kind="full")
    svc.close()
    assert not catalog_is_empty(settings.catalog_url)
    with pytest.raises(Conflict):
        restore_backup(tmp_path / "b", settings.catalog_url)
    empty = f"sqlite:///{tmp_path / 'fresh' / 'catalog.db'}"
    db.upgrade(empty)  # a migrated but empty catalog counts as empty
    assert catalog_is_empty(empty)
    damaged = tmp_path / "b-damaged"
    shutil.copytree(tmp_path / "b", damaged)
    with (damaged / "catalog.db").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00\x01")
    with pytest.raises(BackupError):
        restore_backup(damaged, empty)
    result = restore_backup(tmp_path / "b", empty)
    assert (
        result.ok and result.chain_head == json.loads((tmp_path / "b/backup.json").read_text())["chain_head"]
    )


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_postgresql_backup_and_restore_with_pg_dump(pg_url: str, pki: TestPki, tmp_path: Path) -> None:
    db.upgrade(pg_url)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url)
    ingest(settings, pki, tmp_path / "src", "05.CCHC", first=True)
    svc = Services.build(settings)
    backup = make_backup(svc.sessions, pg_url, svc.replicas, tmp_path / "b", kind="full")
    svc.close()
    assert backup.catalog_file == "catalog.dump" and len(backup.aips) == 1
    assert (tmp_path / "b/catalog.dump").read_bytes()[:5] == b"PGDMP"
    with pytest.raises(Conflict):
        restore_backup(tmp_path / "b", pg_url)
    schema = make_url(pg_url).query["options"].split("=", 1)[1]  # type: ignore[union-attr]
    admin = create_engine(make_url(pg_url).set(query={}))
    with admin.begin() as conn:  # lose the catalog: an empty schema of the same name
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    assert catalog_is_empty(pg_url)
    result = restore_backup(tmp_path / "b", pg_url)
    assert result.ok and result.chain_head == backup.chain_head and result.events > 0
    engine = db.make_engine(pg_url)
    with db.session_factory(engine)() as s:
        assert s.scalars(select(Package.storage_key)).all() == backup.aips
    engine.dispose()
