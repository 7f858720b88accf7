"""The search service over the catalog: outbox after a crash, stored text, destroyed records, CLI."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.catalog import (
    AccessRequest,
    AccessRequestState,
    Document,
    Dossier,
    IndexOutbox,
    RecordState,
    Role,
)
from archive.visibility import Visibility
from archive.vntime import utcnow
from luutru.accounts import create_user
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from policies.access import Actor, granted_dossiers, visibility_for
from search.index.base import SearchQuery
from tests.support.clamav import install_test_signatures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def archive_env(tmp_path: Path, settings: Settings, pki: TestPki) -> dict[str, str]:
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
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


# -- grants: what a researcher's approved access requests open, in the service and the CLI ------

GRANT_WORD = "quokkaduyet"  # in the content of both conditional dossiers and the secret one


@pytest.fixture
def grant_env(tmp_path: Path, settings: Settings, pki: TestPki) -> tuple[dict[str, str], dict[str, int]]:
    """An open dossier, two conditional ones (02) and a secret one (03), ingested for real;
    ``docgia`` (researcher) with an approved request on the first conditional dossier, an expired
    one on the second, a refused one on the secret one. Returns the CLI env and dossier ids."""
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env).exit_code
        == 0
    )
    dossiers = {
        "open": ("01.MO", "01", "Quy hoạch sử dụng đất đai huyện Vũ Thư"),
        "granted": ("02.TD", "02", "Kết quả tuyển dụng viên chức"),
        "expired": ("03.TT", "02", "Kết luận thanh tra ngân sách"),
        "secret": ("04.AN", "03", "Báo cáo an ninh nội bộ"),
    }
    for name, (notation, mode, subject) in dossiers.items():
        src = make_dossier(tmp_path / name, pki, notation=notation, mode=mode, subjects=(subject,),
                           extra_files=False, body=f"Nội dung {GRANT_WORD} {name}")  # fmt: skip
        result = runner.invoke(cli, ["ingest", str(src)], env=env)
        assert result.exit_code == 0, result.output
    svc = Services.build(settings)
    now = utcnow()
    with svc.sessions.begin() as s:
        ids = {name: s.scalars(select(Dossier.id).where(Dossier.code.like(f"%{n}"))).one()
               for name, (n, _m, _s) in dossiers.items()}  # fmt: skip
        reader = create_user(s, "docgia", "Độc giả", None, [Role.RESEARCHER])
        for name, state, expires in (
            ("granted", AccessRequestState.APPROVED, now + timedelta(days=15)),
            ("expired", AccessRequestState.APPROVED, now - timedelta(minutes=1)),
            ("secret", AccessRequestState.REFUSED, None),
        ):
            s.add(AccessRequest(requester_id=reader.id, dossier_id=ids[name], purpose="Nghiên cứu",
                                state=state, expires_at=expires))  # fmt: skip
        ids["reader"] = reader.id
    svc.search.drain_all()
    svc.close()
    return env, ids


def test_an_approved_request_opens_its_dossier_to_search(
    grant_env: tuple[dict[str, str], dict[str, int]], settings: Settings
) -> None:
    env, ids = grant_env
    svc = Services.build(settings)
    query = SearchQuery(text=GRANT_WORD, facets=("access_mode",))
    everything = svc.search.search(query, Visibility.everything())
    assert {h.dossier_id for h in everything.hits} == {
        ids["open"],
        ids["granted"],
        ids["expired"],
        ids["secret"],
    }
    # without the grant, as before: only the open dossier's text matches
    bare = Actor.of(ids["reader"], "docgia", [Role.RESEARCHER])
    before = svc.search.search(query, visibility_for(bare))
    assert {h.dossier_id for h in before.hits} == {ids["open"]}
    assert before.facets["access_mode"] == {"01": before.total}
    # with the grants as loaded from the catalog: the granted dossier too, and nothing else
    with svc.session() as s:
        grants = granted_dossiers(s, ids["reader"])
    assert grants == {ids["granted"]}  # the expired and the refused request grant nothing
    reader = Actor.of(ids["reader"], "docgia", [Role.RESEARCHER], None, grants)
    after = svc.search.search(query, visibility_for(reader))
    assert {h.dossier_id for h in after.hits} == {ids["open"], ids["granted"]}
    assert after.total == before.total + 1 == len(after.hits)
    assert after.facets["access_mode"] == {"01": before.total, "02": 1}
    granted_hit = next(h for h in after.hits if h.dossier_id == ids["granted"])
    assert granted_hit.content_visible and f"<mark>{GRANT_WORD}</mark>" in granted_hit.snippet
    # the expired dossier still shows its metadata (02), never its content; the secret one nothing
    meta = svc.search.search(SearchQuery(text="thanh tra ngân sách"), visibility_for(reader))
    assert {h.dossier_id for h in meta.hits} == {ids["expired"]}
    assert all(not h.content_visible and GRANT_WORD not in h.snippet for h in meta.hits)
    assert svc.search.search(SearchQuery(text="an ninh nội bộ"), visibility_for(reader)).total == 0
    svc.close()
    # the CLI searches as the user with the same grants
    out = CliRunner().invoke(cli, ["search", GRANT_WORD, "--as", "docgia", "--json"], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["total"] == after.total
    assert {h["dossier"] for h in data["hits"]} == {h.dossier_code for h in after.hits}
    anonymous = CliRunner().invoke(cli, ["search", GRANT_WORD, "--as", "anonymous", "--json"], env=env)
    assert json.loads(anonymous.stdout)["total"] == before.total
