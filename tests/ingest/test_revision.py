"""A metadata correction makes a new AIP version and keeps the old one, on every replica."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import events
from archive.bags import validate_bag
from archive.catalog import Dossier, Package, PackageState
from ingest.package import read_aip
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures


@pytest.fixture
def archived(tmp_path: Path, settings: Settings, pki: TestPki) -> dict[str, str]:
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env).exit_code
        == 0
    )
    result = runner.invoke(
        cli, ["ingest", str(make_dossier(tmp_path / "src", pki, extra_files=False))], env=env
    )
    assert result.exit_code == 0, result.output
    return env


def test_correction_makes_a_new_version_and_keeps_the_old(
    archived: dict[str, str], settings: Settings
) -> None:
    new_title = "Hồ sơ về việc thực hiện kế hoạch cải cách hành chính năm 2024 (đã chỉnh sửa)"
    result = CliRunner().invoke(
        cli,
        ["dossier", "correct", "H54.2024.05.CCHC", "--set", f"title={new_title}", "--doc", "2:subject=Quyết định số 02",
         "--reason", "Sửa tiêu đề theo biên bản giao nhận", "--as", "luutru"],
        env=archived,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    svc = Services.build(settings)
    with svc.session() as s:
        dossier = s.scalars(select(Dossier)).one()
        assert dossier.title == new_title and dossier.documents[1].subject == "Quyết định số 02"
        packages = s.scalars(select(Package).order_by(Package.version)).all()
        assert [(p.version, p.state) for p in packages] == [
            (1, PackageState.SUPERSEDED),
            (2, PackageState.STORED),
        ]
        assert packages[0].uuid == packages[1].uuid
        assert events.verify_chain(s).ok
        kinds = [e.type.value for e in s.scalars(select(events.Event).order_by(events.Event.seq))]
        assert "metadata modification" in kinds
    for root in settings.replica_roots:
        v1 = Path(root) / packages[0].storage_key
        v2 = Path(root) / packages[1].storage_key
        assert validate_bag(v1).valid and validate_bag(v2).valid  # the old version is kept whole
        summary = read_aip(v2)
        assert summary.version == 2 and summary.dossier["title"] == new_title
        assert any(e.event_type == "metadata modification" for e in summary.events)
        assert any(str(e.event_type) == "ingestion" for e in summary.events)  # history carried over
        originals_v1 = sorted(p.read_bytes() for p in (v1 / "data/representations/rep1/data").rglob("*.pdf"))
        originals_v2 = sorted(p.read_bytes() for p in (v2 / "data/representations/rep1/data").rglob("*.pdf"))
        assert originals_v1 == originals_v2  # content untouched
        assert list((v2 / "data/metadata/preservation/reports/signatures").glob("*.json"))
    svc.close()


def test_invalid_or_empty_correction_is_refused(archived: dict[str, str], settings: Settings) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        cli, ["dossier", "correct", "H54.2024.05.CCHC", "--set", "maintenance=09", "--reason", "x", "--as", "luutru"],
        env=archived,
    )  # fmt: skip
    assert bad.exit_code == 1 and "metadata.code_unknown" in bad.output
    same = runner.invoke(
        cli, ["dossier", "correct", "H54.2024.05.CCHC", "--reason", "x", "--as", "luutru"], env=archived
    )
    assert same.exit_code == 1 and "unchanged" in same.output
    svc = Services.build(settings)
    with svc.session() as s:
        assert len(s.scalars(select(Package)).all()) == 1
    svc.close()
