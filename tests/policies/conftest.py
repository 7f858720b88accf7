"""A small archive for the disposal tests: an agency, people with roles, dossiers with real
packages written to two local replicas, and a catalog on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.agencies import create_agency
from archive.catalog import (
    Agency,
    AppraisalDecision,
    DisposalCase,
    Document,
    Dossier,
    FileCopy,
    FileRole,
    Package,
    PackageKind,
    PackageState,
    Role,
    StoredFile,
    User,
    Vote,
)
from archive.storage import LocalReplica
from luutru.accounts import create_user
from policies import disposal
from policies.retention import mark_due

AGENCY = "000.00.07.H54"
TODAY = date(2025, 3, 1)
MEMBERS = ("hd_chu_tich", "hd_thu_ky", "hd_uy_vien")


@dataclass
class World:
    sessions: sessionmaker[Session]
    root: Path
    replicas: list[LocalReplica]
    purged: list[int] = field(default_factory=list)

    def session(self) -> Session:
        return self.sessions()

    @staticmethod
    def user(s: Session, username: str) -> User:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return user

    @staticmethod
    def dossier(s: Session, code: str) -> Dossier:
        d = s.scalar(select(Dossier).where(Dossier.code == code))
        assert d is not None
        return d

    def add_dossier(
        self,
        code: str,
        *,
        end: date | None = date(2014, 6, 30),
        years: int | None = 10,
        maintenance: str | None = "06",
        packages: bool = True,
        doc_type: str = "01",
        series: str | None = None,
    ) -> int:
        """A dossier with two documents (with extracted text) and, optionally, a package on both replicas."""
        with self.sessions() as s:
            agency = s.scalar(select(Agency).where(Agency.code == AGENCY))
            assert agency is not None
            d = Dossier(
                code=code,
                agency_id=agency.id,
                title=f"Hồ sơ kế toán {code}",
                profile="tt05-2025",
                maintenance=maintenance,
                retention_years=years,
                start_date=date(2014, 1, 2),
                end_date=end,
                descriptive={"series": series, "keyword": "bí mật nội dung"} if series else {"keyword": "x"},
            )
            d.documents = [
                Document(
                    ordinal=i,
                    doc_code=f"{code}.{i:02d}",
                    type_code=doc_type,
                    subject=f"Trích yếu {i}",
                    text_content=f"nội dung văn bản {code} số {i}",
                )
                for i in (1, 2)
            ]
            s.add(d)
            s.flush()
            if packages:
                self._package(s, d)
            s.commit()
            return d.id

    def _package(self, s: Session, d: Dossier) -> None:
        src = self.root / "src" / d.code
        (src / "data").mkdir(parents=True)
        key = f"aip/{d.code}/v0001"
        pkg = Package(kind=PackageKind.AIP, state=PackageState.STORED, dossier_id=d.id, storage_key=key)
        for i, doc in enumerate(d.documents, start=1):
            body = f"%PDF-1.7 nội dung tài liệu {d.code} {i}\n".encode() * 100
            (src / "data" / f"doc{i}.pdf").write_bytes(body)
            pkg.files.append(
                StoredFile(
                    document_id=doc.id,
                    path=f"data/doc{i}.pdf",
                    role=FileRole.ORIGINAL,
                    size=len(body),
                    sha256=hashlib.sha256(body).hexdigest(),
                )
            )
        (src / "METS.xml").write_text("<mets/>")
        pkg.files.append(
            StoredFile(
                path="METS.xml", role=FileRole.METADATA, size=7, sha256=hashlib.sha256(b"<mets/>").hexdigest()
            )
        )
        for replica in self.replicas:
            replica.put_package(src, key)
        for f in pkg.files:
            f.copies = [FileCopy(replica=r.name, key=f"{key}/{f.path}") for r in self.replicas]
        pkg.file_count = len(pkg.files)
        s.add(pkg)
        s.flush()

    def bytes_on_disk(self, code: str) -> list[str]:
        """Every file under the replica roots (os.walk) whose path or bytes mention the dossier code.

        The event-chain segments (``events/``) are left out: like the catalog's event log and
        the tombstone they keep the destroyed dossier's code (the record of its destruction),
        never its content (docs/fixity-and-backups.md).
        """
        found = []
        for replica in self.replicas:
            for dirpath, _dirs, files in os.walk(replica.root):
                if Path(dirpath) == replica.root / "events":
                    continue
                for name in files:
                    p = Path(dirpath) / name
                    if code in str(p) or code.encode() in p.read_bytes():
                        found.append(str(p))
        return found

    def approved_case(self, codes: list[str], *, today: date = TODAY) -> int:
        """Take ``codes`` from due to an approved disposal decision; return the case id."""
        with self.sessions() as s:
            mark_due(s, today)
            archivist = self.user(s, "luu_tru_vien")
            dossiers = [self.dossier(s, c) for c in codes]
            for d in dossiers:
                disposal.appraise(s, d, archivist, AppraisalDecision.PROPOSE, "hết giá trị", today=today)
            case = disposal.open_case(s, archivist, "Hủy hồ sơ kế toán 2014", dossiers, "Hết thời hạn 10 năm")
            disposal.submit_to_council(s, case, archivist)
            for name in MEMBERS:
                disposal.vote(s, case, self.user(s, name), Vote.APPROVE, "đồng ý")
            disposal.record_review(s, case, archivist, "123/CVL-TĐ", "Đồng ý hủy", approved=True)
            disposal.decide(s, case, self.user(s, "giam_doc"), "45/QĐ-SNV", deadline_days=15, today=today)
            s.commit()
            return case.id

    @staticmethod
    def case(s: Session, case_id: int) -> DisposalCase:
        case = s.get(DisposalCase, case_id)
        assert case is not None
        return case


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    with sessions() as s:
        create_agency(s, AGENCY, "Sở Nội vụ tỉnh Thái Bình")
        create_user(s, "luu_tru_vien", "Nguyễn Thị Lan", None, [Role.ARCHIVIST])
        create_user(s, "luu_tru_vien_2", "Trần Văn Bình", None, [Role.ARCHIVIST])
        create_user(s, "giam_doc", "Lê Văn Minh", None, [Role.DECIDER])
        create_user(s, "quan_tri", "Phạm Quản Trị", None, [Role.ADMINISTRATOR, Role.DECIDER, Role.ARCHIVIST])
        for i, name in enumerate(MEMBERS):
            create_user(s, name, f"Thành viên Hội đồng {i + 1}", None, [Role.COUNCIL_MEMBER])
        s.commit()
    replicas = [LocalReplica(tmp_path / "replicas" / n, name=n) for n in ("r1", "r2")]
    yield World(sessions, tmp_path, replicas)
