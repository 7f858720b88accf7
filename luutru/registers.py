"""Registers (mục lục) of NĐ 30/2020 Phụ lục V, as PDF and XLSX.

* mục lục hồ sơ — the dossiers of an agency (for a year, or a chosen list): Số TT · Số, ký hiệu
  hồ sơ · Tiêu đề hồ sơ · Thời gian tài liệu · Thời hạn bảo quản · Số tờ/Số trang · Ghi chú;
* mục lục văn bản trong hồ sơ — the documents of one dossier: STT · Số, ký hiệu văn bản ·
  Ngày tháng năm văn bản · Tên loại và trích yếu nội dung · Tác giả văn bản · Tờ số/Trang số · Ghi chú.

Plain functions: query → :class:`Register` (rows) → :func:`write_pdf` / :func:`write_xlsx`. The
PDF is A4 with the Vietnamese administrative header (agency name top left, quốc hiệu and tiêu
ngữ top right), the title centred in bold, the table's header row repeated on every page and
page numbers; it uses the serif font ``policies.disposal_documents`` registers (Liberation
Serif 2, metric-compatible with Times New Roman, DejaVu Serif as fallback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.catalog import Agency, Dossier, RecordState
from archive.errors import NotFound
from archive.metadata import load_profile
from policies.disposal_documents import BOLD, REGULAR, _register_fonts
from policies.retention import LABELS_VI

DOSSIER_HEADERS = (
    "Số TT",
    "Số, ký hiệu hồ sơ",
    "Tiêu đề hồ sơ",
    "Thời gian tài liệu",
    "Thời hạn bảo quản",
    "Số tờ/Số trang",
    "Ghi chú",
)
DOCUMENT_HEADERS = (
    "STT",
    "Số, ký hiệu văn bản",
    "Ngày tháng năm văn bản",
    "Tên loại và trích yếu nội dung",
    "Tác giả văn bản",
    "Tờ số/Trang số",
    "Ghi chú",
)
# Column widths: millimetres in the PDF (165 mm between the margins), characters in the XLSX.
DOSSIER_WIDTHS_MM = (10, 28, 50, 22, 17, 14, 24)
DOCUMENT_WIDTHS_MM = (10, 22, 20, 53, 24, 14, 22)
XLSX_WIDTHS = {10: 7, 28: 22, 50: 48, 22: 20, 17: 16, 14: 12, 24: 26, 20: 16, 53: 50}


@dataclass(frozen=True, slots=True)
class Register:
    """A register ready to print: who it belongs to, its title, columns and rows."""

    agency_name: str
    title: str
    subtitle: str
    headers: tuple[str, ...]
    widths_mm: tuple[int, ...]
    rows: list[list[str]] = field(default_factory=list)


def _fmt(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def dossier_year(d: Dossier) -> int | None:
    """The year a dossier belongs to: Năm hình thành hồ sơ, else the year its work ended."""
    declared = str((d.descriptive or {}).get("fileCatalog") or "")
    if declared.isdigit():
        return int(declared)
    when = d.end_date or d.start_date
    return when.year if when else None


def retention_text(d: Dossier) -> str:
    """Thời hạn bảo quản as printed: the code's label, or the years, or what the agency wrote."""
    if d.maintenance in LABELS_VI and d.maintenance != "07":
        return LABELS_VI[d.maintenance]
    if d.retention_years:
        return f"{d.retention_years} năm"
    return d.retention_text or ""


def _sheets_pages(d: Dossier) -> str:
    meta = d.descriptive or {}
    paper, pages = meta.get("numberOfPaper"), meta.get("numberOfPage")
    if not pages:
        pages = sum(doc.page_count or 0 for doc in d.documents) or None
    return "/".join(str(x) for x in (paper, pages) if x) or ""


def dossier_register(
    s: Session,
    agency_code: str,
    *,
    year: int | None = None,
    codes: Sequence[str] | None = None,
    visible: Callable[[Dossier], bool] = lambda _d: True,
) -> Register:
    """Mục lục hồ sơ of ``agency_code``: its dossiers of ``year`` or those named in ``codes``.

    Destroyed dossiers are left out (their tombstones are listed in the destruction record).
    ``visible`` filters by the caller's access decision. Raises NotFound for an unknown agency.
    """
    agency = s.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise NotFound("agency", agency_code)
    query = (
        select(Dossier)
        .where(Dossier.agency_id == agency.id, Dossier.state != RecordState.DESTROYED)
        .options(selectinload(Dossier.documents))
        .order_by(Dossier.code)
    )
    if codes is not None:
        query = query.where(Dossier.code.in_(list(codes)))
    dossiers = [d for d in s.scalars(query) if (year is None or dossier_year(d) == year) and visible(d)]
    rows = [
        [
            str(n),
            str((d.descriptive or {}).get("fileNotation") or d.code),
            d.title,
            f"{_fmt(d.start_date)} - {_fmt(d.end_date)}" if d.start_date or d.end_date else "",
            retention_text(d),
            _sheets_pages(d),
            str((d.descriptive or {}).get("description") or ""),
        ]
        for n, d in enumerate(dossiers, start=1)
    ]
    subtitle = f"Năm {year}" if year is not None else ""
    return Register(agency.name, "MỤC LỤC HỒ SƠ", subtitle, DOSSIER_HEADERS, DOSSIER_WIDTHS_MM, rows)


def _type_label(code: str | None, written: str | None) -> str:
    if written:
        return written
    if not code:
        return ""
    codes = load_profile("tt05-2025").codelists["typeName"].codes
    return codes.get(code, "")


def document_register(s: Session, dossier_code: str) -> Register:
    """Mục lục văn bản trong hồ sơ ``dossier_code``. Raises NotFound."""
    dossier = s.scalar(
        select(Dossier).where(Dossier.code == dossier_code).options(selectinload(Dossier.documents))
    )
    if dossier is None or dossier.state is RecordState.DESTROYED:
        raise NotFound("dossier", dossier_code)
    rows: list[list[str]] = []
    page = 1
    for doc in dossier.documents:
        count = doc.page_count or int((doc.descriptive or {}).get("numberOfPage") or 0)
        pages = "" if not count else str(page) if count == 1 else f"{page}-{page + count - 1}"
        page += count
        number = "/".join(x for x in (doc.code_number, doc.code_notation) if x)
        kind = _type_label(doc.type_code, doc.type_name)
        rows.append(
            [
                str(doc.ordinal),
                number,
                _fmt(doc.issued_date),
                " ".join(x for x in (kind, doc.subject or "") if x),
                doc.organ_name or "",
                pages,
                str((doc.descriptive or {}).get("description") or ""),
            ]
        )
    return Register(
        dossier.agency.name,
        "MỤC LỤC VĂN BẢN TRONG HỒ SƠ",
        f"Hồ sơ số {dossier.code}: {dossier.title}",
        DOCUMENT_HEADERS,
        DOCUMENT_WIDTHS_MM,
        rows,
    )


# -- PDF -------------------------------------------------------------------------------------------
def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _style(name: str, font: str, size: float, align: int) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.25, alignment=align)


def _header(register: Register) -> list[Flowable]:
    left = [Paragraph(_esc(register.agency_name.upper()), _style("a", BOLD, 12, TA_CENTER))]
    right = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _style("q", BOLD, 12, TA_CENTER)),
        Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", _style("t", BOLD, 13, TA_CENTER)),
    ]
    table = Table([[left, right]], colWidths=[68 * mm, 97 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    out: list[Flowable] = [table, Spacer(1, 10 * mm)]
    out.append(Paragraph(_esc(register.title), _style("T", BOLD, 14, TA_CENTER)))
    if register.subtitle:
        out.append(Paragraph(_esc(register.subtitle), _style("S", BOLD, 13, TA_CENTER)))
    return [*out, Spacer(1, 6 * mm)]


def _table(register: Register) -> Table:
    head, cell = _style("h", BOLD, 10.5, TA_CENTER), _style("c", REGULAR, 10.5, TA_LEFT)
    data: list[list[Any]] = [[Paragraph(_esc(h), head) for h in register.headers]]
    data.append([Paragraph(f"({i})", head) for i in range(1, len(register.headers) + 1)])
    data += [[Paragraph(_esc(v), cell) for v in row] for row in register.rows]
    table = Table(data, colWidths=[w * mm for w in register.widths_mm], repeatRows=2)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return table


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(REGULAR, 11)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"Trang {doc.page}")
    canvas.restoreState()


def write_pdf(register: Register, out: Path | BinaryIO) -> Path | BinaryIO:
    """Print ``register`` as an A4 PDF to a path or a binary stream."""
    _register_fonts()
    target = str(out) if isinstance(out, Path) else out
    doc = SimpleDocTemplate(
        target, pagesize=A4, leftMargin=30 * mm, rightMargin=15 * mm, topMargin=20 * mm,
        bottomMargin=20 * mm, title=f"{register.title} {register.subtitle}".strip(), author="luutru",
    )  # fmt: skip
    story = [*_header(register), _table(register)]
    if not register.rows:
        story.append(Paragraph("(Không có hồ sơ, tài liệu)", _style("e", REGULAR, 12, TA_CENTER)))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out


# -- XLSX ------------------------------------------------------------------------------------------
def write_xlsx(register: Register, out: Path | BinaryIO) -> Path | BinaryIO:
    """Write ``register`` as a one-sheet workbook: title rows, a bold header row, the rows."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Mục lục"
    last = get_column_letter(len(register.headers))
    bold = Font(name="Times New Roman", bold=True, size=12)
    plain = Font(name="Times New Roman", size=12)
    ws.append([register.agency_name.upper()])
    ws.append([register.title])
    ws.append([register.subtitle])
    for row in (2, 3):
        ws.merge_cells(f"A{row}:{last}{row}")
        ws[f"A{row}"].font = Font(name="Times New Roman", bold=True, size=14 if row == 2 else 12)
        ws[f"A{row}"].alignment = Alignment(horizontal="center")
    ws["A1"].font = bold
    ws.append([])
    ws.append(list(register.headers))
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cell in ws[5]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    for values in register.rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            cell.font = plain
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = border
    for i, width in enumerate(register.widths_mm, start=1):
        ws.column_dimensions[get_column_letter(i)].width = XLSX_WIDTHS.get(width, width)
    ws.freeze_panes = "A6"
    ws.print_title_rows = "5:5"  # the header row repeats on every printed page
    wb.save(out)
    return out


def write_register(register: Register, fmt: str, out: Path | BinaryIO) -> Path | BinaryIO:
    """``fmt`` is ``pdf`` or ``xlsx``; raises ValueError for anything else."""
    if fmt == "pdf":
        return write_pdf(register, out)
    if fmt == "xlsx":
        return write_xlsx(register, out)
    raise ValueError(f"unknown register format {fmt!r}: pdf or xlsx")


__all__ = [
    "DOCUMENT_HEADERS",
    "DOSSIER_HEADERS",
    "Register",
    "document_register",
    "dossier_register",
    "dossier_year",
    "retention_text",
    "write_pdf",
    "write_register",
    "write_xlsx",
]
