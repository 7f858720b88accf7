"""Portal search on real ingested sample dossiers: diacritics, filters, facets, sort, pages,
links per role, and restricted content never shown to those who may not read it."""

from __future__ import annotations

import re
import resource
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.catalog import AccessRequest, Dossier
from archive.events import Agent
from archive.vntime import utcnow
from luutru.samples.corpus import build_corpus, file_code
from luutru.samples.pki import TestPki
from luutru.services import Services
from luutru.web.search_views import page_window
from search.folding import MAX_QUERY_CHARS
from tests.search.test_query_bounds import ADVERSARIAL, FREQUENT
from tests.support.clamav import install_test_signatures

from .conftest import Web, post, sample_env, sample_spec

CONDITIONAL, OPEN, SECRET = (file_code(sample_spec(n)) for n in ("01.TCCB", "02.TCCB", "06.TTr"))
HIT = re.compile(
    r'<li class="hit" data-hit="([^"]+)" data-dossier="(\d+)" data-readable="(yes|no)">(.*?)</li>', re.S
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Iterator[Web]:
    web = sample_env(tmp_path_factory, seeded_catalog, "records")  # 01.TCCB (02), 02.TCCB (01), 06.TTr (03)
    web.services.search.drain_all()
    yield web
    web.services.close()


@pytest.fixture(scope="module")
def ids(env: Web) -> dict[str, int]:
    with env.services.session() as s:
        return {
            code: s.scalars(select(Dossier.id).where(Dossier.code == code)).one()
            for code in (CONDITIONAL, OPEN, SECRET)
        }


def hits(client: FlaskClient, query: str) -> tuple[int, list[tuple[str, int, str, str]], str]:
    """(total, [(hit id, dossier id, readable, html)], the results' html) of one search."""
    r = client.get(f"/portal/search?{query}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    results = html[html.index('<div id="results"') :]
    total = re.search(r'data-total="(\d+)"', results)
    found = [(h, int(d), rd, body) for h, d, rd, body in HIT.findall(results)]
    return (int(total.group(1)) if total else 0), found, results


def test_empty_query_gets_a_friendly_prompt_for_everyone(env: Web) -> None:
    for client in (env.client(), env.signed_in("docgia")):
        r = client.get("/portal/search")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "data-search-prompt" in html and "quyet dinh" in html
        assert "data-total" not in html
    assert "data-search-prompt" in env.client().get("/portal/search?q=+&page=abc").get_data(as_text=True)
    home = env.client().get("/portal/").get_data(as_text=True)
    assert 'action="/portal/search"' in home and "data-search-notice" not in home
    assert 'data-nav="search"' in home


def test_with_or_without_diacritics_the_same_hits(env: Web, ids: dict[str, int]) -> None:
    client = env.client()
    total, with_marks, html = hits(client, "q=quyết+định")
    _, without, _ = hits(client, "q=quyet+dinh")
    assert total >= 2 and [h[0] for h in with_marks] == [h[0] for h in without]
    assert "<mark>" in html
    assert ids[SECRET] not in {h[1] for h in with_marks}  # mode 03: not even the metadata
    english = client.get("/portal/search?q=quyet+dinh&lang=en").get_data(as_text=True)
    assert f"{total} results" in english and "Refine" in english


def test_hits_link_to_what_the_actor_may_open(env: Web, ids: dict[str, int]) -> None:
    _, anonymous, _ = hits(env.client(), "q=quyet+dinh")
    by_dossier = {d: (h, rd, body) for h, d, rd, body in anonymous}
    doc, readable, body = by_dossier[ids[OPEN]]
    assert readable == "yes" and f'href="/portal/records/{ids[OPEN]}/documents/{doc.split(":")[1]}"' in body
    _, readable, body = by_dossier[ids[CONDITIONAL]]
    assert (
        readable == "no"
        and f'href="/portal/records/{ids[CONDITIONAL]}"' in body
        and "data-restricted" in body
    )
    reader = env.signed_in("docgia")
    page = reader.get(f"/portal/records/{ids[CONDITIONAL]}").get_data(as_text=True)
    assert f"/portal/requests/new?dossier_id={ids[CONDITIONAL]}" in page  # the access-request link
    opened = reader.get(f"/portal/records/{ids[OPEN]}/documents/{doc.split(':')[1]}")
    assert opened.status_code == 200 and "/pages/1.png" in opened.get_data(as_text=True)
    _, staff, _ = hits(env.signed_in("luutru"), "q=quyet+dinh")
    assert {d for _h, d, rd, _b in staff if rd == "yes"} >= {ids[OPEN], ids[CONDITIONAL], ids[SECRET]}
    dossier_page = env.client().get(f"/portal/dossiers/{ids[OPEN]}").get_data(as_text=True)
    assert f'href="/portal/records/{ids[OPEN]}"' in dossier_page and "data-reading-room" in dossier_page


def test_restricted_content_words_are_never_shown(env: Web, ids: dict[str, int]) -> None:
    # "Hoàn thành" is in the spreadsheets' text; "tuyển dụng" is 01.TCCB's topic (mode 02).
    staff_total, staff, staff_html = hits(env.signed_in("luutru"), "q=tuyen+dung+hoan+thanh")
    assert staff_total >= 1 and any(d == ids[CONDITIONAL] for _h, d, _r, _b in staff)
    assert "<mark>Hoàn thành</mark>" in staff_html  # the word, marked whole
    for client in (env.client(), env.signed_in("docgia")):
        _, found, html = hits(client, "q=tuyen+dung+hoan+thanh")
        # The open words may find partial matches (the 02 dossier by its visible title "tuyển
        # dụng"); the words of its hidden content never match, show or open it.
        assert all(rd == "no" and "Hoàn thành" not in b for _h, d, rd, b in found if d == ids[CONDITIONAL])
        assert ids[SECRET] not in {d for _h, d, _r, _b in found}
        _, found, html = hits(client, "q=kiểm+tra+công+vụ")  # 06.TTr is secret (03)
        assert ids[SECRET] not in {d for _h, d, _r, _b in found} and "kiểm tra công vụ" not in html.lower()
    _, staff, _ = hits(env.signed_in("luutru"), "q=kiểm+tra+công+vụ")
    assert ids[SECRET] in {d for _h, d, _r, _b in staff}


def test_field_filters_and_clickable_facets(env: Web, ids: dict[str, int]) -> None:
    client = env.signed_in("luutru")
    total, _, html = hits(client, "q=cong+chuc")
    facet = re.search(r'<a href="([^"]+)" data-facet-value="01" >', html)
    assert facet, "access-mode facet 01"
    narrowed, found, narrowed_html = hits(client, facet.group(1).split("?", 1)[1].replace("&amp;", "&"))
    assert 0 < narrowed < total and {d for _h, d, _r, _b in found} == {ids[OPEN]}
    assert 'class="active"' in narrowed_html
    _, found, _ = hits(client, "q=cong+chuc&date_from=2024&date_to=2024")
    assert found and {d for _h, d, _r, _b in found} == {ids[CONDITIONAL]}
    _, found, _ = hits(client, "q=cong+chuc&doc_type=02&agency=000.00.07.H54")
    assert found and all("Quyết định" in body for _h, _d, _r, body in found)
    _, found, _ = hits(client, "notation=181/QĐ-SNV")
    assert len(found) == 1 and found[0][1] == ids[OPEN]
    r = client.get("/portal/search?q=cong+chuc&date_from=31/12/2024")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "data-search-error" in html and "data-total" in html


def test_sort_and_pages(env: Web) -> None:
    client = env.signed_in("luutru")
    total, first, html = hits(client, "q=cong+chuc&sort=newest")
    assert total > 20 and len(first) == 20 and 'data-page-link="2"' in html
    _, second, _ = hits(client, "q=cong+chuc&sort=newest&page=2")
    assert len(second) == total - 20 and not {h[0] for h in first} & {h[0] for h in second}
    dates = re.findall(r"· (\d{4}-\d\d-\d\d)", "".join(b for *_x, b in first + second))
    assert dates and dates == sorted(dates, reverse=True)
    _, oldest, html = hits(client, "q=cong+chuc&sort=oldest")
    old_dates = re.findall(r"· (\d{4}-\d\d-\d\d)", "".join(b for *_x, b in oldest))
    assert old_dates == sorted(old_dates) and old_dates[0] <= dates[-1]
    assert page_window(1, 1) == [1] and page_window(6, 12) == [1, None, 4, 5, 6, 7, 8, None, 12]


def test_htmx_gets_only_the_results(env: Web) -> None:
    r = env.client().get("/portal/search?q=quyet+dinh", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "data-total" in html
    assert "HX-Request" in r.headers["Vary"]


# -- access-request grants: a researcher finds the content of what they were granted -------------

TC05 = "05.TC"  # a second conditional (02) dossier, of Sở Tài chính


@pytest.fixture(scope="module")
def granted_env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Iterator[Web]:
    """The "records" snapshot plus 05.TC (mode 02), ingested with its own test PKI."""
    web = sample_env(tmp_path_factory, seeded_catalog, "records")
    work = tmp_path_factory.mktemp("tc05")
    pki = TestPki.create(work / "pki")
    (src,) = build_corpus(work / "src", pki, specs=(sample_spec(TC05),))
    settings = web.services.settings
    shutil.copy(pki.root, settings.trust_path / "tc05-root.pem")
    install_test_signatures(settings)
    ingesting = Services.build(settings)  # trust roots are read when services are built
    try:
        ingesting.ingest.ingest(
            src, sample_spec(TC05).agency, actor=Agent.person("vanthu"), source_kind="demo"
        )
    finally:
        ingesting.close()
    web.services.search.drain_all()
    yield web
    web.services.close()


def _dossier_ids(web: Web) -> dict[str, int]:
    codes = {"cond": CONDITIONAL, "open": OPEN, "secret": SECRET, "tc05": file_code(sample_spec(TC05))}
    with web.services.session() as s:
        return {k: s.scalars(select(Dossier.id).where(Dossier.code == c)).one() for k, c in codes.items()}


def _ask_and_answer(web: Web, dossier_id: int, decision: str) -> int:
    """docgia asks for ``dossier_id`` in the portal; the archivist answers in the console."""
    reader = web.signed_in("docgia")
    r = post(reader, "/portal/requests/new", {"dossier_id": dossier_id, "purpose": "Nghiên cứu luận văn"})
    assert r.status_code == 302, r.get_data(as_text=True)
    with web.services.session() as s:
        request_id = s.scalars(
            select(AccessRequest.id)
            .where(AccessRequest.dossier_id == dossier_id)
            .order_by(AccessRequest.id.desc())
        ).first()
    assert request_id is not None
    archivist = web.signed_in("luutru")
    r = post(
        archivist,
        f"/console/access-requests/{request_id}",
        {"decision": decision},
        "/console/access-requests",
    )
    assert r.status_code == 302
    return request_id


def _mode_facet(html: str) -> dict[str, int]:
    block = re.search(r'<ul data-facet="access_mode">(.*?)</ul>', html, re.S)
    found = (
        re.findall(
            r'data-facet-value="(\d\d)"[^>]*>[^<]*</a> <span class="count">(\d+)</span>', block.group(1)
        )
        if block
        else []
    )
    return {mode: int(n) for mode, n in found}


def test_a_granted_researcher_finds_the_dossiers_content(granted_env: Web) -> None:
    web, ids = granted_env, _dossier_ids(granted_env)
    reader = web.signed_in("docgia")
    # "Hoàn thành" is in every dossier's spreadsheet; "tuyển dụng" is 01.TCCB's topic (mode 02)
    total_before, found, html = hits(reader, "q=tuyen+dung+hoan+thanh")
    # Partial matches only: open records by their content, the 02 dossier by its visible title;
    # its hidden content neither matches nor shows.
    assert {d for _h, d, _r, _b in found} <= {ids["cond"], ids["open"]}
    assert all(r == "no" and "Hoàn thành" not in b for _h, d, r, b in found if d == ids["cond"])
    _, before, before_html = hits(reader, "q=hoan+thanh")
    assert {d for _h, d, _r, _b in before} == {ids["open"]}
    assert "02" not in _mode_facet(before_html)

    approved = _ask_and_answer(web, ids["cond"], "approve")
    _ask_and_answer(web, ids["tc05"], "refuse")

    total, found, html = hits(reader, "q=tuyen+dung+hoan+thanh")
    granted = [(r, body) for _h, d, r, body in found if d == ids["cond"]]
    assert granted and len(found) == total  # (with hits now, open records holding half the words follow)
    assert {d for _h, d, _r, _b in found} <= {ids["cond"], ids["open"]}
    assert any("<mark>Hoàn thành</mark>" in body for _r, body in granted)  # its snippet
    assert all(readable == "yes" for readable, _body in granted)  # the hit opens the reading room
    assert _mode_facet(html)["02"] == len(granted)
    _, after, after_html = hits(reader, "q=hoan+thanh")
    seen = {d for _h, d, _r, _b in after}
    assert seen == {ids["open"], ids["cond"]}  # not 05.TC (refused), not 06.TTr (03)
    assert _mode_facet(after_html)["02"] == sum(1 for _h, d, _r, _b in after if d == ids["cond"])
    # another researcher's session, and anonymous visitors, are unchanged
    assert hits(web.client(), "q=tuyen+dung+hoan+thanh")[0] == total_before

    # the reading period ends: the content is hidden again, the metadata stays findable
    with web.services.sessions.begin() as s:
        row = s.get(AccessRequest, approved)
        assert row is not None and row.expires_at is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
    total, found, html = hits(reader, "q=tuyen+dung+hoan+thanh")
    assert total == total_before  # as before the grant
    assert all(r == "no" and "Hoàn thành" not in b for _h, d, r, b in found if d == ids["cond"])
    _, meta, _ = hits(reader, "q=tuyen+dung")
    assert ids["cond"] in {d for _h, d, _r, _b in meta}
    assert all(readable == "no" for _h, d, readable, _b in meta if d == ids["cond"])


def test_punctuation_only_and_overlong_queries_get_the_prompt(env: Web) -> None:
    client = env.client()
    page = client.get("/portal/search").get_data(as_text=True)
    assert f'maxlength="{MAX_QUERY_CHARS}"' in page  # the box says how long a query may be
    for q, hint in (
        ("!!! ???", "Chỉ có dấu câu"),
        ('"', "Chỉ có dấu câu"),
        ("x" * (MAX_QUERY_CHARS + 1), "quá dài"),
    ):
        r = client.get("/portal/search", query_string={"q": q})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "data-search-prompt" in html and "data-total" not in html, q
        assert "data-search-error" in html and hint in html
    english = client.get("/portal/search", query_string={"q": "???", "lang": "en"}).get_data(as_text=True)
    assert "Punctuation alone finds nothing" in english and "data-search-prompt" in english


def test_adversarial_queries_answer_within_bounds_through_the_portal(env: Web) -> None:
    client = env.signed_in("luutru")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for q in ADVERSARIAL:
        if len(q) > MAX_QUERY_CHARS:
            continue
        start = time.perf_counter()
        r = client.get("/portal/search", query_string={"q": q}, headers={"HX-Request": "true"})
        assert r.status_code == 200 and time.perf_counter() - start < 2.0, q
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB
    total, found, _ = hits(client, "q=" + FREQUENT.replace(" ", "+"))
    assert total >= 1 and found  # a long question of frequent words still answers
