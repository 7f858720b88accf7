"""The researcher reads an open record page by page in the browser and is refused a restricted
record by every URL that could reach its content."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from archive.catalog import Dossier, Package, PackageState, StoredFile
from luutru.services import Services
from tests.e2e.conftest import Server, doc_shot
from tests.e2e.test_browser_disposal import ingest_sample_dossiers, switch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def restricted(server: Server) -> dict[str, Any]:
    """Ids of the conditional-use sample dossier (07.VP), one of its documents and its PDF."""
    ids = ingest_sample_dossiers(server)
    services = Services.build(server.settings)
    try:
        with services.session() as s:
            dossier = s.get(Dossier, ids["07.VP"])
            assert dossier is not None and dossier.access_mode.value == "02"
            pdf = s.scalars(
                select(StoredFile)
                .join(Package)
                .where(Package.dossier_id == dossier.id, Package.state == PackageState.STORED)
                .where(StoredFile.document_id.is_not(None), StoredFile.path.like("%.pdf"))
                .order_by(StoredFile.id)
                .limit(1)
            ).one()
            return {"ids": ids, "code": dossier.code, "doc": pdf.document_id, "file": pdf.id}
    finally:
        services.close()


def test_researcher_reads_an_open_record_and_is_refused_restricted_ones(
    page: Any, restricted: dict[str, Any]
) -> None:
    switch(page, "docgia")
    page.goto(f"/portal/records/{restricted['ids']['05.VP']}")
    assert page.locator("[data-content=visible]").count() == 1
    page.click("a[data-read] >> nth=0")
    first = page.locator("img[data-page='1']").first
    first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle())
    assert page.locator("a[download], a[href*='/original/']").count() == 0  # bản đọc: no download
    image = page.request.get(first.get_attribute("src"))
    assert image.status == 200 and image.headers["content-type"] == "image/png"
    assert image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    doc_shot(page, "portal-record")

    cond, doc, file = restricted["ids"]["07.VP"], restricted["doc"], restricted["file"]
    page.goto(f"/portal/records/{cond}")
    assert page.locator("[data-content=hidden]").count() == 1
    assert page.locator("a[data-read]").count() == 0
    assert page.locator(f"a[href*='/portal/requests/new?dossier_id={cond}']").count() == 1
    refused = {
        f"/portal/records/{cond}/documents/{doc}": (403,),
        f"/portal/records/{cond}/files/{file}/pages/1.png": (403,),
        f"/records/documents/{doc}/pages/1.png": (403, 404),
        f"/records/documents/{doc}/original/{file}": (403, 404),
    }
    for url, statuses in refused.items():
        response = page.request.get(url, max_redirects=0)
        assert response.status in statuses, (url, response.status)
        assert not response.body().startswith((b"%PDF", b"\x89PNG")), url
    # the archivists' dossier page (another module) may show the metadata, never the content
    record_page = page.request.get(f"/records/dossiers/{restricted['code']}", max_redirects=0)
    assert record_page.status in (200, 403, 404)
    body = record_page.text()
    assert f"/records/documents/{doc}" not in body and "/original/" not in body
    document_page = page.request.get(f"/records/documents/{doc}", max_redirects=0)
    assert document_page.status in (200, 403, 404)
    body = document_page.text()
    assert f"/records/documents/{doc}/pages/" not in body and "/original/" not in body
    page.goto(f"/portal/dossiers/{cond}")
    assert page.locator("[data-content=hidden]").count() == 1
