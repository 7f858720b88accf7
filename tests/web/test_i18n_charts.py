"""Languages (catalog completeness, switch, +07:00 times) and the SVG charts."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from luutru.web.charts import Bar, StackedBar, bar_chart, human_bytes, stacked_bar_chart
from luutru.web.i18n import LABELS, SOURCE_DIR, compile_catalogs, vn_datetime

from .conftest import Web, login

WEB_DIR = Path(__file__).resolve().parents[2] / "luutru" / "web"


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(WEB_DIR), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_ui_string_has_a_vietnamese_translation() -> None:
    with (SOURCE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    messages = _extracted()
    assert len(messages) > 100
    missing = sorted(m for m in messages if not translated.get(m))
    assert missing == []
    assert set(LABELS.values()) <= set(translated)


def test_vietnamese_first_english_by_switch_and_back(web: Web) -> None:
    client = web.client()
    assert "<h1>Đăng nhập</h1>" in client.get("/login").get_data(as_text=True)
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert "<h1>Sign in</h1>" in html and 'lang="en"' in html and "Tiếng Việt" in html
    assert "<h1>Sign in</h1>" in client.get("/login").get_data(as_text=True)  # remembered
    assert login(client, "luutru") == 302
    assert "<h1>Dashboard</h1>" in client.get("/console/").get_data(as_text=True)  # kept across sign-in
    assert "<h1>Tổng quan</h1>" in client.get("/console/?lang=vi").get_data(as_text=True)
    assert "Người làm lưu trữ" in client.get("/console/").get_data(as_text=True)  # role label


def test_vn_datetime_prints_iso_8601_in_vietnam_time() -> None:
    assert vn_datetime(datetime(2025, 7, 1, 1, 30, tzinfo=UTC)) == "2025-07-01T08:30:00+07:00"
    assert vn_datetime(datetime(2025, 12, 31, 20, 0)) == "2026-01-01T03:00:00+07:00"  # naive = UTC
    assert vn_datetime(None) == ""


def test_catalogs_compile_when_stale_and_into_a_fallback_when_read_only(tmp_path: Path) -> None:
    source = tmp_path / "src"
    po = source / "vi" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes((SOURCE_DIR / "vi" / "LC_MESSAGES" / "messages.po").read_bytes())
    assert compile_catalogs(source) == source
    mo = po.with_suffix(".mo")
    first = mo.stat().st_mtime_ns
    compile_catalogs(source)
    assert mo.stat().st_mtime_ns == first  # fresh: not rewritten
    os.utime(po, ns=(first + 10**9, first + 10**9))
    compile_catalogs(source)
    assert mo.stat().st_mtime_ns != first
    mo.unlink()
    source.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(source, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        target = compile_catalogs(source, fallback=tmp_path / "fallback")
        assert target == tmp_path / "fallback"
        assert (target / "vi" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
        with pytest.raises(PermissionError):
            compile_catalogs(source)
    finally:
        source.chmod(stat.S_IRWXU)


def test_bar_chart_scales_and_escapes() -> None:
    svg = str(bar_chart([Bar("<b>A</b>", 10), Bar("B", 5)], title="T & U", empty_text="trống"))
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;A&lt;/b&gt;" in svg
    assert 'aria-label="T &amp; U"' in svg
    assert 'width="380.0"' in svg and 'width="190.0"' in svg  # 10 → full span, 5 → half
    assert "trống" not in svg


@pytest.mark.parametrize("bars", [[], [Bar("A", 0)]])
def test_empty_bar_chart_says_so(bars: list[Bar]) -> None:
    assert "trống" in str(bar_chart(bars, title="T", empty_text="trống"))


def test_stacked_chart_checks_its_series() -> None:
    svg = str(
        stacked_bar_chart([StackedBar("r1", (3, 1, 0))], ("ok", "hỏng", "mất"), title="T", empty_text="e")
    )
    assert svg.count('class="part0"') == 2 and svg.count('class="part1"') == 2  # legend + bar
    assert svg.count('class="part2"') == 1  # legend only: a zero part draws nothing
    with pytest.raises(ValueError):
        stacked_bar_chart([StackedBar("r1", (1,))], ("a", "b"), title="T", empty_text="e")


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(7000) == "6.8 KiB"
    assert human_bytes(3 * 1024**4) == "3.0 TiB"
