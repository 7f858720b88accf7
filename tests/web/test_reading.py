"""Researcher record pages and the reading room: page images of open records, cached and
access-checked; restricted records refused by every URL until an approved request; events."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

from PIL import Image
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from archive.catalog import (
    AccessMode,
    AccessRequest,
    AccessRequestState,
    Agency,
    Document,
    Dossier,
    EventType,
    FileCopy,
    FileRole,
    Package,
    PackageKind,
    PackageState,
    StoredFile,
    User,
)
from archive.catalog import Event as EventRow
from archive.vntime import utcnow
from luutru.disposal_wiring import page_cache_root
from luutru.pages import MARGIN, cache_path
from luutru.web.reading import SIZE, reading_label
from tests.web.conftest import OWN_AGENCY, Web


def stored(web: Web, code: str, mode: AccessMode, pages: int = 2) -> tuple[int, int, int, str]:
    """A dossier with one PDF document on every replica: (dossier, document, file ids, sha256)."""
    services = web.services
    src = services.settings.data_dir / "src" / code
    (src / "data").mkdir(parents=True)
    pdf = src / "data" / "doc.pdf"
    c = canvas.Canvas(str(pdf))
    for n in range(pages):
        c.drawString(72, 720, f"Trang {n + 1}")
        c.showPage()
    c.save()
    body = pdf.read_bytes()
    key = f"aip/{code}/v0001"
    for replica in services.replicas:
        replica.put_package(src, key)
    with services.sessions.begin() as s:
        agency = s.scalar(select(Agency).where(Agency.code == OWN_AGENCY))
        assert agency is not None
        d = Dossier(
            code=code,
            agency_id=agency.id,
            title=f"Hồ sơ {code}",
            profile="TT05-2025",
            access_mode=mode,
            end_date=date(2024, 12, 31),
            documents=[Document(ordinal=1, doc_code=f"{code}.01", subject="Tờ trình", access_mode=mode)],
        )
        s.add(d)
        s.flush()
        f = StoredFile(
            document_id=d.documents[0].id,
            path="data/doc.pdf",
            role=FileRole.ORIGINAL,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            copies=[FileCopy(replica=r.name, key=f"{key}/data/doc.pdf") for r in services.replicas],
        )
        s.add(
            Package(
                kind=PackageKind.AIP, state=PackageState.STORED, dossier_id=d.id, storage_key=key, files=[f]
            )
        )
        s.flush()
        return d.id, d.documents[0].id, f.id, f.sha256


def test_researcher_reads_an_open_record_page_by_page(web: Web) -> None:
    dossier_id, doc_id, file_id, sha = stored(web, "HS-OPEN", AccessMode.OPEN)
    client = web.signed_in("docgia")
    html = client.get(f"/portal/records/{dossier_id}").get_data(as_text=True)
    assert "Tờ trình" in html and f"/portal/records/{dossier_id}/documents/{doc_id}" in html
    html = client.get(f"/portal/records/{dossier_id}/documents/{doc_id}").get_data(as_text=True)
    assert html.count("data-page=") == 2 and "Trang 2 / 2" in html
    assert "download" not in html.lower() and "/records/dossiers/" not in html  # bản đọc: no download

    r = client.get(f"/portal/records/{dossier_id}/files/{file_id}/pages/1.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["Cache-Control"] == "private, no-store"
    image = Image.open(io.BytesIO(r.data)).convert("L")
    band = image.crop((0, image.height - MARGIN + 2, image.width, image.height))
    darkest = band.getextrema()[0]
    assert isinstance(darkest, int) and darkest < 128  # the archive's name is drawn in the bottom margin
    label = reading_label("Ủy ban nhân dân tỉnh Thái Bình")  # no archive_name set: the top agency
    cached = cache_path(page_cache_root(web.services.settings), sha, 1, SIZE, label)
    assert cached.exists()
    before = cached.stat().st_mtime_ns
    assert client.get(f"/portal/records/{dossier_id}/files/{file_id}/pages/1.png").data == r.data
    assert cached.stat().st_mtime_ns == before  # served from the cache
    assert client.get(f"/portal/records/{dossier_id}/files/{file_id}/pages/3.png").status_code == 404
    other_id, _, _, _ = stored(web, "HS-OTHER", AccessMode.OPEN)
    assert client.get(f"/portal/records/{other_id}/files/{file_id}/pages/1.png").status_code == 404
    assert web.client().get(f"/portal/records/{dossier_id}/files/{file_id}/pages/2.png").status_code == 200


def test_restricted_records_are_refused_by_every_url(web: Web) -> None:
    cond_id, cond_doc, cond_file, cond_sha = stored(web, "HS-COND", AccessMode.CONDITIONAL)
    secret_id, secret_doc, secret_file, _ = stored(web, "HS-SECRET", AccessMode.SECRET)
    client = web.signed_in("docgia")
    html = client.get(f"/portal/records/{cond_id}").get_data(as_text=True)
    assert "Hồ sơ HS-COND" in html and 'data-content="hidden"' in html and "Tờ trình" not in html
    assert f"/portal/requests/new?dossier_id={cond_id}" in html
    assert client.get(f"/portal/records/{cond_id}/documents/{cond_doc}").status_code == 403
    assert client.get(f"/portal/records/{cond_id}/files/{cond_file}/pages/1.png").status_code == 403
    assert not (page_cache_root(web.services.settings) / cond_sha).exists()
    for path in (
        f"/portal/records/{secret_id}",
        f"/portal/records/{secret_id}/documents/{secret_doc}",
        f"/portal/records/{secret_id}/files/{secret_file}/pages/1.png",
    ):
        assert client.get(path).status_code == 404, path  # existence not disclosed
    # a document of an open dossier reached through another dossier's URL
    open_id, _, _, _ = stored(web, "HS-OPEN2", AccessMode.OPEN)
    assert client.get(f"/portal/records/{open_id}/documents/{cond_doc}").status_code == 404
    assert client.get(f"/portal/records/{open_id}/files/{cond_file}/pages/1.png").status_code == 404


def test_an_approved_request_lets_the_researcher_read_and_logs_dissemination(web: Web) -> None:
    cond_id, cond_doc, cond_file, _ = stored(web, "HS-GRANT", AccessMode.CONDITIONAL)
    with web.services.sessions.begin() as s:
        researcher = s.scalar(select(User).where(User.username == "docgia"))
        assert researcher is not None
        s.add(
            AccessRequest(
                requester_id=researcher.id,
                dossier_id=cond_id,
                purpose="Nghiên cứu",
                state=AccessRequestState.APPROVED,
                expires_at=utcnow() + timedelta(days=15),
            )
        )
    client = web.signed_in("docgia")
    html = client.get(f"/portal/records/{cond_id}").get_data(as_text=True)
    assert "Tờ trình" in html and "data-read" in html
    assert client.get(f"/portal/records/{cond_id}/documents/{cond_doc}").status_code == 200
    assert client.get(f"/portal/records/{cond_id}/files/{cond_file}/pages/1.png").status_code == 200
    with web.services.session() as s:
        count = s.scalar(
            select(func.count(EventRow.id)).where(
                EventRow.type == EventType.DISSEMINATION, EventRow.object_id == "HS-GRANT"
            )
        )
    assert count == 1
    assert (
        web.signed_in("vanthu").get(f"/portal/records/{cond_id}/documents/{cond_doc}").status_code == 200
    )  # own agency
    assert web.client().get(f"/portal/records/{cond_id}/documents/{cond_doc}").status_code == 403
