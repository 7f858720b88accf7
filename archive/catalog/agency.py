"""Agencies (cơ quan, tổ chức) with their electronic identifier codes, and fonds (phông lưu trữ)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from archive.catalog.base import Base, Timestamped

if TYPE_CHECKING:
    from archive.catalog.dossier import Dossier

# Mã định danh điện tử (QCVN 102:2016 SĐ 1:2022): ≤ 35 characters of `.`, 0-9, A-Z.
AGENCY_CODE_CHARS = re.compile(r"^[0-9A-Z.]{1,35}$")


class Agency(Timestamped, Base):  # cơ quan, tổ chức
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)  # mã định danh điện tử
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(50))  # viết tắt, e.g. UBND
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    archive_code: Mapped[str | None] = mapped_column(String(35))  # mã cơ quan lưu trữ
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]  # merged provinces change codes: keep history
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    fonds: Mapped[list[Fonds]] = relationship(back_populates="agency")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="agency")

    @validates("code")
    def _check_code(self, _key: str, value: str) -> str:
        if not AGENCY_CODE_CHARS.match(value):
            raise ValueError(f"invalid agency code {value!r}: ≤ 35 characters of '.', 0-9, A-Z")
        return value


class Fonds(Timestamped, Base):  # phông lưu trữ
    __tablename__ = "fonds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)  # mã phông
    name: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    history: Mapped[str | None]  # lịch sử đơn vị hình thành phông
    closed: Mapped[bool] = mapped_column(default=False)  # phông đóng / mở
    archives_time: Mapped[str | None] = mapped_column(String(30))  # thời gian tài liệu

    agency: Mapped[Agency] = relationship(back_populates="fonds")
