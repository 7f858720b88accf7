"""Format policy (chính sách định dạng bảo quản) as data: PRONOM PUID → risk and action, versioned.

Like the retention schedules, a change never edits a version in place: saving makes a new
version and marks the previous one superseded, so a preservation action can always say which
policy version decided it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column


class FormatRisk(StrEnum):
    """How likely a format is to become unreadable (mức rủi ro định dạng)."""

    LOW = "low"  # thấp: open, documented, long-term format (PDF/A, TIFF, ODF)
    MEDIUM = "medium"  # trung bình: widely read but vendor-defined (DOCX, XLSX, JPEG)
    HIGH = "high"  # cao: obsolete binary formats (DOC, XLS), plain PDF without PDF/A


class FormatAction(StrEnum):
    """What the archive does with files of a format (hành động bảo quản)."""

    KEEP = "keep"  # giữ nguyên
    PRESERVATION_COPY = "preservation_copy"  # tạo bản bảo quản (migration, original kept)
    ACCESS_COPY = "access_copy"  # tạo bản phục vụ khai thác


class FormatPolicy(Timestamped, Base):
    """One version of the format policy. Exactly one version has ``superseded_at`` None."""

    __tablename__ = "format_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    superseded_at: Mapped[datetime | None]
    content_sha256: Mapped[str] = mapped_column(String(64))

    rules: Mapped[list[FormatPolicyRule]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="FormatPolicyRule.puid"
    )


class FormatPolicyRule(Base):
    """PUID → risk and action; ``target`` and ``tool`` say what copy to make and with what."""

    __tablename__ = "format_policy_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("format_policy.id", ondelete="CASCADE"))
    puid: Mapped[str] = mapped_column(String(30))  # PRONOM id, e.g. fmt/412
    format_name: Mapped[str] = mapped_column(String(200))
    risk: Mapped[FormatRisk] = mapped_column(enum_column(FormatRisk, 16))
    action: Mapped[FormatAction] = mapped_column(enum_column(FormatAction, 32))
    target: Mapped[str | None] = mapped_column(String(30))  # e.g. "pdfa-2b"
    tool: Mapped[str | None] = mapped_column(String(30))  # libreoffice | ghostscript | ocr
    copy_signed: Mapped[bool] = mapped_column(default=False)  # a copy of signed PDFs too (unsigned)

    policy: Mapped[FormatPolicy] = relationship(back_populates="rules")

    __table_args__ = (UniqueConstraint("policy_id", "puid", name="uq_format_policy_rule_puid"),)
