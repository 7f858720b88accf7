"""Fixtures shared by every test folder: settings on a temp data dir, migrated catalogs on both engines."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archive import db
from luutru.config import Settings
from tests.support.s3server import moto_available, moto_server

PG_URL = os.environ.get("LUUTRU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LUUTRU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any connection problem means "not available"
        return f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string(hide_password=True)}: {exc}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the suite uses (scripts/services.sh starts it); tests keep to their own key prefix."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis tests: {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible store: LUUTRU_S3_URL when set, else moto's server started for this session."""
    if url := os.environ.get("LUUTRU_S3_URL"):
        yield url
        return
    if not moto_available():
        reason = "S3 tests need LUUTRU_S3_URL or moto[server] (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the S3 tests: {reason}")
        pytest.skip(reason)
    with moto_server(str(tmp_path_factory.mktemp("moto") / "moto.log")) as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; the URL sets its search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated catalog, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    db.upgrade(url)
    return url


@pytest.fixture
def sessions(catalog_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(catalog_url)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults on a temp data directory (SQLite catalog, two local replicas)."""
    return Settings(data_dir=tmp_path / "data")
