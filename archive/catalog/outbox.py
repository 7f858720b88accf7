"""Search outbox: index updates queued in the same transaction as the catalog change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from archive.catalog.base import Base
from archive.vntime import utcnow


class IndexOutbox(Base):
    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # dossier, document
    entity_id: Mapped[int]
    op: Mapped[str] = mapped_column(String(10))  # upsert, delete
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None]
