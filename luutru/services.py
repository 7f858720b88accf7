"""Services: everything the web app, the API, the CLI and the worker share, built once from Settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive import db
from luutru.config import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Open the catalog (no migration here: ``luutru init`` / ``db upgrade`` apply them)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = db.make_engine(settings.catalog_url)
        return cls(settings=settings, engine=engine, sessions=db.session_factory(engine))

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        self.engine.dispose()


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory layout and apply catalog migrations (idempotent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.staging_path.mkdir(parents=True, exist_ok=True)
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    for root in settings.replica_roots:
        if "://" not in root:
            Path(root).mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.catalog_url)


def secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once into the data directory (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
