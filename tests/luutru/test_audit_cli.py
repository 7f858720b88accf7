"""``luutru audit``, ``backup``, ``restore`` and ``catalog rebuild`` end to end, and the worker jobs.

Real signed dossiers are ingested through the CLI; the recovery tests lose the catalog for
real (a fresh data directory, or the database file deleted) and bring it back.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from tests.support.dossiers import AGENCY, make_dossier
from tests.support.pki import TestPki

from archive.catalog import Agency, CopyStatus, Document, Dossier, FileCopy, Package, RecordState, StoredFile
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.jobs import backup_kind, fixity_sweep, make_huey, nightly_backup, on_worker_start
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures

PDF = "data/representations/rep1/data/tai-lieu/0001.pdf"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


def env_for(data_dir: Path, replicas: tuple[str, ...] = ()) -> dict[str, str]:
    env = {"LUUTRU_DATA_DIR": str(data_dir), "LUUTRU_CONFIG": str(data_dir / "none.toml")}
    if replicas:
        env["LUUTRU_REPLICAS"] = ",".join(replicas)
    return env


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Path:
    """A data directory with two small signed dossiers ingested through the CLI."""
    base = tmp_path_factory.mktemp("cli-template")
    settings = Settings(data_dir=base / "data")
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = env_for(settings.data_dir)
    assert run(env, "agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình").exit_code == 0
    for notation in ("05.CCHC", "07.TCCB"):
        src = make_dossier(
            base / notation, pki, notation=notation, extra_files=False, subjects=(f"Kế hoạch {notation}",)
        )
        result = run(env, "ingest", str(src), "--json")
        assert result.exit_code == 0, result.output
    return settings.data_dir


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "data")
    return tmp_path / "data"


def catalog_counts(data_dir: Path, replicas: tuple[str, ...] = ()) -> dict[str, int]:
    settings = Settings(data_dir=data_dir, replicas=replicas)
    svc = Services.build(settings)
    with svc.session() as s:
        counts = {
            m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Agency, Dossier, Document, Package, StoredFile, FileCopy)
        }
    svc.close()
    return counts


def test_audit_run_exit_codes_and_report(data_dir: Path) -> None:
    env = env_for(data_dir)
    clean = run(env, "audit", "run", "--all", "--json")
    assert clean.exit_code == 0, clean.output
    summary = json.loads(clean.stdout)
    assert summary["healthy"] and summary["files"] == summary["ok"] > 0 and summary["chain_ok"]
    table = run(env, "audit", "run", "--all", "--replica", "r1")
    assert table.exit_code == 0 and "repaired" in table.output and "MB/s" in table.output
    assert run(env, "audit", "run", "--replica", "r9").exit_code == 2  # unknown replica: usage error
    for replica in ("r1", "r2"):  # destroy both copies of one file
        for aip in (data_dir / "replicas" / replica / "aip").glob("*/v0001"):
            (aip / PDF).write_bytes(b"destroyed")
            break
    bad = run(env, "audit", "run", "--all", "--json")
    assert bad.exit_code == 1, bad.output
    out = json.loads(bad.stdout)
    assert out["unrecoverable"] == 2 and not out["healthy"]
    again = run(env, "audit", "run", "--due")  # nothing due, but unrecoverable copies remain
    assert again.exit_code == 1 and "UNRECOVERABLE" in again.output
    report = json.loads(run(env, "audit", "report", "--json").stdout)
    assert len(report["unrecoverable"]) == 2 and report["replicas"]["r1"]["unrecoverable"] == 1
    text = run(env, "audit", "report")
    assert text.exit_code == 0 and "UNRECOVERABLE r1" in text.output


def test_backup_then_restore_into_an_empty_data_dir_audits_clean(data_dir: Path, tmp_path: Path) -> None:
    env = env_for(data_dir)
    backup = run(env, "backup", "--full", "--json")
    assert backup.exit_code == 0, backup.output
    made = json.loads(backup.stdout)
    backup_dir = Path(made["path"])
    assert backup_dir.parent == data_dir / "backups" and backup_dir.name.endswith("-full")
    assert len(made["aips"]) == 2 and (backup_dir / "backup.json").is_file()
    before = catalog_counts(data_dir)
    replicas = tuple(str(data_dir / "replicas" / n) for n in ("r1", "r2"))
    fresh = tmp_path / "fresh"
    fresh_env = env_for(fresh, replicas)
    restored = run(fresh_env, "restore", str(backup_dir), "--json")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["chain_head"] == made["chain_head"]
    assert catalog_counts(fresh, replicas) == before
    audit = run(fresh_env, "audit", "run", "--all", "--json")
    assert audit.exit_code == 0, audit.output
    assert json.loads(audit.stdout)["ok"] == before["FileCopy"]
    assert run(fresh_env, "events", "verify").exit_code == 0
    again = run(fresh_env, "restore", str(backup_dir))  # the catalog is no longer empty
    assert again.exit_code == 1 and "not empty" in again.output


def test_catalog_rebuild_from_the_aips_alone(data_dir: Path) -> None:
    env = env_for(data_dir)
    before = catalog_counts(data_dir)
    with Services.build(Settings(data_dir=data_dir)).session() as s:
        codes = sorted(s.scalars(select(Dossier.code)))
        titles = sorted(str(t) for t in s.scalars(select(Document.subject)))
    assert run(env, "catalog", "rebuild").exit_code == 1  # refused: the catalog is not empty
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data_dir / 'catalog.db'}{suffix}").unlink(missing_ok=True)
    rebuilt = run(env, "catalog", "rebuild", "--json")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.stdout)["packages"] == 2
    assert catalog_counts(data_dir) == before
    with Services.build(Settings(data_dir=data_dir)).session() as s:
        assert sorted(s.scalars(select(Dossier.code))) == codes
        assert sorted(str(t) for t in s.scalars(select(Document.subject))) == titles
        assert s.scalars(select(Agency.code)).all() == [AGENCY]
        originals = s.scalars(select(StoredFile).where(StoredFile.path == PDF)).all()
        assert len(originals) == 2 and all(f.document_id is not None for f in originals)
        assert all(c.last_verified_at is None for c in s.scalars(select(FileCopy)))
    audit = run(env, "audit", "run", "--due", "--json")  # every rebuilt copy is due at once
    assert audit.exit_code == 0, audit.output
    assert json.loads(audit.stdout)["ok"] == before["FileCopy"]
    assert run(env, "events", "verify").exit_code == 0


def test_worker_jobs_sweep_back_up_and_recover(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    huey = make_huey(settings, immediate=True)
    due_at = {when: {t.name for t in huey.read_periodic(when)} for when in (
        datetime(2026, 3, 1, 19, 30), datetime(2026, 3, 2, 7, 5), datetime(2026, 3, 2, 1, 15))}  # fmt: skip
    assert "backup.nightly" in due_at[datetime(2026, 3, 1, 19, 30)]  # 02:30 in Vietnam
    assert "fixity.sweep" in due_at[datetime(2026, 3, 2, 7, 5)]  # hourly
    assert "events.verify" in due_at[datetime(2026, 3, 2, 1, 15)]
    assert backup_kind(date(2026, 3, 1)) == "full" and backup_kind(date(2026, 3, 2)) == "incremental"
    svc = Services.build(settings)
    leftover = data_dir / "replicas" / "r1" / ".tmp" / "half-written"
    leftover.mkdir(parents=True)
    on_worker_start(svc)
    assert not leftover.exists()
    for aip in (data_dir / "replicas" / "r2" / "aip").glob("*/v0001"):
        (aip / PDF).unlink()
    with svc.session() as s, s.begin():  # make the damaged copies due
        for c in s.scalars(select(FileCopy).where(FileCopy.replica == "r2")):
            c.last_verified_at = None
    swept = fixity_sweep(svc)
    assert swept["repaired"] == 2 and swept["healthy"] and swept["files"] == swept["ok"] + 2
    full = nightly_backup(svc, today=date(2026, 3, 1))
    daily = nightly_backup(svc, today=date(2026, 3, 2))
    assert full["kind"] == "full" and len(full["aips"]) == 2
    assert daily["kind"] == "incremental" and daily["aips"] == []
    with svc.session() as s:
        assert s.scalar(select(func.count()).where(FileCopy.status != CopyStatus.OK)) == 0
        assert {d.state for d in s.scalars(select(Dossier))} == {RecordState.ACTIVE}
    svc.close()


def test_placeholders_are_gone(data_dir: Path) -> None:
    env = env_for(data_dir)
    for args in (
        ("audit", "run", "--help"),
        ("backup", "--help"),
        ("restore", "--help"),
        ("catalog", "rebuild", "--help"),
    ):
        result = run(env, *args)
        assert result.exit_code == 0 and "not built" not in result.output
