"""Server-side sessions: a cookie saved before the session ended opens nothing afterwards.

Each test signs in for real, copies the session cookie (what a thief or a shared computer
keeps), ends the session one way, then replays the copy against ``/admin/tokens``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from archive.catalog import ApiToken, Event, EventType, User, WebSession
from archive.vntime import utcnow
from luutru import accounts
from luutru.cli.main import cli
from luutru.web.auth import SID_KEY
from luutru.web_sessions import SessionEnd, digest

from .conftest import PASSWORD, Web, csrf_token, login, post

COOKIE = "luutru_session"
ENDED_VI = "Phiên làm việc đã kết thúc"
ENDED_EN = "Your session has ended"


def _saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _replay(web: Web, value: str) -> FlaskClient:
    thief = web.client()
    thief.set_cookie(COOKIE, value)
    return thief


def _admin_signed_in(web: Web) -> tuple[FlaskClient, str]:
    client = web.client()
    assert login(client, "admin") == 302
    assert client.get("/admin/tokens").status_code == 200
    return client, _saved_cookie(client)


def _row(web: Web, client: FlaskClient) -> WebSession:
    with client.session_transaction() as sess:
        sid = sess[SID_KEY]
    with web.services.session() as s:
        row = s.scalar(select(WebSession).where(WebSession.token_hash == digest(sid)))
        assert row is not None
        return row


def _assert_refused(web: Web, value: str) -> None:
    """The replayed cookie gets the sign-in page, not the tokens page, and cannot issue a token."""
    thief = _replay(web, value)
    r = thief.get("/admin/tokens")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    page = thief.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đăng nhập" in page
    thief = _replay(web, value)
    with web.services.session() as s:
        before = s.scalar(select(func.count()).select_from(ApiToken))
    r = thief.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_token(thief, "/login"),
            "name": "stolen",
            "agency": "000.00.07.H54",
            "scopes": "submit",
        },
    )
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    with web.services.session() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == before


def test_cookie_replayed_after_logout_gets_the_sign_in_page(web: Web) -> None:
    client, saved = _admin_signed_in(web)
    assert _replay(web, saved).get("/admin/tokens").status_code == 200  # the copy works while live
    assert post(client, "/logout").status_code == 302
    _assert_refused(web, saved)
    assert _row(web, _replay(web, saved)).end_reason == SessionEnd.SIGNED_OUT


def test_cookie_replayed_after_password_change_is_refused(web: Web) -> None:
    _, saved = _admin_signed_in(web)
    with web.services.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        assert accounts.change_password(s, user, "mat-khau-moi-rat-dai") == 1
    _assert_refused(web, saved)
    fresh = web.client()
    assert login(fresh, "admin", PASSWORD) == 401
    assert login(fresh, "admin", "mat-khau-moi-rat-dai") == 302


def test_cookie_replayed_after_deactivation_is_refused(web: Web) -> None:
    victim = web.client()
    assert login(victim, "luutru") == 302
    saved = _saved_cookie(victim)
    admin = web.signed_in("admin")
    with web.services.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == "luutru"))
    r = post(admin, f"/admin/users/{user_id}/active", {"active": "0"}, page="/admin/users")
    assert r.status_code == 302
    thief = _replay(web, saved)
    assert thief.get("/console/").headers["Location"].startswith("/login")
    with web.services.session() as s:
        row = s.scalar(select(WebSession).where(WebSession.user_id == user_id))
        assert row is not None and row.end_reason == SessionEnd.DEACTIVATED
    # re-activating the account does not bring the old session back
    r = post(admin, f"/admin/users/{user_id}/active", {"active": "1"}, page="/admin/users")
    assert _replay(web, saved).get("/console/").status_code == 302


def test_administrator_ends_a_users_sessions_from_the_users_page(web: Web) -> None:
    victim = web.client()
    assert login(victim, "admin") == 302
    saved = _saved_cookie(victim)
    other = web.signed_in("admin")  # a second administrator's browser (same account here)
    page = other.get("/admin/users").get_data(as_text=True)
    with web.services.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == "admin"))
    assert f"/admin/users/{user_id}/sessions/end" in page
    r = post(other, f"/admin/users/{user_id}/sessions/end", page="/admin/users")
    assert r.status_code == 302  # ends its own session too: it is one of the user's
    _assert_refused(web, saved)
    with web.services.session() as s:
        ev = s.scalars(
            select(Event).where(Event.type == EventType.AUTHENTICATION).order_by(Event.seq.desc())
        ).first()
        assert ev is not None and ev.detail == "sessions ended"
        assert ev.data["reason"] == "ended-by-administrator" and ev.data["sessions"] == 2


def test_idle_expiry_ends_the_session_for_a_replayed_cookie(web: Web) -> None:
    client, saved = _admin_signed_in(web)
    row = _row(web, client)
    with web.services.sessions.begin() as s:
        s.execute(
            update(WebSession)
            .where(WebSession.id == row.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    _assert_refused(web, saved)
    assert _row(web, client).end_reason == SessionEnd.IDLE


def test_absolute_expiry_ends_even_a_busy_session(web: Web) -> None:
    client, saved = _admin_signed_in(web)
    row = _row(web, client)
    with web.services.sessions.begin() as s:  # signed in 13 h ago, used a moment ago
        s.execute(
            update(WebSession)
            .where(WebSession.id == row.id)
            .values(created_at=utcnow() - timedelta(hours=13), last_seen_at=utcnow())
        )
    _assert_refused(web, saved)
    assert _row(web, client).end_reason == SessionEnd.EXPIRED


def test_ended_session_message_is_bilingual(web: Web) -> None:
    for lang, text in (("vi", ENDED_VI), ("en", ENDED_EN)):
        client = web.client()
        client.get(f"/login?lang={lang}")
        assert login(client, "luutru") == 302
        saved = _saved_cookie(client)
        post(client, "/logout")
        thief = _replay(web, saved)
        r = thief.get("/console/", follow_redirects=True)
        assert text in r.get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(web: Web) -> None:
    client, _ = _admin_signed_in(web)
    row = _row(web, client)
    recent = utcnow() - timedelta(seconds=30)
    with web.services.sessions.begin() as s:
        s.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=recent))
    assert client.get("/console/").status_code == 200
    assert _row(web, client).last_seen_at == recent  # not rewritten within the minute
    with web.services.sessions.begin() as s:
        s.execute(
            update(WebSession)
            .where(WebSession.id == row.id)
            .values(last_seen_at=utcnow() - timedelta(seconds=61))
        )
    assert client.get("/console/").status_code == 200
    assert _row(web, client).last_seen_at >= utcnow() - timedelta(seconds=5)


def test_cookie_holds_no_user_and_the_catalog_no_session_id(web: Web) -> None:
    client, _ = _admin_signed_in(web)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess and set(sess) <= {
            SID_KEY,
            "lang",
            "csrf_token",
            "_flashes",
            "_permanent",
        }
        sid = sess[SID_KEY]
    with web.services.session() as s:
        hashes = s.scalars(select(WebSession.token_hash)).all()
    assert sid not in hashes and digest(sid) in hashes


def test_crlf_or_offsite_next_is_ignored_never_a_500(web: Web) -> None:
    for target in (
        "/console/\r\nSet-Cookie: x=1",
        "/console/\nX-Injected: 1",
        "/\\evil.example/",
        "https://evil.example/",
        "//[evil",
        "/\x00",
    ):
        client = web.client()
        page = client.get("/login", query_string={"next": target})
        assert page.status_code == 200
        r = client.post(
            "/login",
            data={
                "csrf_token": csrf_token(client),
                "username": "luutru",
                "password": PASSWORD,
                "next": target,
            },
        )
        assert r.status_code == 302, target
        assert r.headers["Location"] == "/console/", target
        assert "X-Injected" not in r.headers
    # a wrong password with a bad next re-renders the form (401), not a 500
    client = web.client()
    r = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "username": "luutru", "password": "x", "next": "/a\r\nb"},
    )
    assert r.status_code == 401


def test_cli_ends_sessions_and_changes_passwords(web: Web, tmp_path: Path) -> None:
    env = {
        "LUUTRU_DATA_DIR": str(web.services.settings.data_dir),
        "LUUTRU_DATABASE_URL": web.services.settings.catalog_url,
        "LUUTRU_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()
    _, saved = _admin_signed_in(web)
    r = runner.invoke(cli, ["user", "end-sessions", "admin", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"user": "admin", "sessions_ended": 1}
    _assert_refused(web, saved)
    _, saved = _admin_signed_in(web)
    r = runner.invoke(cli, ["user", "password", "admin"], input="mat-khau-moi-rat-dai\n" * 2, env=env)
    assert r.exit_code == 0, r.output
    assert "1 session(s) ended" in r.output
    _assert_refused(web, saved)
    r = runner.invoke(cli, ["user", "end-sessions", "khong-co"], env=env)
    assert r.exit_code == 1


def test_old_session_rows_are_purged_daily(web: Web) -> None:
    from luutru.jobs import purge_sessions
    from luutru.web_sessions import start_session

    now = utcnow()
    with web.services.sessions.begin() as s:
        user_id = s.scalar(select(User.id).where(User.username == "luutru"))
        assert user_id is not None
        for _ in range(3):
            start_session(s, user_id, now)
        rows = s.scalars(select(WebSession).where(WebSession.user_id == user_id)).all()
        rows[0].ended_at, rows[0].end_reason = now - timedelta(days=31), SessionEnd.SIGNED_OUT.value
        rows[1].ended_at, rows[1].end_reason = now - timedelta(days=2), SessionEnd.SIGNED_OUT.value
        kept = {rows[1].id, rows[2].id}
    assert purge_sessions(web.services) == 1
    with web.services.session() as s:
        assert set(s.scalars(select(WebSession.id).where(WebSession.user_id == user_id))) == kept


def test_signing_in_again_ends_the_previous_session_of_that_browser(web: Web) -> None:
    client = web.client()
    assert login(client, "luutru") == 302
    first = _saved_cookie(client)
    assert login(client, "luutru") == 302
    assert client.get("/console/").status_code == 200
    thief = _replay(web, first)
    assert thief.get("/console/").headers["Location"].startswith("/login")
