"""The one access decision: who may see a record's metadata, read its content, download its original.

Every way in — web pages, the REST API, search, file downloads — asks these functions; none
decides on its own. Inputs are plain facts (:class:`Actor`, :class:`RecordFacts`) so the rules
can be tested without a database, and a :class:`Decision` says why, in Vietnamese and English.

Rules (modes are TT 05/2025 ``mode`` codes: 01 Công khai, 02 Sử dụng có điều kiện, 03 Mật):

* administrator, archivist, auditor: metadata, content and originals of every record;
* agency officer (văn thư cơ quan): everything of their own agency's records; other agencies'
  records as the public sees them;
* council member, decider: the metadata of every record (they appraise it), content of open ones;
* researcher (độc giả): open records; the metadata of conditional ones; metadata and a reading
  copy (no original) of any record named in an approved, unexpired access request;
* anonymous: metadata of open and conditional records, content of open ones, no originals
  (TT 05/2025 Điều 32–33: using archives needs an account);
* a destroyed record: its metadata only through the tombstone, never content, for anyone.

Search asks the same rules as one :class:`~archive.visibility.Visibility` per actor
(:func:`visibility_for`), grants included, so what a researcher finds is what they may open.
An actor's grants are loaded by :func:`granted_dossiers`, the one loader (``luutru search --as``
and the web's ``current_actor``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import AccessMode, AccessRequest, AccessRequestState, RecordState, Role
from archive.visibility import MODE_CONDITIONAL, MODE_PUBLIC, Visibility
from archive.vntime import as_utc, utcnow

STAFF_ROLES: frozenset[Role] = frozenset({Role.ADMINISTRATOR, Role.ARCHIVIST, Role.AUDITOR})
APPRAISER_ROLES: frozenset[Role] = frozenset({Role.COUNCIL_MEMBER, Role.DECIDER})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking. ``grants``: dossier ids with an approved, unexpired access request."""

    user_id: int | None
    username: str | None
    roles: frozenset[Role]
    agency_code: str | None = None
    grants: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, username=None, roles=frozenset())

    @classmethod
    def of(
        cls,
        user_id: int,
        username: str,
        roles: Iterable[Role],
        agency_code: str | None = None,
        grants: Iterable[int] = (),
    ) -> Actor:
        return cls(user_id, username, frozenset(roles), agency_code, frozenset(grants))

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the decision needs to know about a dossier or a document in it."""

    agency_code: str | None
    access_mode: AccessMode
    state: RecordState
    dossier_id: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, with a stable code and the reason in both languages."""

    allowed: bool
    reason_code: str
    message_vi: str
    message_en: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(code: str, vi: str, en: str) -> Decision:
    return Decision(True, f"access.allowed.{code}", vi, en)


def _deny(code: str, vi: str, en: str) -> Decision:
    return Decision(False, f"access.denied.{code}", vi, en)


_STAFF = _allow("staff", "Cán bộ lưu trữ được xem toàn bộ.", "Archive staff see every record.")
_OWN = _allow(
    "own_agency",
    "Tài liệu do cơ quan của bạn nộp lưu.",
    "The record was submitted by your agency.",
)
_OPEN = _allow("open", "Tài liệu công khai.", "The record is open (Công khai).")
_GRANT = _allow(
    "access_request",
    "Yêu cầu khai thác của bạn đã được duyệt và còn hạn.",
    "Your access request was approved and has not expired.",
)
_APPRAISER = _allow(
    "appraisal",
    "Thành viên Hội đồng và người có thẩm quyền được xem thông tin hồ sơ.",
    "Council members and deciders see every record's description.",
)
_CONDITIONAL_META = _allow(
    "conditional_metadata",
    "Thông tin mô tả của tài liệu sử dụng có điều kiện được công bố.",
    "The description of a conditional-use record is published.",
)
_TOMBSTONE = _allow(
    "tombstone",
    "Hồ sơ đã bị tiêu hủy: chỉ còn thông tin tóm tắt trong biên bản.",
    "The record was destroyed: only its tombstone summary remains.",
)
_DESTROYED = _deny(
    "destroyed",
    "Hồ sơ đã bị tiêu hủy; nội dung không còn.",
    "The record was destroyed; its content no longer exists.",
)
_SECRET = _deny("secret", "Tài liệu mật.", "The record is secret (Mật).")
_CONDITIONAL = _deny(
    "conditional",
    "Tài liệu sử dụng có điều kiện: cần yêu cầu khai thác được duyệt.",
    "Conditional-use record: an approved access request is needed.",
)
_LOGIN = _deny(
    "login_required",
    "Cần đăng nhập để tải bản gốc.",
    "Sign in to download an original.",
)
_READING_COPY = _deny(
    "reading_copy_only",
    "Yêu cầu khai thác chỉ cho phép đọc bản đọc, không tải bản gốc.",
    "An access request grants a reading copy, not the original.",
)


def _own_agency(actor: Actor, record: RecordFacts) -> bool:
    return (
        actor.has(Role.AGENCY_OFFICER)
        and actor.agency_code is not None
        and actor.agency_code == record.agency_code
    )


def _granted(actor: Actor, record: RecordFacts) -> bool:
    return actor.has(Role.RESEARCHER) and record.dossier_id is not None and record.dossier_id in actor.grants


def _metadata_rule(actor: Actor, record: RecordFacts) -> Decision:
    if actor.is_staff:
        return _STAFF
    if _own_agency(actor, record):
        return _OWN
    if actor.has(*APPRAISER_ROLES):
        return _APPRAISER
    if record.access_mode is AccessMode.OPEN:
        return _OPEN
    if _granted(actor, record):
        return _GRANT
    if record.access_mode is AccessMode.CONDITIONAL:
        return _CONDITIONAL_META
    return _SECRET


def can_see_metadata(actor: Actor, record: RecordFacts) -> Decision:
    """May ``actor`` see the title, codes and description of ``record``?

    A destroyed record's metadata is shown only as its tombstone summary (reason
    ``access.allowed.tombstone``) to whoever could have seen it before.
    """
    decision = _metadata_rule(actor, record)
    if decision.allowed and record.state is RecordState.DESTROYED:
        return _TOMBSTONE
    return decision


def can_read_content(actor: Actor, record: RecordFacts) -> Decision:
    """May ``actor`` read the content (full text, reading copy) of ``record``?"""
    if record.state is RecordState.DESTROYED:
        return _DESTROYED
    if actor.is_staff:
        return _STAFF
    if _own_agency(actor, record):
        return _OWN
    if record.access_mode is AccessMode.OPEN:
        return _OPEN
    if _granted(actor, record):
        return _GRANT
    if record.access_mode is AccessMode.CONDITIONAL:
        return _CONDITIONAL
    return _SECRET


def can_download_original(actor: Actor, record: RecordFacts) -> Decision:
    """May ``actor`` download the original file as submitted (not a reading copy)?

    Researchers get originals of open records only; an approved request grants a reading
    copy (bản đọc: no download). Anonymous users never download.
    """
    content = can_read_content(actor, record)
    if not content.allowed:
        return content
    if content.reason_code == _GRANT.reason_code:
        return _READING_COPY
    if actor.is_anonymous:
        return _LOGIN
    return content


def visibility_for(actor: Actor) -> Visibility:
    """What search may show ``actor``, applied inside the query.

    Modes give the baseline per role; a researcher's grants (``Actor.grants``) are added as
    ``granted_dossiers``, so a dossier named in an approved, unexpired access request is found
    by its content words too — exactly the records :func:`can_read_content` opens through
    ``_granted`` (whatever their mode: the decision does not look at it, and neither does search).
    """
    if actor.is_staff:
        return Visibility.everything()  # grants add nothing to everything
    if actor.has(Role.AGENCY_OFFICER) and actor.agency_code:
        base = Visibility.of(content_modes=None, metadata_modes=None, agencies=[actor.agency_code])
    elif actor.has(*APPRAISER_ROLES):
        base = Visibility.of(content_modes=[MODE_PUBLIC], metadata_modes=None)
    elif actor.has(Role.RESEARCHER):
        base = Visibility.of(content_modes=[MODE_PUBLIC], metadata_modes=[MODE_PUBLIC, MODE_CONDITIONAL])
    else:
        return Visibility.public()
    if actor.has(Role.RESEARCHER) and actor.grants:  # the same condition as ``_granted``
        return replace(base, granted_dossiers=actor.grants)
    return base


def granted_dossiers(session: Session, user_id: int, now: datetime | None = None) -> frozenset[int]:
    """Dossier ids of ``user_id``'s approved access requests that have not expired at ``now``.

    ``now`` defaults to the current time (aware UTC); a request approved without an end date
    (``expires_at`` None) does not expire. Pending and refused requests grant nothing. Every
    caller that builds an :class:`Actor` for a signed-in person is meant to use this, so the
    reading room, the portal search and ``luutru search --as`` agree on what a grant opens.
    """
    at = as_utc(now) if now is not None else utcnow()
    rows = session.execute(
        select(AccessRequest.dossier_id, AccessRequest.expires_at).where(
            AccessRequest.requester_id == user_id,
            AccessRequest.state == AccessRequestState.APPROVED,
        )
    ).all()
    return frozenset(d for d, expires in rows if expires is None or as_utc(expires) > at)


__all__ = [
    "APPRAISER_ROLES",
    "STAFF_ROLES",
    "Actor",
    "Decision",
    "RecordFacts",
    "can_download_original",
    "can_read_content",
    "can_see_metadata",
    "granted_dossiers",
    "visibility_for",
]
