"""Preservation copies (bản bảo quản): convert a file to PDF/A-2b in an isolated, limited worker
and keep the result only if it passes validation.

Tools, each run as a subprocess in its own session (killed as a group on timeout), with an
address-space and CPU limit set before exec (``resource.setrlimit``), a private temporary HOME
and, for LibreOffice, a private profile directory:

* ``libreoffice`` — office text and spreadsheets (``soffice --convert-to pdf`` with PDF/A-2);
* ``ghostscript`` — a PDF rewritten as PDF/A-2b with an embedded ICC OutputIntent;
* ``ocr`` — an image page: Tesseract (Vietnamese model) writes a PDF with a text layer,
  Ghostscript turns it into PDF/A-2b.

Every output is checked with ``check_pdf`` (built-in rules, plus veraPDF when configured); an
output that does not claim PDF/A-2b, fails, or lacks the pages of a PDF original (Ghostscript
turns an unreadable PDF into a valid blank page) is refused. Failures are findings, never
exceptions: the caller leaves the AIP unchanged. Signed PDFs are never passed here unless
the policy says ``copy_signed`` (``may_convert``), and such a copy is unsigned by nature.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from archive.findings import Finding, error
from ingest.checks.pdf import check_pdf

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 4096  # address space; soffice maps much more than it touches
TARGET_CLAIM = "2b"
GS_PROLOGUE = """%!
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of one conversion worker."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True, slots=True)
class Conversion:
    """The outcome of one conversion: ``output`` is set only when the copy passed validation."""

    source: Path
    tool: str
    tool_version: str | None
    output: Path | None
    findings: tuple[Finding, ...] = ()
    seconds: float = 0.0
    validator: str | None = None
    commands: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.output is not None


class _Failed(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message_en)
        self.finding = finding


def _limit(memory_mb: int, cpu_s: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        size = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))

    return apply


def run_limited(cmd: Sequence[str], limits: Limits, home: Path, path: str) -> None:
    """Run ``cmd`` bounded by ``limits`` with HOME=``home``; raise _Failed with a finding."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
    }
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=home,
        start_new_session=True,
        preexec_fn=_limit(limits.memory_mb, int(limits.timeout_s) + 1),
    )
    try:
        _, stderr = proc.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise _Failed(
            error(
                "preservation.timeout",
                f"Chuyển đổi quá thời gian cho phép ({limits.timeout_s:.0f} giây); đã dừng.",
                f"The conversion exceeded its time limit ({limits.timeout_s:.0f} s) and was stopped.",
                path=path,
                evidence={"tool": Path(cmd[0]).name, "timeout_s": limits.timeout_s},
            )
        ) from None
    if proc.returncode != 0:
        raise _Failed(
            error(
                "preservation.tool_failed",
                f"Công cụ chuyển đổi {Path(cmd[0]).name} báo lỗi (mã {proc.returncode}).",
                f"The conversion tool {Path(cmd[0]).name} failed (exit {proc.returncode}).",
                path=path,
                evidence={"stderr": stderr.decode("utf-8", "replace")[-500:], "returncode": proc.returncode},
            )
        )


def tool_version(tool: str) -> str | None:
    """The version string of a tool, for the PREMIS agent (None when not installed)."""
    cmds = {
        "libreoffice": ["soffice", "--version"],
        "ghostscript": ["gs", "--version"],
        "ocr": ["tesseract", "--version"],
    }
    exe = shutil.which(cmds[tool][0])
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, *cmds[tool][1:]], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).decode("utf-8", "replace").strip().splitlines()
    return text[0][:100] if text else None


def _icc() -> Path:
    found = sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles/default_rgb.icc"))
    if not found:
        raise _Failed(
            error(
                "preservation.tool_missing",
                "Thiếu hồ sơ màu ICC của Ghostscript.",
                "Ghostscript's ICC profile is missing.",
            )
        )
    return found[-1]


def _exe(name: str, path: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise _Failed(
            error(
                "preservation.tool_missing",
                f"Chưa cài công cụ chuyển đổi {name}.",
                f"The conversion tool {name} is not installed.",
                path=path,
                evidence={"tool": name},
            )
        )
    return exe


def _ghostscript(src: Path, out: Path, work: Path, limits: Limits, path: str) -> list[str]:
    icc = _icc()
    prologue = work / "pdfa_def.ps"
    prologue.write_text(GS_PROLOGUE.format(icc=icc), encoding="ascii")
    cmd = [
        _exe("gs", path), "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-dPDFA=2", "-dPDFACompatibilityPolicy=1",
        "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite", f"-sOutputFile={out}",
        f"--permit-file-read={icc}", str(prologue), str(src),
    ]  # fmt: skip
    run_limited(cmd, limits, work, path)
    return cmd


def _libreoffice(src: Path, out: Path, work: Path, limits: Limits, path: str) -> list[str]:
    kind = "calc" if src.suffix.lower() in (".xls", ".xlsx", ".ods", ".csv") else "writer"
    export = f'pdf:{kind}_pdf_Export:{{"SelectPdfVersion":{{"type":"long","value":"2"}}}}'
    outdir = work / "out"
    cmd = [
        _exe("soffice", path), f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--norestore",
        "--nolockcheck", "--convert-to", export, "--outdir", str(outdir), str(src),
    ]  # fmt: skip
    run_limited(cmd, limits, work, path)
    made = outdir / f"{src.stem}.pdf"
    if not made.is_file():
        raise _Failed(
            error(
                "preservation.tool_failed",
                "LibreOffice không tạo ra tệp PDF.",
                "LibreOffice produced no PDF.",
                path=path,
            )
        )
    shutil.move(made, out)
    return cmd


def _ocr(src: Path, out: Path, work: Path, limits: Limits, path: str) -> list[str]:
    base = work / "ocr"
    cmd = [_exe("tesseract", path), str(src), str(base), "-l", "vie+eng", "pdf"]
    run_limited(cmd, limits, work, path)
    return [*cmd, *_ghostscript(base.with_suffix(".pdf"), out, work, limits, path)]


def _source_pages(src: Path) -> int | None:
    """Pages a copy of ``src`` must have: a PDF's own count (0 if unreadable), else unknown."""
    if src.suffix.lower() != ".pdf":
        return None
    try:
        with pikepdf.open(src) as pdf:
            return len(pdf.pages)
    except (pikepdf.PdfError, OSError, ValueError):
        return 0


TOOLS: dict[str, Callable[[Path, Path, Path, Limits, str], list[str]]] = {
    "libreoffice": _libreoffice,
    "ghostscript": _ghostscript,
    "ocr": _ocr,
}


def convert_to_pdfa(
    src: Path, out: Path, tool: str, *, limits: Limits | None = None, verapdf: str | None = None
) -> Conversion:
    """Make a PDF/A-2b copy of ``src`` at ``out`` with ``tool``; validate it; never raise."""
    limits = limits or Limits()
    path = src.name
    started = time.monotonic()
    version = tool_version(tool) if tool in TOOLS else None
    with tempfile.TemporaryDirectory(prefix="luutru-convert-") as tmp:
        work = Path(tmp)
        try:
            if tool not in TOOLS:
                raise _Failed(
                    error(
                        "preservation.tool_unknown",
                        f"Công cụ chuyển đổi không xác định: {tool}.",
                        f"Unknown conversion tool: {tool}.",
                        path=path,
                    )
                )
            staged = work / f"source{src.suffix.lower()}"
            shutil.copyfile(src, staged)  # the tool never sees the archive's own path
            commands = TOOLS[tool](staged, work / "copy.pdf", work, limits, path)
            report = check_pdf(work / "copy.pdf", verapdf=verapdf)
            expected = _source_pages(staged)
            if report.page_count == 0 or (expected is not None and report.page_count != expected):
                raise _Failed(
                    error(
                        "preservation.copy_incomplete",
                        "Bản bảo quản không đủ số trang của tệp gốc nên bị loại.",
                        "The preservation copy does not have the pages of the original and was refused.",
                        path=path,
                        evidence={"pages": report.page_count, "expected": expected},
                    )
                )
            if report.pdfa.claimed != TARGET_CLAIM or report.pdfa.compliant is not True:
                problems = tuple(f for f in report.findings if f.severity.value == "error")
                raise _Failed(
                    error(
                        "preservation.copy_invalid",
                        "Bản bảo quản không đạt PDF/A-2b nên bị loại.",
                        "The preservation copy is not valid PDF/A-2b and was refused.",
                        path=path,
                        evidence={
                            "claimed": report.pdfa.claimed,
                            "validator": report.pdfa.validator,
                            "codes": sorted({f.code for f in problems}),
                        },
                    )
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(work / "copy.pdf", out)
        except _Failed as failed:
            return Conversion(src, tool, version, None, (failed.finding,), time.monotonic() - started)
    return Conversion(
        src, tool, version, out, (), time.monotonic() - started, report.pdfa.validator, tuple(commands)
    )


def may_convert(signed: bool, copy_signed: bool) -> bool:
    """Signed PDFs are never altered; a (necessarily unsigned) copy only when the policy says so."""
    return not signed or copy_signed
