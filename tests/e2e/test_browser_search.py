"""Portal search in the browser: with and without diacritics, through to a record's page
images, and a conditional-use record's content words never shown to those who may not read it
(compared with what an archivist sees)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, doc_shot, sign_in
from tests.e2e.test_browser_disposal import ingest_sample_dossiers, switch

pytestmark = pytest.mark.browser

# "Vũ Thư" is in the spreadsheets' text (content); "khiếu nại" is 07.VP's topic (mode 02).
RESTRICTED_QUERY = "khiếu nại Vũ Thư"


@pytest.fixture(scope="module")
def searchable(server: Server) -> dict[str, int]:
    """The three sample dossiers ingested, and the index drained by the CLI, as an operator would."""
    ids = ingest_sample_dossiers(server)
    env = {
        **os.environ,
        "LUUTRU_DATA_DIR": str(server.settings.data_dir),
        "LUUTRU_CONFIG": str(server.settings.data_dir / "none.toml"),
    }
    luutru = Path(sys.executable).with_name("luutru")
    done = subprocess.run(
        [str(luutru), "search", "drain"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return ids


def search(page: Any, text: str) -> list[str]:
    """Type ``text`` in the portal's search box, submit, and return the hit ids shown."""
    page.goto("/portal/")
    page.fill("input[name=q]", text)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-search-total]")
    return [el.get_attribute("data-hit") for el in page.query_selector_all("li.hit")]


def results_text(page: Any) -> str:
    return str(page.inner_text("#results"))


@pytest.mark.parametrize("username", [None, "docgia"])
def test_search_with_and_without_diacritics_then_read_the_pages(
    page: Any, searchable: dict[str, int], username: str | None
) -> None:
    if username:
        switch(page, username)
    with_marks = search(page, "quyết định")
    total_marks = page.get_attribute(".search-results", "data-total")
    assert with_marks and page.locator("li.hit mark").count() > 0
    without = search(page, "quyet dinh")
    # The same records match both ways; only the order may differ (exact diacritics rank first).
    assert page.get_attribute(".search-results", "data-total") == total_marks
    if len(with_marks) < 20:
        assert sorted(without) == sorted(with_marks)
    else:
        assert len(set(without) & set(with_marks)) >= len(with_marks) // 2
    assert page.locator("[data-facet=agency] a").count() >= 1  # facets with counts
    if username is None:
        doc_shot(page, "search")
    page.click("li.hit[data-readable=yes][data-hit^='doc:'] a[data-hit-link] >> nth=0")
    page.wait_for_url("**/portal/records/*/documents/*")
    first = page.locator("img[data-page='1']").first
    first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle())


def test_restricted_content_words_never_shown(page: Any, searchable: dict[str, int]) -> None:
    cond = searchable["07.VP"]
    sign_in(page, "luutru")
    page.wait_for_url("**/console/")
    staff = search(page, RESTRICTED_QUERY)
    assert staff and "Vũ Thư" in results_text(page)  # the archivist reads the content
    assert page.locator(f"li.hit[data-dossier='{cond}']").count() >= 1
    for username in (None, "docgia"):
        page.context.clear_cookies()
        if username:
            sign_in(page, username)
            page.wait_for_url("**/portal/")
        search(page, RESTRICTED_QUERY)  # open records may come as partial matches, never 07.VP's content
        for hit in page.locator(f"li.hit[data-dossier='{cond}']").all():
            assert hit.get_attribute("data-readable") == "no" and "Vũ Thư" not in hit.inner_text()
        titles = search(page, "khieu nai")  # its metadata is published (mode 02) …
        assert titles and "Vũ Thư" not in results_text(page)  # … its content is not
        hit = page.locator(f"li.hit[data-dossier='{cond}'][data-readable=no] a[data-hit-link]").first
        assert hit.get_attribute("href") == f"/portal/records/{cond}"
        hit.click()
        assert page.locator("[data-content=hidden]").count() == 1
