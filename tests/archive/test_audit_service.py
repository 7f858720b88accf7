"""Fixity audits over the catalog on real ingested AIPs: detect, repair, report, resume.

Real signed dossiers go through ``luutru ingest`` onto two local replicas; the damage is done
to the files on disk (byte flipped, truncated, deleted, stray file added) and the audit must
find it, repair it from the other replica and leave the bytes right.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.support.dossiers import AGENCY, make_dossier
from tests.support.pki import TestPki

from archive import db, events
from archive.audit_service import AuditProgress, audit_report, run_audit
from archive.catalog import CopyStatus, Dossier, Event, EventType, FileCopy, Outcome, RecordState, StoredFile
from archive.storage import LocalReplica, Replica
from archive.vntime import utcnow
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures

PDF = "data/representations/rep1/data/tai-lieu/0001.pdf"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


def cli_env(settings: Settings) -> dict[str, str]:
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(settings.data_dir / "none.toml")}
    if settings.database_url:
        env["LUUTRU_DATABASE_URL"] = settings.database_url
    return env


def ingest_dossiers(settings: Settings, pki: TestPki, work: Path, notations: tuple[str, ...]) -> None:
    """Prepare the data dir, register the agency and ingest one small signed dossier per notation."""
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = cli_env(settings)
    result = CliRunner().invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env)
    assert result.exit_code == 0, result.output
    for notation in notations:
        src = make_dossier(work / notation, pki, notation=notation, extra_files=False,
                           subjects=(f"Kế hoạch {notation}", f"Báo cáo {notation}"))  # fmt: skip
        result = CliRunner().invoke(cli, ["ingest", str(src), "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["status"] == "accepted"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Path:
    """A data directory with two dossiers ingested (SQLite catalog, replicas r1 and r2)."""
    base = tmp_path_factory.mktemp("template")
    ingest_dossiers(Settings(data_dir=base / "data"), pki, base / "src", ("05.CCHC", "07.TCCB"))
    return base / "data"


@pytest.fixture
def svc(template: Path, tmp_path: Path) -> Iterator[Services]:
    shutil.copytree(template, tmp_path / "data")
    services = Services.build(Settings(data_dir=tmp_path / "data"))
    yield services
    services.close()


def aip_dir(replica: Replica, storage_key: str) -> Path:
    assert isinstance(replica, LocalReplica)
    return replica.root / storage_key


def storage_keys(sessions: sessionmaker[Session]) -> list[str]:
    from archive.catalog import Package

    with sessions() as s:
        return list(s.scalars(select(Package.storage_key).order_by(Package.id)))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clean_archive_audits_clean_and_records_a_run_event(svc: Services) -> None:
    seen: list[AuditProgress] = []
    summary = run_audit(svc.sessions, svc.replicas, mode="all", interval_days=90, budget_mb_s=500,
                        progress=seen.append)  # fmt: skip
    with svc.session() as s:
        copies = s.scalars(select(FileCopy)).all()
        run = s.scalars(select(Event).where(Event.object_type == "audit-run")).one()
    assert summary.total("files") == len(copies) > 40
    assert summary.total("ok") == len(copies) and summary.healthy and summary.complete
    assert summary.chain_ok and summary.chain_checked > 0
    assert seen[-1].files_done == seen[-1].files_total == len(copies)
    assert seen[-1].bytes_done == seen[-1].bytes_total == summary.total("bytes")
    assert run.type is EventType.FIXITY_CHECK and run.outcome is Outcome.SUCCESS
    assert run.data["files"] == len(copies)
    assert all(c.last_checked_at is not None and c.status is CopyStatus.OK for c in copies)
    # due mode: everything was just verified, so nothing is due
    assert run_audit(svc.sessions, svc.replicas, mode="due", interval_days=90).total("files") == 0


def test_flip_truncate_delete_and_stray_are_detected_and_repaired(svc: Services) -> None:
    r1, r2 = svc.replicas
    first, second = storage_keys(svc.sessions)
    flipped = aip_dir(r1, first) / PDF
    good = digest(aip_dir(r2, first) / PDF)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    truncated = aip_dir(r1, first) / "data/METS.xml"
    mets_good = digest(aip_dir(r2, first) / "data/METS.xml")
    with truncated.open("r+b") as fh:
        fh.truncate(100)
    deleted = aip_dir(r1, second) / "data/metadata/descriptive/EAD.xml"
    ead_good = digest(aip_dir(r2, second) / "data/metadata/descriptive/EAD.xml")
    deleted.unlink()
    stray = aip_dir(r1, second) / "data/extra.bin"
    stray.write_bytes(b"not catalogued")

    summary = run_audit(svc.sessions, svc.replicas, mode="all", interval_days=90, budget_mb_s=500,
                        parallel=False)  # fmt: skip
    tally = summary.per_replica["r1"]
    assert (tally.damaged, tally.truncated, tally.missing, tally.repaired) == (1, 1, 1, 3)
    assert tally.unknown == 1 and summary.per_replica["r2"].repaired == 0
    assert summary.healthy and summary.total("unrecoverable") == 0
    assert digest(flipped) == good and digest(truncated) == mets_good and digest(deleted) == ead_good
    assert not stray.exists()
    assert isinstance(r1, LocalReplica)
    quarantined = list((r1.root / "quarantine").rglob("extra.bin"))
    assert len(quarantined) == 1 and quarantined[0].read_bytes() == b"not catalogued"
    with svc.session() as s:
        kinds = [(e.type, e.outcome) for e in s.scalars(select(Event).where(Event.object_type == "file"))]
        assert kinds.count((EventType.FIXITY_CHECK, Outcome.FAILURE)) == 3
        assert kinds.count((EventType.RECOVERY, Outcome.SUCCESS)) == 3
        assert (EventType.QUARANTINE, Outcome.WARNING) in kinds
        assert events.verify_chain(s).ok
    again = run_audit(svc.sessions, svc.replicas, mode="all", interval_days=90, budget_mb_s=500)
    assert again.total("ok") == again.total("files") and again.total("unknown") == 0


def test_manifest_disagreement_is_reported_and_the_manifest_repaired(svc: Services) -> None:
    r1 = svc.replicas[0]
    key = storage_keys(svc.sessions)[0]
    manifest = aip_dir(r1, key) / "manifest-sha256.txt"
    good = manifest.read_bytes()
    lines = good.decode().splitlines(keepends=True)
    line = next(i for i, x in enumerate(lines) if x.rstrip().endswith(PDF))
    lines[line] = ("0" * 64) + lines[line][64:]
    manifest.write_text("".join(lines))
    summary = run_audit(svc.sessions, svc.replicas, mode="all", parallel=False)
    tally = summary.per_replica["r1"]
    assert tally.manifest_disagrees == 1 and tally.damaged == 1 and tally.repaired == 1
    assert manifest.read_bytes() == good and summary.healthy
    with svc.session() as s:
        warned = s.scalars(
            select(Event).where(Event.object_id == f"{key}/{PDF}", Event.outcome == Outcome.WARNING)
        ).one()
        assert warned.data["code"] == "fixity.manifest.disagrees"


def test_both_copies_destroyed_is_unrecoverable_and_dossier_damaged(svc: Services) -> None:
    first = storage_keys(svc.sessions)[0]
    for r in svc.replicas:
        (aip_dir(r, first) / PDF).write_bytes(b"gone")
    summary = run_audit(svc.sessions, svc.replicas, mode="all", interval_days=90, budget_mb_s=500)
    assert summary.total("unrecoverable") == 2 and summary.unrecoverable_remaining == 2
    assert not summary.healthy
    with svc.session() as s:
        statuses = s.scalars(
            select(FileCopy.status)
            .join(StoredFile)
            .where(StoredFile.path == PDF, FileCopy.key.startswith(first))
        ).all()
        assert statuses == [CopyStatus.UNRECOVERABLE, CopyStatus.UNRECOVERABLE]
        states = {d.code: d.state for d in s.scalars(select(Dossier))}
        assert sorted(states.values()) == [RecordState.ACTIVE, RecordState.DAMAGED]
    report = audit_report(svc.sessions, 90, date.today())
    assert report["replicas"]["r1"]["unrecoverable"] == 1 and report["replicas"]["r1"]["ok"] > 0
    assert [i["key"] for i in report["unrecoverable"]] == [f"{first}/{PDF}"] * 2
    assert report["agencies"][AGENCY]["unrecoverable"] == 2


def test_interrupted_audit_resumes_where_it_stopped(svc: Services, tmp_path: Path) -> None:
    stop = threading.Event()
    cursor = tmp_path / "audit-cursor.json"

    def stop_after_ten(p: AuditProgress) -> None:
        if p.files_done >= 10:
            stop.set()

    first = run_audit(svc.sessions, svc.replicas, mode="all", progress=stop_after_ten, stop=stop,
                      cursor_path=cursor)  # fmt: skip
    with svc.session() as s:
        total = len(s.scalars(select(FileCopy)).all())
    assert not first.complete and first.total("files") == 10 and cursor.exists()
    second = run_audit(svc.sessions, svc.replicas, mode="all", cursor_path=cursor)
    assert second.complete and first.total("files") + second.total("files") == total
    assert not cursor.exists()
    third = run_audit(svc.sessions, svc.replicas, mode="all", cursor_path=cursor)
    assert third.total("files") == total  # a new sweep starts from the beginning


def test_report_counts_overdue_copies(svc: Services) -> None:
    long_ago = utcnow() - timedelta(days=400)
    with svc.session() as s, s.begin():
        s.execute(update(FileCopy).where(FileCopy.replica == "r2").values(last_verified_at=long_ago))
    report = audit_report(svc.sessions, 90, date.today())
    r1, r2 = report["replicas"]["r1"], report["replicas"]["r2"]
    assert r1["overdue"] == 0 and r2["overdue"] == r2["copies"] == r1["copies"] > 0
    assert r2["bytes"] == r1["bytes"] > 0 and len(report["overdue"]) == min(200, r2["copies"])
    due = run_audit(svc.sessions, svc.replicas, mode="due", interval_days=90, replica_names=["r2"])
    assert due.total("files") == r2["copies"] and set(due.per_replica) == {"r2"}
    assert audit_report(svc.sessions, 90, date.today())["replicas"]["r2"]["overdue"] == 0


def test_audit_repairs_on_sqlite_and_postgresql(catalog_url: str, tmp_path: Path, pki: TestPki) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=catalog_url)
    ingest_dossiers(settings, pki, tmp_path / "src", ("09.VP",))
    engine = db.make_engine(catalog_url)
    sessions = db.session_factory(engine)
    replicas = [LocalReplica(Path(root), name=f"r{i}") for i, root in enumerate(settings.replica_roots, 1)]
    key = storage_keys(sessions)[0]
    target = aip_dir(replicas[1], key) / PDF
    good = digest(aip_dir(replicas[0], key) / PDF)
    target.unlink()
    summary = run_audit(sessions, replicas, mode="all", budget_mb_s=500)
    assert summary.per_replica["r2"].missing == 1 and summary.total("repaired") == 1
    assert summary.healthy and digest(target) == good
    with sessions() as s:
        assert events.verify_chain(s).ok
    engine.dispose()
