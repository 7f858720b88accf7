"""Text extraction from real files: PDF text layer, OCR of a scanned page, office formats."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from archive.textenc import encode_legacy
from search.errors import ExtractionFailed
from search.extract import detect_mime, extract_text, has_text
from search.folding import fold

SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PARAGRAPH = (
    "Ủy ban nhân dân tỉnh Đắk Lắk",
    "Quyết định về việc ban hành Quy chế",
    "quản lý văn bản điện tử của cơ quan.",
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def scanned_pdf(path: Path) -> Path:
    """An image-only page: the paragraph drawn at 300 dpi with mild noise, saved by Pillow as PDF."""
    dpi = 300
    img = Image.new("L", (int(6.5 * dpi), int(2.2 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(SERIF), 14 * dpi // 72)  # 14 pt
    for n, line in enumerate(PARAGRAPH):
        draw.text((dpi // 4, dpi // 4 + n * 20 * dpi // 72), line, fill=0, font=font)
    rng = random.Random(7)
    pixels = img.load()
    assert pixels is not None
    for _ in range(img.width * img.height // 200):  # 0.5 % salt-and-pepper noise
        x, y = rng.randrange(img.width), rng.randrange(img.height)
        pixels[x, y] = rng.choice((0, 160, 255))
    img.save(path, "PDF", resolution=dpi)
    return path


def text_pdf(path: Path, pages: list[str]) -> Path:
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(SANS)))
    c = canvas.Canvas(str(path))
    for text in pages:
        if text:
            c.setFont("DejaVuSans", 12)
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return path


def test_pdf_text_layer(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "a.pdf", ["Quyết định số 16/QĐ-UBND", "Điều 1. Ban hành kèm theo"])
    seen: list[int] = []
    result = extract_text(pdf, progress=seen.append)
    assert result.method == "text-layer" and result.pages == 2 and result.ocr_pages == 0
    first, second = result.text.split("\f")
    assert "Quyết định số 16/QĐ-UBND" in first
    assert "Điều 1" in second
    assert seen == [1, 2]
    assert result.legacy_encoding is None


def test_blank_page_without_ocr_stays_empty(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "b.pdf", ["Công văn", ""])
    result = extract_text(pdf, ocr=False)
    assert result.pages == 2 and result.ocr_pages == 0
    assert result.text.split("\f")[1].strip() == ""


def test_ocr_of_a_scanned_page_recovers_vietnamese(tmp_path: Path) -> None:
    result = extract_text(scanned_pdf(tmp_path / "scan.pdf"))
    assert result.method == "ocr" and result.ocr_pages == 1 and result.pages == 1
    text = nfc(" ".join(result.text.split()))
    assert "Quyết định" in text
    assert "Ủy ban nhân dân" in text or "Uỷ ban nhân dân" in text
    assert "quan ly van ban dien tu" in fold(text)


def _page_image(path: Path, fmt: str) -> Path:
    """The paragraph photographed as an image file (what agencies send besides PDF scans)."""
    pdf = scanned_pdf(path.with_suffix(".pdf"))
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        doc[0].render(scale=300 / 72).to_pil().convert("RGB").save(path, fmt, dpi=(300, 300))
    finally:
        doc.close()
    return path


@pytest.mark.parametrize(("name", "fmt", "mime"), [("scan.jpg", "JPEG", "image/jpeg"), ("scan.png", "PNG", "image/png"), ("scan.tif", "TIFF", "image/tiff")])  # fmt: skip
def test_ocr_of_an_image_recovers_vietnamese(tmp_path: Path, name: str, fmt: str, mime: str) -> None:
    image = _page_image(tmp_path / name, fmt)
    assert detect_mime(image) == mime and has_text(mime)
    result = extract_text(image)
    assert result.method == "ocr" and result.ocr_pages == 1 and result.pages == 1
    assert "quyet dinh" in fold(nfc(" ".join(result.text.split())))
    with pytest.raises(ExtractionFailed):
        extract_text(image, ocr=False)  # no OCR: an image has no text to give


def test_audio_and_video_have_no_text_to_extract(tmp_path: Path) -> None:
    assert not has_text("video/mp4") and not has_text("audio/mpeg") and not has_text(None)
    assert has_text("application/pdf") and has_text("text/csv") and has_text("application/rtf")
    (tmp_path / "v.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4096))
    with pytest.raises(ExtractionFailed):
        extract_text(tmp_path / "v.mp4")


def test_docx(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Tờ trình về việc phê duyệt kinh phí")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Số tiền"
    table.rows[0].cells[1].text = "900.000 đồng"
    document.save(str(tmp_path / "t.docx"))
    result = extract_text(tmp_path / "t.docx")
    assert result.method == "office"
    assert "phê duyệt kinh phí" in result.text and "900.000 đồng" in result.text


def test_xlsx(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Mục lục"
    sheet.append(["Mã hồ sơ", "Tiêu đề"])
    sheet.append(["H01", "Hồ sơ đất đai"])
    book.save(tmp_path / "m.xlsx")
    text = extract_text(tmp_path / "m.xlsx").text
    assert "Mục lục" in text and "H01\tHồ sơ đất đai" in text


def test_odt(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Biên bản họp"))
    document.text.addElement(P(text="Thành phần gồm Ủy ban nhân dân xã"))
    document.save(str(tmp_path / "b.odt"))
    result = extract_text(tmp_path / "b.odt")
    assert "Biên bản họp" in result.text and "Ủy ban nhân dân xã" in result.text


def test_rtf(tmp_path: Path) -> None:
    body = "".join(f"\\u{ord(ch)}?" if ord(ch) > 127 else ch for ch in "Thông báo lịch họp")
    (tmp_path / "n.rtf").write_text("{\\rtf1\\ansi " + body + "\\par}", encoding="ascii")
    assert extract_text(tmp_path / "n.rtf").text.strip() == "Thông báo lịch họp"


def test_plain_text_utf8_and_legacy(tmp_path: Path) -> None:
    sentence = "Quyết định về việc ban hành quy chế quản lý văn bản của Ủy ban nhân dân tỉnh"
    (tmp_path / "u.txt").write_text(sentence * 3, encoding="utf-8")
    ok = extract_text(tmp_path / "u.txt")
    assert ok.method == "plain" and ok.legacy_encoding is None and sentence in ok.text
    (tmp_path / "v.txt").write_text(encode_legacy(sentence, "vni"), encoding="utf-8")
    assert extract_text(tmp_path / "v.txt").legacy_encoding == "vni"
    (tmp_path / "t.txt").write_bytes(encode_legacy(sentence, "tcvn3").encode("cp1252", errors="replace"))
    assert extract_text(tmp_path / "t.txt", "text/plain").legacy_encoding == "tcvn3"


def test_mime_detection_and_failures(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert detect_mime(tmp_path / "x.csv") == "text/csv"
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(ExtractionFailed):
        extract_text(tmp_path / "bad.pdf", "application/pdf")
    (tmp_path / "x.bin").write_bytes(bytes(range(256)))
    with pytest.raises(ExtractionFailed):
        extract_text(tmp_path / "x.bin", "application/octet-stream")
