"""Settings: file, environment, refusal of unknown keys and of fewer than two replicas; documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.errors import ConfigError
from luutru.config import Settings, settings_fields

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_defaults_give_embedded_archive(tmp_path: Path) -> None:
    s = Settings.load(environ={}, toml_path=tmp_path / "absent.toml", cwd=tmp_path)
    assert s.catalog_url == f"sqlite:///{tmp_path}/luutru-data/catalog.db"
    assert s.replica_roots == (f"{tmp_path}/luutru-data/replicas/r1", f"{tmp_path}/luutru-data/replicas/r2")
    assert s.queue_backend == "sqlite" and s.search_backend == "fts5"


def test_toml_then_environment(tmp_path: Path) -> None:
    toml = tmp_path / "luutru.toml"
    toml.write_text('data_dir = "/srv/a"\nport = 9000\nholidays = ["2026-09-02"]\nauto_accept = false\n')
    env = {
        "LUUTRU_PORT": "9100",
        "LUUTRU_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "LUUTRU_REPLICAS": "/mnt/a, /mnt/b,s3://kho/luutru",
        "LUUTRU_ALLOW_SINGLE_REPLICA": "no",
        "HOME": "/root",
    }
    s = Settings.load(environ=env, toml_path=toml)
    assert s.data_dir == Path("/srv/a") and s.port == 9100 and s.auto_accept is False
    assert s.holidays == ("2026-09-02",)
    assert s.catalog_url == "postgresql+psycopg://u@h/db"
    assert s.replica_roots == ("/mnt/a", "/mnt/b", "s3://kho/luutru")


def test_relative_paths_are_resolved_once_at_load(tmp_path: Path) -> None:
    """Relative paths from the environment and the defaults resolve against the working directory;
    those a TOML file sets, against the file's folder; URLs stay as they are."""
    etc = tmp_path / "etc"
    etc.mkdir()
    toml = etc / "luutru.toml"
    toml.write_text('staging_dir = "stage"\nsearch_db = "../idx/search.db"\n')
    env = {
        "LUUTRU_DATA_DIR": "kho",
        "LUUTRU_REPLICAS": "r/a, s3://kho/b",
        "LUUTRU_DATABASE_URL": "sqlite:///db/catalog.db",
        "LUUTRU_TRUST_DIR": "~/trust",
        "LUUTRU_CLAMAV_DATABASE": "clamav/db",
    }
    work = tmp_path / "work"
    s = Settings.load(environ=env, toml_path=toml, cwd=work)
    assert s.data_dir == work / "kho"
    assert s.staging_path == etc / "stage"
    assert s.search_db_path == tmp_path / "idx" / "search.db"
    assert s.replica_roots == (str(work / "r" / "a"), "s3://kho/b")
    assert s.catalog_url == f"sqlite:///{work}/db/catalog.db"
    assert s.trust_path == Path.home() / "trust"
    assert s.clamav_database == work / "clamav" / "db"  # every Path-typed setting, new ones too
    assert s.queue_path.is_absolute()
    # The same settings whatever the directory a later step runs from.
    again = Settings.load(environ={**env, "LUUTRU_DATA_DIR": str(s.data_dir)}, toml_path=toml, cwd=etc)
    assert again.data_dir == s.data_dir


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LUUTRU_PROT": "1"}, "unknown setting"),
        ({"LUUTRU_PORT": "tám"}, "not an integer"),
        ({"LUUTRU_QUEUE_BACKEND": "kafka"}, "not one of"),
        ({"LUUTRU_REPLICAS": "/only/one"}, "at least two storage replicas"),
        ({"LUUTRU_REPLICAS": "/a,/a"}, "distinct"),
        ({"LUUTRU_AUTO_ACCEPT": "perhaps"}, "not a boolean"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(environ=env, toml_path=tmp_path / "absent.toml")


def test_single_replica_only_when_allowed(tmp_path: Path) -> None:
    env = {"LUUTRU_REPLICAS": "/only/one", "LUUTRU_ALLOW_SINGLE_REPLICA": "true"}
    assert Settings.load(environ=env, toml_path=tmp_path / "x.toml").replica_roots == ("/only/one",)


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOCS.read_text(), flags=re.M))
    assert documented == set(settings_fields())
