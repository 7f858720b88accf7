"""Who may do what: tokens, scopes, agencies kept apart on every endpoint, rate limits, problem+json."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from archive.catalog import AccessMode, Agency, Document, Dossier, RecordState
from luutru.api import RateLimiter
from luutru.samples.dossiers import AGENCY
from tests.api.harness import OTHER, Api, small_metadata


def _dossier(api: Api, agency_code: str, code: str, mode: AccessMode = AccessMode.OPEN) -> None:
    with api.services.sessions.begin() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.code == agency_code))
        assert agency_id is not None
        s.add(
            Dossier(
                code=code, agency_id=agency_id, title=f"Hồ sơ {code}", profile="tt05-2025", access_mode=mode,
                documents=[Document(ordinal=1, doc_code=f"{code}.1", subject="Công văn số 12/UBND")],
            )
        )  # fmt: skip


def _open_upload(api: Api, who: str = "a") -> str:
    r = api.call("POST", "/submissions", who, json={"metadata": small_metadata({"a.txt": b"abc"})})
    assert r.status_code == 201
    upload_id: str = r.get_json()["id"]
    return upload_id


def _endpoints(upload_id: str, dossier: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/submissions/{upload_id}"),
        ("PUT", f"/submissions/{upload_id}/files/a.txt"),
        ("GET", f"/submissions/{upload_id}/files/a.txt"),
        ("HEAD", f"/submissions/{upload_id}/files/a.txt"),
        ("POST", f"/submissions/{upload_id}/finalise"),
        ("POST", f"/submissions/{upload_id}/withdraw"),
        ("GET", f"/dossiers/{dossier}"),
        ("GET", f"/dossiers/{dossier}/documents"),
    ]


def test_agency_b_can_never_see_or_touch_agency_a_records(api: Api) -> None:
    upload_id = _open_upload(api, "a")
    _dossier(api, AGENCY, "H54.A.01", AccessMode.OPEN)  # even an open dossier: the API shows own records only
    for method, path in _endpoints(upload_id, "H54.A.01"):
        r = api.call(method, path, "b", data=b"abc" if method == "PUT" else None)
        assert r.status_code == 404, (method, path, r.status_code)
        if method != "HEAD":
            assert r.mimetype == "application/problem+json" and r.get_json()["code"] == "not_found"
    assert api.call("GET", "/submissions", "b").get_json()["total"] == 0
    # nothing changed for A: still open, nothing received
    own = api.call("GET", f"/submissions/{upload_id}", "a").get_json()
    assert own["state"] == "uploading" and own["files"][0]["received_bytes"] == 0
    assert api.call("GET", "/dossiers/H54.A.01", "a").status_code == 200


def test_unknown_and_other_agencies_records_answer_alike(api: Api) -> None:
    _dossier(api, OTHER, "TC.B.01")
    mine = api.call("GET", "/dossiers/TC.B.01", "a")
    missing = api.call("GET", "/dossiers/KHONG.CO", "a")
    assert mine.status_code == missing.status_code == 404
    assert {k: v for k, v in mine.get_json().items() if k != "instance"} == {
        k: v for k, v in missing.get_json().items() if k != "instance"
    }


def test_destroyed_dossier_shows_its_summary_but_no_documents(api: Api) -> None:
    _dossier(api, AGENCY, "H54.HUY.01")
    with api.services.sessions.begin() as s:
        d = s.scalars(select(Dossier).where(Dossier.code == "H54.HUY.01")).one()
        d.state = RecordState.DESTROYED
    r = api.call("GET", "/dossiers/H54.HUY.01/documents", "a-read").get_json()
    assert r["total"] == 0 and api.call("GET", "/dossiers/H54.HUY.01").get_json()["state"] == "destroyed"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer lt_000000000000.wrong-secret"],
)
def test_missing_or_bad_token_is_401(api: Api, header: str) -> None:
    r = api.call("GET", "/submissions", "", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    body = r.get_json()
    assert (
        body["code"] == "auth.invalid_token"
        and body["title_vi"]
        and "Traceback" not in r.get_data(as_text=True)
    )


def test_revoked_token_is_401_everywhere(api: Api) -> None:
    upload_id = _open_upload(api, "a")
    everywhere = [
        ("POST", "/submissions"),
        ("GET", "/submissions"),
        ("GET", "/search?q=x"),
        *_endpoints(upload_id, "X"),
    ]
    for method, path in everywhere:
        assert api.call(method, path, "a-revoked").status_code == 401, (method, path)


def test_a_secret_of_another_token_does_not_open_this_one(api: Api) -> None:
    prefix = api.tokens["a"].split(".")[0]
    secret = api.tokens["b"].split(".", 1)[1]
    r = api.client().get("/api/v1/submissions", headers={"Authorization": f"Bearer {prefix}.{secret}"})
    assert r.status_code == 401


@dataclass(frozen=True)
class ScopeCase:
    who: str
    method: str
    path: str


def test_wrong_scope_is_403(api: Api) -> None:
    upload_id = _open_upload(api, "a")
    cases = [
        ScopeCase("a-read", "POST", "/submissions"),
        ScopeCase("a-read", "PUT", f"/submissions/{upload_id}/files/a.txt"),
        ScopeCase("a-read", "POST", f"/submissions/{upload_id}/finalise"),
        ScopeCase("a-read", "POST", f"/submissions/{upload_id}/withdraw"),
        ScopeCase("a-submit", "GET", "/submissions"),
        ScopeCase("a-submit", "GET", f"/submissions/{upload_id}"),
        ScopeCase("a-submit", "GET", "/dossiers/X"),
        ScopeCase("a-read", "GET", "/search?q=x"),
    ]
    for c in cases:
        r = api.call(c.method, c.path, c.who, json={} if c.method == "POST" else None)
        assert r.status_code == 403, c
        assert r.get_json()["code"] == "auth.scope_missing"
    assert api.call("GET", f"/submissions/{upload_id}", "a-read").status_code == 200


def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    now = [100.0]
    api.app.extensions["luutru.api"].limiter = RateLimiter(capacity=3, per_minute=6, clock=lambda: now[0])
    codes = [api.call("GET", "/submissions").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.call("GET", "/submissions")
    assert (
        r.status_code == 429 and r.headers["Retry-After"] == "10" and r.get_json()["code"] == "rate_limited"
    )
    assert api.call("GET", "/submissions", "b").status_code == 200  # per token
    now[0] += 10
    assert api.call("GET", "/submissions").status_code == 200


def test_routing_errors_under_the_api_are_problems_and_pages_stay_html(api: Api) -> None:
    r = api.call("GET", "/khong-ton-tai")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = api.call("DELETE", "/submissions")
    assert r.status_code == 405 and r.mimetype == "application/problem+json" and "POST" in r.headers["Allow"]
    page = api.client().get("/khong-ton-tai")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_every_call_is_logged_with_the_agency(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="luutru.api.auth"):
        api.call("GET", "/submissions", "b")
    record = next(r for r in caplog.records if r.getMessage() == "API call")
    assert record.agency == OTHER and record.api_status == 200  # type: ignore[attr-defined]
    assert api.tokens["b"].split(".", 1)[1] not in caplog.text  # never the secret


def test_server_errors_carry_no_stack_trace(api: Api) -> None:
    api.services.engine.dispose()
    db = api.settings.data_dir / "catalog.db"
    db.rename(db.with_suffix(".moved"))
    (api.settings.data_dir / "catalog.db").mkdir()  # the catalog cannot be opened
    r = api.call("GET", "/submissions")
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and "sqlite" not in text.lower() and r.get_json()["code"] == "server_error"
