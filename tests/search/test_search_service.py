"""The search service over the catalog: outbox after a crash, stored text, destroyed records, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.catalog import Document, Dossier, IndexOutbox, RecordState
from archive.visibility import Visibility
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from policies.access import Actor, visibility_for
from search.index.base import SearchQuery


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def archive_env(tmp_path: Path, settings: Settings, pki: TestPki) -> dict[str, str]:
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env).exit_code
        == 0
    )
    open_src = make_dossier(
        tmp_path / "mo",
        pki,
        notation="01.DD",
        subjects=("Quy hoạch sử dụng đất đai huyện Vũ Thư",),
        extra_files=False,
    )
    closed_src = make_dossier(
        tmp_path / "han-che", pki, notation="02.TTR", mode="02",
        subjects=("Kết luận thanh tra về khoáng sản",), extra_files=False, body="Nội dung hạn chế xyzzy",
    )  # fmt: skip
    for src in (open_src, closed_src):
        result = runner.invoke(cli, ["ingest", str(src)], env=env)
        assert result.exit_code == 0, result.output
    return env


def test_outbox_survives_a_crash_between_commit_and_indexing(
    archive_env: dict[str, str], settings: Settings
) -> None:
    # The ingests committed their catalog rows and outbox entries; nothing drained them (as if the
    # process died right after the commit). A fresh service finds and applies them.
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(IndexOutbox)) == 4
    assert svc.search.search(SearchQuery(text="đất đai"), Visibility.everything()).total == 0
    applied = svc.search.drain_all()
    assert applied == 4
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(IndexOutbox)) == 0
        texts = [d.text_content for d in s.scalars(select(Document))]
        assert len(texts) == 2 and all(t and ("Vũ Thư" in t or "xyzzy" in t) for t in texts)  # kept
    assert svc.search.drain_all() == 0  # re-running is harmless
    hits = svc.search.search(SearchQuery(text="dat dai"), Visibility.everything())
    assert hits.total >= 1 and any("đất đai" in h.title for h in hits.hits)
    svc.close()


def test_restricted_words_never_reach_an_anonymous_researcher(
    archive_env: dict[str, str], settings: Settings
) -> None:
    svc = Services.build(settings)
    svc.search.drain_all()
    public = visibility_for(Actor.anonymous())
    everything = Visibility.everything()
    assert svc.search.search(SearchQuery(text="xyzzy"), everything).total >= 1
    leaked = svc.search.search(SearchQuery(text="xyzzy"), public)
    assert leaked.total == 0 and not leaked.hits
    assert not leaked.facets.get("access_mode", {}).get("02")
    # its metadata stays findable (so a researcher can ask for it), its content does not
    meta = svc.search.search(SearchQuery(text="khoang san"), public)
    assert meta.total >= 1 and all("xyzzy" not in h.snippet for h in meta.hits)
    out = CliRunner().invoke(cli, ["search", "xyzzy", "--as", "anonymous", "--json"], env=archive_env)
    assert json.loads(out.stdout) == {"total": 0, "hits": []}
    svc.close()


def test_destroyed_record_disappears_at_commit_and_reindex_rebuilds(
    archive_env: dict[str, str], settings: Settings
) -> None:
    svc = Services.build(settings)
    svc.search.drain_all()
    assert svc.search.search(SearchQuery(text="vu thu"), Visibility.everything()).total >= 1
    with svc.session() as s, s.begin():
        dossier = s.scalars(select(Dossier).where(Dossier.code.like("%01.DD"))).one()
        dossier.state = RecordState.DESTROYED
        for d in dossier.documents:
            d.state = RecordState.DESTROYED
    # the index still holds it (the outbox has not run), but the query layer checks the catalog
    assert svc.search.search(SearchQuery(text="vu thu"), Visibility.everything()).total == 0
    result = CliRunner().invoke(cli, ["search", "reindex"], env=archive_env)
    assert result.exit_code == 0, result.output
    assert svc.search.index.count() == 2  # the remaining dossier and its document
    out = CliRunner().invoke(cli, ["search", "khoang san", "--json"], env=archive_env)
    data = json.loads(out.stdout)
    assert data["total"] >= 1 and set(data["hits"][0]) == {"id", "dossier", "title", "score", "snippet"}
    assert "<mark>" in data["hits"][0]["snippet"] or "<mark>" in json.dumps(data)
    svc.close()
