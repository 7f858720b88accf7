"""The real app on a migrated SQLite catalog in tmp_path, seeded with the demo users."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.catalog import AccessMode, Agency, Document, Dossier, RecordState, Submission, User
from archive.events import Agent
from luutru import demo
from luutru.config import Settings
from luutru.samples.corpus import SPECS, build_corpus, file_code
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from luutru.web.app import create_app
from luutru.web.auth import TokenBucket
from tests.support.clamav import install_test_signatures

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
    corpus: Path | None = None  # the sample submission folders (src/) and root.pem, when ingested

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, username: str) -> FlaskClient:
        """A client whose session holds ``username``, as after a real sign-in.

        Skips the argon2 check (a quarter second each) for tests that are not about signing
        in; the session is a real catalog row, checked by the app on every request.
        """
        from archive.vntime import utcnow
        from luutru.web.auth import SID_KEY
        from luutru.web_sessions import start_session

        with self.services.sessions.begin() as s:
            user_id = s.scalar(select(User.id).where(User.username == username))
            assert user_id is not None, username
            sid = start_session(s, user_id, utcnow())
        client = self.client()
        with client.session_transaction() as sess:
            sess[SID_KEY] = sid
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


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run sees (the run's base temp), else this session's."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "web-shared"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (one builder; other workers wait, then reuse)."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """``root/name`` built by ``build`` once per test run, whichever worker comes first."""
    target = root / name
    with _locked(root / f"{name}.lock"):
        if not (root / f"{name}.done").exists():
            shutil.rmtree(target, ignore_errors=True)
            build(target)
            (root / f"{name}.done").touch()
    return target


@pytest.fixture(scope="session")
def seeded_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated catalog with the demo users, made once (argon2 hashing is slow on purpose)."""

    def build(target: Path) -> None:
        settings = Settings(data_dir=target)
        prepare_data_dir(settings)
        services = Services.build(settings)
        with services.sessions.begin() as s:
            demo.seed(s)
        services.close()  # checkpoints the WAL: the .db file alone is the whole catalog

    return _once(shared_root(tmp_path_factory), "seed", build) / "catalog.db"


# -- real sample dossiers, ingested once per run and copied per module ---------------------------
# By notation: 01.TCCB (mode 02, Sở Nội vụ), 02.TCCB (mode 01), 06.TTr (mode 03), 08.TCCB (a
# duplicate of 01.TCCB's first letter → review), 11.VP (NFD keyword → review).
CORPUS = ("01.TCCB", "02.TCCB", "06.TTr", "08.TCCB", "11.VP")
# snapshot → (the snapshot it starts from, the notations ingested on top, in order)
SNAPSHOTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "tccb01": (None, ("01.TCCB",)),
    "review": ("tccb01", ("08.TCCB", "11.VP")),  # 01.TCCB, 08.TCCB, 11.VP
    "pair": ("tccb01", ("02.TCCB",)),  # 01.TCCB, 02.TCCB
    "records": ("pair", ("06.TTr",)),  # 01.TCCB, 02.TCCB, 06.TTr
}


def sample_spec(notation: str):  # type: ignore[no-untyped-def]
    return next(s for s in SPECS if s.notation == notation)


def sample_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``src/`` (the sample submission folders) and ``root.pem`` (their test root), built once."""

    def build(root: Path) -> None:
        pki = TestPki.create(root / "pki")
        build_corpus(root / "src", pki, specs=tuple(sample_spec(n) for n in CORPUS))
        shutil.copy(pki.root, root / "root.pem")

    return _once(shared_root(tmp_path_factory), "corpus", build)


def clone_data_dir(source: Path, target: Path) -> None:
    """Copy a closed data dir and point its staged submissions at the copy's staging folder."""
    shutil.copytree(source, target)
    settings = Settings(data_dir=target)
    services = Services.build(settings)
    try:
        with services.sessions.begin() as s:
            for sub in s.scalars(select(Submission).where(Submission.staging_path.is_not(None))):
                old = sub.staging_path or ""
                sub.staging_path = old.replace(str(source), str(target), 1)
                staging = dict(sub.metadata_doc.get("_staging") or {})
                if "payload_root" in staging:
                    staging["payload_root"] = staging["payload_root"].replace(str(source), str(target), 1)
                    sub.metadata_doc = {**sub.metadata_doc, "_staging": staging}
    finally:
        services.close()


def sample_snapshot(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path, name: str) -> Path:
    """The data dir of snapshot ``name`` (see SNAPSHOTS), ingested once per run; never mutate it."""
    base, notations = SNAPSHOTS[name]
    src = sample_corpus(tmp_path_factory) / "src"

    def build(target: Path) -> None:
        if base is None:
            target.mkdir(parents=True)
            shutil.copyfile(seeded_catalog, target / "catalog.db")
            prepare_data_dir(Settings(data_dir=target))
            shutil.copy(src.parent / "root.pem", Settings(data_dir=target).trust_path / "test-root.pem")
            install_test_signatures(Settings(data_dir=target))
        else:
            clone_data_dir(sample_snapshot(tmp_path_factory, seeded_catalog, base), target)
        services = Services.build(Settings(data_dir=target))
        try:
            for notation in notations:
                spec = sample_spec(notation)
                services.ingest.ingest(
                    src / file_code(spec), spec.agency, actor=Agent.person("vanthu"), source_kind="demo"
                )
        finally:
            services.close()

    return _once(shared_root(tmp_path_factory), f"snapshot-{name}", build)


def sample_env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path, name: str) -> Web:
    """A private copy of snapshot ``name`` with the app over it (tests may change it freely)."""
    snapshot = sample_snapshot(tmp_path_factory, seeded_catalog, name)
    data_dir = tmp_path_factory.mktemp(f"env-{name}") / "data"
    clone_data_dir(snapshot, data_dir)
    settings = Settings(data_dir=data_dir)
    prepare_data_dir(settings)
    services = Services.build(settings)
    clock = Clock()
    app = create_app(settings, services, login_limiter=TokenBucket(capacity=500, per_minute=500, clock=clock))
    app.config["TESTING"] = True
    return Web(app, services, clock, corpus=sample_corpus(tmp_path_factory))


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
