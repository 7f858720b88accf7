"""Services: everything the web app, the API, the CLI and the worker share, built once from Settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive import db, faults
from luutru.config import Settings

if TYPE_CHECKING:
    from archive.storage import Replica
    from ingest.service import IngestService
    from search.service import SearchService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Open the catalog (no migration here: ``luutru init`` / ``db upgrade`` apply them)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        faults.configure(settings.fault_points)
        engine = db.make_engine(settings.catalog_url)
        return cls(settings=settings, engine=engine, sessions=db.session_factory(engine))

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        """Release what this process holds: the validation pool, the search index, the catalog's
        connections. ``luutru demo`` calls it before serving, so the server forks from a process
        holding none of them."""
        if "ingest" in self.__dict__:
            from ingest.validate import shutdown_pool

            shutdown_pool()
        if "search" in self.__dict__:
            self.search.index.close()
            del self.__dict__["search"]
        self.engine.dispose()

    @cached_property
    def replicas(self) -> list[Replica]:
        """Every configured replica, named r1, r2, … in configuration order; leftovers recovered."""
        from archive.storage import open_replica

        s = self.settings
        opts = {}
        if s.s3_endpoint_url:
            opts = {
                "endpoint_url": s.s3_endpoint_url,
                "access_key": s.s3_access_key or None,
                "secret_key": s.s3_secret_key or None,
                "region": s.s3_region,
            }
        replicas = [
            open_replica(root, name=f"r{i}", **opts) for i, root in enumerate(s.replica_roots, start=1)
        ]
        for r in replicas:
            r.recover()
        return replicas

    @cached_property
    def ingest(self) -> IngestService:
        from ingest.checks import find_verapdf, load_trust_roots
        from ingest.formats import FormatPolicy
        from ingest.intake import IntakeLimits
        from ingest.service import IngestConfig, IngestService
        from ingest.validate import ValidationPolicy, find_clamscan

        s = self.settings
        validation = ValidationPolicy(
            formats=FormatPolicy(frozenset(x.lower() for x in s.accepted_formats)),
            trust_roots=tuple(load_trust_roots(s.trust_path)),
            verapdf=find_verapdf(s.verapdf_path or None),
            clamscan=find_clamscan(s.clamscan_path or None, s.clamav_database_path),
            clamav_database=s.clamav_database_path,
            profile_overrides=s.profile_overrides,
        )
        config = IngestConfig(
            staging_root=s.staging_path,
            validation=validation,
            limits=IntakeLimits(
                max_files=s.max_files,
                max_bytes=s.max_bytes,
                max_file_bytes=s.max_file_bytes,
                zip_max_ratio=s.zip_max_ratio,
            ),
            auto_accept=s.auto_accept,
            office_hours=s.office_hours,
            office_days=s.office_days,
            holidays=frozenset(date.fromisoformat(h) for h in s.holidays),
            edxml_mappings=s.edxml_mappings,
            edxml_organ=(s.edxml_organ_id, s.archive_name),
        )
        from luutru.evidence import anchor_after

        return IngestService(
            self.sessions, config, self.replicas, after_accession=anchor_after(self, "accession")
        )

    @cached_property
    def search(self) -> SearchService:
        from search.service import SearchService, open_index

        s = self.settings
        index = open_index(
            s.search_backend,
            fts5_path=s.search_db_path,
            es_url=s.es_url,
            es_index=s.es_index,
            time_budget_s=s.search_time_budget_ms / 1000,
        )
        return SearchService(
            self.sessions, index, self.replicas, ocr_languages=s.ocr_languages, work_dir=s.staging_path
        )


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
