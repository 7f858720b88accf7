"""The archivist's console in the browser: upload a sample dossier ZIP, review an in-review
submission (findings, signatures, a page thumbnail), accept it, open the archived dossier and
download a register PDF. Takes the README screens ingest-queue, submission, dossier (LUUTRU_DOC_SHOTS=1 refreshes them)."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from archive.events import Agent
from luutru.samples.corpus import SPECS, build_corpus, file_code
from luutru.samples.pki import TestPki
from luutru.services import Services
from tests.e2e.conftest import Server, doc_shot, sign_in
from tests.support.clamav import install_test_signatures

pytestmark = pytest.mark.browser

UPLOADED = next(s for s in SPECS if s.notation == "02.TCCB")  # clean: archived on upload
REVIEW = next(s for s in SPECS if s.notation == "11.VP")  # NFD keyword: waits for review
SLOW = 90_000  # ms: the server validates, packages and replicates a real dossier on these clicks


def _prepare(server: Server, work: Path) -> tuple[Path, str]:
    """Sign both sample dossiers with a fresh test PKI whose root the archive trusts; put the
    review one through the real ingest service; zip the other for the browser."""
    pki = TestPki.create(work / "pki")
    settings = server.settings
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(pki.root, settings.trust_path / "e2e-h13-test-root.pem")
    install_test_signatures(settings)
    upload, review = build_corpus(work / "src", pki, specs=(UPLOADED, REVIEW))
    services = Services.build(settings)
    try:
        result = services.ingest.ingest(
            review, REVIEW.agency, actor=Agent.person("vanthu"), source_kind="demo"
        )
    finally:
        services.close()
    archive = work / "ho-so.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(upload.rglob("*")):
            if path.is_file():
                zf.write(path, Path(upload.name) / path.relative_to(upload))
    return archive, result.submission_id


@pytest.fixture(scope="module")
def prepared(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    # pyHanko signs with asyncio.run, which refuses the thread where Playwright's loop runs
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(_prepare, server, tmp_path_factory.mktemp("h13-console")).result()


def test_archivist_uploads_reviews_accepts_and_prints(page: Any, prepared: tuple[Path, str]) -> None:
    archive, review_id = prepared
    sign_in(page, "luutru")
    page.wait_for_url("**/console/")
    page.click("nav >> [data-nav=ingest]")
    page.click("a[href$='/console/ingest/upload']")
    page.select_option("select[name=agency]", UPLOADED.agency)
    page.set_input_files("input[name=files]", str(archive))
    page.click("form.stack button[type=submit]", no_wait_after=True)  # checks + packaging take a while
    page.wait_for_url("**/console/ingest/*-*", timeout=SLOW)
    assert page.get_attribute("[data-state]", "data-state") == "archived"
    assert file_code(UPLOADED) in page.content()

    page.goto("/console/ingest/?state=in_review")
    row = page.locator(f"tr[data-submission='{review_id}']")
    assert row.count() == 1
    doc_shot(page, "ingest-queue")
    row.locator("a").click()
    page.wait_for_url(f"**/console/ingest/{review_id}")
    assert page.locator("li.finding[data-code='metadata.not_nfc']").count() >= 1
    assert page.locator("tr[data-signer='Nguyễn Văn An']").count() >= 1
    thumb = page.locator("img.thumb").first
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    page.evaluate("window.scrollTo(0, 0)")
    doc_shot(page, "submission")
    page.click("button[name=action][value=accept]", no_wait_after=True)
    page.wait_for_selector("dd [data-state=archived]", timeout=SLOW)
    assert page.get_attribute("dd [data-state]", "data-state") == "archived"

    page.click("a[data-dossier-link]")
    page.wait_for_url(f"**/records/dossiers/{file_code(REVIEW)}")
    assert page.locator("text=" + file_code(REVIEW)).count() >= 1
    doc_shot(page, "dossier")

    page.click("nav >> [data-nav=registers]")
    page.select_option("#dossier-register select[name=agency]", REVIEW.agency)
    page.fill("#dossier-register input[name=year]", str(REVIEW.year))
    with page.expect_download() as info:
        page.click("button[data-register-pdf]")
    path = info.value.path()
    assert path is not None and Path(path).read_bytes()[:5] == b"%PDF-"
