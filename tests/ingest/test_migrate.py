"""Preservation copies: office files and a scanned page become PDF/A-2b that passes the
built-in validator; a conversion that times out or fails leaves nothing behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from odf.opendocument import OpenDocumentText
from odf.text import P
from PIL import Image, ImageDraw, ImageFont

from ingest.checks.pdf import check_pdf
from ingest.migrate import Conversion, Limits, convert_to_pdfa, may_convert
from luutru.samples import pdfs, producers

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("soffice", "gs", "tesseract")),
    reason="LibreOffice, Ghostscript and Tesseract are installed by scripts/setup.sh",
)


def _odt(path: Path) -> Path:
    doc = OpenDocumentText()
    doc.text.addElement(P(text="Biên bản họp Hội đồng xác định giá trị tài liệu"))
    doc.save(str(path))
    return path


def _page_jpeg(path: Path) -> Path:
    img = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
    font = ImageFont.truetype(str(pdfs.FONT_PATH), 40)
    ImageDraw.Draw(img).text((120, 160), "QUYẾT ĐỊNH số 5/QĐ-UBND", fill="black", font=font)
    img.save(path, "JPEG", quality=80, dpi=(150, 150))
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Conversion]:
    root = tmp_path_factory.mktemp("convert")
    sources = {
        "docx": (producers.make_docx(root / "cong-van.docx"), "libreoffice"),
        "xlsx": (producers.make_xlsx(root / "muc-luc.xlsx"), "libreoffice"),
        "odt": (_odt(root / "bien-ban.odt"), "libreoffice"),
        "jpeg": (_page_jpeg(root / "trang-1.jpg"), "ocr"),
        "pdf": (pdfs.make_pdf(root / "thuong.pdf"), "ghostscript"),
    }
    return {k: convert_to_pdfa(src, root / "out" / f"{k}.pdf", tool) for k, (src, tool) in sources.items()}


@pytest.mark.parametrize("kind", ["docx", "xlsx", "odt", "jpeg", "pdf"])
def test_each_format_becomes_valid_pdfa_2b(converted: dict[str, Conversion], kind: str) -> None:
    result = converted[kind]
    assert result.ok, result.findings
    assert result.output is not None and result.tool_version and result.validator == "builtin"
    report = check_pdf(result.output)
    assert report.pdfa.claimed == "2b" and report.pdfa.compliant is True, [f.code for f in report.findings]
    if kind in ("docx", "jpeg"):
        assert report.text_layer  # the OCR layer of the scanned page is real text


def test_a_conversion_that_times_out_leaves_nothing(tmp_path: Path) -> None:
    src = producers.make_docx(tmp_path / "cham.docx")
    out = tmp_path / "out.pdf"
    result = convert_to_pdfa(src, out, "libreoffice", limits=Limits(timeout_s=0.3))
    assert not result.ok and not out.exists()
    assert [f.code for f in result.findings] == ["preservation.timeout"]
    assert result.findings[0].message_vi.startswith("Chuyển đổi quá thời gian")


def test_a_failing_tool_or_an_unknown_one_is_a_finding(tmp_path: Path) -> None:
    locked = tmp_path / "hong.pdf"  # damaged beyond repair: Ghostscript writes a blank page
    locked.write_bytes(b"%PDF-1.7\n" + b"\x00 not a pdf body " * 200)
    failed = convert_to_pdfa(locked, tmp_path / "x.pdf", "ghostscript")
    assert not failed.ok and failed.findings[0].code in (
        "preservation.tool_failed",
        "preservation.copy_incomplete",
    )
    assert not (tmp_path / "x.pdf").exists()
    assert (
        convert_to_pdfa(locked, tmp_path / "y.pdf", "ffmpeg").findings[0].code == "preservation.tool_unknown"
    )


def test_signed_pdfs_are_copied_only_when_the_policy_says_so() -> None:
    assert may_convert(signed=False, copy_signed=False)
    assert not may_convert(signed=True, copy_signed=False)
    assert may_convert(signed=True, copy_signed=True)
