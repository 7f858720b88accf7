"""The real app on a migrated SQLite catalog in tmp_path, seeded with the demo users."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.catalog import AccessMode, Agency, Document, Dossier, RecordState, User
from luutru import demo
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from luutru.web.app import create_app
from luutru.web.auth import TokenBucket

PASSWORD = demo.DEMO_PASSWORD
OWN_AGENCY = "000.00.07.H54"  # vanthu's agency
OTHER_AGENCY = "000.00.14.H54"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """A monotonic clock the test moves by hand (for the rate limiter)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Web:
    app: Flask
    services: Services
    clock: Clock
    dossiers: dict[str, int] = field(default_factory=dict)  # "<agency>-<mode>" → id

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, username: str) -> FlaskClient:
        """A client whose session holds ``username``, as after a real sign-in.

        Skips the argon2 check (a quarter second each) for tests that are not about signing
        in; the user is still loaded by the app's own user loader on every request.
        """
        from flask_login.utils import _create_identifier

        with self.services.session() as s:
            user_id = s.scalar(select(User.id).where(User.username == username))
        assert user_id is not None, username
        client = self.client()
        with self.app.test_request_context():
            ident = _create_identifier()
        with client.session_transaction() as sess:
            sess.update({"_user_id": str(user_id), "_fresh": True, "_id": ident})
            sess.permanent = True
        return client


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str) -> int:
    token = csrf_token(client)
    r = client.post("/login", data={"csrf_token": token, "username": username, "password": password, **extra})
    return r.status_code


def post(client: FlaskClient, path: str, data: dict[str, object] | None = None, page: str = "/portal/"):  # type: ignore[no-untyped-def]
    """POST a form with the CSRF token taken from ``page``."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})})


def _seed_dossiers(services: Services) -> dict[str, int]:
    ids: dict[str, int] = {}
    with services.sessions.begin() as s:
        agencies = {a.code: a for a in s.scalars(select(Agency))}
        for code in (OWN_AGENCY, OTHER_AGENCY):
            for mode in AccessMode:
                d = Dossier(
                    code=f"{code}-HS-{mode.value}",
                    agency_id=agencies[code].id,
                    title=f"Hồ sơ chế độ {mode.value} của {code}",
                    profile="TT05-2025",
                    access_mode=mode,
                    end_date=date(2023, 12, 31),
                    documents=[
                        Document(
                            ordinal=1, doc_code=f"{code}-{mode.value}-1", subject=f"Nội dung mật {mode.value}"
                        )
                    ],
                )
                s.add(d)
                s.flush()
                ids[f"{code}-{mode.value}"] = d.id
        destroyed = Dossier(
            code="HS-DESTROYED",
            agency_id=agencies[OTHER_AGENCY].id,
            title="Hồ sơ đã hủy",
            profile="TT05-2025",
            access_mode=AccessMode.OPEN,
            state=RecordState.DESTROYED,
        )
        s.add(destroyed)
        s.flush()
        ids["destroyed"] = destroyed.id
    return ids


@pytest.fixture(scope="session")
def seeded_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated catalog with the demo users, made once (argon2 hashing is slow on purpose)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("seed"))
    prepare_data_dir(settings)
    services = Services.build(settings)
    with services.sessions.begin() as s:
        demo.seed(s)
    services.close()  # checkpoints the WAL: the .db file alone is the whole catalog
    return settings.data_dir / "catalog.db"


@pytest.fixture
def web(settings: Settings, seeded_catalog: Path) -> Iterator[Web]:
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(seeded_catalog, settings.data_dir / "catalog.db")
    prepare_data_dir(settings)  # already at head: only the directories are made
    services = Services.build(settings)
    clock = Clock()
    app = create_app(settings, services, login_limiter=TokenBucket(capacity=50, per_minute=50, clock=clock))
    app.config["TESTING"] = True
    yield Web(app, services, clock, _seed_dossiers(services))
    services.close()
