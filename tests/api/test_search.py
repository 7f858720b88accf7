"""Search through the API: the agency's own records only, filtered inside the index query."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from luutru.api.auth import ApiState
from search.folding import MAX_QUERY_CHARS
from tests.api.harness import Api, submit_folder
from tests.search.test_query_bounds import ADVERSARIAL


def test_search_finds_own_records_and_nothing_of_other_agencies(api: Api, dossier_src: Path) -> None:
    out = submit_folder(api, dossier_src)
    assert out["state"] == "archived"
    state: ApiState = api.app.extensions["luutru.api"]
    with api.app.app_context():
        assert state.search(api.services).drain_all() > 0  # what the worker does from the outbox
    own = api.call("GET", "/search?q=cai cach hanh chinh")  # without diacritics
    body = own.get_json()
    assert own.status_code == 200 and body["total"] >= 1, body
    assert {i["dossier_code"] for i in body["items"]} == {"H54.2024.05.CCHC"}
    assert all(i["agency"] == "000.00.00.H54" for i in body["items"])
    other = api.call("GET", "/search?q=cai cach hanh chinh", "b").get_json()
    assert other["total"] == 0 and other["items"] == []  # B's visibility excludes A inside the query
    assert api.call("GET", "/search?page=0").status_code == 400


def test_search_refuses_punctuation_and_overlong_and_bounds_adversarial_queries(api: Api) -> None:
    for q, code in (
        ("!!! ???", "search.no_words"),
        ("x" * (MAX_QUERY_CHARS + 1), "request.invalid_parameter"),
    ):
        r = api.call("GET", "/search", query_string={"q": q})
        assert r.status_code == 400 and code in r.get_data(as_text=True), q
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for q in ADVERSARIAL[:-2]:  # the last two are refused above (punctuation, too long)
        start = time.perf_counter()
        r = api.call("GET", "/search", query_string={"q": q})
        assert r.status_code == 200 and time.perf_counter() - start < 2.0, q
        assert r.get_json()["partial"] is False
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB
    spec = api.call("GET", "/openapi.json").get_json()
    (q_param,) = [p for p in spec["paths"]["/search"]["get"]["parameters"] if p["name"] == "q"]
    assert q_param["schema"]["maxLength"] == MAX_QUERY_CHARS
