"""Portal search on real ingested sample dossiers: diacritics, filters, facets, sort, pages,
links per role, and restricted content never shown to those who may not read it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.catalog import Dossier
from luutru.samples.corpus import file_code
from luutru.web.search_views import page_window

from .conftest import Web, sample_env, sample_spec

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
    # "Hoàn thành" is only in the spreadsheets' text; "tuyển dụng" is 01.TCCB's topic (mode 02).
    staff_total, staff, staff_html = hits(env.signed_in("luutru"), "q=tuyen+dung+hoan+thanh")
    assert staff_total >= 1 and any(d == ids[CONDITIONAL] for _h, d, _r, _b in staff)
    assert "<mark>Hoàn</mark> <mark>thành</mark>" in staff_html
    for client in (env.client(), env.signed_in("docgia")):
        total, found, html = hits(client, "q=tuyen+dung+hoan+thanh")
        assert total == 0 and found == [] and "Hoàn thành" not in html
        total, found, html = hits(client, "q=kiểm+tra+công+vụ")  # 06.TTr is secret (03)
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
