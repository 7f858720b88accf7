"""Retention schedules (bảng thời hạn lưu trữ) as data: versioned, several side by side."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped


class RetentionSchedule(Timestamped, Base):
    """One version of a schedule. A change makes a new version; old decisions keep theirs."""

    __tablename__ = "retention_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50))  # e.g. TT10-2022, TT74-2025-BTC
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(300))  # legal basis
    effective_from: Mapped[date | None]
    superseded_at: Mapped[datetime | None]
    imported_from: Mapped[str | None] = mapped_column(String(300))
    content_sha256: Mapped[str | None] = mapped_column(String(64))

    rules: Mapped[list[RetentionRule]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="RetentionRule.id"
    )

    __table_args__ = (UniqueConstraint("code", "version", name="uq_retention_schedule_code_version"),)


class RetentionRule(Base):
    __tablename__ = "retention_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("retention_schedule.id", ondelete="CASCADE"))
    series: Mapped[str | None] = mapped_column(String(300))  # nhóm hồ sơ / record series
    doc_type: Mapped[str | None] = mapped_column(String(10))  # typeName code
    agency_code: Mapped[str | None] = mapped_column(String(35))
    maintenance: Mapped[str] = mapped_column(String(2))  # 01–07
    years: Mapped[int | None]  # None = permanent
    description: Mapped[str | None]

    schedule: Mapped[RetentionSchedule] = relationship(back_populates="rules")
