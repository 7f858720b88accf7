"""Accounts: users with argon2id passwords and roles; agencies' API tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import Agency, ApiToken, EventType, Role, TokenScope, User, UserRole
from archive.errors import Conflict, NotFound
from archive.vntime import utcnow

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
) -> IssuedToken:
    """Create an API token for an agency. Only the SHA-256 of the secret is stored."""
    prefix = "lt_" + secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        agency_id=agency.id,
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=",".join(sorted(s.value for s in scopes)),
        created_by=created_by.id if created_by else None,
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
        data={"agency": agency.code, "scopes": token.scopes},
    )
    return IssuedToken(token, f"{prefix}.{secret}")


def authenticate_token(session: Session, presented: str) -> ApiToken | None:
    """Return the live token for ``presented`` or None (unknown, wrong secret or revoked)."""
    prefix, _, secret = presented.partition(".")
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return None
    token.last_used_at = utcnow()
    return token


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
