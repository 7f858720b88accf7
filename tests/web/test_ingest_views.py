"""The ingest queue in the console: list and filters, a submission's findings, signatures and
page preview, accept / reject / ask for a correction, upload from the browser.

Real sample dossiers (signed by a generated test PKI) are ingested through the real service,
once per run (conftest.sample_snapshot); each module works on its own copy.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.catalog import Event, EventType, Submission, SubmissionState
from luutru import pages
from luutru.samples.corpus import file_code

from .conftest import Web, sample_env, sample_spec

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
spec = sample_spec


def token(client: FlaskClient, path: str) -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def submission_of(web: Web, notation: str) -> Submission:
    with web.services.session() as s:
        sub = s.scalars(
            select(Submission)
            .options(selectinload(Submission.files))
            .where(Submission.dossier_code == file_code(spec(notation)))
            .order_by(Submission.received_at.desc())
        ).first()
        assert sub is not None
        return sub


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Web:
    web = sample_env(tmp_path_factory, seeded_catalog, "review")  # 01.TCCB, 08.TCCB, 11.VP
    yield web  # type: ignore[misc]
    web.services.close()


def test_queue_lists_submissions_by_state_with_counts_and_filters(env: Web) -> None:
    client = env.signed_in("luutru")
    html = client.get("/console/ingest/").get_data(as_text=True)
    for notation in ("01.TCCB", "08.TCCB", "11.VP"):
        assert file_code(spec(notation)) in html
    assert "+07:00" in html and "Chờ duyệt" in html  # times in Vietnam time; states in Vietnamese
    review = client.get("/console/ingest/?state=in_review").get_data(as_text=True)
    assert file_code(spec("11.VP")) in review and file_code(spec("01.TCCB")) not in review
    by_agency = client.get("/console/ingest/?agency=000.00.00.H54").get_data(as_text=True)
    assert file_code(spec("11.VP")) in by_agency and file_code(spec("08.TCCB")) not in by_agency
    searched = client.get("/console/ingest/?q=viên chức").get_data(as_text=True)
    assert file_code(spec("08.TCCB")) in searched and file_code(spec("11.VP")) not in searched
    dup = submission_of(env, "08.TCCB")
    warnings = sum(1 for f in dup.findings if f["severity"] == "warning")
    assert warnings >= 2  # duplicate.number_notation, duplicate.content
    row = re.search(rf'data-submission="{dup.id}".*?</tr>', review, re.S)
    assert row and re.findall(r'class="num">(\d+)<', row.group(0)) == ["0", str(warnings)]


@pytest.mark.parametrize("username", ["docgia", "vanthu", "hoidong1"])
def test_queue_and_previews_refuse_other_roles(env: Web, username: str) -> None:
    sub = submission_of(env, "11.VP")
    client = env.signed_in(username)
    assert client.get("/console/ingest/").status_code == 403
    assert client.get(f"/console/ingest/{sub.id}").status_code == 403
    pdf = next(f for f in sub.files if f.mime == "application/pdf")
    assert client.get(f"/console/ingest/{sub.id}/files/{pdf.id}/preview.png").status_code == 403
    assert env.client().get(f"/console/ingest/{sub.id}").status_code == 302  # anonymous: sign in


def test_submission_page_shows_findings_signatures_and_a_cached_thumbnail(env: Web) -> None:
    sub = submission_of(env, "11.VP")
    client = env.signed_in("kiemtra")  # auditors may look, not decide
    html = client.get(f"/console/ingest/{sub.id}").get_data(as_text=True)
    assert 'data-code="metadata.not_nfc"' in html and "chưa ở dạng dựng sẵn (NFC)" in html
    assert "not in composed form (NFC)" in html  # both languages
    assert 'data-signer="Nguyễn Văn An"' in html and 'data-signer="Ủy ban nhân dân tỉnh Thái Bình"' in html
    assert "fmt/477" in html and "application/pdf" in html
    assert 'id="decision"' not in html  # the auditor has no decision form
    pdf = next(f for f in sub.files if f.mime == "application/pdf")
    url = f"/console/ingest/{sub.id}/files/{pdf.id}/preview.png"
    assert url in html
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = Image.open(io.BytesIO(r.data))
    assert image.width == 240 and image.height > 240  # a portrait A4 page
    cache = pages.cache_root(env.services.settings.data_dir)
    cached = cache / pdf.sha256 / "p1-w240.png"  # luutru.pages: one cache, pages counted from 1
    assert cached.is_file()
    assert client.get(url + "?page=99").status_code == 404
    assert pages.forget(cache, [pdf.sha256]) == 1
    assert not cached.exists()
    other = submission_of(env, "08.TCCB")
    assert client.get(f"/console/ingest/{other.id}/files/{pdf.id}/preview.png").status_code == 404


def test_a_changed_staged_file_gets_no_preview(env: Web) -> None:
    sub = submission_of(env, "08.TCCB")
    pdf = next(f for f in sub.files if f.mime == "application/pdf" and f.path.endswith("02-QĐ.pdf"))
    staged = Path(sub.metadata_doc["_staging"]["payload_root"]) / pdf.path
    original = staged.read_bytes()
    try:
        staged.write_bytes(original.replace(b"%%EOF", b"%%EOF\n% changed", 1))
        r = env.signed_in("luutru").get(f"/console/ingest/{sub.id}/files/{pdf.id}/preview.png")
        assert r.status_code == 409
    finally:
        staged.write_bytes(original)


def test_accept_archives_and_links_the_dossier(env: Web) -> None:
    sub = submission_of(env, "11.VP")
    client = env.signed_in("luutru")
    page = f"/console/ingest/{sub.id}"
    assert client.post(f"{page}/decision", data={"action": "accept"}).status_code == 400  # no CSRF
    r = client.post(f"{page}/decision", data={"action": "accept", "csrf_token": token(client, page)})
    assert r.status_code == 302 and r.location.endswith(page)
    html = client.get(page).get_data(as_text=True)
    assert 'data-state="archived"' in html and "data-dossier-link" in html
    assert submission_of(env, "11.VP").state is SubmissionState.ARCHIVED
    pdf = next(f for f in sub.files if f.mime == "application/pdf")
    assert client.get(f"{page}/files/{pdf.id}/preview.png").status_code == 404  # staging is gone
    with env.services.session() as s:
        decision = s.scalars(
            select(Event).where(Event.object_id == sub.id, Event.type == EventType.SUBMISSION_DECISION)
        ).all()
    assert any(e.agent == "luutru" and "accepted" in e.detail for e in decision)
    assert client.get(f"/records/dossiers/{file_code(spec('11.VP'))}").status_code == 200


def test_correction_request_rejects_with_its_code_and_the_archivists_text(env: Web) -> None:
    sub = submission_of(env, "08.TCCB")
    page = f"/console/ingest/{sub.id}"
    auditor = env.signed_in("kiemtra")
    assert (
        auditor.post(
            f"{page}/decision", data={"action": "reject", "reason": "x", "csrf_token": token(auditor, page)}
        ).status_code
        == 403
    )
    client = env.signed_in("luutru")
    r = client.post(
        f"{page}/decision", data={"action": "correct", "reason": " ", "csrf_token": token(client, page)}
    )
    assert r.status_code == 302
    assert submission_of(env, "08.TCCB").state is SubmissionState.IN_REVIEW  # no reason, no decision
    text = "Văn bản số 1 trùng với hồ sơ 01.TCCB; đề nghị thay bằng bản đúng."
    client.post(
        f"{page}/decision", data={"action": "correct", "reason": text, "csrf_token": token(client, page)}
    )
    after = submission_of(env, "08.TCCB")
    assert after.state is SubmissionState.REJECTED
    assert after.decision_reason == f"review.correction_requested: {text}"
    result = env.services.ingest.result(sub.id)  # what the agency's API call reads
    assert result.status == "rejected"
    assert text in client.get(page).get_data(as_text=True)


def _zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return out


def test_upload_a_zip_from_the_browser(env: Web, tmp_path: Path) -> None:
    src, _root = corpus_paths(env)
    s = spec("02.TCCB")
    archive = _zip_folder(src / file_code(s), tmp_path / "dossier.zip")
    client = env.signed_in("luutru")
    page = "/console/ingest/upload"
    with archive.open("rb") as fh:
        r = client.post(
            page,
            data={"csrf_token": token(client, page), "agency": s.agency, "files": (fh, "ho-so.zip")},
            content_type="multipart/form-data",
        )
    assert r.status_code == 302
    html = client.get(r.location).get_data(as_text=True)
    assert 'data-state="archived"' in html and file_code(s) in html
    sub = submission_of(env, "02.TCCB")
    assert sub.source == "web" and sub.state is SubmissionState.ARCHIVED
    assert not any((env.services.settings.data_dir / "cache" / "uploads").iterdir())  # temp removed


def test_upload_files_and_metadata_json(env: Web, tmp_path: Path) -> None:
    src, _root = corpus_paths(env)
    s = spec("01.TCCB")  # already archived: the new submission is refused as a duplicate dossier
    folder = src / file_code(s)
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["dossier"]["description"] = "Nộp lại từ trình duyệt"  # not the same content as the first
    (tmp_path / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    client = env.signed_in("luutru")
    page = "/console/ingest/upload"
    handles = [(folder / d["file"]).open("rb") for d in meta["documents"]]
    try:
        files = [(h, Path(d["file"]).name) for h, d in zip(handles, meta["documents"], strict=True)]
        with (tmp_path / "metadata.json").open("rb") as m:
            r = client.post(
                page,
                data={
                    "csrf_token": token(client, page),
                    "agency": s.agency,
                    "files": files,
                    "metadata": (m, "metadata.json"),
                },
                content_type="multipart/form-data",
            )
    finally:
        for h in handles:
            h.close()
    assert r.status_code == 302
    html = client.get(r.location).get_data(as_text=True)
    assert 'data-code="ingest.dossier_exists"' in html and 'data-state="rejected"' in html
    with env.services.session() as sess:
        web_subs = sess.scalars(select(Submission).where(Submission.source == "web")).all()
        assert any(len(x.files) == len(meta["documents"]) + 1 for x in web_subs)


def test_upload_needs_metadata_for_loose_files(env: Web) -> None:
    client = env.signed_in("luutru")
    page = "/console/ingest/upload"
    r = client.post(
        page,
        data={
            "csrf_token": token(client, page),
            "agency": "000.00.07.H54",
            "files": (io.BytesIO(b"%PDF-1.7"), "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "metadata.json" in r.get_data(as_text=True)
    assert env.signed_in("kiemtra").get(page).status_code == 403


def test_upload_with_deeply_nested_metadata_is_a_400_not_a_500(env: Web) -> None:
    client = env.signed_in("luutru")
    page = "/console/ingest/upload"
    deep = b'{"documents": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = client.post(
        page,
        data={
            "csrf_token": token(client, page),
            "agency": "000.00.07.H54",
            "files": (io.BytesIO(b"%PDF-1.7"), "a.pdf"),
            "metadata": (io.BytesIO(deep), "metadata.json"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "metadata.json" in r.get_data(as_text=True)


def corpus_paths(env: Web) -> tuple[Path, Path]:
    """The sample corpus this run built (shared by every module, see conftest.sample_corpus)."""
    assert env.corpus is not None
    return env.corpus / "src", env.corpus / "root.pem"
