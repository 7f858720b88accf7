"""Demo archive: an agency, one user per role, (and sample dossiers once ingest lands)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.agencies import create_agency
from archive.catalog import Agency, Role, TokenScope, User
from luutru import accounts

DEMO_PASSWORD = "luutru-demo-2025"  # printed by `luutru demo`; demo data directories only

DEMO_AGENCIES = (
    ("000.00.00.H54", "Ủy ban nhân dân tỉnh Thái Bình", "UBND"),
    ("000.00.07.H54", "Sở Nội vụ tỉnh Thái Bình", "SNV"),
    ("000.00.14.H54", "Sở Tài chính tỉnh Thái Bình", "STC"),
)

DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...], str | None], ...] = (
    ("admin", "Quản trị hệ thống", (Role.ADMINISTRATOR,), None),
    ("luutru", "Trần Thị Bình (lưu trữ viên)", (Role.ARCHIVIST,), None),
    ("hoidong1", "Lê Văn Cường (Chủ tịch Hội đồng)", (Role.COUNCIL_MEMBER,), None),
    ("hoidong2", "Phạm Thị Dung (Ủy viên)", (Role.COUNCIL_MEMBER,), None),
    ("hoidong3", "Hoàng Văn Em (Ủy viên)", (Role.COUNCIL_MEMBER,), None),
    ("giamdoc", "Nguyễn Văn Phúc (Giám đốc)", (Role.DECIDER,), None),
    ("kiemtra", "Vũ Thị Giang (kiểm tra)", (Role.AUDITOR,), None),
    ("docgia", "Đỗ Minh Hải (độc giả)", (Role.RESEARCHER,), None),
    ("vanthu", "Bùi Thị Lan (văn thư)", (Role.AGENCY_OFFICER,), "000.00.07.H54"),
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    agencies: int
    users: int
    token: str | None  # API token secret for the demo agency, shown once


def seed(session: Session) -> DemoSeed:
    """Create the demo agencies, users and an API token; idempotent (existing rows are kept)."""
    by_code: dict[str, Agency] = {}
    parent: Agency | None = None
    for code, name, short in DEMO_AGENCIES:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            agency = create_agency(session, code, name, short_name=short, parent=parent)
        by_code[code] = agency
        parent = parent or agency
    users = 0
    for username, full_name, roles, agency_code in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            agency = by_code[agency_code] if agency_code else None
            accounts.create_user(session, username, full_name, DEMO_PASSWORD, roles, agency=agency)
            users += 1
    token = None
    if users:
        scopes = (TokenScope.SUBMIT, TokenScope.READ_OWN, TokenScope.SEARCH)
        token = accounts.issue_token(session, by_code["000.00.07.H54"], "demo", scopes).secret
    return DemoSeed(agencies=len(by_code), users=users, token=token)
