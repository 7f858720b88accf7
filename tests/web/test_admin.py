"""Administration through the routes: users and roles, agencies, API tokens — each change an event."""

from __future__ import annotations

import re

from sqlalchemy import select

from archive.catalog import Agency, ApiToken, Event, EventType, Role, User
from luutru.accounts import authenticate_token

from .conftest import Web, login, post


def _admin(web: Web):  # type: ignore[no-untyped-def]
    client = web.signed_in("admin")
    return client


def _admin_events(web: Web) -> list[tuple[str, str, str]]:
    with web.services.session() as s:
        rows = s.scalars(
            select(Event).where(Event.type == EventType.ADMINISTRATION).order_by(Event.seq)
        ).all()
        return [(e.agent, e.object_id, e.detail) for e in rows if e.agent == "admin"]


def test_create_user_set_roles_and_deactivate(web: Web) -> None:
    client = _admin(web)
    r = post(
        client,
        "/admin/users",
        {
            "username": "docgia2",
            "full_name": "Ngô Thị Hoa",
            "password": "mat-khau-du-dai-2025",
            "roles": ["researcher"],
            "agency": "",
        },
        "/admin/users",
    )
    assert r.status_code == 302
    assert "docgia2" in client.get("/admin/users").get_data(as_text=True)
    assert login(web.client(), "docgia2", "mat-khau-du-dai-2025") == 302
    with web.services.session() as s:
        user = s.scalar(select(User).where(User.username == "docgia2"))
        assert user is not None and user.has_role(Role.RESEARCHER)
        user_id = user.id
    post(client, f"/admin/users/{user_id}/roles", {"roles": ["researcher", "auditor"]}, "/admin/users")
    with web.services.session() as s:
        user = s.get(User, user_id)
        assert user is not None and {r.role for r in user.roles} == {Role.RESEARCHER, Role.AUDITOR}
    post(client, f"/admin/users/{user_id}/active", {"active": "0"}, "/admin/users")
    assert login(web.client(), "docgia2", "mat-khau-du-dai-2025") == 401
    assert [d for _, _, d in _admin_events(web)] == ["user created", "roles changed", "user deactivated"]


def test_short_password_and_duplicate_username_are_refused(web: Web) -> None:
    client = _admin(web)
    data = {"username": "x1", "full_name": "X", "password": "ngan", "roles": ["researcher"]}
    post(client, "/admin/users", data, "/admin/users")
    data = {
        "username": "luutru",
        "full_name": "X",
        "password": "mat-khau-du-dai-2025",
        "roles": ["researcher"],
    }
    r = post(client, "/admin/users", data, "/admin/users")
    assert "Đã có người dùng" in client.get(r.headers["Location"]).get_data(as_text=True)
    with web.services.session() as s:
        assert s.scalar(select(User).where(User.username == "x1")) is None
    assert _admin_events(web) == []


def test_admin_cannot_lock_themself_out(web: Web) -> None:
    client = _admin(web)
    with web.services.session() as s:
        me = s.scalar(select(User).where(User.username == "admin"))
        assert me is not None
    post(client, f"/admin/users/{me.id}/active", {"active": "0"}, "/admin/users")
    post(client, f"/admin/users/{me.id}/roles", {"roles": ["researcher"]}, "/admin/users")
    assert client.get("/admin/users").status_code == 200


def test_add_agency_validates_the_code(web: Web) -> None:
    client = _admin(web)
    post(
        client,
        "/admin/agencies",
        {"code": "000.00.21.H54", "name": "Sở Y tế tỉnh Thái Bình"},
        "/admin/agencies",
    )
    r = post(client, "/admin/agencies", {"code": "not a code!", "name": "Sai"}, "/admin/agencies")
    assert "Mã cơ quan không hợp lệ" in client.get(r.headers["Location"]).get_data(as_text=True)
    with web.services.session() as s:
        codes = set(s.scalars(select(Agency.code)))
    assert "000.00.21.H54" in codes and "NOT A CODE!" not in codes
    assert ("admin", "000.00.21.H54", "agency registered") in _admin_events(web)


def test_token_secret_is_shown_once_and_revocation_works(web: Web) -> None:
    client = _admin(web)
    r = post(
        client,
        "/admin/tokens",
        {"name": "phần mềm QLVB", "agency": "000.00.07.H54", "scopes": ["submit", "read-own"]},
        "/admin/tokens",
    )
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    secret = re.search(r"data-secret>([^<]+)<", r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    prefix = secret.split(".")[0]
    with web.services.sessions.begin() as s:
        assert authenticate_token(s, secret) is not None
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert prefix in listing and secret not in listing
    post(client, f"/admin/tokens/{prefix}/revoke", {}, "/admin/tokens")
    with web.services.sessions.begin() as s:
        assert authenticate_token(s, secret) is None
        token = s.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        assert token is not None and token.revoked_at is not None
    details = [d for _, _, d in _admin_events(web)]
    assert details == ["API token issued", "API token revoked"]
    assert post(client, "/admin/tokens/lt_nope/revoke", {}, "/admin/tokens").status_code == 404
