"""The catalog of a demo archive, deleted and rebuilt from the replicas alone, is the same catalog:
dossiers, documents, files with formats and technical properties, agencies with their hierarchy,
the event chain (it verifies, the old events are all there) and search, without re-extraction.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from archive import events
from archive.catalog import Agency, Document, Dossier, Event, Package, StoredFile
from archive.replica_registers import export_registers
from archive.visibility import Visibility
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.services import Services
from search.index.base import SearchQuery

QUERIES = (
    "chuyển đổi số",
    "kế hoạch",
    "quyết định",
    "báo cáo",
    "ủy ban nhân dân",
    "thái bình",
    "công văn",
    "cải cách hành chính",
    "biểu đồ",
    "năm 2023",
)


def snapshot(settings: Settings) -> dict[str, Any]:
    svc = Services.build(settings)
    try:
        with svc.session() as s:
            agencies = {a.id: a for a in s.scalars(select(Agency))}
            codes = {a.id: a.code for a in agencies.values()}
            dossiers = {
                d.code: (
                    d.title, codes[d.agency_id], d.access_mode, d.maintenance, d.retention_years,
                    d.start_date, d.end_date, d.language, d.state, dict(d.descriptive),
                )
                for d in s.scalars(select(Dossier))
            }  # fmt: skip
            documents = {
                (d.dossier.code, d.ordinal): (
                    d.doc_code, d.subject, d.issued_date, d.organ_name, d.page_count,
                    dict(d.descriptive), d.text_content, d.text_method,
                )
                for d in s.scalars(select(Document))
            }  # fmt: skip
            files = {
                (f.package.storage_key, f.path): (
                    f.sha256, f.size, f.role, f.mime, f.puid, f.format_name, f.format_version,
                    dict(f.properties), f.document.ordinal if f.document else None,
                )
                for f in s.scalars(select(StoredFile))
            }  # fmt: skip
            packages = {(p.uuid, p.version): (p.state, p.storage_key) for p in s.scalars(select(Package))}
            agency_rows = {
                a.code: (
                    a.name,
                    a.short_name,
                    codes.get(a.parent_id) if a.parent_id else None,
                    a.archive_code,
                )
                for a in agencies.values()
            }
            chain = [(e.seq, e.hash) for e in s.scalars(select(Event).order_by(Event.seq))]
            report = events.verify_chain(s)
        svc.search.drain_all()
        results = {}
        for q in QUERIES:
            found = svc.search.search(SearchQuery(text=q), Visibility.everything())
            results[q] = (found.total, sorted((h.dossier_code, h.title) for h in found.hits))
    finally:
        svc.close()
    return {
        "dossiers": dossiers,
        "documents": documents,
        "files": files,
        "packages": packages,
        "agencies": agency_rows,
        "chain": chain,
        "chain_ok": report.ok,
        "search": results,
    }


def test_catalog_rebuilt_from_the_replicas_alone_is_the_same(tmp_path: Path, demo_archive: Settings) -> None:
    original_settings = Settings(data_dir=tmp_path / "original")
    shutil.copytree(demo_archive.data_dir, original_settings.data_dir)
    svc = Services.build(original_settings)
    try:  # events recorded after the last accession reach the replicas with an export
        export_registers(svc.sessions, svc.replicas)
    finally:
        svc.close()
    before = snapshot(original_settings)
    assert before["chain_ok"] and before["dossiers"] and before["files"]
    assert sum(1 for v in before["documents"].values() if v[6]) > 5  # extracted text exists
    assert sum(1 for total, _ in before["search"].values() if total) >= 8

    rebuilt = Settings(data_dir=tmp_path / "rebuilt")
    shutil.copytree(original_settings.data_dir, rebuilt.data_dir)
    for name in (
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "search.db",
        "search.db-wal",
        "search.db-shm",
    ):
        (rebuilt.data_dir / name).unlink(missing_ok=True)
    env = {"LUUTRU_DATA_DIR": str(rebuilt.data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    result = CliRunner().invoke(cli, ["catalog", "rebuild", "--json"], env=env)
    assert result.exit_code == 0, result.output
    # the restored chain verifies, and agrees with the signed checkpoints on the replicas
    verified = CliRunner().invoke(cli, ["events", "verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.output

    svc = Services.build(rebuilt)
    try:  # the text is back before any extraction could have run
        with svc.session() as s:
            texts = {(d.dossier.code, d.ordinal): d.text_content for d in s.scalars(select(Document))}
    finally:
        svc.close()
    assert texts == {k: v[6] for k, v in before["documents"].items()}

    after = snapshot(rebuilt)
    for table in ("dossiers", "documents", "files", "packages", "agencies", "search"):
        assert after[table] == before[table], table
    assert after["chain_ok"]
    # the old chain comes back whole, event for event; the rebuild's own events follow it
    assert after["chain"][: len(before["chain"])] == before["chain"]
    assert len(after["chain"]) > len(before["chain"])
