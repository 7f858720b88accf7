"""Accounts on the web: sign-in with lockout and a per-IP rate limit, idle expiry, roles.

* Passwords are argon2id (``luutru.accounts.check_password``).
* Five wrong passwords lock an account for 15 minutes (``User.failed_logins`` / ``locked_until``).
* The sign-in POST is rate-limited per client IP by an in-process token bucket. With several
  app servers each has its own bucket: put a limit in the reverse proxy (or a shared Redis
  limiter) in front of them.
* Sessions live in the catalog (``luutru.web_sessions``): the cookie holds an opaque random
  id, never the user. Signing out, a password change, deactivation and an administrator's
  "end sessions" end them at once; so do ``session_minutes`` without a request and
  ``session_max_hours`` since sign-in. A request with an ended session is sent to the sign-in
  page with a message. The same signed cookie also carries the language and the CSRF token.
* Success, failure and lockout are ``EventType.AUTHENTICATION`` events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import Agency, EventType, Outcome, Role, User
from archive.vntime import as_utc, utcnow
from luutru import web_sessions
from luutru.accounts import check_password
from luutru.ratelimit import TokenBucket
from luutru.services import Services
from policies.access import Actor, granted_dossiers

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SID_KEY = "sid"  # the opaque session id in the cookie (the catalog keeps its SHA-256)
LIMITER_KEY = "luutru.login_limiter"
POLICY_KEY = "luutru.session_policy"

P = ParamSpec("P")
R = TypeVar("R")


# -- the signed-in user --------------------------------------------------------------------------
@dataclass(frozen=True)
class WebUser(UserMixin):  # type: ignore[misc]
    """What a request knows about its user, detached from the database session."""

    user_id: int
    username: str
    full_name: str
    roles: frozenset[Role]
    agency_code: str | None

    def get_id(self) -> str:
        return str(self.user_id)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


def web_services() -> Services:
    """The app's Services (catalog sessions, settings)."""
    svc: Services = current_app.extensions["luutru"]
    return svc


def _web_user(s: Session, user: User) -> WebUser:
    agency_code = s.scalar(select(Agency.code).where(Agency.id == user.agency_id)) if user.agency_id else None
    return WebUser(user.id, user.username, user.full_name, frozenset(r.role for r in user.roles), agency_code)


def _session_user() -> WebUser | None:
    """The user of this request's live session (looked up once per request, cached on ``g``).

    An ended or expired session is noted in ``g.session_ended`` for ``_check_session``.
    """
    if "web_user" in g:
        cached: WebUser | None = g.web_user
        return cached
    g.web_user = None
    token = session.get(SID_KEY)
    if not isinstance(token, str) or not token:
        return None
    policy: web_sessions.SessionPolicy = current_app.extensions[POLICY_KEY]
    now = utcnow()
    svc = web_services()
    with svc.session() as s:
        found = web_sessions.resolve(s, token, policy, now)
        if isinstance(found, web_sessions.LiveSession):
            f = found
            g.web_user = WebUser(f.user_id, f.username, f.full_name, f.roles, f.agency_code)
    # Writes come after the read session closed: SQLite sessions are short and never nested.
    if isinstance(found, web_sessions.EndedSession):
        g.session_ended = True
        if found.newly_ended and found.id is not None and found.reason is not None:
            with svc.sessions.begin() as s:
                web_sessions.expire(s, found.id, found.reason, now)
    elif found.needs_touch:
        with svc.sessions.begin() as s:
            web_sessions.touch(s, found.id, now)
    result: WebUser | None = g.web_user
    return result


def _load_user_from_request(_request: object) -> WebUser | None:
    return _session_user()


def current_actor() -> Actor:
    """The actor for ``policies.access``: roles, agency and live access-request grants."""
    if "actor" in g:
        actor: Actor = g.actor
        return actor
    if not current_user.is_authenticated:
        anonymous = Actor.anonymous()
        g.actor = anonymous
        return anonymous
    user: WebUser = current_user
    grants: frozenset[int] = frozenset()
    if Role.RESEARCHER in user.roles:
        with web_services().session() as s:
            grants = granted_dossiers(s, user.user_id)
    actor = Actor.of(user.user_id, user.username, user.roles, user.agency_code, grants)
    g.actor = actor
    return actor


def requires(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let the view run only for a signed-in user holding one of ``roles`` (else login / 403)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
            if roles and not current_user.has(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def home_for(user: WebUser) -> str:
    if user.has(Role.ARCHIVIST, Role.ADMINISTRATOR, Role.AUDITOR):
        return url_for("console.dashboard")
    return url_for("portal.home")


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site; None (→ the default page) otherwise.

    Refused: absolute or scheme-relative URLs (``//host``, ``/\\host``, which browsers read
    as another site), and any control character (a CR/LF would otherwise break the
    ``Location`` header and the response).
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return None
    return None if parts.scheme or parts.netloc else target


# -- views ---------------------------------------------------------------------------------------
def _auth_event(s: Session, username: str, outcome: Outcome, detail: str) -> None:
    events.record(
        s,
        EventType.AUTHENTICATION,
        object_type="user",
        object_id=username,
        agent=events.Agent.person(username),
        outcome=outcome,
        detail=detail,
        data={"ip": request.remote_addr or ""},
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("login.html", next=_safe_next(request.args.get("next")) or "")
    limiter: TokenBucket = current_app.extensions[LIMITER_KEY]
    if not limiter.take(request.remote_addr or "unknown"):
        flash(_("Too many sign-in attempts from your address. Wait a minute and try again."), "error")
        return render_template("login.html", next=""), 429
    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")
    now = utcnow()
    web_user: WebUser | None = None
    sid = ""
    with web_services().sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == username)) if username else None
        if user is None or not user.active:
            _auth_event(s, username or "-", Outcome.FAILURE, "sign-in refused: unknown or inactive user")
        elif user.locked_until is not None and as_utc(user.locked_until) > now:
            _auth_event(s, username, Outcome.FAILURE, "sign-in refused: account locked")
        elif not check_password(user, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
                _auth_event(
                    s,
                    username,
                    Outcome.FAILURE,
                    f"account locked for {LOCKOUT} after {MAX_FAILURES} failures",
                )
            else:
                _auth_event(s, username, Outcome.FAILURE, "sign-in refused: wrong password")
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            _auth_event(s, username, Outcome.SUCCESS, "signed in")
            web_user = _web_user(s, user)
            previous = session.get(SID_KEY)
            if isinstance(previous, str) and previous:
                web_sessions.end_session(s, previous, now)  # signing in again replaces the session
            sid = web_sessions.start_session(s, user.id, now)
    if web_user is None:
        # One message for every refusal: it must not tell which usernames exist.
        flash(_("Wrong username or password, or the account is locked for 15 minutes."), "error")
        return render_template("login.html", next=_safe_next(request.form.get("next")) or ""), 401
    lang = session.get("lang")
    session.clear()  # no fixation: a fresh session at sign-in
    if lang:
        session["lang"] = lang
    session.permanent = True
    session[SID_KEY] = sid
    g.web_user = web_user
    return redirect(_safe_next(request.form.get("next")) or home_for(web_user))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    token = session.get(SID_KEY)
    if isinstance(token, str) and token:
        with web_services().sessions.begin() as s:
            if web_sessions.end_session(s, token, utcnow()) is not None and current_user.is_authenticated:
                _auth_event(s, current_user.username, Outcome.SUCCESS, "signed out")
    _forget_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# -- wiring -------------------------------------------------------------------------------------
def _forget_session() -> None:
    """Drop the session id (and Flask-Login's state) from the cookie, keeping the language."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def _check_session() -> ResponseReturnValue | None:
    """Before every request: a cookie whose session ended goes to the sign-in page, with a message."""
    if request.endpoint == "static":
        return None
    _session_user()
    if not g.get("session_ended"):
        return None
    _forget_session()
    if request.endpoint in ("auth.login", "auth.logout") or request.blueprint == "api":
        return None
    flash(
        _(
            "Your session has ended (signed out, expired or closed by an administrator). Please sign in again."
        ),
        "info",
    )
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_auth(
    app: Flask,
    session_minutes: int,
    limiter: TokenBucket | None = None,
    *,
    session_max_hours: int = 12,
) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    # Our own sessions replace Flask-Login's "strong" protection: the cookie names a catalog
    # row that sign-out ends, rather than a user id that stays valid until the cookie expires.
    manager.session_protection = None
    manager.login_message = ""
    manager.request_loader(_load_user_from_request)
    manager.init_app(app)
    app.permanent_session_lifetime = timedelta(minutes=session_minutes)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(0)
    app.extensions[LIMITER_KEY] = limiter or TokenBucket()
    app.extensions[POLICY_KEY] = web_sessions.SessionPolicy(
        idle=timedelta(minutes=session_minutes), absolute=timedelta(hours=session_max_hours)
    )
    app.before_request(_check_session)
    app.register_blueprint(bp)

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        return {"current_user": current_user, "Role": Role}


__all__ = [
    "SID_KEY",
    "TokenBucket",
    "WebUser",
    "bp",
    "current_actor",
    "home_for",
    "init_auth",
    "requires",
    "web_services",
]
