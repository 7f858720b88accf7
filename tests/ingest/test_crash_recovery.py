"""A crash at any point of an ingest loses nothing and leaves no half AIP; re-running finishes it.

Each case kills a real `luutru ingest` process with SIGKILL at a named point (Settings.fault_points),
checks that nothing half-done is visible, then runs the same command again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive import events
from archive.bags import validate_bag
from archive.catalog import Dossier, FileCopy, Package, PackageState, Submission, SubmissionState
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures

LUUTRU = str(Path(sys.executable).with_name("luutru"))


@pytest.fixture(scope="module")
def dossier_src(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Path:
    return make_dossier(tmp_path_factory.mktemp("src") / "ho-so", pki, extra_files=False)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LUUTRU, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(
    "point",
    [
        "ingest.after_receipt",
        "ingest.after_validation",
        "ingest.after_packaging",
        "accession.after_replica_1",
        "accession.before_commit",
        "accession.after_commit",
    ],
)
def test_killed_ingest_recovers(
    point: str, tmp_path: Path, settings: Settings, pki: TestPki, dossier_src: Path
) -> None:
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = {
        **os.environ,
        "LUUTRU_DATA_DIR": str(settings.data_dir),
        "LUUTRU_CONFIG": str(tmp_path / "none.toml"),
    }
    assert _run(env, "agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình").returncode == 0

    crashed = _run({**env, "LUUTRU_FAULT_POINTS": point}, "ingest", str(dossier_src), "--json")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    svc = Services.build(settings)
    with svc.session() as s:
        stored = s.scalar(
            select(func.count()).select_from(Package).where(Package.state == PackageState.STORED)
        )
        dossiers = s.scalar(select(func.count()).select_from(Dossier))
        if point == "accession.after_commit":
            assert stored == 1 and dossiers == 1  # committed just before the crash: the new state
        else:
            assert stored == 0 and dossiers == 0  # the old state: nothing half-done is visible
        assert events.verify_chain(s).ok

    again = _run(env, "ingest", str(dossier_src), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "accepted"
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Package)) == 1
        assert s.scalar(select(func.count()).select_from(Dossier)) == 1
        sub = s.scalars(select(Submission)).one()
        assert sub.state is SubmissionState.ARCHIVED
        pkg = s.scalars(select(Package)).one()
        assert {c.replica for c in s.scalars(select(FileCopy))} == {"r1", "r2"}
        assert events.verify_chain(s).ok
    for root in settings.replica_roots:
        aips = [p for p in (Path(root) / "aip").iterdir()]
        assert len(aips) == 1  # one AIP, no leftovers beside it
        assert validate_bag(Path(root) / pkg.storage_key).valid
        assert not (Path(root) / ".tmp").exists() or not any((Path(root) / ".tmp").iterdir())
    assert _run(env, "submission", "recover").returncode == 0
    assert not [p for p in settings.staging_path.iterdir()], "staging is clean after recovery"
    svc.close()
