"""API upload sessions (phiên tải lên): a submission being uploaded in chunks before it is received.

An agency's records officer declares the metadata and the files first (``ApiUpload``), sends
each file in one or more chunks (``ApiUploadFile.received_bytes`` is the resume offset), then
finalises; only then does the ingest service receive it as a :class:`Submission`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, enum_column, new_uuid
from archive.vntime import utcnow


class UploadState(StrEnum):
    OPEN = "open"  # files still arriving
    FINALISED = "finalised"  # handed to the ingest service; ``submission_id`` is set
    ABANDONED = "abandoned"  # withdrawn before finalising; parts deleted


class ApiUpload(Base):
    """One upload session opened by ``POST /api/v1/submissions``."""

    __tablename__ = "api_upload"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical request body
    metadata_doc: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the declared metadata.json
    state: Mapped[UploadState] = mapped_column(enum_column(UploadState, 16), default=UploadState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalised_at: Mapped[datetime | None]
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submission.id"))

    files: Mapped[list[ApiUploadFile]] = relationship(
        back_populates="upload", cascade="all, delete-orphan", order_by="ApiUploadFile.ordinal"
    )

    __table_args__ = (
        UniqueConstraint("agency_id", "idempotency_key", name="uq_api_upload_agency_idempotency"),
        Index("ix_api_upload_agency_created", "agency_id", "created_at"),
    )


class ApiUploadFile(Base):
    """One declared file of an upload session and how much of it has arrived."""

    __tablename__ = "api_upload_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("api_upload.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    path: Mapped[str] = mapped_column(String(1000))  # relative, "/"-separated, NFC
    declared_sha256: Mapped[str] = mapped_column(String(64))
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    expected_size: Mapped[int | None] = mapped_column(BigInteger)  # declared, or fixed by Content-Range
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    complete: Mapped[bool] = mapped_column(default=False)  # whole and its SHA-256 verified

    upload: Mapped[ApiUpload] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("upload_id", "path", name="uq_api_upload_file_path"),)


__all__ = ["ApiUpload", "ApiUploadFile", "UploadState"]
