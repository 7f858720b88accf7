"""A disposal case walked through in the browser: due list, appraisal, case, council vote with
dissent, thẩm định, four eyes, decision, destruction, biên bản download, tombstone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from archive.catalog import Dossier, Role, User, UserRole
from archive.events import Agent
from luutru.samples.corpus import SPECS, build_corpus, file_code
from luutru.samples.pki import TestPki
from luutru.services import Services
from tests.e2e.conftest import Server, doc_shot, sign_in
from tests.support.clamav import install_test_signatures

pytestmark = pytest.mark.browser

# 06.VP ended 2011 and 05.VP 2012, both 10 năm (06): due by 2026. 07.VP is conditional use (02).
CHOSEN = tuple(s for s in SPECS if s.notation in ("05.VP", "06.VP", "07.VP"))
DISSENT = "Hồ sơ còn giá trị tham khảo cho công tác an toàn giao thông; đề nghị giữ lại thêm 5 năm."


def ingest_sample_dossiers(server: Server) -> dict[str, int]:
    """Ingest three real sample dossiers into the server's data dir once; their ids by notation.

    Runs in a thread of its own: pyHanko signs with ``asyncio.run``, which refuses to run in
    the thread where Playwright's event loop lives.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_ingest, server).result()


def _ingest(server: Server) -> dict[str, int]:
    settings = server.settings
    services = Services.build(settings)
    try:
        marker = settings.data_dir / "e2e-h12-corpus.done"
        if not marker.exists():
            source = settings.data_dir / "e2e-h12-source"
            shutil.rmtree(source, ignore_errors=True)
            pki = TestPki.create(settings.data_dir / "e2e-h12-pki")
            settings.trust_path.mkdir(parents=True, exist_ok=True)
            shutil.copy(pki.root, settings.trust_path / "e2e-h12-test-root.pem")
            install_test_signatures(settings)
            for spec, folder in zip(CHOSEN, build_corpus(source, pki, specs=CHOSEN), strict=True):
                result = services.ingest.ingest(
                    folder, spec.agency, actor=Agent.person("vanthu"), source_kind="demo"
                )
                assert result.status == "accepted", result
            marker.touch()
        with services.session() as s:
            return {
                spec.notation: s.scalars(select(Dossier.id).where(Dossier.code == file_code(spec))).one()
                for spec in CHOSEN
            }
    finally:
        services.close()


@pytest.fixture(scope="module")
def samples(server: Server) -> Iterator[dict[str, int]]:
    ids = ingest_sample_dossiers(server)
    services = Services.build(server.settings)
    with services.sessions.begin() as s:  # the head of the archive also holds the decider role
        user = s.scalars(select(User).where(User.username == "luutru")).one()
        if not user.has_role(Role.DECIDER):
            s.add(UserRole(user_id=user.id, role=Role.DECIDER))
    services.close()
    yield ids


def switch(page: Any, username: str) -> None:
    page.goto("/portal/")
    if page.locator("form.inline button.link-button").count():
        page.click("form.inline button.link-button")
    sign_in(page, username)


def test_disposal_case_through_council_vote_and_decision(page: Any, samples: dict[str, int]) -> None:
    code = file_code(next(s for s in CHOSEN if s.notation == "06.VP"))
    switch(page, "luutru")
    page.goto("/disposal/")
    page.click("button[data-action=mark-due]")
    page.wait_for_selector(f'tr[data-due="{code}"]')
    page.click(f'tr[data-due="{code}"] a[href*="/appraise"]')
    page.fill("textarea[name=reason]", "Hết thời hạn bảo quản 10 năm, không còn giá trị.")
    page.click("button[data-action=appraise]")
    page.fill("input[name=title]", "Hủy tài liệu hết thời hạn bảo quản năm 2026")
    page.fill("textarea[name=note]", "Hồ sơ trật tự an toàn giao thông năm 2011 đã hết thời hạn 10 năm.")
    page.click("button[data-action=open-case]")
    page.wait_for_selector(f'tr[data-dossier="{code}"]')
    case_url = page.url
    page.click("button[data-action=submit]")
    page.wait_for_selector('[data-state="council"]')

    for member, ballot, opinion in (
        ("hoidong1", "approve", "Đồng ý hủy."),
        ("hoidong2", "approve", ""),
        ("hoidong3", "reject", DISSENT),
    ):
        switch(page, member)
        page.goto(case_url)
        page.check(f'form[data-form=vote] input[value="{ballot}"]')
        page.fill("form[data-form=vote] textarea[name=opinion]", opinion)
        page.click("form[data-form=vote] button[type=submit]")
        page.wait_for_selector(f'tr[data-vote="{member}"]')
    assert page.inner_text('tr[data-vote="hoidong3"] [data-opinion]') == DISSENT
    assert page.get_attribute("[data-outcome]", "data-outcome") == "approved"
    page.locator("[data-section=council]").scroll_into_view_if_needed()
    doc_shot(page, "disposal-council")

    switch(page, "luutru")
    page.goto(case_url)
    page.fill("form[data-form=review] input[name=reference]", "15/TĐ-CCVTLT")
    page.fill("form[data-form=review] textarea[name=opinion]", "Đồng ý với danh mục tài liệu hủy.")
    page.click("form[data-form=review] button[type=submit]")
    page.fill("form[data-form=decide] input[name=reference]", "20/QĐ-UBND")
    page.click("form[data-form=decide] button[type=submit]")
    refusal = page.inner_text(".flash-error")
    assert "bốn mắt" in refusal and "may not decide" in refusal
    assert page.get_attribute(".badge[data-state]", "data-state") == "decision"

    switch(page, "giamdoc")
    page.goto(case_url)
    page.fill("form[data-form=decide] input[name=reference]", "20/QĐ-UBND")
    page.click("form[data-form=decide] button[type=submit]")
    page.wait_for_selector('[data-state="approved"]')

    switch(page, "luutru")
    page.goto(case_url)
    page.click("button[data-action=execute]")
    page.wait_for_selector(f'tr[data-destroyed="{code}"]')
    assert page.locator("[data-section=progress] li").count() == 2  # one step per replica
    with page.expect_download() as download:
        page.click('a[data-paper$="-bien-ban-huy.pdf"]')
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    page.goto(f"/portal/records/{samples['06.VP']}")
    assert page.locator("[data-tombstone]").count() == 1
    assert "20/QĐ-UBND" in page.inner_text("article")
