"""The CLI skeleton: commands listed, init/upgrade idempotent, placeholders honest, demo seeds."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from archive import db
from archive.catalog import Agency, ApiToken, Dossier, Event, User
from luutru.cli.main import cli


def _env(tmp_path: Path) -> dict[str, str]:
    return {"LUUTRU_DATA_DIR": str(tmp_path / "data"), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}


def test_help_lists_the_commands() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in ("init", "demo", "serve", "worker", "db", "metadata", "events"):
        assert f"  {name} " in out
    assert "upgrade" in CliRunner().invoke(cli, ["db", "--help"]).output
    assert "validate" in CliRunner().invoke(cli, ["metadata", "--help"]).output
    assert "verify" in CliRunner().invoke(cli, ["events", "--help"]).output


def test_init_and_upgrade_are_idempotent(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    result = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'catalog.db'}")
    assert "dossier" in db.table_names(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "data" / "replicas" / "r1").is_dir() and (
        tmp_path / "data" / "replicas" / "r2"
    ).is_dir()


def test_demo_seeds_agencies_users_token(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    first = runner.invoke(cli, ["demo", "--no-serve", "--dossiers", "1"], env=env)
    assert first.exit_code == 0, first.output
    assert "lt_" in first.output and "luutru-demo-2025" in first.output
    again = runner.invoke(cli, ["demo", "--no-serve", "--dossiers", "1"], env=env)
    assert "accepted 1" in first.output
    assert again.exit_code == 0 and "lt_" not in again.output and "accepted 1" in again.output
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'catalog.db'}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Agency)) == 3
        assert conn.scalar(select(func.count()).select_from(User)) == 9
        assert conn.scalar(select(func.count()).select_from(ApiToken)) == 1
        assert conn.scalar(select(func.count()).select_from(Dossier)) == 1  # the same dossier, once
        assert conn.scalar(select(func.count()).select_from(Event)) > 13
    engine.dispose()
    verify = runner.invoke(cli, ["events", "verify"], env=env)
    assert verify.exit_code == 0 and "intact" in verify.output
