"""The papers of a disposal case (hồ sơ hủy tài liệu), as PDF and XLSX.

* danh mục tài liệu hết thời hạn lưu trữ (the list): PDF and XLSX;
* quyết định hủy (summary of the decision, with the council and review on record): PDF;
* biên bản hủy tài liệu (destruction record, with the council's dissent verbatim): PDF.

Layout follows NĐ 30/2020 Phụ lục I for administrative documents: agency name top left with
the số/ký hiệu, the quốc hiệu and tiêu ngữ top right, the place and date line, the title centred
in bold, the body, then signature blocks. The font is Liberation Serif 2, metric-compatible
with Times New Roman. The luutru layer archives the bundle as a permanent record (≥ 20 năm).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import CouncilVote, DisposalCase, Dossier, Tombstone, User
from archive.fixity.hashing import sha256_file
from archive.vntime import to_vn, vn_today
from policies.disposal import case_dossiers
from policies.retention import LABELS_VI

# (regular, bold, italic) candidates, first that has the Vietnamese letters wins. Liberation
# Serif is metric-compatible with Times New Roman, but only version 2 (Debian fonts-liberation2)
# carries the precomposed Vietnamese letters (U+1EA0–U+1EF9); DejaVu Serif is the fallback.
FONT_CANDIDATES: tuple[tuple[Path, Path, Path], ...] = tuple(
    (Path(d) / f"{stem}{r}.ttf", Path(d) / f"{stem}{b}.ttf", Path(d) / f"{stem}{i}.ttf")
    for d, stem, r, b, i in (
        ("/usr/share/fonts/truetype/liberation2", "LiberationSerif", "-Regular", "-Bold", "-Italic"),
        ("/usr/share/fonts/truetype/liberation", "LiberationSerif", "-Regular", "-Bold", "-Italic"),
        ("/usr/share/fonts/truetype/dejavu", "DejaVuSerif", "", "-Bold", "-Italic"),
    )
)
VIETNAMESE_PROBE = "ẢẠẮẶẾỆỈỊỎỘỞỢỦỤỨỰỲỴỸđơư"
# Our own font names, so another module registering "LiberationSerif" differently cannot clash.
REGULAR, BOLD, ITALIC = "LuutruSerif", "LuutruSerif-Bold", "LuutruSerif-Italic"
LIST_HEADERS = ("STT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Thời gian", "Thời hạn bảo quản", "Số văn bản", "Ghi chú")
VOTES_VI = {"approve": "Đồng ý", "reject": "Không đồng ý", "abstain": "Không biểu quyết"}


def _register_fonts() -> None:
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    for files in FONT_CANDIDATES:
        if not all(f.is_file() for f in files):
            continue
        regular = TTFont(REGULAR, str(files[0]))
        if all(ord(c) in regular.face.charToGlyph for c in VIETNAMESE_PROBE):
            break
    else:
        raise FileNotFoundError("no serif font with Vietnamese letters: install fonts-liberation2")
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(files[1])))
    pdfmetrics.registerFont(TTFont(ITALIC, str(files[2])))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


def _style(
    name: str, font: str = REGULAR, size: float = 13, align: int = TA_JUSTIFY, **kw: float
) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, alignment=align, **kw)


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date_line(place: str, when: date) -> str:
    return f"{place}, ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"


def _period(d: Dossier) -> str:
    if d.maintenance == "01" or (d.retention_years is None and d.maintenance is None):
        return "Vĩnh viễn"
    return f"{d.retention_years} năm" if d.retention_years else LABELS_VI.get(d.maintenance or "", "")


def _span(d: Dossier) -> str:
    def fmt(x: date | None) -> str:
        return x.strftime("%d/%m/%Y") if x else "…"

    return f"{fmt(d.start_date)} – {fmt(d.end_date)}"


class _Context:
    """Everything the documents print, read once from the catalog."""

    def __init__(self, session: Session, case: DisposalCase, place: str, agency_name: str | None) -> None:
        _register_fonts()  # before any Paragraph is built: paragraphs resolve fonts when made
        self.case = case
        self.place = place
        self.dossiers = case_dossiers(session, case)
        first = self.dossiers[0].agency.name if self.dossiers else ""
        self.agency = (agency_name or first).upper()
        self.users = {u.id: u for u in session.scalars(select(User))}
        self.votes = list(
            session.scalars(
                select(CouncilVote).where(CouncilVote.case_id == case.id).order_by(CouncilVote.id)
            )
        )
        self.tombstones = {
            t.dossier_id: t
            for t in session.scalars(select(Tombstone).where(Tombstone.disposal_case_id == case.id))
        }
        stamp = case.executed_at or case.decided_at
        self.when = to_vn(stamp).date() if isinstance(stamp, datetime) else vn_today()

    def name(self, user_id: int | None) -> str:
        user = self.users.get(user_id) if user_id is not None else None
        return user.full_name if user else "……………………"

    def rows(self) -> list[list[str]]:
        out = []
        for n, d in enumerate(self.dossiers, start=1):
            note = "Đã hủy" if d.id in self.tombstones else ""
            out.append([str(n), d.code, d.title, _span(d), _period(d), str(len(d.documents)), note])
        return out


def _header(ctx: _Context, number: str) -> list[Flowable]:
    left = [
        Paragraph(_esc(ctx.agency), _style("a", BOLD, 12, TA_CENTER)),
        Paragraph(f"Số: {_esc(number)}", _style("n", REGULAR, 12, TA_CENTER)),
    ]
    right = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _style("q", BOLD, 12, TA_CENTER)),
        Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", _style("t", BOLD, 13, TA_CENTER)),
    ]
    table = Table([[left, right]], colWidths=[70 * mm, 100 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    date_line = Paragraph(f"<i>{_date_line(ctx.place, ctx.when)}</i>", _style("d", ITALIC, 13, TA_RIGHT))
    return [table, Spacer(1, 4 * mm), date_line, Spacer(1, 6 * mm)]


def _title(text: str, subtitle: str = "") -> list[Flowable]:
    out: list[Flowable] = [Paragraph(_esc(text), _style("T", BOLD, 14, TA_CENTER))]
    if subtitle:
        out.append(Paragraph(_esc(subtitle), _style("S", BOLD, 13, TA_CENTER)))
    return [*out, Spacer(1, 5 * mm)]


def _body(*paragraphs: str) -> list[Flowable]:
    style = _style("B", REGULAR, 13, TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=3 * mm)
    return [Paragraph(p, style) for p in paragraphs]


def _list_table(ctx: _Context) -> Table:
    cell = _style("c", REGULAR, 10.5, TA_LEFT)
    head = _style("h", BOLD, 10.5, TA_CENTER)
    data = [[Paragraph(h, head) for h in LIST_HEADERS]]
    data += [[Paragraph(_esc(v), cell) for v in row] for row in ctx.rows()]
    table = Table(
        data, colWidths=[10 * mm, 30 * mm, 55 * mm, 27 * mm, 18 * mm, 13 * mm, 17 * mm], repeatRows=1
    )
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return table


def _signatures(blocks: Sequence[tuple[str, str]]) -> list[Flowable]:
    role = _style("r", BOLD, 13, TA_CENTER)
    hint = _style("i", ITALIC, 11, TA_CENTER)
    name = _style("p", BOLD, 13, TA_CENTER)
    cells = [
        [
            Paragraph(_esc(r), role),
            Paragraph("(Ký, ghi rõ họ tên, đóng dấu)", hint),
            Spacer(1, 22 * mm),
            Paragraph(_esc(n), name),
        ]
        for r, n in blocks
    ]
    table = Table([cells], colWidths=[170 * mm / len(blocks)] * len(blocks))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Spacer(1, 8 * mm), table]


def _build(path: Path, story: list[Flowable], title: str) -> Path:
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=30 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author="luutru",
    )
    doc.build(story)
    return path


def disposal_list_pdf(ctx: _Context, out: Path) -> Path:
    """Danh mục tài liệu hết thời hạn lưu trữ, with the bản thuyết minh."""
    c = ctx.case
    story = _header(ctx, f"{c.code}/DM")
    story += _title("DANH MỤC TÀI LIỆU HẾT THỜI HẠN LƯU TRỮ", f"(Kèm theo hồ sơ hủy {c.code}: {c.title})")
    story += [_list_table(ctx), Spacer(1, 5 * mm)]
    story += _body(
        f"<b>Tổng số:</b> {len(ctx.dossiers)} hồ sơ.",
        f"<b>Bản thuyết minh:</b> {_esc(c.explanatory_note or '')}",
    )
    story += _signatures([("NGƯỜI LẬP DANH MỤC", ctx.name(c.proposed_by))])
    return _build(out / f"{c.code}-danh-muc.pdf", story, "Danh mục tài liệu hết thời hạn lưu trữ")


def decision_pdf(ctx: _Context, out: Path) -> Path:
    """Summary of the quyết định hủy: the council outcome, the review and the deadline."""
    c = ctx.case
    story = _header(ctx, c.decision_reference or f"{c.code}/QĐ")
    story += _title("QUYẾT ĐỊNH", f"Về việc hủy tài liệu hết thời hạn lưu trữ ({c.code})")
    tally = {v: sum(b.vote.value == v for b in ctx.votes) for v in VOTES_VI}
    story += _body(
        f"Căn cứ biên bản họp Hội đồng xét hủy tài liệu lưu trữ: {tally['approve']} đồng ý, "
        f"{tally['reject']} không đồng ý, {tally['abstain']} không biểu quyết; kết luận: "
        f"{'đề nghị hủy' if c.council_outcome == 'approved' else 'không đề nghị hủy'}.",
        f"Căn cứ văn bản thẩm định số {_esc(c.review_reference or '…')}: {_esc(c.review_opinion or '')}",
        f"<b>Điều 1.</b> Hủy {len(ctx.dossiers)} hồ sơ hết thời hạn lưu trữ theo Danh mục kèm theo.",
        f"<b>Điều 2.</b> Việc hủy hoàn thành trước ngày "
        f"{c.deadline.strftime('%d/%m/%Y') if c.deadline else '…'}; lập biên bản hủy.",
        "<b>Điều 3.</b> Quyết định này có hiệu lực kể từ ngày ký.",
    )
    story += _signatures([("NGƯỜI CÓ THẨM QUYỀN", ctx.name(c.decided_by))])
    return _build(out / f"{c.code}-quyet-dinh.pdf", story, "Quyết định hủy tài liệu")


def destruction_record_pdf(ctx: _Context, out: Path) -> Path:
    """Biên bản hủy tài liệu hết thời hạn lưu trữ, with the council's dissent word for word."""
    c = ctx.case
    story = _header(ctx, f"{c.code}/BB")
    story += _title("BIÊN BẢN", "Về việc hủy tài liệu hết thời hạn lưu trữ")
    story += _body(
        f"Căn cứ Quyết định số {_esc(c.decision_reference or '…')} về việc hủy tài liệu hết thời hạn lưu trữ; "
        f"văn bản thẩm định số {_esc(c.review_reference or '…')}.",
        f"Tài liệu của {len(ctx.dossiers)} hồ sơ dưới đây đã được xóa khỏi mọi bản sao lưu trữ, chỉ mục tìm kiếm "
        "và bộ nhớ đệm; hệ thống chỉ giữ lại thông tin tóm tắt và mã băm của tệp (không giữ nội dung).",
    )
    story += [_list_table(ctx), Spacer(1, 4 * mm)]
    dissent = [v for v in ctx.votes if v.vote.value != "approve"]
    if dissent:
        story += _body("<b>Ý kiến khác của thành viên Hội đồng (ghi nguyên văn):</b>")
        story += _body(
            *(
                f"{_esc(ctx.name(v.user_id))} ({VOTES_VI[v.vote.value]}): “{_esc(v.opinion or '')}”"
                for v in dissent
            )
        )
    done = to_vn(c.executed_at).strftime("%d/%m/%Y %H:%M") if c.executed_at else "chưa hoàn thành"
    story += _body(f"Thời điểm hoàn thành việc hủy: {done}.")
    story += _signatures(
        [
            ("ĐẠI DIỆN ĐƠN VỊ GIAO TÀI LIỆU", ctx.name(c.proposed_by)),
            ("ĐẠI DIỆN ĐƠN VỊ HỦY TÀI LIỆU", "……………………"),
        ]
    )
    return _build(out / f"{c.code}-bien-ban-huy.pdf", story, "Biên bản hủy tài liệu")


def disposal_list_xlsx(ctx: _Context, out: Path) -> Path:
    """The danh mục as a spreadsheet, one row per dossier."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Danh mục"
    ws.append([f"DANH MỤC TÀI LIỆU HẾT THỜI HẠN LƯU TRỮ — {ctx.case.code}"])
    ws.append([ctx.case.title])
    ws.append(list(LIST_HEADERS))
    for row in ctx.rows():
        ws.append([int(row[0]), *row[1:5], int(row[5]), row[6]])
    ws["A1"].font = Font(name="Times New Roman", bold=True, size=13)
    for cell in ws[3]:
        cell.font = Font(name="Times New Roman", bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for col, width in zip("ABCDEFG", (6, 24, 60, 24, 16, 10, 12), strict=True):
        ws.column_dimensions[col].width = width
    path = out / f"{ctx.case.code}-danh-muc.xlsx"
    wb.save(path)
    return path


def disposal_file_bundle(
    session: Session,
    case: DisposalCase,
    out_dir: Path,
    *,
    place: str = "Hà Nội",
    agency_name: str | None = None,
) -> list[Path]:
    """Write every paper of the case into ``out_dir``; return the paths (PDFs, then the XLSX).

    The file names and SHA-256 are stored in ``case.documents`` so the record of the case
    names the exact files the luutru layer archives.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Context(session, case, place, agency_name)
    paths = [disposal_list_pdf(ctx, out_dir), decision_pdf(ctx, out_dir)]
    if case.executed_at is not None or ctx.tombstones:
        paths.append(destruction_record_pdf(ctx, out_dir))
    paths.append(disposal_list_xlsx(ctx, out_dir))
    case.documents = {**case.documents, **{p.name: {"sha256": sha256_file(p)[0]} for p in paths}}
    session.flush()
    return paths
