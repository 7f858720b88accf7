"""Page images of stored files: one renderer and one cache for every screen that shows a page.

The console's thumbnails and document pages (``luutru.web.records``), the previews of staged
submissions (``luutru.web.ingest_views``) and the researcher reading room (``luutru.web.reading``)
all come here. Each screen still asks ``policies.access`` before it calls in; this module only
renders and caches, and knows nothing of who is asking.

* **Streaming.** A copy is opened through a callable (a replica's ``open``, a staged file's
  ``open``) and handed to pypdfium2 as a seekable stream, which reads only the parts of the PDF a
  page needs. A copy that cannot seek (an S3 object) is first copied in 1 MiB chunks to a
  temporary file beside the cache, and hashed on the way; so is every copy when ``verify`` is
  asked (staged files, whose bytes must still be those received). Nothing reads a whole file
  into memory. A copy that does not open, does not hash right or that pdfium cannot read is
  skipped for the next one.
* **One cache, one key.** ``<data_dir>/cache/pages/<sha256>/p<page>-<size>[-l<label>].png``:
  ``page`` counts from 1, ``size`` is ``w<pixels wide>`` or ``x<scale in percent>``, ``label``
  the first 12 hex digits of the SHA-256 of the margin text (a new archive name gives new
  images, never an old name). Everything rendered from one file lives in one directory, so
  :func:`forget` — what destruction calls — is one directory removal per file, whatever screen
  rendered it.
* **PDF or image.** A PDF page is rendered by pdfium (one lock: pdfium is not thread-safe); a
  stored image (JPEG, PNG, TIFF …) is opened by Pillow, page N being its N-th frame.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import CopyStatus, Document, Package, StoredFile
from archive.errors import IntegrityError
from archive.storage import Replica
from archive.storage.errors import StorageError

CHUNK = 1 << 20
MAX_PAGES = 2000  # pages offered per file; a longer file is read in the original
MARGIN = 44  # pixels added under a labelled page for its label
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_SIZE = 16
LEGACY_THUMBS = "thumbs"  # <data_dir>/cache/thumbs: the console's own cache before this module

Opener = Callable[[], IO[bytes]]
T = TypeVar("T")

_pdfium_lock = threading.Lock()  # pdfium is not thread-safe


class NoSuchPage(IndexError):
    """The file has fewer pages than asked for."""


class NoReadableCopy(IntegrityError):
    """No copy of the file could be opened, verified and read."""

    def __init__(self, sha256: str, reasons: Sequence[str]) -> None:
        super().__init__(f"no readable copy of {sha256}: {'; '.join(reasons) or 'no copy offered'}")
        self.sha256, self.reasons = sha256, tuple(reasons)


@dataclass(frozen=True, slots=True)
class Size:
    """How big a page is drawn: ``width`` pixels wide, or at ``scale`` × 72 dpi (keeps paper sizes)."""

    width: int | None = None
    scale: float | None = None

    def __post_init__(self) -> None:
        if (self.width is None) == (self.scale is None):
            raise ValueError("give exactly one of width and scale")
        if (self.width is not None and self.width < 1) or (self.scale is not None and self.scale <= 0):
            raise ValueError("width and scale must be positive")

    @property
    def key(self) -> str:
        return f"w{self.width}" if self.width is not None else f"x{round((self.scale or 0) * 100)}"

    def factor(self, natural_width: float) -> float:
        """The scale that draws a page ``natural_width`` points (or pixels) wide at this size."""
        return self.width / natural_width if self.width is not None else float(self.scale or 1.0)


# -- the cache ------------------------------------------------------------------------------------
def cache_root(data_dir: Path) -> Path:
    """The one page-image cache of a data directory."""
    return data_dir / "cache" / "pages"


def cache_path(root: Path, sha256: str, page: int, size: Size, label: str | None = None) -> Path:
    """Where page ``page`` (from 1) of the file with this SHA-256 is cached at ``size`` with ``label``."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    name = f"p{page}-{size.key}"
    if label:
        name += "-l" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:12]
    return root / sha256 / f"{name}.png"


def forget(root: Path, sha256s: Iterable[str]) -> int:
    """Delete every cached image of the files with these SHA-256 (all pages, sizes, labels, screens).

    Also sweeps the console's old cache (``<data_dir>/cache/thumbs``), which data directories
    from before this module may still hold. Idempotent; returns how many images were removed.
    """
    removed = 0
    legacy = root.parent / LEGACY_THUMBS
    for sha in set(sha256s):
        folder = root / sha
        if folder.is_dir():
            removed += sum(1 for p in folder.iterdir() if p.suffix == ".png")
            shutil.rmtree(folder, ignore_errors=True)
        for old in (legacy / sha[:2]).glob(f"{sha}-*.png"):
            old.unlink(missing_ok=True)
            removed += 1
    return removed


def file_hashes(
    session: Session, *, dossier_ids: Iterable[int] = (), document_ids: Iterable[int] = ()
) -> set[str]:
    """SHA-256 of every stored file (all AIP versions) of these dossiers and documents: what to forget."""
    dossiers, documents = list(dossier_ids), list(document_ids)
    out: set[str] = set()
    if dossiers:
        query = select(StoredFile.sha256).join(Package).where(Package.dossier_id.in_(dossiers))
        out.update(session.scalars(query))
        query = select(StoredFile.sha256).join(Document).where(Document.dossier_id.in_(dossiers))
        out.update(session.scalars(query))
    if documents:
        out.update(session.scalars(select(StoredFile.sha256).where(StoredFile.document_id.in_(documents))))
    return out


# -- copies -------------------------------------------------------------------------------------
def replica_openers(replicas: Sequence[Replica], stored: StoredFile) -> list[Opener]:
    """Openers of the stored file's copies: those the last audit found good first, damaged ones never.

    Call while ``stored`` is attached to its session; the openers themselves need no session.
    """
    key = f"{stored.package.storage_key}/{stored.path}"
    status = {c.replica: c.status for c in stored.copies}
    bad = {CopyStatus.DAMAGED, CopyStatus.MISSING, CopyStatus.UNRECOVERABLE, CopyStatus.DELETED}
    usable = [r for r in replicas if status.get(r.name) not in bad]
    usable.sort(key=lambda r: status.get(r.name) is not CopyStatus.OK)  # stable: config order kept
    return [_opener(r, key) for r in usable]


def _opener(replica: Replica, key: str) -> Opener:
    return lambda: replica.open(key)


def _seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _copy_hashing(src: IO[bytes], dest: IO[bytes], sha256: str) -> bool:
    """Copy ``src`` to ``dest`` in 1 MiB chunks; True if the bytes hash to ``sha256``."""
    h = hashlib.sha256()
    try:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            h.update(chunk)
            dest.write(chunk)
    except (OSError, StorageError):
        return False
    dest.flush()
    return h.hexdigest() == sha256


# pdfium's and Pillow's complaints about a copy they cannot read (a damaged or truncated file)
_UNREADABLE: tuple[type[Exception], ...] = (RuntimeError, OSError, ValueError, SyntaxError, StorageError)


def on_first_copy(
    sha256: str, copies: Sequence[Opener], work: Callable[[IO[bytes]], T], *, verify: bool, spool_dir: Path
) -> T:
    """``work(stream)`` on the first copy that opens, verifies (when asked or not seekable) and reads.

    ``stream`` is seekable; it is the copy itself when that can seek and ``verify`` is false,
    else a temporary file in ``spool_dir`` (deleted on return) holding the copy's bytes, which
    hashed to ``sha256``. NoSuchPage passes through at once (every copy has the same pages);
    NoReadableCopy when no copy would do.
    """
    reasons: list[str] = []
    for n, opener in enumerate(copies, start=1):
        with ExitStack() as stack:
            try:
                stream = stack.enter_context(opener())
            except (OSError, StorageError) as exc:
                reasons.append(f"copy {n}: {exc}")
                continue
            if verify or not _seekable(stream):
                spool_dir.mkdir(parents=True, exist_ok=True)
                spooled = stack.enter_context(tempfile.TemporaryFile(dir=spool_dir, suffix=".spool"))
                if not _copy_hashing(stream, spooled, sha256):
                    reasons.append(f"copy {n}: its bytes do not hash to the catalog's SHA-256")
                    continue
                spooled.seek(0)
                stream = spooled
            try:
                return work(stream)
            except NoSuchPage:
                raise
            except _UNREADABLE as exc:
                reasons.append(f"copy {n}: {type(exc).__name__}: {exc}")
    raise NoReadableCopy(sha256, reasons)


# -- rendering ----------------------------------------------------------------------------------
def _is_pdf(stream: IO[bytes]) -> bool:
    head = stream.read(1024)
    stream.seek(0)
    return b"%PDF-" in head


def count_pages(stream: IO[bytes]) -> int:
    """Pages of the PDF or image in ``stream`` (frames of a multi-page TIFF), at most MAX_PAGES."""
    if _is_pdf(stream):
        import pypdfium2 as pdfium

        with _pdfium_lock:
            pdf = pdfium.PdfDocument(stream)
            try:
                return min(len(pdf), MAX_PAGES)
            finally:
                pdf.close()
    from PIL import Image

    with Image.open(stream) as image:
        return min(int(getattr(image, "n_frames", 1)), MAX_PAGES)


def render(stream: IO[bytes], page: int, size: Size) -> Any:
    """Page ``page`` (from 1) of the PDF or image in ``stream`` as an RGB Pillow image of ``size``.

    Raises NoSuchPage when there is no such page.
    """
    if not 1 <= page <= MAX_PAGES:
        raise NoSuchPage(f"page {page} out of range")
    if _is_pdf(stream):
        import pypdfium2 as pdfium

        with _pdfium_lock:
            pdf = pdfium.PdfDocument(stream)
            try:
                if page > len(pdf):
                    raise NoSuchPage(f"page {page} of {len(pdf)}")
                pg = pdf[page - 1]
                return pg.render(scale=size.factor(pg.get_width())).to_pil().convert("RGB")
            finally:
                pdf.close()
    from PIL import Image, ImageSequence

    with Image.open(stream) as image:
        frames = int(getattr(image, "n_frames", 1))
        if page > frames:
            raise NoSuchPage(f"page {page} of {frames}")
        frame = ImageSequence.Iterator(image)[page - 1].convert("RGB")
        factor = size.factor(frame.width)
        if factor == 1:
            return frame
        return frame.resize((max(1, round(frame.width * factor)), max(1, round(frame.height * factor))))


def with_margin(image: Any, label: str) -> Any:
    """``image`` with ``label`` centred in a white margin of MARGIN pixels under it, above a grey rule."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", (image.width, image.height + MARGIN), "white")
    sheet.paste(image, (0, 0))
    draw = ImageDraw.Draw(sheet)
    font = _font()
    width = draw.textlength(label, font=font)
    draw.line((0, image.height, sheet.width, image.height), fill=(200, 200, 200))
    draw.text(((sheet.width - width) / 2, image.height + 12), label, fill=(60, 60, 60), font=font)
    return sheet


def _font() -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), FONT_SIZE) if FONT.exists() else ImageFont.load_default()


def label_width(label: str) -> float:
    """How many pixels wide :func:`with_margin` draws ``label``."""
    from PIL import Image, ImageDraw

    return float(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(label, font=_font()))


def page_image(
    root: Path,
    sha256: str,
    page: int,
    copies: Sequence[Opener],
    size: Size,
    *,
    label: str | None = None,
    verify: bool = False,
) -> Path:
    """The cached PNG of page ``page`` (from 1) of the file, rendered from the first good copy once.

    Raises NoSuchPage (an IndexError) and NoReadableCopy (an IntegrityError).
    """
    target = cache_path(root, sha256, page, size, label)
    if target.is_file():
        return target
    spool = root / ".spool"
    image = on_first_copy(sha256, copies, lambda s: render(s, page, size), verify=verify, spool_dir=spool)
    if label:
        image = with_margin(image, label)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".png.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format="PNG")
        os.replace(tmp, target)  # atomic: a parallel request never reads half an image
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def page_count(sha256: str, copies: Sequence[Opener], *, verify: bool = False, spool_dir: Path) -> int:
    """How many pages the file has (at most MAX_PAGES), read from the first good copy."""
    return on_first_copy(sha256, copies, count_pages, verify=verify, spool_dir=spool_dir)


__all__ = [
    "CHUNK",
    "LEGACY_THUMBS",
    "MARGIN",
    "MAX_PAGES",
    "NoReadableCopy",
    "NoSuchPage",
    "Opener",
    "Size",
    "cache_path",
    "cache_root",
    "file_hashes",
    "forget",
    "label_width",
    "on_first_copy",
    "page_count",
    "page_image",
    "render",
    "replica_openers",
    "with_margin",
]
