"""archive.boundedjson: size and depth are refused before the recursive parser ever runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.boundedjson import MAX_DEPTH, JsonRefused, check_depth, load_file, loads

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads alone raises RecursionError on this


def test_100000_levels_are_refused_without_recursion() -> None:
    with pytest.raises(RecursionError):
        json.loads(DEEP)  # the hazard this module exists for
    with pytest.raises(JsonRefused) as caught:
        loads(DEEP)
    assert caught.value.code == "json.too_deep" and isinstance(caught.value, ValueError)
    assert "64" in caught.value.message_vi and "64" in caught.value.message_en
    assert caught.value.evidence["limit"] == MAX_DEPTH


def test_depth_limit_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonRefused):
        check_depth('{"a":' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}")  # one level more
    tricky = json.dumps({"title": "[[[{{{" * 1000, "q": 'nói "[" \\ ]'})
    assert loads(tricky)["title"].startswith("[[[{{{")


def test_size_limit_bom_and_invalid_text() -> None:
    with pytest.raises(JsonRefused) as big:
        loads(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert big.value.code == "json.too_large" and big.value.evidence == {"size": 2009, "limit": 1000}
    assert loads("\ufeff" + '{"a": 1}') == {"a": 1} == loads(b'\xef\xbb\xbf{"a": 1}')
    for bad in (b"\xff\xfe{", b"{nope", b'{"a": 1,}'):
        with pytest.raises(JsonRefused) as caught:
            loads(bad)
        assert caught.value.code == "json.invalid"


def test_load_file_checks_the_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "metadata.json"
    path.write_text('{"profile": "tt05-2025", "dossier": {}, "documents": []}', encoding="utf-8")
    assert load_file(path)["profile"] == "tt05-2025"
    with pytest.raises(JsonRefused) as caught:
        load_file(path, max_bytes=10)
    assert caught.value.code == "json.too_large"
    path.write_text(DEEP, encoding="utf-8")
    with pytest.raises(JsonRefused, match="64 levels"):
        load_file(path)
