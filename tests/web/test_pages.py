"""The one page renderer (luutru.pages): the archive's name in the reading-room margin, one cache
for the console and the reading room that one destruction clears, re-rendering after a clear,
and copies that cannot seek, do not verify or do not read."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO

import pytest
from PIL import Image, ImageOps
from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive.catalog import (
    AccessMode,
    AppraisalDecision,
    DisposalCase,
    Dossier,
    Package,
    StoredFile,
    User,
    Vote,
)
from luutru import pages
from luutru.config import Settings
from luutru.disposal_wiring import execute_case, page_cache_root
from luutru.pages import MARGIN, Size, cache_path, cache_root
from luutru.services import Services, prepare_data_dir
from luutru.web.app import create_app
from luutru.web.auth import TokenBucket
from luutru.web.reading import SIZE, reading_label
from policies import disposal
from policies.retention import mark_due
from tests.web.conftest import Clock, Web
from tests.web.test_disposal_views import store_dossier
from tests.web.test_reading import stored

ARCHIVE = "Trung tâm Lưu trữ lịch sử tỉnh Thái Bình"
TOP_AGENCY = "Ủy ban nhân dân tỉnh Thái Bình"  # the demo catalog's top agency: the fallback name


@pytest.fixture
def named(tmp_path: Path, seeded_catalog: Path) -> Iterator[Web]:
    """The web app over the seeded catalog, with ``archive_name`` set (its own data directory)."""
    settings = Settings(data_dir=tmp_path / "named", archive_name=ARCHIVE)
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(seeded_catalog, settings.data_dir / "catalog.db")
    prepare_data_dir(settings)
    services = Services.build(settings)
    clock = Clock()
    app = create_app(settings, services, login_limiter=TokenBucket(capacity=50, per_minute=50, clock=clock))
    app.config["TESTING"] = True
    yield Web(app, services, clock)
    services.close()


def make_pdf(path: Path, pages_: int = 2, text: str = "Trang") -> bytes:
    c = canvas.Canvas(str(path))
    for n in range(pages_):
        c.drawString(72, 720, f"{text} {n + 1}")
        c.showPage()
    c.save()
    return path.read_bytes()


def ink_extent(png: bytes) -> int:
    """Width in pixels of what is drawn (darker than mid-grey) in the bottom margin band."""
    image = Image.open(io.BytesIO(png)).convert("L")
    band = image.crop((0, image.height - MARGIN + 2, image.width, image.height))
    box = ImageOps.invert(band).point(lambda v: 255 if v > 127 else 0).getbbox()
    return 0 if box is None else box[2] - box[0]


def page_url(web: Web, dossier_id: int, file_id: int, page: int = 1) -> str:
    return f"/portal/records/{dossier_id}/files/{file_id}/pages/{page}.png"


# -- (a) the archive's name in the margin ----------------------------------------------------------
def test_the_reading_room_margin_shows_archive_name_when_set(named: Web, web: Web) -> None:
    results = {}
    for app, expected in ((named, ARCHIVE), (web, TOP_AGENCY)):
        dossier_id, _doc, file_id, sha = stored(app, "HS-TEN", AccessMode.OPEN)
        r = app.client().get(page_url(app, dossier_id, file_id))
        assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
        label = reading_label(expected)
        # the renderer was given this label: its image is cached under this label's key
        assert cache_path(page_cache_root(app.services.settings), sha, 1, SIZE, label).read_bytes() == r.data
        # and drew it: the ink in the margin is as wide as this label set in the margin's font
        assert abs(ink_extent(r.data) - pages.label_width(label)) <= 4
        results[expected] = r.data
    assert abs(ink_extent(results[ARCHIVE]) - ink_extent(results[TOP_AGENCY])) > 40  # two different names


def test_a_label_adds_a_margin_with_ink_and_no_label_adds_none(tmp_path: Path) -> None:
    body = make_pdf(tmp_path / "a.pdf", 1)
    sha = hashlib.sha256(body).hexdigest()
    copies = [lambda: (tmp_path / "a.pdf").open("rb")]
    root = tmp_path / "cache"
    bare = Image.open(pages.page_image(root, sha, 1, copies, SIZE))
    labelled_path = pages.page_image(root, sha, 1, copies, SIZE, label=reading_label(ARCHIVE))
    labelled = Image.open(labelled_path)
    assert labelled.size == (bare.width, bare.height + MARGIN)
    assert ink_extent(labelled_path.read_bytes()) > 0  # something is written under the page
    bottom = bare.convert("L").crop((0, bare.height - MARGIN + 2, bare.width, bare.height))
    assert bottom.getextrema() == (255, 255)  # the page itself ends blank: the ink is the label's


def test_archive_name_is_read_from_the_file_and_the_environment(tmp_path: Path) -> None:
    toml = tmp_path / "luutru.toml"
    toml.write_text(f'archive_name = "{ARCHIVE}"\n', encoding="utf-8")
    assert Settings.load(environ={}, toml_path=toml).archive_name == ARCHIVE
    env = {"LUUTRU_ARCHIVE_NAME": "Trung tâm Lưu trữ quốc gia I"}
    assert Settings.load(environ=env, toml_path=toml).archive_name == "Trung tâm Lưu trữ quốc gia I"
    assert Settings().archive_name == ""  # empty: the top agency's name, as before


# -- (b) one destruction clears the one cache -------------------------------------------------------
def approve_case(web: Web, code: str, today: date) -> tuple[DisposalCase, User]:
    """Take dossier ``code`` from due to an approved decision; (the case, the archivist)."""
    with web.services.session() as s:

        def user(name: str) -> User:
            found = s.scalar(select(User).where(User.username == name))
            assert found is not None
            return found

        mark_due(s, today)
        dossier = s.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier is not None
        archivist = user("luutru")
        disposal.appraise(s, dossier, archivist, AppraisalDecision.PROPOSE, "hết giá trị", today=today)
        case = disposal.open_case(s, archivist, "Hủy 2026", [dossier], "Hết thời hạn")
        disposal.submit_to_council(s, case, archivist)
        for member in ("hoidong1", "hoidong2", "hoidong3"):
            disposal.vote(s, case, user(member), Vote.APPROVE, "đồng ý")
        disposal.record_review(s, case, archivist, "123/TĐ-STC", "Đồng ý hủy", approved=True)
        disposal.decide(s, case, user("giamdoc"), "45/QĐ", today=today)
        s.commit()
        return case, archivist


def test_one_destruction_clears_the_reading_room_and_console_images_of_a_file(web: Web) -> None:
    due_id = store_dossier(web, "HS-HUY-1")
    kept_id, _kept_doc, kept_file, kept_sha = stored(web, "HS-GIU-1", AccessMode.OPEN)
    with web.services.session() as s:
        f = s.scalars(select(StoredFile).join(Package).where(Package.dossier_id == due_id)).one()
        file_id, doc_id, sha = f.id, f.document_id, f.sha256
    archivist = web.signed_in("luutru")
    for url in (
        page_url(web, due_id, file_id, 1),  # reading room, with the archive's name
        page_url(web, due_id, file_id, 2),
        f"/records/documents/{doc_id}/pages/0.png",  # console page image
        f"/records/documents/{doc_id}/pages/0.png?size=thumb",  # console thumbnail
        page_url(web, kept_id, kept_file, 1),
    ):
        assert archivist.get(url).status_code == 200, url
    root = cache_root(web.services.settings.data_dir)
    assert sorted(p.name for p in (root / sha).iterdir()) == sorted(
        [
            cache_path(root, sha, 1, SIZE, reading_label(TOP_AGENCY)).name,
            cache_path(root, sha, 2, SIZE, reading_label(TOP_AGENCY)).name,
            cache_path(root, sha, 1, Size(width=1000)).name,
            cache_path(root, sha, 1, Size(width=240)).name,
        ]
    )  # one directory holds every image of the file, whichever screen asked
    assert sorted(p.name for p in root.parent.iterdir()) == ["pages"]  # and no other cache exists

    case, actor = approve_case(web, "HS-HUY-1", date(2026, 6, 1))
    execute_case(web.services, case, actor, date(2026, 6, 1))

    assert not (root / sha).exists()
    assert len(list((root / kept_sha).glob("*.png"))) == 1  # another dossier's image stays
    assert archivist.get(page_url(web, due_id, file_id, 1)).status_code in (403, 404)


# -- (c) re-rendered after a clear -----------------------------------------------------------------
def test_a_cached_page_is_rendered_again_after_the_cache_is_cleared(web: Web) -> None:
    dossier_id, _doc, file_id, sha = stored(web, "HS-LAI", AccessMode.OPEN)
    client = web.client()
    first = client.get(page_url(web, dossier_id, file_id))
    root = cache_root(web.services.settings.data_dir)
    cached = cache_path(root, sha, 1, SIZE, reading_label(TOP_AGENCY))
    assert cached.read_bytes() == first.data
    (root / sha / "p1-x150-old.png").write_bytes(b"left over")  # anything in the file's directory goes
    assert pages.forget(root, [sha]) == 2
    assert not (root / sha).exists()
    again = client.get(page_url(web, dossier_id, file_id))
    assert again.status_code == 200 and cached.is_file()  # rendered again from a replica
    assert Image.open(io.BytesIO(again.data)).size == Image.open(io.BytesIO(first.data)).size
    assert again.data == first.data


def test_forget_also_sweeps_the_old_console_cache(tmp_path: Path) -> None:
    sha, other = "a" * 64, "b" * 64
    root = cache_root(tmp_path)
    old = root.parent / pages.LEGACY_THUMBS
    (old / "aa").mkdir(parents=True)
    (old / "bb").mkdir(parents=True)
    (old / "aa" / f"{sha}-p0-w240.png").write_bytes(b"png")
    (old / "bb" / f"{other}-p0-w240.png").write_bytes(b"png")
    assert pages.forget(root, [sha]) == 1
    assert not (old / "aa" / f"{sha}-p0-w240.png").exists() and (old / "bb" / f"{other}-p0-w240.png").exists()


# -- copies: streamed, spooled, verified, skipped ---------------------------------------------------
def pipe_of(body: bytes) -> IO[bytes]:
    """A real stream that cannot seek (as an S3 object body), holding ``body``."""
    read, write = os.pipe()
    with os.fdopen(write, "wb") as out:
        out.write(body)
    return os.fdopen(read, "rb")


def test_a_copy_that_cannot_seek_is_spooled_and_checked(tmp_path: Path) -> None:
    body = make_pdf(tmp_path / "a.pdf", 2)
    sha = hashlib.sha256(body).hexdigest()
    root = tmp_path / "cache"
    assert not pipe_of(body).seekable()
    png = pages.page_image(root, sha, 2, [lambda: pipe_of(body)], Size(width=300))
    assert Image.open(png).width == 300
    assert list((root / ".spool").iterdir()) == []  # the spooled copy is gone
    with pytest.raises(pages.NoReadableCopy, match="do not hash"):
        pages.page_image(root, sha, 1, [lambda: pipe_of(body + b"% one more line\n")], Size(width=300))


def test_a_copy_that_does_not_verify_or_read_is_skipped_for_the_next(tmp_path: Path) -> None:
    body = make_pdf(tmp_path / "good.pdf", 1)
    sha = hashlib.sha256(body).hexdigest()
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    good, bad = (lambda: (tmp_path / "good.pdf").open("rb")), (lambda: (tmp_path / "bad.pdf").open("rb"))
    root = tmp_path / "cache"
    assert pages.page_image(root, sha, 1, [bad, good], Size(width=200)).is_file()  # pdfium refused copy 1
    assert pages.page_image(root, sha, 1, [bad, good], Size(width=210), verify=True).is_file()
    with pytest.raises(pages.NoReadableCopy) as refused:
        pages.page_image(root, sha, 1, [bad], Size(width=220))
    assert refused.value.reasons and "copy 1" in refused.value.reasons[0]
    with pytest.raises(pages.NoSuchPage):
        pages.page_image(root, sha, 2, [bad, good], Size(width=200))
    assert pages.page_count(sha, [bad, good], spool_dir=root / ".spool") == 1


def test_stored_images_are_pages_too(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (400, 600), colour) for colour in ("white", "black")]
    tiff = tmp_path / "scan.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    sha = hashlib.sha256(tiff.read_bytes()).hexdigest()
    copies = [lambda: tiff.open("rb")]
    root = tmp_path / "cache"
    assert pages.page_count(sha, copies, spool_dir=root / ".spool") == 2
    second = Image.open(pages.page_image(root, sha, 2, copies, Size(width=200)))
    assert second.size == (200, 300) and second.convert("L").getextrema() == (0, 0)  # the black frame
    with pytest.raises(pages.NoSuchPage):
        pages.page_image(root, sha, 3, copies, Size(width=200))
