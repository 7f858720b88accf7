"""Access requests (phiếu yêu cầu khai thác): a researcher asks, an archivist answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column

if TYPE_CHECKING:
    from archive.catalog.dossier import Dossier


class AccessRequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class AccessRequest(Timestamped, Base):  # phiếu yêu cầu khai thác tài liệu
    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    purpose: Mapped[str]
    state: Mapped[AccessRequestState] = mapped_column(
        enum_column(AccessRequestState, 10), default=AccessRequestState.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    answer: Mapped[str | None]
    expires_at: Mapped[datetime | None]  # bản đọc: reading period ≤ 15 days

    dossier: Mapped[Dossier] = relationship(viewonly=True)
