"""Migrations and models agree on both engines: autogenerate finds nothing to add or drop."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archive import db
from archive.catalog import Base


def test_models_match_the_migrated_schema(catalog_url: str) -> None:
    engine = db.make_engine(catalog_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(catalog_url: str) -> None:
    from alembic import command

    cfg = db.alembic_config(catalog_url)
    command.downgrade(cfg, "base")
    engine = db.make_engine(catalog_url)
    assert "dossier" not in db.table_names(engine)
    command.upgrade(cfg, "head")
    assert "dossier" in db.table_names(engine)
    engine.dispose()
