"""Submissions (lần nộp lưu): what an agency handed over, and where it stands."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, enum_column, new_uuid
from archive.vntime import utcnow


class SubmissionState(StrEnum):
    """Processing states, mirroring what agencies' records systems already track."""

    RECEIVED = "received"  # đã tiếp nhận
    VALIDATING = "validating"  # đang kiểm tra
    IN_REVIEW = "in_review"  # chờ duyệt (archivist)
    ACCEPTED = "accepted"  # đã chấp nhận
    REJECTED = "rejected"  # bị từ chối (reasons returned)
    WITHDRAWN = "withdrawn"  # đã thu hồi by the agency
    ARCHIVED = "archived"  # AIP on every replica


# Which state may follow which; anything else is a Conflict.
SUBMISSION_TRANSITIONS: dict[SubmissionState, frozenset[SubmissionState]] = {
    SubmissionState.RECEIVED: frozenset(
        {SubmissionState.VALIDATING, SubmissionState.WITHDRAWN, SubmissionState.REJECTED}
    ),
    SubmissionState.VALIDATING: frozenset(
        {
            SubmissionState.IN_REVIEW,
            SubmissionState.ACCEPTED,
            SubmissionState.REJECTED,
            SubmissionState.WITHDRAWN,
        }
    ),
    SubmissionState.IN_REVIEW: frozenset(
        {
            SubmissionState.ACCEPTED,
            SubmissionState.REJECTED,
            SubmissionState.WITHDRAWN,
            SubmissionState.VALIDATING,
        }
    ),
    SubmissionState.ACCEPTED: frozenset({SubmissionState.ARCHIVED}),
    SubmissionState.REJECTED: frozenset(),
    SubmissionState.WITHDRAWN: frozenset(),
    SubmissionState.ARCHIVED: frozenset(),
}


# Submissions that count for "the same content again": all but the refused and the withdrawn.
LIVE_CONTENT = text("content_digest IS NOT NULL AND state NOT IN ('rejected', 'withdrawn')")


class Submission(Base):
    __tablename__ = "submission"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    state: Mapped[SubmissionState] = mapped_column(
        enum_column(SubmissionState, 16), default=SubmissionState.RECEIVED
    )
    source: Mapped[str] = mapped_column(String(20), default="api")  # api, cli, web, folder
    profile: Mapped[str | None] = mapped_column(String(20))
    dossier_code: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(1000))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_from: Mapped[datetime | None]  # effective receipt time (office hours rule)
    metadata_doc: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the submitted metadata.json
    findings: Mapped[list[Any]] = mapped_column(default=list)  # Finding.to_json() items
    staging_path: Mapped[str | None] = mapped_column(String(1000))
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    content_digest: Mapped[str | None] = mapped_column(String(64))  # sha256 over the manifest
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None]
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="SubmissionFile.path"
    )

    __table_args__ = (
        UniqueConstraint("agency_id", "idempotency_key", name="uq_submission_agency_idempotency"),
        Index("ix_submission_agency_state", "agency_id", "state"),
        # At most one live submission per agency and content: two identical submissions arriving
        # at once cannot both be inserted, whatever process or machine receives them.
        Index(
            "uq_submission_live_content",
            "agency_id",
            "content_digest",
            unique=True,
            sqlite_where=LIVE_CONTENT,
            postgresql_where=LIVE_CONTENT,
        ),
    )


class SubmissionFile(Base):
    __tablename__ = "submission_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int | None] = mapped_column(BigInteger)
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))  # as received
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # resumable uploads
    mime: Mapped[str | None] = mapped_column(String(200))
    puid: Mapped[str | None] = mapped_column(String(30))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pdf/signature reports

    submission: Mapped[Submission] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("submission_id", "path", name="uq_submission_file_path"),)
