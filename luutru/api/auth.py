"""Bearer-token authentication, scopes and per-token rate limiting for the REST API.

A token (``Authorization: Bearer <prefix>.<secret>``) belongs to one agency and carries scopes
(``submit``, ``read-own``, ``search``). Every call is logged with the token's agency; state
changes are recorded as events by the services themselves.

Rate limiting is a token bucket per API token, kept in this process. With several app
servers each has its own buckets, so the effective limit is multiplied; put a shared limiter
(the reverse proxy, or Redis) in front when that matters.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy import select

from archive import events
from archive.catalog import Agency, ApiToken, Role, TokenScope
from ingest.formats import FormatPolicy
from ingest.uploads import UploadLimits, UploadService
from luutru.accounts import TokenRefusal, check_token
from luutru.api.problems import Problem
from luutru.ratelimit import TokenBucket
from luutru.services import Services
from policies.access import Actor
from search.service import SearchService

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def RateLimiter(capacity: int = 120, per_minute: float = 600.0, **kw: Any) -> TokenBucket:
    """The API's per-token limiter: 120 calls at once, 600 a minute sustained."""
    return TokenBucket(capacity=capacity, per_minute=per_minute, **kw)


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """The authenticated token, detached from the database session."""

    token_id: int
    prefix: str
    agency_id: int
    agency_code: str
    scopes: frozenset[TokenScope]

    @property
    def agent(self) -> events.Agent:
        return events.Agent.organization(self.agency_code)

    @property
    def actor(self) -> Actor:
        """The access-policy view of the caller: the agency's records officer (văn thư cơ quan)."""
        return Actor(
            user_id=None,
            username=f"token:{self.prefix}",
            roles=frozenset({Role.AGENCY_OFFICER}),
            agency_code=self.agency_code,
        )


@dataclass
class ApiState:
    """What the API keeps per app: its limiter (replace it in tests to step time), its uploads."""

    limiter: TokenBucket = field(default_factory=RateLimiter)
    _uploads: UploadService | None = None

    def search(self, svc: Services) -> SearchService:
        """The one search service of the app (the portal and the API share it)."""
        return svc.search

    def uploads(self, svc: Services) -> UploadService:
        """The upload service, built on first use.

        Parts live in ``<data_dir>/uploads``, not under staging: ``IngestService.recover``
        removes every staging folder it does not know, which would drop uploads in progress.
        """
        if self._uploads is None:
            s = svc.settings
            limits = UploadLimits(
                formats=FormatPolicy(frozenset(x.lower() for x in s.accepted_formats)),
                max_files=s.max_files,
                max_bytes=s.max_bytes,
                max_file_bytes=s.max_file_bytes,
            )
            self._uploads = UploadService(svc.sessions, s.data_dir / "uploads", limits, svc.ingest)
        return self._uploads


def services() -> Services:
    svc: Services = current_app.extensions["luutru"]
    return svc


def api_state() -> ApiState:
    state: ApiState = current_app.extensions["luutru.api"]
    return state


def uploads() -> UploadService:
    return api_state().uploads(services())


def _unauthorized(detail_en: str, detail_vi: str, *, code: str = "auth.invalid_token") -> Problem:
    return Problem(
        401,
        code,
        detail_en,
        detail_vi,
        headers={"WWW-Authenticate": 'Bearer realm="luutru", error="invalid_token"'},
    )


def authenticate() -> ApiCaller:
    """The caller of this request (cached on ``g``); Problem 401 / 429 otherwise."""
    cached = g.get("api_caller")
    if isinstance(cached, ApiCaller):
        return cached
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or "." not in presented.strip():
        raise _unauthorized(
            "Send 'Authorization: Bearer <token>'.", "Cần gửi 'Authorization: Bearer <mã truy cập>'."
        )
    with services().sessions.begin() as s:
        token = check_token(s, presented.strip())
        if token is TokenRefusal.EXPIRED:
            raise _unauthorized(
                "The token has expired; ask the archive's administrator for a new one.",
                "Mã truy cập đã hết hạn; hãy đề nghị quản trị viên của lưu trữ cấp mã mới.",
                code="auth.token_expired",
            )
        if not isinstance(token, ApiToken):
            raise _unauthorized(
                "The token is unknown, wrong or revoked.", "Mã truy cập không đúng hoặc đã bị thu hồi."
            )
        agency = s.scalar(select(Agency).where(Agency.id == token.agency_id))
        assert agency is not None
        caller = ApiCaller(token.id, token.prefix, agency.id, agency.code, token.scope_set())
    wait = api_state().limiter.wait(caller.prefix)
    if wait > 0:
        raise Problem(
            429,
            "rate_limited",
            f"Too many requests with this token; retry in {math.ceil(wait)} s.",
            f"Quá nhiều yêu cầu với mã truy cập này; thử lại sau {math.ceil(wait)} giây.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    g.api_caller = caller
    return caller


def require(scope: TokenScope) -> Callable[[F], F]:
    """Decorate a view: authenticate, then refuse (403) a token without ``scope``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            caller = authenticate()
            if scope not in caller.scopes:
                raise Problem(
                    403,
                    "auth.scope_missing",
                    f"This token lacks the '{scope.value}' scope.",
                    f"Mã truy cập không có phạm vi '{scope.value}'.",
                    required_scope=scope.value,
                )
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def log_call(response: Any) -> Any:
    """After every API request: one log line with the token's agency (never the secret)."""
    caller = g.get("api_caller")
    log.info(
        "API call",
        extra={
            "api_method": request.method,
            "api_endpoint": request.endpoint,
            "api_path": request.path,
            "api_status": response.status_code,
            "agency": caller.agency_code if isinstance(caller, ApiCaller) else None,
            "token": caller.prefix if isinstance(caller, ApiCaller) else None,
        },
    )
    return response


__all__ = [
    "ApiCaller",
    "ApiState",
    "RateLimiter",
    "api_state",
    "authenticate",
    "log_call",
    "require",
    "services",
    "uploads",
]
