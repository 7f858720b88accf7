"""The catalog on SQLite and PostgreSQL: the same module runs against both (see conftest.catalog_url)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive import db, events
from archive.agencies import InvalidAgencyCode, create_agency
from archive.catalog import (
    AccessMode,
    AccessRequest,
    Appraisal,
    AppraisalDecision,
    CopyStatus,
    CouncilVote,
    DisposalCase,
    DisposalItem,
    Document,
    Dossier,
    FileCopy,
    HoldScope,
    IndexOutbox,
    LegalHold,
    Package,
    PackageKind,
    RetentionRule,
    RetentionSchedule,
    Role,
    StoredFile,
    Submission,
    SubmissionFile,
    SubmissionState,
    TokenScope,
    Tombstone,
    Vote,
)
from luutru import accounts


def test_migrations_create_every_table(catalog_url: str) -> None:
    engine = db.make_engine(catalog_url)
    tables = set(db.table_names(engine))
    assert db.current_revision(engine) is not None
    expected = {
        "agency", "fonds", "dossier", "document", "package", "stored_file", "file_copy",
        "submission", "submission_file", "event", "user_account", "user_role", "api_token",
        "retention_schedule", "retention_rule", "legal_hold", "appraisal", "disposal_case",
        "disposal_item", "council_vote", "tombstone", "access_request", "index_outbox",
    }  # fmt: skip
    assert expected <= tables
    db.upgrade(catalog_url)  # idempotent
    engine.dispose()


def _dossier(s: Session) -> Dossier:
    agency = create_agency(s, "000.00.00.H54", "Ủy ban nhân dân tỉnh Thái Bình")
    d = Dossier(
        code="000.00.00.H54.2024.01.VP",
        agency_id=agency.id,
        title="Hồ sơ về việc ban hành Kế hoạch cải cách hành chính năm 2024",
        profile="tt05-2025",
        maintenance="06",
        retention_years=10,
        access_mode=AccessMode.CONDITIONAL,
        start_date=date(2024, 1, 2),
        end_date=date(2024, 12, 31),
        descriptive={"title": "Hồ sơ về việc…", "language": ["01"], "ghi chú": "Đủ"},
    )
    d.documents = [
        Document(ordinal=1, doc_code="000.00.00.H54.2024.01.VP.0000001", code_number="15",
                 code_notation="QĐ-UBND", subject="Quyết định ban hành Kế hoạch", type_code="02"),
        Document(ordinal=2, doc_code="000.00.00.H54.2024.01.VP.0000002", code_number="120",
                 code_notation="BC-UBND", subject="Báo cáo kết quả", type_code="14"),
    ]  # fmt: skip
    s.add(d)
    s.flush()
    return d


def test_dossier_documents_packages_files_and_copies(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        d = _dossier(s)
        pkg = Package(kind=PackageKind.AIP, dossier_id=d.id, storage_key="aip/x/v0001", version=1)
        s.add(pkg)
        s.flush()
        f = StoredFile(package_id=pkg.id, document_id=d.documents[0].id, path="data/a.pdf", size=1234,
                       sha256="ab" * 32, mime="application/pdf", puid="fmt/276")  # fmt: skip
        f.copies = [FileCopy(replica="r1", key="aip/x/v0001/data/a.pdf"), FileCopy(replica="r2", key="k")]
        s.add(f)
        dossier_id = d.id
    with sessions() as s:
        d2 = s.get(Dossier, dossier_id)
        assert d2 is not None
        assert [doc.ordinal for doc in d2.documents] == [1, 2]
        assert d2.access_mode is AccessMode.CONDITIONAL
        assert d2.descriptive["ghi chú"] == "Đủ"
        assert d2.created_at.tzinfo is not None and d2.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        copies = s.scalars(select(FileCopy).order_by(FileCopy.replica)).all()
        assert [c.replica for c in copies] == ["r1", "r2"]
        assert all(c.status is CopyStatus.OK for c in copies)
        assert copies[0].file.document is not None and copies[0].file.document.code_notation == "QĐ-UBND"


def test_uniqueness_is_enforced(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        d = _dossier(s)
        agency_id = d.agency_id
    with pytest.raises(IntegrityError), sessions() as s, s.begin():
        s.add(
            Dossier(code="000.00.00.H54.2024.01.VP", agency_id=agency_id, title="trùng", profile="tt05-2025")
        )
    with pytest.raises(IntegrityError), sessions() as s, s.begin():
        d = s.scalars(select(Dossier)).one()
        s.add(Document(dossier_id=d.id, ordinal=1, doc_code="dup"))


def test_agency_codes_are_validated(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        assert create_agency(s, "000.00.12.H57", "Sở Y tế thành phố Huế").code == "000.00.12.H57"
    for bad in ("000.00.00.h54", "H54/01", "0" * 36, "000-00-00-H54", ""):
        with pytest.raises(InvalidAgencyCode), sessions() as s, s.begin():
            create_agency(s, bad, "x")


def test_submission_states_users_tokens(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        agency = create_agency(s, "000.00.07.H54", "Sở Nội vụ tỉnh Thái Bình")
        officer = accounts.create_user(
            s, "vanthu", "Bùi Thị Lan", "mật-khẩu-dài", [Role.AGENCY_OFFICER], agency=agency
        )
        issued = accounts.issue_token(s, agency, "hệ thống QLVB", [TokenScope.SUBMIT, TokenScope.READ_OWN])
        sub = Submission(agency_id=agency.id, idempotency_key="k-1", submitted_by=officer.id, profile="tt05-2025",
                         metadata_doc={"dossier": {"title": "Hồ sơ"}}, findings=[{"code": "x"}])  # fmt: skip
        sub.files = [SubmissionFile(path="a.pdf", declared_sha256="00" * 32, size=10)]
        s.add(sub)
        s.flush()
        sub_id, agency_id = sub.id, agency.id
    with sessions() as s, s.begin():
        token = accounts.authenticate_token(s, issued.secret)
        assert token is not None and token.scope_set() == {TokenScope.SUBMIT, TokenScope.READ_OWN}
        assert accounts.authenticate_token(s, issued.secret + "x") is None
        accounts.revoke_token(s, issued.token.prefix, actor=events.SYSTEM)
    with sessions() as s:
        assert accounts.authenticate_token(s, issued.secret) is None
        sub2 = s.get(Submission, sub_id)
        assert sub2 is not None and sub2.state is SubmissionState.RECEIVED
        assert sub2.files[0].path == "a.pdf" and sub2.metadata_doc["dossier"]["title"] == "Hồ sơ"
        user = s.scalars(select(accounts.User).where(accounts.User.username == "vanthu")).one()
        assert user.has_role(Role.AGENCY_OFFICER) and not user.has_role(Role.ARCHIVIST)
        assert accounts.check_password(user, "mật-khẩu-dài") and not accounts.check_password(user, "sai")
        assert user.password_hash and "mật" not in user.password_hash
    with pytest.raises(IntegrityError), sessions() as s, s.begin():  # idempotency key per agency
        s.add(Submission(agency_id=agency_id, idempotency_key="k-1"))


def test_retention_holds_disposal_access(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        d = _dossier(s)
        archivist = accounts.create_user(s, "luutru", "Lưu trữ viên", "pw-123456", [Role.ARCHIVIST])
        member = accounts.create_user(s, "hd1", "Ủy viên", "pw-123456", [Role.COUNCIL_MEMBER])
        sched = RetentionSchedule(code="TT10-2022", version=1, name="Thời hạn lưu trữ hồ sơ, tài liệu")
        sched.rules = [RetentionRule(series="Hồ sơ cải cách hành chính", maintenance="06", years=10),
                       RetentionRule(series="Nghị quyết", maintenance="01", years=None)]  # fmt: skip
        s.add(sched)
        s.add(
            LegalHold(
                scope=HoldScope.DOSSIER,
                scope_id=d.id,
                kind="inspection",
                reason="Thanh tra",
                placed_by=archivist.id,
            )
        )
        case = DisposalCase(code="HUY-2035-01", title="Hủy tài liệu hết thời hạn", proposed_by=archivist.id)
        case.items = [DisposalItem(dossier_id=d.id)]
        case.votes = [CouncilVote(user_id=member.id, vote=Vote.REJECT, opinion="Còn giá trị tham khảo")]
        s.add(case)
        s.flush()
        s.add(
            Appraisal(
                dossier_id=d.id,
                decision=AppraisalDecision.PROPOSE,
                reason="Hết hạn",
                appraised_by=archivist.id,
                disposal_case_id=case.id,
            )
        )
        s.add(Tombstone(dossier_id=d.id, code=d.code, title=d.title, file_hashes=[{"path": "a", "sha256": "00"}],
                        disposal_case_id=case.id, destroyed_at=datetime(2035, 1, 1, tzinfo=UTC)))  # fmt: skip
        s.add(AccessRequest(requester_id=member.id, dossier_id=d.id, purpose="Nghiên cứu"))
        s.add(IndexOutbox(entity="dossier", entity_id=d.id, op="upsert"))
    with sessions() as s:
        sched2 = s.scalars(select(RetentionSchedule)).one()
        assert [r.years for r in sched2.rules] == [10, None]
        case2 = s.scalars(select(DisposalCase)).one()
        assert case2.votes[0].opinion == "Còn giá trị tham khảo" and case2.items[0].dossier_id
        assert s.scalars(select(Tombstone)).one().destroyed_at == datetime(2035, 1, 1, tzinfo=UTC)
        assert s.scalars(select(AccessRequest)).one().dossier.code == "000.00.00.H54.2024.01.VP"
