"""Dossier and document pages: TT 05 labels, the document list, versions, events, fixity; the
correction form; page images; original downloads from a verifying replica; every URL refused
to those ``policies.access`` refuses."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from archive.catalog import Document, Dossier, Event, EventType, FileRole, Package, PackageState
from luutru.pages import Size, cache_path, cache_root
from luutru.samples.corpus import file_code
from luutru.web.records import current_files

from .conftest import Web, sample_env
from .test_ingest_views import spec, token

CONDITIONAL, OPEN, SECRET = (file_code(spec(n)) for n in ("01.TCCB", "02.TCCB", "06.TTr"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Iterator[Web]:
    web = sample_env(tmp_path_factory, seeded_catalog, "records")  # 01.TCCB, 02.TCCB, 06.TTr
    yield web
    web.services.close()


def first_pdf(web: Web, code: str) -> tuple[int, int, str, str]:
    """(document id, stored file id, sha256, replica key) of the dossier's first PDF document."""
    with web.services.session() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier is not None
        doc = dossier.documents[0]
        f = next(x for x in current_files(doc) if x.mime == "application/pdf")
        return doc.id, f.id, f.sha256, f"{f.package.storage_key}/{f.path}"


def events_of(web: Web, kind: EventType) -> int:
    with web.services.session() as s:
        return int(s.scalar(select(func.count()).select_from(Event).where(Event.type == kind)) or 0)


def test_dossier_page_shows_profile_labels_documents_versions_events_and_fixity(env: Web) -> None:
    html = env.signed_in("luutru").get(f"/records/dossiers/{OPEN}").get_data(as_text=True)
    for label in ("Tiêu đề hồ sơ", "Thời hạn lưu trữ", "Chế độ sử dụng", "Tổng số tài liệu trong hồ sơ"):
        assert label in html
    assert "Hồ sơ về đào tạo, bồi dưỡng cán bộ, công chức" in html
    assert html.count("/records/documents/") == 11  # the mục lục văn bản, one link per document
    assert 'data-version="1"' in html and "accession" in html and "replication" in html
    assert "r1" in html and "r2" in html and 'class="ok">ok<' in html
    english = env.signed_in("luutru").get(f"/records/dossiers/{OPEN}?lang=en").get_data(as_text=True)
    assert "Dossier title" in english


def test_restricted_records_refuse_every_url_to_researchers_and_anonymous(env: Web) -> None:
    for code in (CONDITIONAL, SECRET):
        doc_id, file_id, _sha, _key = first_pdf(env, code)
        urls = {
            "dossier": f"/records/dossiers/{code}",
            "document": f"/records/documents/{doc_id}",
            "page": f"/records/documents/{doc_id}/pages/0.png",
            "original": f"/records/documents/{doc_id}/original/{file_id}",
        }
        for client in (env.client(), env.signed_in("docgia")):
            got = {name: client.get(url).status_code for name, url in urls.items()}
            if code == SECRET:
                assert got == {"dossier": 404, "document": 404, "page": 404, "original": 404}
            else:  # conditional: the description is published, the content is not
                assert got == {"dossier": 200, "document": 200, "page": 403, "original": 403}
                html = client.get(urls["dossier"]).get_data(as_text=True)
                assert 'data-content="hidden"' in html and "/records/documents/" not in html
                assert "data-download" not in client.get(urls["document"]).get_data(as_text=True)
        assert env.signed_in("docgia").get(f"/records/dossiers/{code}/edit").status_code == 403
    assert env.client().get(f"/records/dossiers/{OPEN}/edit").status_code == 302
    assert env.client().get("/records/dossiers/NO-SUCH-CODE").status_code == 404


def test_open_record_pages_and_downloads_per_role(env: Web) -> None:
    doc_id, file_id, sha, _key = first_pdf(env, OPEN)
    anonymous, reader = env.client(), env.signed_in("docgia")
    assert anonymous.get(f"/records/documents/{doc_id}/pages/0.png").status_code == 200
    assert (
        anonymous.get(f"/records/documents/{doc_id}/original/{file_id}").status_code == 403
    )  # sign in first
    r = reader.get(f"/records/documents/{doc_id}/original/{file_id}")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha
    assert "data-download" in reader.get(f"/records/documents/{doc_id}").get_data(as_text=True)


def test_page_image_is_rendered_once_and_cached(env: Web) -> None:
    doc_id, _file_id, sha, _key = first_pdf(env, CONDITIONAL)
    client = env.signed_in("luutru")
    html = client.get(f"/records/documents/{doc_id}").get_data(as_text=True)
    assert f"/records/documents/{doc_id}/pages/0.png" in html and 'data-signer="Nguyễn Văn An"' in html
    r = client.get(f"/records/documents/{doc_id}/pages/0.png")
    assert r.status_code == 200 and Image.open(io.BytesIO(r.data)).width == 1000
    cached = cache_path(cache_root(env.services.settings.data_dir), sha, 1, Size(width=1000))
    assert cached.is_file()  # URL page 0 is the file's first page
    assert client.get(f"/records/documents/{doc_id}/pages/7.png").status_code == 404  # one page only


def test_restricted_reads_and_every_original_download_are_disseminations(env: Web) -> None:
    doc_id, file_id, sha, _key = first_pdf(env, CONDITIONAL)
    client = env.signed_in("luutru")
    before = events_of(env, EventType.DISSEMINATION)
    client.get(f"/records/dossiers/{CONDITIONAL}")
    client.get(f"/records/documents/{doc_id}")
    r = client.get(f"/records/documents/{doc_id}/original/{file_id}")
    assert hashlib.sha256(r.data).hexdigest() == sha
    assert events_of(env, EventType.DISSEMINATION) == before + 3
    with env.services.session() as s:
        last = s.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert last is not None and last.detail == "original downloaded" and last.agent == "luutru"


def test_download_skips_a_damaged_replica_and_refuses_when_none_verifies(env: Web) -> None:
    doc_id, file_id, sha, key = first_pdf(env, OPEN)
    paths = [Path(root) / key for root in env.services.settings.replica_roots]
    assert len(paths) == 2 and all(p.is_file() for p in paths)
    originals = [p.read_bytes() for p in paths]
    client = env.signed_in("luutru")
    try:
        paths[0].write_bytes(originals[0][:-10] + b"0123456789")
        r = client.get(f"/records/documents/{doc_id}/original/{file_id}")
        assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha  # served from r2
        paths[1].write_bytes(b"truncated")
        before = events_of(env, EventType.DISSEMINATION)
        assert client.get(f"/records/documents/{doc_id}/original/{file_id}").status_code == 500
        assert events_of(env, EventType.DISSEMINATION) == before  # nothing was handed out
    finally:
        for p, data in zip(paths, originals, strict=True):
            p.write_bytes(data)


def test_correction_form_shows_field_errors_and_saves_a_new_version(env: Web) -> None:
    page = f"/records/dossiers/{OPEN}/edit"
    assert env.signed_in("kiemtra").get(page).status_code == 403
    client = env.signed_in("luutru")
    form = client.get(page).get_data(as_text=True)
    assert 'name="d-title"' in form and 'name="doc-1-subject"' in form and "Tiêu đề hồ sơ" in form
    csrf = token(client, page)
    r = client.post(page, data={"csrf_token": csrf, "d-title": "Tiêu đề mới", "reason": ""})
    assert r.status_code == 400 and 'data-error-for="reason"' in r.get_data(as_text=True)
    r = client.post(page, data={"csrf_token": csrf, "d-mode": "99", "reason": "Sửa chế độ"})
    assert r.status_code == 400 and 'data-error-for="d-mode"' in r.get_data(as_text=True)
    r = client.post(page, data={"csrf_token": csrf, "doc-1-issuedDate": "31/02/2023", "reason": "Sửa ngày"})
    assert r.status_code == 400 and 'data-error-for="doc-1-issuedDate"' in r.get_data(as_text=True)
    r = client.post(
        page,
        data={
            "csrf_token": csrf,
            "d-title": "Hồ sơ về đào tạo, bồi dưỡng cán bộ, công chức năm 2023",
            "doc-1-subject": "Kế hoạch đào tạo (đã sửa trích yếu)",
            "reason": "Bổ sung năm vào tiêu đề",
        },
    )
    assert r.status_code == 302 and r.location.endswith(f"/records/dossiers/{OPEN}")
    html = client.get(f"/records/dossiers/{OPEN}").get_data(as_text=True)
    assert "công chức năm 2023" in html and 'data-version="2"' in html and "metadata correction" in html
    with env.services.session() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == OPEN))
        assert dossier is not None
        states = {
            p.version: p.state for p in s.scalars(select(Package).where(Package.dossier_id == dossier.id))
        }
        doc = s.scalar(select(Document).where(Document.dossier_id == dossier.id, Document.ordinal == 1))
        assert doc is not None and doc.subject == "Kế hoạch đào tạo (đã sửa trích yếu)"
        assert [f.role for f in current_files(doc)] == [FileRole.ORIGINAL]
    assert states == {1: PackageState.SUPERSEDED, 2: PackageState.STORED}
    doc_id, file_id, sha, _key = first_pdf(env, OPEN)  # the new version's copy downloads and verifies
    r = client.get(f"/records/documents/{doc_id}/original/{file_id}")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha
