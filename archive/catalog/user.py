"""People and machines that act on the archive: users with roles, and agencies' API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column


class Role(StrEnum):
    ADMINISTRATOR = "administrator"  # quản trị
    ARCHIVIST = "archivist"  # người làm lưu trữ
    COUNCIL_MEMBER = "council_member"  # thành viên Hội đồng xác định giá trị tài liệu
    DECIDER = "decider"  # người có thẩm quyền quyết định hủy (head of the agency)
    AUDITOR = "auditor"  # kiểm tra
    RESEARCHER = "researcher"  # độc giả
    AGENCY_OFFICER = "agency_officer"  # văn thư cơ quan


class User(Timestamped, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def has_role(self, *roles: Role) -> bool:
        mine = {r.role for r in self.roles}
        return any(r in mine for r in roles)


class UserRole(Base):
    __tablename__ = "user_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_column(Role, 20))

    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role_user_role"),)


class TokenScope(StrEnum):
    SUBMIT = "submit"
    READ_OWN = "read-own"
    SEARCH = "search"


class ApiToken(Timestamped, Base):
    """A per-agency API token; only its hash is stored (the secret is shown once)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # public part, to find the row
    secret_hash: Mapped[str] = mapped_column(String(128))  # sha256 of the secret (high entropy)
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated TokenScope values
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # written at most once a minute
    expires_at: Mapped[datetime | None]  # None = until revoked

    def scope_set(self) -> frozenset[TokenScope]:
        return frozenset(TokenScope(s) for s in self.scopes.split(",") if s)


class WebSession(Base):  # phiên đăng nhập
    """A signed-in browser session, kept on the server so that ending it takes effect at once.

    The browser holds only an opaque random id; the catalog keeps its SHA-256
    (``token_hash``), so a copy of this table does not let anyone sign in.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]  # written at most once a minute
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(30))  # SessionEnd value
