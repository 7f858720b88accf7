"""Accounts: users with argon2id passwords and roles; agencies' API tokens (stored hashed).

Changing a password or deactivating a user ends every web session of that user at once
(``luutru.web_sessions``); API tokens may carry an expiry and are refused after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import Agency, ApiToken, EventType, Role, TokenScope, User, UserRole
from archive.errors import Conflict, NotFound
from archive.vntime import as_utc, utcnow
from luutru import web_sessions
from luutru.web_sessions import SessionEnd

TOKEN_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    username: str,
    full_name: str,
    password: str | None,
    roles: Iterable[Role],
    *,
    agency: Agency | None = None,
    actor: events.Agent = events.SYSTEM,
) -> User:
    """Create a user with roles; the event names the roles, never the password."""
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} exists")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password) if password else None,
        agency_id=agency.id if agency else None,
        roles=[UserRole(role=r) for r in roles],
    )
    session.add(user)
    session.flush()
    events.record(
        session,
        EventType.ADMINISTRATION,
        object_type="user",
        object_id=username,
        agent=actor,
        detail="user created",
        data={"roles": sorted(r.role.value for r in user.roles)},
    )
    return user


def change_password(
    session: Session, user: User, password: str, *, actor: events.Agent = events.SYSTEM
) -> int:
    """Set a new password and end every session of the user; return how many sessions ended."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    events.record(
        session,
        EventType.ADMINISTRATION,
        object_type="user",
        object_id=user.username,
        agent=actor,
        detail="password changed",
    )
    return web_sessions.end_user_sessions(session, user, SessionEnd.PASSWORD_CHANGED, utcnow(), actor=actor)


def set_active(session: Session, user: User, active: bool, *, actor: events.Agent = events.SYSTEM) -> bool:
    """Activate or deactivate a user; deactivation ends every session at once. True when it changed."""
    if user.active == active:
        return False
    user.active = active
    events.record(
        session,
        EventType.ADMINISTRATION,
        object_type="user",
        object_id=user.username,
        agent=actor,
        detail="user activated" if active else "user deactivated",
    )
    if not active:
        web_sessions.end_user_sessions(session, user, SessionEnd.DEACTIVATED, utcnow(), actor=actor)
    return True


def end_sessions(session: Session, username: str, *, actor: events.Agent = events.SYSTEM) -> int:
    """An administrator ends every session of ``username`` (console button, ``luutru user end-sessions``)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user", username)
    return web_sessions.end_user_sessions(
        session, user, SessionEnd.ENDED_BY_ADMINISTRATOR, utcnow(), actor=actor
    )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once: "<prefix>.<secret>"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session,
    agency: Agency,
    name: str,
    scopes: Iterable[TokenScope],
    *,
    actor: events.Agent = events.SYSTEM,
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Create an API token for an agency. Only the SHA-256 of the secret is stored.

    ``expires_at`` (aware): refused from then on; None keeps it valid until revoked.
    Raises ValueError when ``expires_at`` is not in the future.
    """
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise ValueError("the expiry must be in the future")
    prefix = "lt_" + secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        agency_id=agency.id,
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=",".join(sorted(s.value for s in scopes)),
        created_by=created_by.id if created_by else None,
        expires_at=as_utc(expires_at) if expires_at else None,
    )
    session.add(token)
    session.flush()
    events.record(
        session,
        EventType.ADMINISTRATION,
        object_type="api_token",
        object_id=prefix,
        agent=actor,
        detail="API token issued",
        data={
            "agency": agency.code,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return IssuedToken(token, f"{prefix}.{secret}")


class TokenRefusal(StrEnum):
    """Why a presented API token was refused."""

    UNKNOWN = "unknown"  # no such prefix, or the secret is wrong
    REVOKED = "revoked"
    EXPIRED = "expired"


def check_token(session: Session, presented: str, now: datetime | None = None) -> ApiToken | TokenRefusal:
    """Return the live token for ``presented``, or why it is refused.

    Records the use in ``last_used_at`` at most once a minute (a write per call would make
    every API request a catalog write).
    """
    now = now or utcnow()
    prefix, _, secret = presented.partition(".")
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return TokenRefusal.UNKNOWN
    if token.revoked_at is not None:
        return TokenRefusal.REVOKED
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return TokenRefusal.EXPIRED
    if token.last_used_at is None or now - as_utc(token.last_used_at) >= TOKEN_TOUCH_EVERY:
        token.last_used_at = now
    return token


def authenticate_token(session: Session, presented: str) -> ApiToken | None:
    """Return the live token for ``presented`` or None (unknown, wrong secret, revoked or expired)."""
    found = check_token(session, presented)
    return found if isinstance(found, ApiToken) else None


def revoke_token(session: Session, prefix: str, *, actor: events.Agent) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise NotFound("api_token", prefix)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        events.record(
            session,
            EventType.ADMINISTRATION,
            object_type="api_token",
            object_id=prefix,
            agent=actor,
            detail="API token revoked",
        )
    return token
