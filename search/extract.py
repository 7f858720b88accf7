"""Text extraction for indexing: PDF text layer, OCR of scanned pages, office formats, plain text.

* PDF: the text layer of each page through pypdfium2; a page without text is rendered at
  300 dpi and read by the ``tesseract`` CLI (``-l vie+eng``), one page at a time.
* Images (JPEG, PNG, TIFF — multi-page too — GIF, BMP, WebP): read by ``tesseract`` as they
  are; agencies send photographed and scanned pages as images as often as PDF.
* DOCX (python-docx), XLSX (openpyxl, read-only), ODT/ODS (odfpy), RTF (striprtf).
* TXT/CSV: UTF-8, read in 1 MiB chunks; bytes that are not UTF-8 are read as Windows-1252.

Every result is checked for legacy TCVN3/VNI mojibake (``legacy_encoding``); such text must be
flagged for the archivist, not indexed as words.
"""

from __future__ import annotations

import codecs
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from search.errors import ExtractionFailed
from search.folding import legacy_encoding, normalize

log = logging.getLogger(__name__)

Method = Literal["text-layer", "ocr", "office", "plain"]
CHUNK = 1024 * 1024
OCR_DPI = 300
MIN_PAGE_CHARS = 8  # a page with fewer letters than this is taken to be a scan
PAGE_BREAK = "\f"

MIME_BY_SUFFIX = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".rtf": "application/rtf",
    ".txt": "text/plain",
    ".csv": "text/csv",
}


_TEXT_TYPES = frozenset({*MIME_BY_SUFFIX.values(), "text/rtf"})  # what extract_text reads as text
# Image formats tesseract (leptonica) reads directly.
OCR_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp"})


def has_text(mime: str | None) -> bool:
    """Whether ``extract_text`` knows how to get text out of this format (audio and video: no)."""
    if not mime:
        return False
    return mime in _TEXT_TYPES or mime in OCR_IMAGE_TYPES or mime.startswith("text/")


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """Extracted text. ``pages`` counts pages (1 for non-paged formats); pages are split by
    form feeds in ``text``; ``ocr_pages`` how many were read by OCR; ``legacy_encoding`` is
    ``"tcvn3"``/``"vni"`` when the text is legacy-encoded mojibake."""

    text: str
    pages: int
    method: Method
    ocr_pages: int = 0
    legacy_encoding: str | None = None


def detect_mime(path: Path) -> str:
    """Return the MIME type by content (libmagic), falling back on the file name."""
    by_suffix = MIME_BY_SUFFIX.get(path.suffix.lower())
    try:
        import magic

        found = str(magic.from_file(str(path), mime=True))
    except (ImportError, OSError):
        found = ""
    # libmagic calls OOXML/ODF "application/zip" or "octet-stream" at times: trust the name then.
    if by_suffix and (not found or found in ("application/zip", "application/octet-stream")):
        return by_suffix
    if found == "text/plain" and by_suffix == "text/csv":
        return by_suffix
    return found or by_suffix or "application/octet-stream"


def extract_text(
    path: Path,
    mime: str | None = None,
    *,
    ocr: bool = True,
    ocr_languages: str = "vie+eng",
    progress: Callable[[int], None] | None = None,
) -> ExtractedText:
    """Extract the text of ``path``; ``progress`` receives the number of pages done (PDF).

    Raises :class:`ExtractionFailed` for unreadable files or unsupported types.
    """
    path = Path(path)
    mime = mime or detect_mime(path)
    try:
        if mime == "application/pdf":
            result = _pdf(path, ocr, ocr_languages, progress)
        elif mime in (MIME_BY_SUFFIX[".docx"],):
            result = ExtractedText(_docx(path), 1, "office")
        elif mime == MIME_BY_SUFFIX[".xlsx"]:
            result = ExtractedText(_xlsx(path), 1, "office")
        elif mime in (MIME_BY_SUFFIX[".odt"], MIME_BY_SUFFIX[".ods"]):
            result = ExtractedText(_odf(path), 1, "office")
        elif mime in ("application/rtf", "text/rtf"):
            result = ExtractedText(_rtf(path), 1, "office")
        elif mime.startswith("text/"):
            result = ExtractedText(_plain(path), 1, "plain")
        elif mime in OCR_IMAGE_TYPES:
            if not ocr:
                raise ExtractionFailed(str(path), "an image holds text only for OCR, which is off")
            result = ExtractedText(ocr_image(path, ocr_languages), 1, "ocr", 1)
        else:
            raise ExtractionFailed(str(path), f"unsupported type {mime}")
    except ExtractionFailed:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise ExtractionFailed(str(path), f"{type(exc).__name__}: {exc}") from exc
    text = normalize(result.text)
    legacy = legacy_encoding(text)
    return ExtractedText(text, result.pages, result.method, result.ocr_pages, legacy)


# -- PDF -------------------------------------------------------------------------------------


def _pdf(path: Path, ocr: bool, languages: str, progress: Callable[[int], None] | None) -> ExtractedText:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailed(str(path), f"not a readable PDF: {exc}") from exc
    texts: list[str] = []
    ocr_pages = 0
    tesseract = shutil.which("tesseract") if ocr else None
    if ocr and tesseract is None:
        log.warning("tesseract not found: scanned pages stay without text", extra={"path": str(path)})
    try:
        with tempfile.TemporaryDirectory(prefix="luutru-ocr-") as tmp:
            for number in range(len(pdf)):
                page = pdf[number]
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
                if tesseract and sum(ch.isalnum() for ch in text) < MIN_PAGE_CHARS:
                    image = Path(tmp) / f"page-{number}.png"
                    page.render(scale=OCR_DPI / 72, grayscale=True).to_pil().save(
                        image, dpi=(OCR_DPI, OCR_DPI)
                    )
                    text = ocr_image(image, languages, tesseract)
                    image.unlink()
                    ocr_pages += 1
                page.close()
                texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))
                if progress:
                    progress(number + 1)
    finally:
        pdf.close()
    method: Method = "ocr" if ocr_pages else "text-layer"
    return ExtractedText(PAGE_BREAK.join(texts), len(texts), method, ocr_pages)


def ocr_image(image: Path, languages: str = "vie+eng", tesseract: str | None = None) -> str:
    """OCR one image with the tesseract CLI and return its text (stdout)."""
    exe = tesseract or shutil.which("tesseract")
    if exe is None:
        raise ExtractionFailed(str(image), "tesseract is not installed")
    done = subprocess.run(
        [exe, str(image), "stdout", "-l", languages, "--dpi", str(OCR_DPI)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise ExtractionFailed(str(image), f"tesseract failed: {done.stderr.decode(errors='replace')[:300]}")
    return done.stdout.decode("utf-8", errors="replace")


# -- office ----------------------------------------------------------------------------------


def _docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _xlsx(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        lines: list[str] = []
        for sheet in book.worksheets:
            lines.append(str(sheet.title))
            for row in sheet.iter_rows(values_only=True):
                cells = [str(v) for v in row if v is not None]
                if cells:
                    lines.append("\t".join(cells))
        return "\n".join(lines)
    finally:
        book.close()


def _odf(path: Path) -> str:
    from odf import teletype
    from odf import text as odftext
    from odf.opendocument import load

    document = load(str(path))
    parts = [teletype.extractText(el) for el in document.getElementsByType(odftext.H)]
    parts += [teletype.extractText(el) for el in document.getElementsByType(odftext.P)]
    return "\n".join(p for p in parts if p)


def _rtf(path: Path) -> str:
    from striprtf import striprtf

    rtf_to_text: Callable[..., str] = striprtf.rtf_to_text
    # RTF is 7-bit with escapes; striprtf needs the whole document as one string.
    with path.open("r", encoding="latin-1") as fh:
        return str(rtf_to_text(fh.read(), errors="replace"))


def _iter_decoded(path: Path, encoding: str, errors: str = "strict") -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def _plain(path: Path) -> str:
    try:
        text = "".join(_iter_decoded(path, "utf-8-sig"))
    except UnicodeDecodeError:
        log.info("text file is not UTF-8, read as windows-1252", extra={"path": str(path)})
        text = "".join(_iter_decoded(path, "cp1252", errors="replace"))
    return text.replace("\r\n", "\n")
