"""Packages (SIP/AIP and AIP versions), the files inside them and each file's copies on replicas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column, new_uuid

if TYPE_CHECKING:
    from archive.catalog.dossier import Document, Dossier


class PackageKind(StrEnum):
    SIP = "SIP"
    AIP = "AIP"
    DIP = "DIP"


class PackageState(StrEnum):
    WRITING = "writing"  # being written to replicas: not visible as a holding
    STORED = "stored"  # on every replica, verified
    SUPERSEDED = "superseded"  # an older AIP version, kept
    DESTROYED = "destroyed"


class Package(Timestamped, Base):
    __tablename__ = "package"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid)  # AIP id, shared by versions
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[PackageKind] = mapped_column(enum_column(PackageKind, 4))
    state: Mapped[PackageState] = mapped_column(enum_column(PackageState), default=PackageState.WRITING)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submission.id"))
    storage_key: Mapped[str] = mapped_column(String(300))  # e.g. aip/<uuid>/v0001
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    file_count: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None]  # why this version exists (ingest, metadata correction…)
    stored_at: Mapped[datetime | None]

    dossier: Mapped[Dossier | None] = relationship(back_populates="packages")
    files: Mapped[list[StoredFile]] = relationship(back_populates="package", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("uuid", "version", name="uq_package_uuid_version"),)


class FileRole(StrEnum):
    ORIGINAL = "original"  # a document file as submitted
    METADATA = "metadata"  # METS, EAD, PREMIS, reports
    TAG = "tag"  # bag tag files (bagit.txt, manifests)


class StoredFile(Timestamped, Base):
    """A file inside a package: what its bytes must hash to, wherever a copy lives."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    path: Mapped[str] = mapped_column(String(1000))  # relative to the package root
    role: Mapped[FileRole] = mapped_column(enum_column(FileRole, 10), default=FileRole.ORIGINAL)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str | None] = mapped_column(String(200))
    puid: Mapped[str | None] = mapped_column(String(30))  # PRONOM id, e.g. fmt/354
    format_name: Mapped[str | None] = mapped_column(String(200))
    format_version: Mapped[str | None] = mapped_column(String(50))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pdf version, signatures summary…

    package: Mapped[Package] = relationship(back_populates="files")
    document: Mapped[Document | None] = relationship(back_populates="files")
    copies: Mapped[list[FileCopy]] = relationship(back_populates="file", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("package_id", "path", name="uq_stored_file_package_path"),
        Index("ix_stored_file_sha256", "sha256"),
    )


class CopyStatus(StrEnum):
    OK = "ok"
    DAMAGED = "damaged"
    MISSING = "missing"
    UNRECOVERABLE = "unrecoverable"
    DELETED = "deleted"  # destroyed on purpose (disposal), verified gone


class FileCopy(Base):
    """One copy of a stored file on one replica, with its fixity history."""

    __tablename__ = "file_copy"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="CASCADE"))
    replica: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(1300))  # object key on the replica
    status: Mapped[CopyStatus] = mapped_column(enum_column(CopyStatus, 16), default=CopyStatus.OK)
    last_verified_at: Mapped[datetime | None]  # last time the bytes hashed right
    last_checked_at: Mapped[datetime | None]

    file: Mapped[StoredFile] = relationship(back_populates="copies")

    __table_args__ = (
        UniqueConstraint("file_id", "replica", name="uq_file_copy_file_replica"),
        Index("ix_file_copy_due", "replica", "last_checked_at"),
    )
