"""Search through the API: the agency's own records only, filtered inside the index query."""

from __future__ import annotations

from pathlib import Path

from luutru.api.auth import ApiState
from tests.api.harness import Api, submit_folder


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
