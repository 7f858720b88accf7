"""Real PDF/A producers' output for tests and benchmarks: LibreOffice and Ghostscript.

Office documents are written with python-docx/openpyxl, converted by ``soffice --headless``
(its own throw-away profile directory, so parallel runs do not share one), and PDFs are
rewritten by Ghostscript's ``pdfwrite`` with ``-dPDFA``. Ghostscript needs a PostScript
prologue that embeds an ICC profile as the PDF/A OutputIntent; without it (``intent=False``)
it writes a file that claims PDF/A but has no OutputIntent — the mistake Archivematica's
users met (its issue #1220) and the built-in checks must catch.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import docx
import openpyxl

TIMEOUT_S = 180
PDFA_DEF = """%!
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


def make_docx(path: Path, text: str = "Về việc lưu trữ hồ sơ điện tử của Ủy ban nhân dân tỉnh.") -> Path:
    doc = docx.Document()
    doc.add_heading("Công văn số 12/UBND-VP", 1)
    doc.add_paragraph(text)
    doc.save(str(path))
    return path


def make_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Số hồ sơ", "Tiêu đề", "Số tờ"])
    sheet.append(["H-12", "Hồ sơ tiếp nhận đất đai", 14])
    book.save(str(path))
    return path


def libreoffice_pdfa(sources: list[Path], outdir: Path, part: int = 2) -> list[Path]:
    """Convert office files to PDF/A-``part`` with one soffice run; return the PDFs in order."""
    outdir.mkdir(parents=True, exist_ok=True)
    by_filter: dict[str, list[Path]] = {}
    for src in sources:
        kind = "calc" if src.suffix.lower() in (".xlsx", ".xls", ".ods") else "writer"
        by_filter.setdefault(kind, []).append(src)
    with tempfile.TemporaryDirectory(prefix="soffice-") as profile:
        for kind, files in by_filter.items():
            export = f'pdf:{kind}_pdf_Export:{{"SelectPdfVersion":{{"type":"long","value":"{part}"}}}}'
            cmd = [
                "soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                "--convert-to", export, "--outdir", str(outdir), *map(str, files),
            ]  # fmt: skip
            subprocess.run(cmd, check=True, capture_output=True, timeout=TIMEOUT_S)
    return [outdir / f"{src.stem}.pdf" for src in sources]


def srgb_icc_path() -> Path | None:
    """Ghostscript's own v2 sRGB profile (valid for every PDF/A part)."""
    found = sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles/default_rgb.icc"))
    return found[-1] if found else None


def ghostscript_pdfa(src: Path, out: Path, part: int = 2, *, intent: bool = True) -> Path:
    """Rewrite ``src`` as PDF/A-``part`` with Ghostscript (``intent=False``: no OutputIntent)."""
    gs = shutil.which("gs")
    if gs is None:
        raise FileNotFoundError("gs")
    cmd = [
        gs, "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", f"-dPDFA={part}", "-dPDFACompatibilityPolicy=1",
        "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite", f"-sOutputFile={out}",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gs-pdfa-") as tmp:
        icc = srgb_icc_path()
        if intent and icc is not None:
            prologue = Path(tmp) / "pdfa_def.ps"
            prologue.write_text(PDFA_DEF.format(icc=icc), encoding="ascii")
            cmd += [f"--permit-file-read={icc}", str(prologue)]
        subprocess.run([*cmd, str(src)], check=True, capture_output=True, timeout=TIMEOUT_S)
    return out
