"""PDF structure checks: version, encryption, active content, PDF/A, digitised-copy rules.

``check_pdf`` never raises on a bad file: a malformed or truncated PDF becomes the finding
``pdf.malformed``. Files are opened by pikepdf (qpdf), which reads on demand rather than
loading the whole file; text is sampled with pypdfium2.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pikepdf
import pypdfium2

from archive.findings import Finding, error, warning
from ingest.checks.pdfa import check_pdfa, pdfa_claim
from ingest.checks.pdfa_interactive import actions
from ingest.checks.verapdf import run_verapdf
from ingest.errors import ValidatorError

log = logging.getLogger(__name__)

MIN_VERSION = (1, 4)  # NĐ 30 Phụ lục I: PDF ≥ 1.4
MIN_DPI = 200  # NĐ 30 Phụ lục I; TT 05/2025 Điều 8 (văn bản hành chính)
TEXT_SAMPLE_PAGES = 20  # pages read to decide whether a text layer exists
# qpdf warnings that say nothing about damage (common in incremental updates by signing tools)
HARMLESS_WARNINGS = ("reported number of objects",)


@dataclass(frozen=True, slots=True)
class PdfaResult:
    """``claimed``: the XMP claim ("2b") or None; ``compliant``: None when nothing is claimed."""

    claimed: str | None
    compliant: bool | None
    validator: Literal["builtin", "verapdf"] = "builtin"

    def to_json(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "compliant": self.compliant, "validator": self.validator}


@dataclass(frozen=True, slots=True)
class PdfReport:
    """What ``check_pdf`` found in one file. ``pdf_version`` is None when the file is unreadable."""

    path: str
    pdf_version: str | None
    encrypted: bool
    page_count: int
    pdfa: PdfaResult
    text_layer: bool
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "pdf_version": self.pdf_version,
            "encrypted": self.encrypted,
            "pdfa": self.pdfa.to_json(),
            "findings": [f.to_json() for f in self.findings],
        }


def _version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return (0, 0)


def _malformed(path: str, exc: BaseException | str) -> PdfReport:
    detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    finding = error(
        "pdf.malformed",
        "Tệp PDF bị lỗi cấu trúc hoặc không đầy đủ, không đọc được.",
        "The PDF is malformed or truncated and cannot be read.",
        path=path,
        evidence={"error": detail[:500]},
    )
    return PdfReport(path, None, False, 0, PdfaResult(None, None), False, (finding,))


def _name_tree_has(pdf: pikepdf.Pdf, tree: str) -> bool:
    names = pdf.Root.get("/Names")
    return isinstance(names, pikepdf.Dictionary) and tree in names


def _active_content(pdf: pikepdf.Pdf, path: str) -> tuple[list[Finding], bool]:
    """Find JavaScript, launch actions and embedded files; return findings and has_javascript."""
    found: list[Finding] = []
    js_places = ["Names.JavaScript"] if _name_tree_has(pdf, "/JavaScript") else []
    launch_places: list[str] = []
    for where, action in actions(pdf):
        kind = action.get("/S")
        if kind == pikepdf.Name.JavaScript:
            js_places.append(where)
        elif kind == pikepdf.Name.Launch:
            launch_places.append(where)
    if js_places:
        found.append(
            error(
                "pdf.javascript",
                "Tệp PDF chứa mã JavaScript.",
                "The PDF contains JavaScript.",
                path=path,
                evidence={"where": sorted(set(js_places))},
            )
        )
    if launch_places:
        found.append(
            error(
                "pdf.launch_action",
                "Tệp PDF chứa lệnh khởi chạy chương trình bên ngoài (Launch).",
                "The PDF contains a Launch action that starts an external program.",
                path=path,
                evidence={"where": sorted(set(launch_places))},
            )
        )
    attachments = list(pdf.attachments.keys())
    file_annots = sum(
        1
        for page in pdf.pages
        for a in page.obj.get("/Annots", pikepdf.Array())
        if isinstance(a, pikepdf.Dictionary) and a.get("/Subtype") == pikepdf.Name.FileAttachment
    )
    if attachments or file_annots:
        found.append(
            warning(
                "pdf.embedded_file",
                "Tệp PDF có tệp đính kèm bên trong; cần kiểm tra riêng.",
                "The PDF carries embedded files, which need checking separately.",
                path=path,
                evidence={"names": attachments[:50], "annotations": file_annots},
            )
        )
    return found, bool(js_places)


def has_text_layer(path: Path, max_pages: int = TEXT_SAMPLE_PAGES) -> bool:
    """True if pypdfium2 extracts non-blank text from one of the first ``max_pages`` pages."""
    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError:
        return False
    try:
        for i in range(min(len(doc), max_pages)):
            page = doc[i]
            textpage = page.get_textpage()
            try:
                if textpage.get_text_range().strip():
                    return True
            finally:
                textpage.close()
                page.close()
        return False
    finally:
        doc.close()


def check_pdf(path: Path, *, verapdf: str | None = None) -> PdfReport:
    """Check the structure of the PDF at ``path``; run veraPDF too when ``verapdf`` is a path.

    The built-in PDF/A rules run whenever the XMP claims PDF/A; with ``verapdf`` set, its
    verdict decides ``pdfa.compliant`` and its failed rules are added as findings.
    """
    name = str(path)
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        finding = error(
            "pdf.encrypted",
            "Tệp PDF được mã hóa bằng mật khẩu, không mở được.",
            "The PDF is password-protected and cannot be opened.",
            path=name,
        )
        return PdfReport(name, None, True, 0, PdfaResult(None, None), False, (finding,))
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        return _malformed(name, exc)
    with pdf:
        try:
            return _inspect(pdf, path, verapdf)
        except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return _malformed(name, exc)


def _inspect(pdf: pikepdf.Pdf, path: Path, verapdf: str | None) -> PdfReport:
    name = str(path)
    page_count = len(pdf.pages)
    if page_count == 0:
        return _malformed(name, "no pages")
    findings: list[Finding] = []
    qpdf_warnings = [str(w) for w in pdf.get_warnings()]
    repairs = [w for w in qpdf_warnings if not any(h in w for h in HARMLESS_WARNINGS)]
    if repairs:
        findings.append(
            warning(
                "pdf.repaired",
                "Tệp PDF có lỗi cấu trúc, phải sửa khi đọc.",
                "The PDF has structural damage that the reader had to repair.",
                path=name,
                evidence={"warnings": [str(w)[:200] for w in repairs[:10]]},
            )
        )
    version = pdf.pdf_version
    if _version_tuple(version) < MIN_VERSION:
        findings.append(
            error(
                "pdf.version_too_old",
                f"Phiên bản PDF {version} thấp hơn 1.4 (NĐ 30/2020).",
                f"PDF version {version} is older than 1.4 (NĐ 30/2020).",
                path=name,
                evidence={"version": version},
            )
        )
    if pdf.is_encrypted:
        findings.append(
            error(
                "pdf.encrypted",
                "Tệp PDF được mã hóa; không thể bảo quản lâu dài.",
                "The PDF is encrypted and cannot be preserved as it is.",
                path=name,
            )
        )
    active, has_js = _active_content(pdf, name)
    findings += active
    claim = pdfa_claim(pdf)
    pdfa = PdfaResult(None, None)
    if claim:
        builtin = check_pdfa(pdf, claim, name, has_javascript=has_js, file=path, warnings=qpdf_warnings)
        findings += builtin
        pdfa = PdfaResult(claim, not builtin, "builtin")
        if verapdf:
            try:
                vera = run_verapdf(path, verapdf)
                findings += vera.findings
                pdfa = PdfaResult(claim, vera.compliant, "verapdf")
            except ValidatorError as exc:
                findings.append(
                    warning(
                        "pdfa.verapdf.failed",
                        "Không chạy được veraPDF; chỉ có kết quả kiểm tra nội bộ.",
                        "veraPDF could not be run; only the built-in checks apply.",
                        path=name,
                        evidence={"error": str(exc)[:500]},
                    )
                )
    return PdfReport(
        path=name,
        pdf_version=version,
        encrypted=pdf.is_encrypted,
        page_count=page_count,
        pdfa=pdfa,
        text_layer=has_text_layer(path),
        findings=tuple(findings),
    )


# -- digitised copies ("02 Số hóa") ------------------------------------------------------------

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """Return m × n (PDF row-vector convention: apply m, then n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


@dataclass(frozen=True, slots=True)
class PlacedImage:
    """An image XObject drawn on a page: pixel size, size on the page (pt), colour facts."""

    width_px: int
    height_px: int
    width_pt: float
    height_pt: float
    colour_space: str
    bits: int

    @property
    def dpi(self) -> float:
        """Effective resolution: pixels per inch of placed size, the lower of both axes."""
        if self.width_pt <= 0 or self.height_pt <= 0:
            return 0.0
        return min(self.width_px / (self.width_pt / 72), self.height_px / (self.height_pt / 72))

    @property
    def colour(self) -> bool:
        """True for ≥ 24-bit colour (RGB/CMYK/Lab/ICC with ≥ 3 components at ≥ 8 bits)."""
        return self.colour_space in ("RGB", "CMYK", "Lab") and self.bits >= 8


def _colour_space(image: pikepdf.Stream) -> str:
    cs = image.get("/ColorSpace")
    if image.get("/ImageMask"):
        return "Mask"
    if isinstance(cs, pikepdf.Array) and len(cs):
        family = str(cs[0])
        if family == "/ICCBased":
            n = int(cs[1].get("/N", 0))
            return {1: "Gray", 3: "RGB", 4: "CMYK"}.get(n, "Other")
        return {"/Indexed": "Indexed", "/CalRGB": "RGB", "/CalGray": "Gray", "/Lab": "Lab"}.get(
            family, "Other"
        )
    return {"/DeviceRGB": "RGB", "/DeviceCMYK": "CMYK", "/DeviceGray": "Gray"}.get(str(cs), "Other")


def placed_images(page: pikepdf.Page) -> list[PlacedImage]:
    """Find image XObjects drawn on ``page`` with their placed size, following the CTM.

    The content stream is parsed (q/Q/cm/Do), descending into Form XObjects with their
    /Matrix. Inline images are not counted: scanners place page images as XObjects.
    """
    found: list[PlacedImage] = []

    def walk(content: Any, resources: Any, ctm: Matrix, depth: int) -> None:
        stack: list[Matrix] = []
        xobjects: Any = (
            resources.get("/XObject", pikepdf.Dictionary())
            if isinstance(resources, pikepdf.Dictionary)
            else {}
        )
        for instruction in pikepdf.parse_content_stream(content):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                continue
            operands, op = instruction.operands, instruction.operator
            opname = str(op)
            if opname == "q":
                stack.append(ctm)
            elif opname == "Q" and stack:
                ctm = stack.pop()
            elif opname == "cm" and len(operands) == 6:
                ctm = _mul(tuple(float(x) for x in operands), ctm)  # type: ignore[arg-type]
            elif opname == "Do" and operands:
                xobj = xobjects.get(str(operands[0]))
                if not isinstance(xobj, pikepdf.Stream):
                    continue
                if xobj.get("/Subtype") == pikepdf.Name.Image:
                    a, b, c, d, _, _ = ctm
                    found.append(
                        PlacedImage(
                            int(xobj.get("/Width", 0)),
                            int(xobj.get("/Height", 0)),
                            math.hypot(a, b),
                            math.hypot(c, d),
                            _colour_space(xobj),
                            int(xobj.get("/BitsPerComponent", 8)),
                        )
                    )
                elif xobj.get("/Subtype") == pikepdf.Name.Form and depth < 8:
                    m = xobj.get("/Matrix")
                    form_m: Matrix = tuple(float(x) for x in m) if m is not None else IDENTITY  # type: ignore[assignment]
                    walk(xobj, xobj.get("/Resources", resources), _mul(form_m, ctm), depth + 1)

    walk(page, page.obj.get("/Resources"), IDENTITY, 0)
    return found


def check_digitised(path: Path) -> list[Finding]:
    """Check a digitised copy (mức độ tin cậy "02 Số hóa") against NĐ 30 PL I / TT 05 Điều 8.

    It must claim PDF/A and pass the built-in PDF/A rules, have a text layer (OCR; "hai lớp"),
    and each page's largest image must be ≥ 24-bit colour at ≥ 200 dpi effective resolution.
    """
    name = str(path)
    report = check_pdf(path)
    if report.pdf_version is None:
        return list(report.findings)
    found: list[Finding] = []
    if report.pdfa.claimed is None:
        found.append(
            error(
                "pdf.digitised.not_pdfa",
                "Bản số hóa phải ở định dạng PDF/A.",
                "A digitised copy must be PDF/A.",
                path=name,
            )
        )
    elif not report.pdfa.compliant:
        found.append(
            error(
                "pdf.digitised.pdfa_invalid",
                "Bản số hóa khai báo PDF/A nhưng không đạt yêu cầu PDF/A.",
                "The digitised copy claims PDF/A but does not comply.",
                path=name,
                evidence={"codes": sorted({f.code for f in report.findings if f.code.startswith("pdfa.")})},
            )
        )
    if not report.text_layer:
        found.append(
            error(
                "pdf.digitised.no_text_layer",
                "Bản số hóa không có lớp văn bản (OCR).",
                "The digitised copy has no text layer (OCR).",
                path=name,
            )
        )
    with pikepdf.open(path) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            images = placed_images(page)
            if not images:
                found.append(
                    warning(
                        "pdf.digitised.no_page_image",
                        f"Trang {n} không có ảnh quét.",
                        f"Page {n} has no scanned image.",
                        path=name,
                        evidence={"page": n},
                    )
                )
                continue
            main = max(images, key=lambda i: i.width_pt * i.height_pt)
            if main.dpi < MIN_DPI:
                found.append(
                    error(
                        "pdf.digitised.low_resolution",
                        f"Trang {n}: độ phân giải {main.dpi:.0f} dpi, thấp hơn {MIN_DPI} dpi.",
                        f"Page {n}: {main.dpi:.0f} dpi, below {MIN_DPI} dpi.",
                        path=name,
                        evidence={"page": n, "dpi": round(main.dpi, 1)},
                    )
                )
            if not main.colour:
                found.append(
                    error(
                        "pdf.digitised.not_colour",
                        f"Trang {n}: ảnh không phải ảnh màu 24 bit.",
                        f"Page {n}: the image is not 24-bit colour.",
                        path=name,
                        evidence={"page": n, "colour_space": main.colour_space, "bits": main.bits},
                    )
                )
    return found
