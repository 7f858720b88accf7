"""Sign-in, lockout, rate limit, idle expiry, CSRF, cookies and security headers through the routes."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from archive.catalog import Event, EventType, Outcome, User, WebSession
from archive.events import verify_chain
from archive.vntime import utcnow
from luutru.web.auth import SID_KEY, TokenBucket
from luutru.web_sessions import digest

from .conftest import PASSWORD, Web, csrf_token, login, post


def _user(web: Web, username: str) -> User:
    with web.services.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def _auth_events(web: Web, username: str) -> list[tuple[Outcome, str]]:
    with web.services.session() as s:
        rows = s.scalars(
            select(Event)
            .where(Event.type == EventType.AUTHENTICATION, Event.object_id == username)
            .order_by(Event.seq)
        ).all()
        return [(e.outcome, e.detail) for e in rows]


def test_sign_in_lands_on_the_role_home_and_is_an_event(web: Web) -> None:
    client = web.client()
    token = csrf_token(client)
    r = client.post("/login", data={"csrf_token": token, "username": "luutru", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert _auth_events(web, "luutru") == [(Outcome.SUCCESS, "signed in")]
    assert _user(web, "luutru").last_login_at is not None
    researcher = web.client()
    token = csrf_token(researcher)
    r = researcher.post("/login", data={"csrf_token": token, "username": "docgia", "password": PASSWORD})
    assert r.headers["Location"] == "/portal/"


def test_wrong_password_five_times_locks_the_account_for_15_minutes(web: Web) -> None:
    client = web.client()
    for _ in range(4):
        assert login(client, "docgia", "sai-mat-khau") == 401
    assert _user(web, "docgia").failed_logins == 4
    assert login(client, "docgia", "sai-mat-khau") == 401
    user = _user(web, "docgia")
    assert user.locked_until is not None
    remaining = user.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    # the right password no longer opens it, and the page says so without naming the cause
    r = client.post(
        "/login", data={"csrf_token": csrf_token(client), "username": "docgia", "password": PASSWORD}
    )
    assert r.status_code == 401
    assert "tài khoản đang bị khóa" in r.get_data(as_text=True)
    details = [d for _, d in _auth_events(web, "docgia")]
    assert details.count("sign-in refused: wrong password") == 4
    assert any(d.startswith("account locked") for d in details)
    assert details[-1] == "sign-in refused: account locked"
    with web.services.session() as s:
        assert verify_chain(s).ok


def test_lockout_ends_after_its_time(web: Web) -> None:
    with web.services.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "docgia"))
        assert user is not None
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert login(web.client(), "docgia") == 302
    assert _user(web, "docgia").locked_until is None


def test_unknown_and_inactive_users_get_the_same_answer(web: Web) -> None:
    client = web.client()
    unknown = client.post(
        "/login", data={"csrf_token": csrf_token(client), "username": "khong-co", "password": "x"}
    )
    with web.services.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "kiemtra"))
        assert user is not None
        user.active = False
    inactive = client.post(
        "/login", data={"csrf_token": csrf_token(client), "username": "kiemtra", "password": PASSWORD}
    )
    assert unknown.status_code == inactive.status_code == 401
    flash = "Sai tên đăng nhập hoặc mật khẩu"
    assert flash in unknown.get_data(as_text=True) and flash in inactive.get_data(as_text=True)


def test_login_post_is_rate_limited_per_ip(web: Web) -> None:
    web.app.extensions["luutru.login_limiter"] = TokenBucket(capacity=3, per_minute=6, clock=web.clock)
    client = web.client()
    for _ in range(3):
        assert login(client, "khong-co", "x") == 401
    assert login(client, "khong-co", "x") == 429
    assert login(client, "luutru") == 429  # even the right password waits
    other_ip = web.app.test_client()
    other_ip.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(other_ip, "luutru") == 302
    web.clock.now += 10  # 6 per minute → one token back after 10 s
    assert login(client, "luutru") == 302


def test_token_bucket_refills_and_caps() -> None:
    now = [0.0]
    bucket = TokenBucket(capacity=2, per_minute=60, clock=lambda: now[0])
    assert bucket.take("a") and bucket.take("a") and not bucket.take("a")
    now[0] += 1.0
    assert bucket.take("a") and not bucket.take("a")
    now[0] += 3600
    assert bucket.take("a") and bucket.take("a") and not bucket.take("a")  # capped at capacity
    assert bucket.take("b")


def _session_row(web: Web, client: FlaskClient) -> WebSession:
    with client.session_transaction() as sess:
        sid = sess[SID_KEY]
    with web.services.session() as s:
        row = s.scalar(select(WebSession).where(WebSession.token_hash == digest(sid)))
        assert row is not None
        return row


def _set_last_seen(web: Web, client: FlaskClient, ago: timedelta) -> None:
    row = _session_row(web, client)
    with web.services.sessions.begin() as s:
        s.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=utcnow() - ago))


def test_idle_session_expires(web: Web) -> None:
    client = web.client()
    assert login(client, "luutru") == 302
    assert client.get("/console/").status_code == 200
    _set_last_seen(web, client, timedelta(minutes=31))  # session_minutes = 30
    r = client.get("/console/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/console/").status_code == 302  # signed out for good


def test_activity_keeps_the_session_alive(web: Web) -> None:
    client = web.client()
    assert login(client, "luutru") == 302
    _set_last_seen(web, client, timedelta(minutes=29))
    assert client.get("/console/").status_code == 200
    assert _session_row(web, client).last_seen_at >= utcnow() - timedelta(seconds=5)
    with client.session_transaction() as sess:
        assert sess.permanent
    assert web.app.permanent_session_lifetime == timedelta(minutes=30)


def test_post_without_csrf_token_is_refused(web: Web) -> None:
    client = web.client()
    r = client.post("/login", data={"username": "luutru", "password": PASSWORD})
    assert r.status_code == 400
    assert "Biểu mẫu đã hết hạn" in r.get_data(as_text=True)
    assert _auth_events(web, "luutru") == []
    assert login(client, "admin") == 302
    r = client.post("/admin/agencies", data={"code": "000.00.21.H54", "name": "Sở Y tế"})
    assert r.status_code == 400


def test_csrf_token_in_the_htmx_header_is_accepted(web: Web) -> None:
    client = web.client()
    assert login(client, "admin") == 302
    page = client.get("/admin/agencies").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    r = client.post(
        "/admin/agencies",
        data={"code": "000.00.21.H54", "name": "Sở Y tế"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 302


def test_logout_needs_post_and_ends_the_session(web: Web) -> None:
    client = web.client()
    assert login(client, "luutru") == 302
    assert client.get("/logout").status_code == 405
    r = post(client, "/logout")
    assert r.status_code == 302
    assert client.get("/console/").status_code == 302
    assert _auth_events(web, "luutru")[-1] == (Outcome.SUCCESS, "signed out")


def test_next_parameter_cannot_leave_the_site(web: Web) -> None:
    client = web.client()
    r = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client),
            "username": "luutru",
            "password": PASSWORD,
            "next": "//evil.example/",
        },
    )
    assert r.headers["Location"] == "/console/"
    client2 = web.client()
    r = client2.get("/admin/users")
    assert r.status_code == 302 and "next=/admin/users" in r.headers["Location"]
    r = client2.post(
        "/login",
        data={
            "csrf_token": csrf_token(client2),
            "username": "admin",
            "password": PASSWORD,
            "next": "/admin/users",
        },
    )
    assert r.headers["Location"] == "/admin/users"


def test_deactivated_user_loses_the_session_at_once(web: Web) -> None:
    client = web.client()
    assert login(client, "luutru") == 302
    with web.services.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "luutru"))
        assert user is not None
        user.active = False
    assert client.get("/console/").status_code == 302


def test_security_headers_and_cookie_flags(web: Web) -> None:
    client = web.client()
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in r.get_data(as_text=True)  # no inline script for the CSP to block
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in r.headers


def test_secure_cookies_setting_marks_cookies_secure(web: Web) -> None:
    from luutru.web.app import create_app

    settings = web.services.settings.with_(secure_cookies=True)
    app = create_app(settings, web.services)
    r = app.test_client().get("/login")
    assert "Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
