"""Disposal screens through the routes: due list, appraisal, case, council, review, decision
(four eyes), destruction on both replicas with the page cache and index purged, papers, holds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive.catalog import (
    AccessMode,
    Agency,
    CopyStatus,
    DisposalCase,
    DisposalState,
    Document,
    Dossier,
    EventType,
    FileCopy,
    FileRole,
    Package,
    PackageKind,
    PackageState,
    RecordState,
    Role,
    StoredFile,
    Tombstone,
    User,
    UserRole,
)
from archive.catalog import Event as EventRow
from luutru.disposal_wiring import page_cache_root, papers_dir, thumbnail_cache_root
from tests.web.conftest import OWN_AGENCY, Web, csrf_token


def make_pdf(path: Path, pages: int = 2) -> None:
    c = canvas.Canvas(str(path))
    for n in range(1, pages + 1):
        c.drawString(72, 720, f"Trang {n} - noi dung tai lieu")
        c.showPage()
    c.save()


def store_dossier(
    web: Web,
    code: str,
    *,
    mode: AccessMode = AccessMode.OPEN,
    end: date | None = date(2012, 12, 28),
    years: int | None = 10,
) -> int:
    """A dossier with one document whose 2-page PDF is stored on every replica."""
    services = web.services
    src = services.settings.data_dir / "src" / code
    (src / "data").mkdir(parents=True)
    make_pdf(src / "data" / "doc1.pdf")
    body = (src / "data" / "doc1.pdf").read_bytes()
    key = f"aip/{code}/v0001"
    with services.sessions.begin() as s:
        agency = s.scalar(select(Agency).where(Agency.code == OWN_AGENCY))
        assert agency is not None
        d = Dossier(
            code=code,
            agency_id=agency.id,
            title=f"Hồ sơ {code}",
            profile="TT05-2025",
            access_mode=mode,
            maintenance="06",
            retention_years=years,
            end_date=end,
            documents=[Document(ordinal=1, doc_code=f"{code}.01", subject="Công văn", access_mode=mode)],
        )
        s.add(d)
        s.flush()
        pkg = Package(kind=PackageKind.AIP, state=PackageState.STORED, dossier_id=d.id, storage_key=key)
        pkg.files.append(
            StoredFile(
                document_id=d.documents[0].id,
                path="data/doc1.pdf",
                role=FileRole.ORIGINAL,
                size=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
                mime="application/pdf",
            )
        )
        for replica in services.replicas:
            replica.put_package(src, key)
        for f in pkg.files:
            f.copies = [FileCopy(replica=r.name, key=f"{key}/{f.path}") for r in services.replicas]
        pkg.file_count = 1
        s.add(pkg)
        s.flush()
        return d.id


def add_role(web: Web, username: str, role: Role) -> None:
    with web.services.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        s.add(UserRole(user_id=user.id, role=role))


def submit(client, path: str, data: Mapping[str, object] | None = None, page: str = "/disposal/"):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **(data or {})}, follow_redirects=True
    )


def case_state(web: Web, code: str) -> DisposalState:
    with web.services.session() as s:
        case = s.scalar(select(DisposalCase).where(DisposalCase.code == code))
        assert case is not None
        return case.state


def test_due_list_appraisal_case_council_review_decision_execution(web: Web) -> None:
    due_id = store_dossier(web, "HS-DUE-1")
    store_dossier(web, "HS-NO-END", end=None)
    add_role(
        web, "luutru", Role.DECIDER
    )  # the proposer also holds the decider role: four eyes must still refuse
    archivist = web.signed_in("luutru")

    html = archivist.get("/disposal/").get_data(as_text=True)
    assert 'data-due="HS-DUE-1"' in html and "retention.end_date_missing" in html
    assert "HS-NO-END" in html and 'data-due="HS-NO-END"' not in html
    html = submit(archivist, "/disposal/due/mark").get_data(as_text=True)
    assert "Đã đánh dấu 1 hồ sơ" in html

    # an open page image is cached before destruction; destruction must purge it
    with web.services.session() as s:
        file = s.scalars(select(StoredFile).join(Package).where(Package.dossier_id == due_id)).one()
        file_id, sha = file.id, file.sha256
    assert archivist.get(f"/portal/records/{due_id}/files/{file_id}/pages/1.png").status_code == 200
    assert any((page_cache_root(web.services.settings) / sha).glob("p1-*.png"))
    thumb = thumbnail_cache_root(web.services.settings) / sha[:2] / f"{sha}-p0-w240.png"
    thumb.parent.mkdir(parents=True)
    thumb.write_bytes(b"\x89PNG thumbnail of the console")

    r = submit(
        archivist, "/disposal/dossiers/HS-DUE-1/appraise", {"decision": "propose", "reason": "Hết hạn"}
    )
    assert "Đã ghi nhận kết quả xác định giá trị" in r.get_data(as_text=True)
    r = submit(
        archivist, "/disposal/cases", {"dossier": "HS-DUE-1", "title": "Hủy 2026", "note": "Thuyết minh"}
    )
    with web.services.session() as s:
        code = s.scalars(select(DisposalCase.code)).one()
    assert f"<h1>{code} — Hủy 2026</h1>" in r.get_data(as_text=True)

    member = web.signed_in("hoidong1")
    html = submit(member, f"/disposal/cases/{code}/vote", {"vote": "approve"}).get_data(as_text=True)
    assert "Trạng thái hiện tại (draft)" in html and "cannot vote" in html  # wrong state, both languages
    submit(archivist, f"/disposal/cases/{code}/submit")
    assert case_state(web, code) is DisposalState.COUNCIL
    submit(member, f"/disposal/cases/{code}/vote", {"vote": "approve", "opinion": "Đồng ý"})
    html = submit(member, f"/disposal/cases/{code}/vote", {"vote": "approve"}).get_data(as_text=True)
    assert "Refused" in html  # a second vote
    submit(web.signed_in("hoidong2"), f"/disposal/cases/{code}/vote", {"vote": "approve"})
    dissent = 'Tài liệu còn giá trị tham khảo, đề nghị "giữ lại" thêm 5 năm.'
    html = submit(
        web.signed_in("hoidong3"), f"/disposal/cases/{code}/vote", {"vote": "reject", "opinion": dissent}
    ).get_data(as_text=True)
    assert case_state(web, code) is DisposalState.REVIEW
    assert 'data-outcome="approved"' in html
    assert "Tài liệu còn giá trị tham khảo, đề nghị &#34;giữ lại&#34; thêm 5 năm." in html

    data = {"reference": "123/TĐ-STC", "opinion": "Đồng ý hủy", "approved": "yes"}
    submit(archivist, f"/disposal/cases/{code}/review", data)
    assert case_state(web, code) is DisposalState.DECISION

    html = submit(
        archivist, f"/disposal/cases/{code}/decide", {"reference": "45/QĐ", "approve": "yes"}
    ).get_data(as_text=True)
    assert "nguyên tắc bốn mắt" in html and "may not decide it" in html
    assert case_state(web, code) is DisposalState.DECISION
    submit(
        web.signed_in("giamdoc"), f"/disposal/cases/{code}/decide", {"reference": "45/QĐ", "approve": "yes"}
    )
    assert case_state(web, code) is DisposalState.APPROVED

    assert web.signed_in("hoidong1").post(f"/disposal/cases/{code}/execute").status_code in (400, 403)
    r = archivist.post(
        f"/disposal/cases/{code}/execute", data={"csrf_token": csrf_token(archivist, "/disposal/")}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-destroyed="HS-DUE-1"' in html
    assert html.count("HS-DUE-1: đã xóa mọi bản") == len(web.services.replicas) == 2
    assert case_state(web, code) is DisposalState.DESTROYED

    for replica in web.services.replicas:
        assert list(replica.list("aip/HS-DUE-1/")) == []
    assert not (page_cache_root(web.services.settings) / sha).exists() and not thumb.exists()
    with web.services.session() as s:
        assert s.scalar(select(Tombstone).where(Tombstone.dossier_id == due_id)) is not None
        copies = s.scalars(select(FileCopy.status).where(FileCopy.file_id == file_id)).all()
        assert set(copies) == {CopyStatus.DELETED}
        assert s.get(Dossier, due_id).state is RecordState.DESTROYED  # type: ignore[union-attr]
    assert archivist.get(f"/portal/records/{due_id}/files/{file_id}/pages/1.png").status_code == 403

    name = f"{code}-bien-ban-huy.pdf"
    r = web.signed_in("kiemtra").get(f"/disposal/cases/{code}/papers/{name}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert (papers_dir(web.services.settings, code) / name).exists()
    assert web.signed_in("docgia").get(f"/disposal/cases/{code}/papers/{name}").status_code == 403
    assert archivist.get(f"/disposal/cases/{code}/papers/..%2Fcatalog.db").status_code == 404
    assert archivist.get(f"/disposal/cases/{code}/papers/other.pdf").status_code == 404
    html = web.signed_in("docgia").get(f"/portal/records/{due_id}").get_data(as_text=True)
    assert "data-tombstone" in html and "45/QĐ" in html


def test_legal_hold_refuses_appraisal_until_released(web: Web) -> None:
    store_dossier(web, "HS-HELD")
    archivist = web.signed_in("luutru")
    submit(archivist, "/disposal/due/mark")
    data = {
        "scope": "dossier",
        "target": "HS-HELD",
        "kind": "inspection",
        "reason": "Thanh tra",
        "reference": "9/QĐ-TTr",
    }
    html = submit(archivist, "/disposal/holds", data, page="/disposal/holds").get_data(as_text=True)
    assert "Đã đặt lệnh phong tỏa" in html and "HS-HELD" in html and "9/QĐ-TTr" in html
    html = submit(
        archivist, "/disposal/dossiers/HS-HELD/appraise", {"decision": "propose", "reason": "Hết hạn"}
    ).get_data(as_text=True)
    assert "đang bị phong tỏa pháp lý" in html and "under legal hold" in html
    with web.services.session() as s:
        failures = s.scalars(
            select(EventRow.detail).where(
                EventRow.type == EventType.LEGAL_HOLD, EventRow.object_id == "HS-HELD"
            )
        ).all()
        hold_id = s.scalars(select(EventRow.object_id).where(EventRow.object_type == "legal_hold")).first()
    assert failures  # the refusal is on record
    html = submit(
        archivist, f"/disposal/holds/{hold_id}/release", {"reason": ""}, page="/disposal/holds"
    ).get_data(as_text=True)
    assert "Refused" in html
    html = submit(
        archivist, f"/disposal/holds/{hold_id}/release", {"reason": "Xong"}, page="/disposal/holds"
    ).get_data(as_text=True)
    assert "Đã gỡ lệnh phong tỏa" in html and "Không có lệnh phong tỏa" in html
    submit(archivist, "/disposal/dossiers/HS-HELD/appraise", {"decision": "propose", "reason": "Hết hạn"})
    assert 'value="HS-HELD" checked' in archivist.get("/disposal/").get_data(as_text=True)


def test_roles_guard_every_disposal_route(web: Web) -> None:
    researcher, member = web.signed_in("docgia"), web.signed_in("hoidong1")
    assert researcher.get("/disposal/").status_code == 403
    assert researcher.get("/disposal/holds").status_code == 403
    assert web.client().get("/disposal/").status_code == 302  # to sign-in
    assert member.get("/disposal/").status_code == 200
    token = csrf_token(member, "/disposal/")
    assert member.post("/disposal/due/mark", data={"csrf_token": token}).status_code == 403
    assert member.post("/disposal/holds", data={"csrf_token": token}).status_code == 403
    assert member.get("/disposal/cases/HUY-0000-0001").status_code == 404
    admin = web.signed_in("admin")
    admin_token = csrf_token(admin, "/disposal/")
    assert admin.post("/disposal/cases/X/vote", data={"csrf_token": admin_token}).status_code == 403
