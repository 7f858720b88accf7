"""Format identification of real files made in the test, and the accepted-format policy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen import canvas

from archive.findings import Severity
from ingest.formats import DEFAULT_ACCEPTED_EXTENSIONS, FormatPolicy
from ingest.identify import FileIdentity, identify, identify_many

# A minimal Windows PE: "MZ" header whose e_lfanew (0x3c) points at "PE\0\0".
PE_BYTES = b"MZ" + b"\x90\x00" + b"\x00" * 56 + (64).to_bytes(4, "little") + b"PE\x00\x00" + b"\x00" * 256


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("samples")
    files: dict[str, Path] = {}
    pdf = root / "quyet-dinh.pdf"
    page = canvas.Canvas(str(pdf))
    page.drawString(72, 800, "Quyet dinh so 15/QD-UBND")
    page.save()
    files["pdf"] = pdf
    word = docx.Document()
    word.add_paragraph("Tờ trình số 12/TTr-STC về việc phê duyệt kế hoạch")
    files["docx"] = root / "to-trinh.docx"
    word.save(str(files["docx"]))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Số", "Trích yếu"])
    sheet.append([1, "Báo cáo tổng kết"])
    files["xlsx"] = root / "muc-luc.xlsx"
    book.save(files["xlsx"])
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    for ext, fmt in (("png", "PNG"), ("jpg", "JPEG"), ("tif", "TIFF")):
        files[ext] = root / f"anh.{ext}"
        image.save(files[ext], fmt)
    files["txt"] = root / "ghi-chu.txt"
    files["txt"].write_text("Ghi chú: hồ sơ gồm 02 văn bản.\n", encoding="utf-8")
    files["json"] = root / "metadata.json"
    files["json"].write_text(json.dumps({"profile": "tt05-2025"}), encoding="utf-8")
    files["exe"] = root / "setup.exe"
    files["exe"].write_bytes(PE_BYTES)
    files["bat"] = root / "run.bat"
    files["bat"].write_text("@echo off\r\ndel /q *.*\r\n", encoding="ascii")
    files["pdf_as_docx"] = root / "nham-ten.docx"
    shutil.copy(pdf, files["pdf_as_docx"])
    files["exe_as_pdf"] = root / "hoa-don.pdf"
    files["exe_as_pdf"].write_bytes(PE_BYTES)
    return files


def codes(identity: FileIdentity) -> set[str]:
    return {f.code for f in identity.findings}


@pytest.mark.parametrize(
    ("key", "mime", "puid"),
    [
        ("pdf", "application/pdf", None),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "fmt/412"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "fmt/214"),
        ("png", "image/png", None),
        ("jpg", "image/jpeg", None),
        ("tif", "image/tiff", None),
        ("txt", "text/plain", "x-fmt/111"),
    ],
)
def test_accepted_formats_are_identified_cleanly(
    samples: dict[str, Path], key: str, mime: str, puid: str | None
) -> None:
    identity = identify(samples[key])
    assert identity.mime == mime
    assert identity.puid is not None and identity.format
    if puid is not None:
        assert identity.puid == puid
    assert identity.findings == (), identity.findings


def test_pdf_gets_pronom_pdf_id_and_version(samples: dict[str, Path]) -> None:
    identity = identify(samples["pdf"])
    assert identity.basis == "signature"
    assert "PDF" in (identity.format or "") or "Portable Document" in (identity.format or "")
    assert identity.version and identity.version[0].isdigit()
    assert identity.to_json() == {
        "path": str(samples["pdf"]),
        "mime": "application/pdf",
        "puid": identity.puid,
        "format": identity.format,
        "version": identity.version,
    }


def test_pdf_renamed_docx_is_flagged(samples: dict[str, Path]) -> None:
    identity = identify(samples["pdf_as_docx"])
    assert identity.mime == "application/pdf"
    [finding] = identity.findings
    assert finding.code == "format.extension_mismatch" and finding.severity is Severity.WARNING
    assert "pdf" in finding.message_en and finding.message_vi


@pytest.mark.parametrize("key", ["exe", "bat"])
def test_executables_are_not_accepted(samples: dict[str, Path], key: str) -> None:
    identity = identify(samples[key])
    assert "format.not_accepted" in codes(identity)
    finding = next(f for f in identity.findings if f.code == "format.not_accepted")
    assert finding.severity is Severity.ERROR


def test_executable_named_pdf_is_refused_by_content(samples: dict[str, Path]) -> None:
    identity = identify(samples["exe_as_pdf"])
    assert codes(identity) == {"format.extension_mismatch", "format.executable_content"}


def test_identify_many_keeps_order_and_matches_single_calls(samples: dict[str, Path]) -> None:
    paths = [samples[k] for k in ("xlsx", "pdf", "txt", "exe", "docx")]
    many = identify_many(paths)
    assert [i.path for i in many] == paths
    assert [i.to_json() for i in many] == [identify(p).to_json() for p in paths]


def test_policy_from_config(samples: dict[str, Path]) -> None:
    pdf_only = FormatPolicy.from_config([".PDF"])
    assert pdf_only.accepted_extensions == frozenset({"pdf"})
    assert "format.not_accepted" in codes(identify(samples["docx"], pdf_only))
    assert identify(samples["pdf"], pdf_only).findings == ()
    with pytest.raises(ValueError):
        FormatPolicy.from_config([])
    with pytest.raises(ValueError):
        FormatPolicy.from_config(["pdf", " "])


def test_default_policy_lists_the_regulation_formats() -> None:
    policy = FormatPolicy.default()
    for ext in ("pdf", "docx", "doc", "odt", "xlsx", "ods", "csv", "jpeg", "png", "tiff", "mp3", "mp4"):
        assert policy.accepts(ext) and policy.accepts("." + ext.upper())
    assert not policy.accepts("exe") and not policy.accepts("bat")
    assert policy.accepted_extensions == DEFAULT_ACCEPTED_EXTENSIONS


def test_empty_and_unknown_files(tmp_path: Path) -> None:
    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    identity = identify(empty)
    assert identity.mime == "application/x-empty" or identity.mime.startswith("inode/")
    assert "format.not_accepted" not in codes(identity)
    blob = tmp_path / "du-lieu.xyz"
    blob.write_bytes(bytes(range(256)) * 4)
    unknown = identify(blob)
    assert "format.not_accepted" in codes(unknown)
