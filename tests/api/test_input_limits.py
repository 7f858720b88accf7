"""API request bodies within declared limits: deep JSON, a huge plan, unsafe names — 4xx problem+json."""

from __future__ import annotations

import json

import pytest

from archive.boundedjson import MAX_DEPTH, MAX_METADATA_BYTES
from tests.api.harness import Api, small_metadata

DEEP = '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
JSON = {"Content-Type": "application/json"}


def _problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["detail_vi"] and body["detail"] and body["title_vi"]
    return body


def test_body_nested_100000_levels_is_a_400_not_a_500(api: Api) -> None:
    r = api.call("POST", "/submissions", data=DEEP, headers=JSON)
    body = _problem(r, 400, "request.too_deep")
    assert body["limit"] == MAX_DEPTH
    small_but_deep = '{"reason": ' + "[" * 1000 + "]" * 1000 + "}"
    w = api.call("POST", "/submissions/none/withdraw", data=small_but_deep, headers=JSON)
    _problem(w, 400, "request.too_deep")
    _problem(
        api.call("POST", "/submissions/none/withdraw", data=DEEP, headers=JSON), 413, "request.too_large"
    )


def test_plan_body_over_the_limit_is_413_before_it_is_read(api: Api) -> None:
    padding = "x" * (MAX_METADATA_BYTES + 1)
    body = json.dumps({"metadata": {**small_metadata({"a.txt": b"a"}), "note": padding}})
    r = api.call("POST", "/submissions", data=body, headers=JSON)
    assert _problem(r, 413, "request.too_large")["limit"] == MAX_METADATA_BYTES


def test_limits_are_declared_in_the_openapi(api: Api) -> None:
    spec = api.call("GET", "/openapi.json", "").get_json()
    post = spec["paths"]["/submissions"]["post"]
    assert "request.too_large" in post["responses"]["413"]["description"]
    assert "request.too_deep" in post["responses"]["400"]["description"]
    request = spec["components"]["schemas"]["SubmissionRequest"]
    assert (request["x-max-body-bytes"], request["x-max-depth"]) == (MAX_METADATA_BYTES, MAX_DEPTH)
    pattern = spec["components"]["schemas"]["DocumentDeclaration"]["properties"]["file"]["pattern"]
    import re

    assert re.fullmatch(pattern, "van-ban/01.pdf")
    assert not any(re.fullmatch(pattern, bad) for bad in ("a.pdf ", "a./b.pdf", "a\tb.pdf", "a\\b.pdf"))


@pytest.mark.parametrize("name", ["ghi-chu.txt ", "%2e%2e/x.txt", "a\x01b.txt", "van-ban./x.txt"])
def test_unsafe_file_names_in_the_plan_are_refused(api: Api, name: str) -> None:
    r = api.call("POST", "/submissions", json={"metadata": small_metadata({name: b"x"})})
    _problem(r, 400, "upload.path_invalid")
