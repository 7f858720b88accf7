"""Settings: file, environment, refusal of unknown keys and of fewer than two replicas; documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.errors import ConfigError
from luutru.config import Settings, settings_fields

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_defaults_give_embedded_archive(tmp_path: Path) -> None:
    s = Settings.load(environ={}, toml_path=tmp_path / "absent.toml")
    assert s.catalog_url == "sqlite:///luutru-data/catalog.db"
    assert s.replica_roots == ("luutru-data/replicas/r1", "luutru-data/replicas/r2")
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
