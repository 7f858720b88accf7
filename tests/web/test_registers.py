"""Registers (NĐ 30 Phụ lục V): mục lục hồ sơ and mục lục văn bản as PDF (text read back with
pypdfium2) and XLSX (read back with openpyxl), through the functions, the console and the CLI."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from archive.catalog import Event, EventType
from luutru.cli.main import cli
from luutru.registers import (
    DOCUMENT_HEADERS,
    DOSSIER_HEADERS,
    Register,
    document_register,
    dossier_register,
    write_pdf,
    write_xlsx,
)
from luutru.samples.corpus import file_code

from .conftest import Web, sample_env
from .test_ingest_views import spec

AGENCY = "000.00.07.H54"
Y2024, Y2023 = file_code(spec("01.TCCB")), file_code(spec("02.TCCB"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Iterator[Web]:
    web = sample_env(tmp_path_factory, seeded_catalog, "pair")  # 01.TCCB, 02.TCCB
    yield web
    web.services.close()


def pdf_pages(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_dossier_register_pdf_has_the_header_title_rows_and_page_numbers(env: Web, tmp_path: Path) -> None:
    with env.services.session() as s:
        register = dossier_register(s, AGENCY, year=2024)
    assert [r[1] for r in register.rows] == [Y2024]
    assert register.rows[0][4] == "70 năm" and register.rows[0][3] == "02/01/2024 - 28/12/2024"
    text = pdf_pages(write_pdf(register, tmp_path / "r.pdf").read_bytes())  # type: ignore[union-attr]
    assert len(text) == 1
    page = " ".join(text[0].split())
    for expected in (
        "SỞ NỘI VỤ TỈNH THÁI BÌNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "MỤC LỤC HỒ SƠ", "Năm 2024", "Tiêu đề hồ sơ", "Thời hạn bảo quản", "tuyển dụng công chức", "Trang 1",
    ):  # fmt: skip
        assert expected in page, expected
    assert "đào tạo, bồi dưỡng" not in page  # the 2023 dossier is in another year's register


def test_long_registers_repeat_the_header_row_on_every_page(tmp_path: Path) -> None:
    rows = [
        [str(i), f"{i}/QĐ-SNV", "01/02/2024", f"Quyết định số {i} về việc tiếp nhận", "Sở Nội vụ", str(i), ""]
        for i in range(1, 121)
    ]
    register = Register(
        "Sở Nội vụ tỉnh Thái Bình",
        "MỤC LỤC VĂN BẢN TRONG HỒ SƠ",
        "Hồ sơ số X",
        DOCUMENT_HEADERS,
        (10, 22, 20, 53, 24, 14, 22),
        rows,
    )
    out = io.BytesIO()
    write_pdf(register, out)
    pages = pdf_pages(out.getvalue())
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert "Tên loại và trích yếu nội dung" in flat and f"Trang {n}" in flat
    assert "Quyết định số 120 về việc tiếp nhận" in " ".join(pages[-1].split())


def test_registers_as_xlsx_read_back(env: Web, tmp_path: Path) -> None:
    with env.services.session() as s:
        dossiers = dossier_register(s, AGENCY)
        documents = document_register(s, Y2024)
    wb = load_workbook(write_xlsx(dossiers, tmp_path / "d.xlsx"))  # type: ignore[arg-type]
    ws = wb.active
    assert ws is not None
    assert [c.value for c in ws[5]] == list(DOSSIER_HEADERS) and all(c.font.b for c in ws[5])
    assert [ws.cell(row=r, column=2).value for r in (6, 7)] == [Y2023, Y2024]
    assert ws["A2"].value == "MỤC LỤC HỒ SƠ" and ws.column_dimensions["C"].width >= 40
    wb = load_workbook(write_xlsx(documents, tmp_path / "v.xlsx"))  # type: ignore[arg-type]
    ws = wb.active
    assert ws is not None
    assert [c.value for c in ws[5]] == list(DOCUMENT_HEADERS)
    rows = list(ws.iter_rows(min_row=6, values_only=True))
    assert len(rows) == 11 and rows[0][0] == "1" and rows[0][1] == "159/KH-SNV"
    assert rows[0][2] == "06/02/2024" and "Kế hoạch tuyển dụng công chức năm 2024" in str(rows[0][3])
    assert rows[0][4] == "Sở Nội vụ tỉnh Thái Bình" and [r[5] for r in rows[:3]] == ["1", "2", "3"]


def test_console_downloads_registers_and_records_the_printing(env: Web) -> None:
    client = env.signed_in("luutru")
    assert "dossier-register" in client.get("/console/registers/").get_data(as_text=True)
    with env.services.session() as s:
        before = s.scalar(select(func.count()).select_from(Event).where(Event.type == EventType.PRINTING))
    r = client.get(f"/console/registers/dossiers.pdf?agency={AGENCY}&year=2023")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "đào tạo, bồi dưỡng" in " ".join(pdf_pages(r.data)[0].split())
    r = client.get(f"/console/registers/dossiers/{Y2024}/documents.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(r.data)).active.max_row == 5 + 11  # type: ignore[union-attr]
    with env.services.session() as s:
        after = s.scalar(select(func.count()).select_from(Event).where(Event.type == EventType.PRINTING))
    assert after == (before or 0) + 2
    assert client.get(f"/console/registers/dossiers.doc?agency={AGENCY}").status_code == 400
    assert client.get("/console/registers/dossiers.pdf?agency=NO.SUCH").status_code == 404
    assert client.get("/console/registers/dossiers/NO-SUCH/documents.pdf").status_code == 404
    for username in ("docgia", "vanthu"):
        assert (
            env.signed_in(username).get(f"/console/registers/dossiers.pdf?agency={AGENCY}").status_code == 403
        )
        assert (
            env.signed_in(username).get(f"/console/registers/dossiers/{Y2024}/documents.pdf").status_code
            == 403
        )
    assert env.client().get(f"/console/registers/dossiers/{Y2024}/documents.pdf").status_code == 302


def test_cli_prints_both_registers(env: Web, tmp_path: Path) -> None:
    data = env.services.settings.data_dir
    envvars = {"LUUTRU_DATA_DIR": str(data), "LUUTRU_CONFIG": str(data / "none.toml")}
    runner = CliRunner()
    out = tmp_path / "hs.pdf"
    result = runner.invoke(
        cli, ["register", "dossiers", "--agency", AGENCY, "--year", "2024", "-o", str(out)], env=envvars
    )
    assert result.exit_code == 0, result.output
    assert "Hồ sơ về tuyển dụng công chức năm 2024" in " ".join(pdf_pages(out.read_bytes())[0].split())
    xlsx = tmp_path / "vb.xlsx"
    result = runner.invoke(
        cli, ["register", "documents", Y2023, "--format", "xlsx", "-o", str(xlsx)], env=envvars
    )
    assert result.exit_code == 0 and "11" in result.output
    assert load_workbook(xlsx).active.max_row == 16  # type: ignore[union-attr]
    result = runner.invoke(cli, ["register", "documents", "NO-SUCH", "-o", str(xlsx)], env=envvars)
    assert result.exit_code == 1 and "not found" in result.output
