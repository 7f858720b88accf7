"""Signed-in web sessions kept in the catalog, so that ending one takes effect at once.

The browser's cookie holds an opaque random id (``secrets.token_urlsafe(32)``) and nothing
about the user; the ``web_session`` row keeps the SHA-256 of that id, the user, when it began
and when it was last seen. A request is signed in only while its row is live:

* not ended (sign-out, password change, deactivation, an administrator's "end sessions");
* seen within ``idle`` (``Settings.session_minutes``) and begun within ``absolute``
  (``Settings.session_max_hours``).

So a cookie copied before sign-out opens nothing afterwards, and a stolen cookie stops working
after the absolute lifetime however often it is used. ``last_seen_at`` is written at most once
per ``touch_every`` (a minute), so a busy page costs one indexed read, not a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import Agency, EventType, Role, User, UserRole, WebSession
from archive.vntime import as_utc


class SessionEnd(StrEnum):
    """Why a session ended (``web_session.end_reason``)."""

    SIGNED_OUT = "signed-out"
    PASSWORD_CHANGED = "password-changed"
    DEACTIVATED = "deactivated"
    ENDED_BY_ADMINISTRATOR = "ended-by-administrator"
    IDLE = "idle"
    EXPIRED = "expired"  # the absolute lifetime passed


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: ``idle`` without a request, ``absolute`` since sign-in."""

    idle: timedelta
    absolute: timedelta
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that may be used now, with what a request needs of its user.

    ``needs_touch`` when ``last_seen_at`` is due a write.
    """

    id: int
    user_id: int
    username: str
    full_name: str
    roles: frozenset[Role]
    agency_code: str | None
    needs_touch: bool


@dataclass(frozen=True, slots=True)
class EndedSession:
    """A session that may not be used: unknown id, or ended for ``reason``."""

    id: int | None
    reason: SessionEnd | None  # None: no such session (or its user is gone or inactive)
    newly_ended: bool = False  # it passed its lifetime just now: the caller records the end


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user_id: int, now: datetime) -> str:
    """Open a session for ``user_id`` and return its opaque id (for the cookie; only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=digest(token), user_id=user_id, created_at=now, last_seen_at=now))
    session.flush()
    return token


def resolve(session: Session, token: str, policy: SessionPolicy, now: datetime) -> LiveSession | EndedSession:
    """Look the session up with its user and agency (one indexed read; the roles are a second)
    and say whether it may be used at ``now``.

    Does not write: a session past its lifetime comes back as ``EndedSession(newly_ended=True)``
    and the caller ends it with :func:`expire` in its own short transaction.
    """
    row = session.execute(
        select(
            WebSession.id,
            WebSession.user_id,
            WebSession.created_at,
            WebSession.last_seen_at,
            WebSession.ended_at,
            WebSession.end_reason,
            User.active,
            User.username,
            User.full_name,
            Agency.code,
        )
        .join(User, User.id == WebSession.user_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(WebSession.token_hash == digest(token))
    ).first()
    if row is None:
        return EndedSession(None, None)
    sid, user_id, created, seen, ended, reason, active, username, full_name, agency_code = row
    if ended is not None:
        return EndedSession(sid, SessionEnd(reason) if reason else None)
    if not active:
        return EndedSession(sid, SessionEnd.DEACTIVATED, newly_ended=True)
    if now - as_utc(created) > policy.absolute:
        return EndedSession(sid, SessionEnd.EXPIRED, newly_ended=True)
    if now - as_utc(seen) > policy.idle:
        return EndedSession(sid, SessionEnd.IDLE, newly_ended=True)
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))
    needs_touch = now - as_utc(seen) >= policy.touch_every
    return LiveSession(sid, user_id, username, full_name, roles, agency_code, needs_touch)


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Record activity (the caller throttles: see ``LiveSession.needs_touch``)."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def expire(session: Session, session_id: int, reason: SessionEnd, now: datetime) -> None:
    """Mark one session ended for ``reason`` (no event: lifetimes ending are routine)."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason.value)
    )


def end_session(session: Session, token: str, now: datetime) -> int | None:
    """End the session with this opaque id (sign-out); return its user's id, if it was live."""
    row = session.execute(
        select(WebSession.id, WebSession.user_id).where(
            WebSession.token_hash == digest(token), WebSession.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    expire(session, row[0], SessionEnd.SIGNED_OUT, now)
    user_id: int = row[1]
    return user_id


def end_user_sessions(
    session: Session,
    user: User,
    reason: SessionEnd,
    now: datetime,
    *,
    actor: events.Agent = events.SYSTEM,
) -> int:
    """End every live session of ``user`` at once; return how many. Records one event when any ended."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason.value)
    )
    ended = result.rowcount
    if ended:
        events.record(
            session,
            EventType.AUTHENTICATION,
            object_type="user",
            object_id=user.username,
            agent=actor,
            detail="sessions ended",
            data={"reason": reason.value, "sessions": ended},
        )
    return int(ended or 0)


def purge(
    session: Session, policy: SessionPolicy, now: datetime, keep: timedelta = timedelta(days=30)
) -> int:
    """Delete sessions ended, idle or past their lifetime more than ``keep`` ago; return how many.

    Sign-in and sign-out stay in the event log; the rows only serve live requests.
    """
    cutoff = now - keep
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(WebSession).where(
            (WebSession.ended_at < cutoff)
            | (WebSession.last_seen_at < cutoff - policy.idle)
            | (WebSession.created_at < cutoff - policy.absolute)
        )
    )
    return int(result.rowcount or 0)


def live_counts(session: Session, policy: SessionPolicy, now: datetime) -> dict[int, int]:
    """How many usable sessions each user has now (for the administrator's users page)."""
    rows = session.execute(
        select(WebSession.user_id, func.count())
        .where(
            WebSession.ended_at.is_(None),
            WebSession.last_seen_at >= now - policy.idle,
            WebSession.created_at >= now - policy.absolute,
        )
        .group_by(WebSession.user_id)
    ).all()
    return {int(user_id): int(n) for user_id, n in rows}


__all__ = [
    "EndedSession",
    "LiveSession",
    "SessionEnd",
    "SessionPolicy",
    "digest",
    "end_session",
    "end_user_sessions",
    "expire",
    "live_counts",
    "purge",
    "resolve",
    "start_session",
    "touch",
]
