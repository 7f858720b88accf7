"""Administration: users and their roles, agencies and their codes, agencies' API tokens.

Administrators only. Every change goes through ``luutru.accounts`` / ``archive.agencies`` or
records its own ``EventType.ADMINISTRATION`` event in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.agencies import InvalidAgencyCode, create_agency
from archive.catalog import Agency, ApiToken, EventType, Role, TokenScope, User, UserRole
from archive.errors import Conflict, NotFound
from archive.vntime import VN_TZ, utcnow, vn_today
from luutru import accounts, web_sessions
from luutru.web.auth import POLICY_KEY, current_actor, requires, web_services

bp = Blueprint("admin", __name__, url_prefix="/admin")

MIN_PASSWORD = 12


def _agent() -> events.Agent:
    return events.Agent.person(current_actor().username or "-")


def _roles_from_form() -> list[Role]:
    chosen = request.form.getlist("roles")
    try:
        return sorted({Role(r) for r in chosen})
    except ValueError:
        abort(400)


def _agency_from_form(s: Session) -> Agency | None:
    code = request.form.get("agency", "").strip()
    if not code:
        return None
    agency = s.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        abort(400)
    return agency


# -- users -------------------------------------------------------------------------------------
@bp.get("/users")
@requires(Role.ADMINISTRATOR)
def users() -> ResponseReturnValue:
    with web_services().session() as s:
        rows = s.scalars(select(User).order_by(User.username)).all()
        agencies = s.scalars(select(Agency).order_by(Agency.code)).all()
        codes = {a.id: a.code for a in agencies}
        live = web_sessions.live_counts(s, current_app.extensions[POLICY_KEY], utcnow())
    return render_template(
        "admin/users.html", users=rows, agencies=agencies, codes=codes, roles=list(Role), live=live
    )


@bp.post("/users")
@requires(Role.ADMINISTRATOR)
def create_user() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()
    full_name = request.form.get("full_name", "").strip()
    password = request.form.get("password", "")
    if not username or not full_name or len(username) > 100:
        flash(_("Username and full name are required."), "error")
        return redirect(url_for("admin.users"))
    if len(password) < MIN_PASSWORD:
        flash(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD), "error")
        return redirect(url_for("admin.users"))
    roles = _roles_from_form()
    try:
        with web_services().sessions.begin() as s:
            agency = _agency_from_form(s)
            accounts.create_user(s, username, full_name, password, roles, agency=agency, actor=_agent())
    except Conflict:
        flash(_("A user with this username already exists."), "error")
        return redirect(url_for("admin.users"))
    flash(_("User %(name)s created.", name=username), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/roles")
@requires(Role.ADMINISTRATOR)
def set_roles(user_id: int) -> ResponseReturnValue:
    roles = _roles_from_form()
    me = current_actor()
    if user_id == me.user_id and Role.ADMINISTRATOR not in roles:
        flash(_("You cannot remove your own administrator role."), "error")
        return redirect(url_for("admin.users"))
    with web_services().sessions.begin() as s:
        user = s.get(User, user_id)
        if user is None:
            abort(404)
        before = sorted(r.role.value for r in user.roles)
        keep = [r for r in user.roles if r.role in roles]
        have = {r.role for r in keep}
        user.roles = keep + [UserRole(role=r) for r in roles if r not in have]
        events.record(
            s,
            EventType.ADMINISTRATION,
            object_type="user",
            object_id=user.username,
            agent=_agent(),
            detail="roles changed",
            data={"before": before, "after": sorted(r.value for r in roles)},
        )
        name = user.username
    flash(_("Roles of %(name)s saved.", name=name), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@requires(Role.ADMINISTRATOR)
def set_active(user_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "1"
    if user_id == current_actor().user_id and not active:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.users"))
    with web_services().sessions.begin() as s:
        user = s.get(User, user_id)
        if user is None:
            abort(404)
        accounts.set_active(s, user, active, actor=_agent())
        name = user.username
    flash(
        _("%(name)s activated.", name=name) if active else _("%(name)s deactivated.", name=name),
        "info",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sessions/end")
@requires(Role.ADMINISTRATOR)
def end_sessions(user_id: int) -> ResponseReturnValue:
    """End every session of the user at once (a lost laptop, a suspected stolen cookie)."""
    with web_services().sessions.begin() as s:
        user = s.get(User, user_id)
        if user is None:
            abort(404)
        name = user.username
        ended = accounts.end_sessions(s, name, actor=_agent())
    flash(_("%(n)d session(s) of %(name)s ended.", n=ended, name=name), "info")
    return redirect(url_for("admin.users"))


# -- agencies ------------------------------------------------------------------------------------
@bp.get("/agencies")
@requires(Role.ADMINISTRATOR)
def agencies() -> ResponseReturnValue:
    with web_services().session() as s:
        rows = s.scalars(select(Agency).order_by(Agency.code)).all()
    return render_template("admin/agencies.html", agencies=rows)


@bp.post("/agencies")
@requires(Role.ADMINISTRATOR)
def add_agency() -> ResponseReturnValue:
    code = request.form.get("code", "").strip().upper()
    name = request.form.get("name", "").strip()
    short = request.form.get("short_name", "").strip() or None
    if not code or not name:
        flash(_("Code and name are required."), "error")
        return redirect(url_for("admin.agencies"))
    try:
        with web_services().sessions.begin() as s:
            create_agency(s, code, name, short_name=short, actor=_agent())
    except InvalidAgencyCode as exc:
        flash(_("Invalid agency code: %(reasons)s", reasons="; ".join(exc.reasons)), "error")
        return redirect(url_for("admin.agencies"))
    except Conflict:
        flash(_("An agency with this code already exists."), "error")
        return redirect(url_for("admin.agencies"))
    flash(_("Agency %(code)s added.", code=code), "info")
    return redirect(url_for("admin.agencies"))


# -- API tokens --------------------------------------------------------------------------------------
def _token_page(secret: str | None = None, status: int = 200) -> ResponseReturnValue:
    with web_services().session() as s:
        tokens = s.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())).all()
        agencies = s.scalars(select(Agency).order_by(Agency.code)).all()
        codes = {a.id: a.code for a in agencies}
    return (
        render_template(
            "admin/tokens.html",
            tokens=tokens,
            agencies=agencies,
            codes=codes,
            scopes=list(TokenScope),
            secret=secret,
            now=utcnow(),
        ),
        status,
        {"Cache-Control": "no-store"},
    )


def _expiry_from_form() -> datetime | None:
    """The token's expiry: valid through the chosen day (Vietnam time); None when left empty.

    Raises ValueError when the date is unreadable or not after today.
    """
    raw = request.form.get("expires_on", "").strip()
    if not raw:
        return None
    day = date.fromisoformat(raw)
    if day <= vn_today():
        raise ValueError("expiry not after today")
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN_TZ)


@bp.get("/tokens")
@requires(Role.ADMINISTRATOR)
def tokens() -> ResponseReturnValue:
    return _token_page()


@bp.post("/tokens")
@requires(Role.ADMINISTRATOR)
def issue_token() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()[:100]
    try:
        scopes = sorted({TokenScope(v) for v in request.form.getlist("scopes")})
    except ValueError:
        abort(400)
    if not name or not scopes:
        flash(_("A name and at least one scope are required."), "error")
        return redirect(url_for("admin.tokens"))
    try:
        expires_at = _expiry_from_form()
    except ValueError:
        flash(_("The expiry must be a date after today."), "error")
        return redirect(url_for("admin.tokens"))
    with web_services().sessions.begin() as s:
        agency = _agency_from_form(s)
        if agency is None:
            abort(400)
        user = s.get(User, current_actor().user_id)
        issued = accounts.issue_token(
            s, agency, name, scopes, actor=_agent(), created_by=user, expires_at=expires_at
        )
        secret = issued.secret
    # Shown once, in this response only (never stored, never redirected through the session).
    return _token_page(secret=secret, status=201)


@bp.post("/tokens/<prefix>/revoke")
@requires(Role.ADMINISTRATOR)
def revoke_token(prefix: str) -> ResponseReturnValue:
    try:
        with web_services().sessions.begin() as s:
            accounts.revoke_token(s, prefix, actor=_agent())
    except NotFound:
        abort(404)
    flash(_("Token %(prefix)s revoked.", prefix=prefix), "info")
    return redirect(url_for("admin.tokens"))


__all__ = ["bp"]
