"""The web console and portal in a real browser (Debian chromium through Playwright) against `luutru serve`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from archive.catalog import AccessMode, Dossier
from luutru.services import Services

from .conftest import VIEWPORT, Server, doc_shot, sign_in

pytestmark = pytest.mark.browser

# username → the navigation entries (data-nav) the header must show, and where sign-in lands
ROLES: dict[str, tuple[set[str], str]] = {
    # the same navigation the Flask-level test expects (tests/web/test_routes_access.py NAV)
    "admin": (
        {
            "dashboard",
            "admin-users",
            "admin-agencies",
            "admin-tokens",
            "portal",
            "search",
            "disposal",
            "admin-settings",
            "format-policy",
        },
        "/console/",
    ),
    "luutru": (
        {
            "dashboard",
            "access-requests",
            "ingest",
            "registers",
            "portal",
            "search",
            "disposal",
            "format-policy",
        },
        "/console/",
    ),
    "kiemtra": ({"dashboard", "portal", "search", "disposal"}, "/console/"),
    "hoidong1": ({"portal", "search", "disposal"}, "/portal/"),
    "giamdoc": ({"portal", "search", "disposal"}, "/portal/"),
    "docgia": ({"portal", "my-requests", "search"}, "/portal/"),
    "vanthu": ({"portal", "search"}, "/portal/"),
}


def _nav(page: Any) -> set[str]:
    return {el.get_attribute("data-nav") for el in page.query_selector_all("nav.main-nav a")}


def test_login_page_and_every_role_sees_its_navigation(page: Any, server: Server) -> None:
    page.goto("/login")
    assert page.inner_text("h1") == "Đăng nhập"
    doc_shot(page, "login")
    for username, (nav, landing) in ROLES.items():
        sign_in(page, username)
        page.wait_for_url(re.compile(re.escape(server.url + landing)))
        assert _nav(page) == nav, username
        assert page.get_attribute("[data-user]", "data-user") == username
        page.click("text=Đăng xuất")
        page.wait_for_url(re.compile(r"/login"))


def test_archivist_dashboard_and_admin_pages(page: Any) -> None:
    sign_in(page, "admin")
    page.wait_for_url(re.compile(r"/console/$"))
    assert page.locator("svg.chart").count() == 4
    assert int(page.inner_text("[data-figure=holdings]")) > 0
    doc_shot(page, "dashboard")
    page.click("nav >> text=Người dùng")
    assert page.locator("tr[data-username=docgia]").count() == 1
    doc_shot(page, "admin-users")
    page.click("nav >> text=Cơ quan")
    assert page.locator("tr[data-agency='000.00.07.H54']").count() == 1


def test_researcher_cannot_open_console_or_admin(page: Any) -> None:
    sign_in(page, "docgia")
    page.wait_for_url(re.compile(r"/portal/$"))
    doc_shot(page, "portal")
    for path in ("/console/", "/admin/users", "/admin/tokens", "/console/access-requests"):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.inner_text("h1") == "Không có quyền truy cập"


def test_form_without_csrf_token_is_refused(page: Any, server: Server) -> None:
    sign_in(page, "admin")
    page.wait_for_url(re.compile(r"/console/$"))
    page.goto("/admin/agencies")
    form = "form[action='/admin/agencies']"
    page.fill(f"{form} input[name=code]", "000.00.21.H54")
    page.fill(f"{form} input[name=name]", "Sở Y tế tỉnh Thái Bình")
    page.eval_on_selector(f"{form} input[name=csrf_token]", "el => el.remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(f"{form} button[type=submit]")
    assert posted.value.status == 400
    assert page.inner_text("h1") == "Biểu mẫu đã hết hạn"
    # the same cookies without a token from outside the page: refused too
    response = page.context.request.post(
        f"{server.url}/admin/agencies", form={"code": "000.00.22.H54", "name": "X"}
    )
    assert response.status == 400
    page.goto("/admin/agencies")
    assert page.locator("tr[data-agency='000.00.21.H54']").count() == 0


def test_five_wrong_passwords_lock_the_account(page: Any) -> None:
    # vanthu signs in nowhere else in the browser tests (the server is shared per worker)
    for _ in range(5):
        sign_in(page, "vanthu", "mat-khau-sai")
        assert page.locator(".flash-error").count() == 1
    sign_in(page, "vanthu")  # the right password, too late
    assert page.locator(".flash-error").count() == 1
    assert "/login" in page.url
    assert page.locator("[data-user]").count() == 0


def test_language_switch_to_english_and_back(page: Any) -> None:
    sign_in(page, "luutru")
    page.wait_for_url(re.compile(r"/console/$"))
    assert page.inner_text("h1") == "Tổng quan"
    page.click("a.lang")
    assert page.inner_text("h1") == "Dashboard"
    assert page.get_attribute("html", "lang") == "en"
    page.click("nav >> text=Access requests")
    assert page.inner_text("h1") == "Access requests"  # the choice is remembered
    page.click("a.lang")
    assert page.inner_text("h1") == "Yêu cầu khai thác"
    assert page.get_attribute("html", "lang") == "vi"


def _conditional_dossier(server: Server) -> int:
    services = Services.build(server.settings)
    try:
        with services.session() as s:
            found = s.scalar(
                select(Dossier.id).where(Dossier.access_mode == AccessMode.CONDITIONAL).order_by(Dossier.id)
            )
    finally:
        services.close()
    assert found is not None
    return int(found)


def test_access_request_answered_through_htmx(page: Any, browser: Any, server: Server) -> None:
    dossier_id = _conditional_dossier(server)
    sign_in(page, "docgia")
    page.wait_for_url(re.compile(r"/portal/$"))
    page.goto(f"/portal/dossiers/{dossier_id}")
    assert page.locator("[data-content=hidden]").count() == 1
    page.click("text=Tạo yêu cầu khai thác")
    page.fill("textarea[name=purpose]", "Nghiên cứu lịch sử địa phương")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/requests$"))
    assert "Chờ duyệt" in page.inner_text("table.data")

    archivist = browser.new_context(base_url=server.url, viewport=VIEWPORT)
    try:
        desk = archivist.new_page()
        sign_in(desk, "luutru")
        desk.wait_for_url(re.compile(r"/console/$"))
        desk.goto("/console/access-requests")
        row = desk.locator("tr[data-request]", has_text="Nghiên cứu lịch sử địa phương")
        doc_shot(desk, "access-requests")
        # only the htmx header (hx-headers on <body>) carries the CSRF token now
        row.locator("input[name=csrf_token]").evaluate("el => el.remove()")
        with desk.expect_response(lambda r: r.request.method == "POST") as answered:
            row.locator("button[value=approve]").click()
        assert answered.value.status == 200
        assert answered.value.request.header_value("x-csrftoken")
        row.locator(".badge-approved").wait_for()
        assert desk.url.endswith("/console/access-requests")  # swapped in place, no reload
    finally:
        archivist.close()

    page.goto(f"/portal/dossiers/{dossier_id}")
    assert page.locator("[data-content=visible]").count() == 1
