"""Dossiers (hồ sơ) and their documents (tài liệu / văn bản)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column
from archive.vntime import utcnow

if TYPE_CHECKING:
    from archive.catalog.agency import Agency, Fonds
    from archive.catalog.package import Package, StoredFile


class RecordState(StrEnum):
    """Where a dossier or document stands in its life."""

    ACTIVE = "active"  # held, findable
    UNDER_REVIEW = "under_review"  # "Xem xét hủy": due for disposal, being appraised
    DAMAGED = "damaged"  # a file has no verifying copy left
    DESTROYED = "destroyed"  # tiêu hủy: content gone, tombstone remains


class AccessMode(StrEnum):  # chế độ sử dụng (TT 05/2025 mode)
    OPEN = "01"  # Công khai
    CONDITIONAL = "02"  # Sử dụng có điều kiện
    SECRET = "03"  # Mật


class Dossier(Timestamped, Base):  # hồ sơ
    __tablename__ = "dossier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)  # mã hồ sơ (fileCode)
    arc_code: Mapped[str | None] = mapped_column(String(100))  # mã hồ sơ lưu trữ (arcFileCode)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    fonds_id: Mapped[int | None] = mapped_column(ForeignKey("fonds.id"))
    title: Mapped[str] = mapped_column(String(1000))  # tiêu đề hồ sơ
    profile: Mapped[str] = mapped_column(String(20))  # metadata profile it arrived in
    maintenance: Mapped[str | None] = mapped_column(String(2))  # thời hạn lưu trữ code 01–07
    retention_years: Mapped[int | None]  # None = permanent (vĩnh viễn) or unknown
    retention_text: Mapped[str | None] = mapped_column(String(100))  # as the agency wrote it
    retention_rule_id: Mapped[int | None] = mapped_column(ForeignKey("retention_rule.id"))
    access_mode: Mapped[AccessMode] = mapped_column(enum_column(AccessMode, 2), default=AccessMode.OPEN)
    language: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]  # năm kết thúc công việc drives the retention due date
    state: Mapped[RecordState] = mapped_column(enum_column(RecordState), default=RecordState.ACTIVE)
    descriptive: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the profile's fields
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="dossiers")
    fonds: Mapped[Fonds | None] = relationship()
    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", order_by="Document.ordinal", cascade="all, delete-orphan"
    )
    packages: Mapped[list[Package]] = relationship(back_populates="dossier", order_by="Package.version")

    __table_args__ = (Index("ix_dossier_agency_state", "agency_id", "state"),)


class Document(Timestamped, Base):  # tài liệu, văn bản
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    ordinal: Mapped[int]  # số thứ tự văn bản trong hồ sơ
    doc_code: Mapped[str] = mapped_column(String(100))  # mã lưu trữ của tài liệu (docCode)
    type_code: Mapped[str | None] = mapped_column(String(10))  # tên loại (typeName 01–32)
    type_name: Mapped[str | None] = mapped_column(String(100))  # as written (NĐ 30 TypeName)
    code_number: Mapped[str | None] = mapped_column(String(11))  # số
    code_notation: Mapped[str | None] = mapped_column(String(30))  # ký hiệu
    issued_date: Mapped[date | None]
    organ_name: Mapped[str | None] = mapped_column(String(200))  # cơ quan ban hành
    subject: Mapped[str | None] = mapped_column(String(500))  # trích yếu nội dung
    page_count: Mapped[int | None]
    confidence_level: Mapped[str | None] = mapped_column(String(2))  # 01 gốc điện tử, 02 số hóa
    access_mode: Mapped[AccessMode] = mapped_column(enum_column(AccessMode, 2), default=AccessMode.OPEN)
    state: Mapped[RecordState] = mapped_column(enum_column(RecordState), default=RecordState.ACTIVE)
    descriptive: Mapped[dict[str, Any]] = mapped_column(default=dict)
    text_content: Mapped[str | None]  # extracted text (incl. OCR), kept so reindexing never re-OCRs
    text_method: Mapped[str | None] = mapped_column(String(20))

    dossier: Mapped[Dossier] = relationship(back_populates="documents")
    files: Mapped[list[StoredFile]] = relationship(back_populates="document")

    __table_args__ = (
        UniqueConstraint("dossier_id", "ordinal", name="uq_document_dossier_ordinal"),
        Index("ix_document_notation", "code_number", "code_notation"),
    )
