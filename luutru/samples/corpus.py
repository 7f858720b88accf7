"""The demo corpus: realistic Vietnamese dossiers of three Thái Bình agencies, signed with TEST keys.

Most dossiers are clean (signed PDF/A letters, a digitised page with a text layer, a
spreadsheet, an image); a few carry the problems an archive meets (unsigned, altered after
signing, an expired certificate, a refused format, a duplicate, non-NFC text), so the review
queue and the rejection reasons are not empty. Several ended long enough ago to be due for
disposal, so the retention screens have work too.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from PIL import Image, ImageDraw, ImageFont

from archive.agency_code import file_code_prefixes
from luutru.samples import pdfs
from luutru.samples.dossiers import sha256, signed_letter
from luutru.samples.pki import TestPki

AGENCIES = {
    "000.00.00.H54": ("Ủy ban nhân dân tỉnh Thái Bình", "UBND"),
    "000.00.07.H54": ("Sở Nội vụ tỉnh Thái Bình", "SNV"),
    "000.00.14.H54": ("Sở Tài chính tỉnh Thái Bình", "STC"),
}

# (typeName code, ký hiệu loại, template) — NĐ 30 Phụ lục III abbreviations
DOCUMENT_KINDS = (
    ("10", "KH", "Kế hoạch {topic}"),
    ("02", "QĐ", "Quyết định ban hành Kế hoạch {topic}"),
    ("22", "", "Công văn đôn đốc thực hiện {topic}"),
    ("15", "TTr", "Tờ trình về việc {topic}"),
    ("14", "BC", "Báo cáo sơ kết 6 tháng đầu năm về {topic}"),
    ("07", "TB", "Thông báo kết luận của lãnh đạo về {topic}"),
    ("20", "BB", "Biên bản họp đánh giá {topic}"),
    ("14", "BC", "Báo cáo tổng kết năm về {topic}"),
)


@dataclass(frozen=True, slots=True)
class DossierSpec:
    agency: str
    notation: str  # số và ký hiệu hồ sơ
    year: int
    topic: str
    maintenance: str = "06"  # 10 năm
    mode: str = "01"
    problem: str | None = None  # unsigned, altered, expired, format, duplicate, nfc


SPECS: tuple[DossierSpec, ...] = (
    DossierSpec("000.00.00.H54", "01.VP", 2024, "cải cách hành chính năm 2024", "01"),
    DossierSpec("000.00.00.H54", "02.VP", 2023, "chuyển đổi số trong cơ quan nhà nước", "01"),
    DossierSpec("000.00.00.H54", "03.VP", 2022, "phòng, chống thiên tai và tìm kiếm cứu nạn", "04"),
    DossierSpec("000.00.00.H54", "04.VP", 2021, "xây dựng nông thôn mới nâng cao", "05"),
    DossierSpec("000.00.00.H54", "05.VP", 2012, "phổ biến, giáo dục pháp luật năm 2012", "06"),
    DossierSpec("000.00.00.H54", "06.VP", 2011, "bảo đảm trật tự an toàn giao thông năm 2011", "06"),
    DossierSpec("000.00.00.H54", "07.VP", 2020, "giải quyết khiếu nại, tố cáo", "03", mode="02"),
    DossierSpec("000.00.00.H54", "08.VP", 2019, "quy hoạch tỉnh thời kỳ 2021-2030", "01"),
    DossierSpec("000.00.07.H54", "01.TCCB", 2024, "tuyển dụng công chức năm 2024", "02", mode="02"),
    DossierSpec("000.00.07.H54", "02.TCCB", 2023, "đào tạo, bồi dưỡng cán bộ, công chức", "05"),
    DossierSpec("000.00.07.H54", "03.TĐKT", 2022, "thi đua, khen thưởng năm 2022", "04"),
    DossierSpec("000.00.07.H54", "04.VTLT", 2013, "công tác văn thư, lưu trữ năm 2013", "06"),
    DossierSpec("000.00.07.H54", "05.CCVC", 2021, "sắp xếp đơn vị hành chính cấp xã", "01"),
    DossierSpec("000.00.07.H54", "06.TTr", 2020, "kiểm tra công vụ năm 2020", "05", mode="03"),
    DossierSpec("000.00.14.H54", "01.NS", 2023, "quyết toán ngân sách địa phương năm 2023", "04"),
    DossierSpec("000.00.14.H54", "02.ĐT", 2022, "kế hoạch đầu tư công trung hạn", "03"),
    DossierSpec("000.00.14.H54", "03.DN", 2021, "hỗ trợ doanh nghiệp nhỏ và vừa", "05"),
    DossierSpec("000.00.14.H54", "04.TS", 2010, "kiểm kê tài sản công năm 2010", "06"),
    DossierSpec("000.00.14.H54", "05.TC", 2024, "phòng, chống tham nhũng, tiêu cực", "04", mode="02"),
    DossierSpec("000.00.14.H54", "06.GC", 2023, "quản lý giá và thẩm định giá", "05"),
    DossierSpec("000.00.00.H54", "09.VP", 2024, "phát triển du lịch bền vững", "05", problem="unsigned"),
    DossierSpec("000.00.07.H54", "07.TCCB", 2024, "nâng ngạch công chức năm 2024", "04", problem="altered"),
    DossierSpec("000.00.14.H54", "07.NS", 2024, "dự toán ngân sách năm 2025", "04", problem="expired"),
    DossierSpec("000.00.00.H54", "10.VP", 2024, "bảo vệ môi trường năm 2024", "05", problem="format"),
    DossierSpec("000.00.00.H54", "11.VP", 2024, "phòng, chống dịch bệnh năm 2024", "05", problem="nfc"),
    DossierSpec("000.00.07.H54", "08.TCCB", 2024, "tuyển dụng viên chức năm 2024", "05", problem="duplicate"),
)


def file_code(spec: DossierSpec) -> str:
    return f"{file_code_prefixes(spec.agency)[-1]}.{spec.year}.{spec.notation}"


def _scan(path: Path, pki: TestPki) -> Path:
    """A digitised paper page (PDF/A, colour, 300 dpi, OCR text layer), signed by the body."""
    raw = pdfs.make_scanned_pdf(path.with_suffix(".raw.pdf"), dpi=300)
    out = pdfs.sign_pdf(raw, path, pki.organisation.signer, field="CoQuan", crls=[pki.crl_der])
    raw.unlink()
    return out


def _spreadsheet(path: Path, topic: str) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp"
    ws.append(["STT", "Đơn vị", "Nội dung", "Kết quả"])
    for i, unit in enumerate(
        ("Sở Nội vụ", "Sở Tài chính", "UBND huyện Vũ Thư", "UBND TP Thái Bình"), start=1
    ):
        ws.append([i, unit, topic, "Hoàn thành" if i % 2 else "Đang thực hiện"])
    wb.save(path)
    return path


def _image(path: Path, seed: int, title: str) -> Path:
    """A photographed bar chart with its Vietnamese title: the text search finds it by OCR."""
    img = Image.new("RGB", (1200, 640), (240, 240, 235))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(pdfs.FONT_PATH), 30)
    draw.text((40, 24), title, fill=(20, 20, 20), font=font)
    for i in range(6):
        h = 60 + (seed * 37 + i * 53) % 420
        draw.rectangle((80 + i * 180, 600 - h, 200 + i * 180, 600), fill=(180, 30 + i * 30, 40))
    img.save(path, "JPEG", quality=90)
    return path


def build_dossier(spec: DossierSpec, root: Path, pki: TestPki, index: int) -> Path:
    """Write one submission folder for ``spec`` (signed letters, a scan, a sheet, an image)."""
    name, short = AGENCIES[spec.agency]
    code = file_code(spec)
    folder = root / code
    if (folder / "metadata.json").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    docs_dir = folder / "tai-lieu"
    docs_dir.mkdir(parents=True)
    documents: list[dict[str, Any]] = []

    def add(
        path: Path, type_code: str, subject: str, notation: str, number: str, *, level: str = "01"
    ) -> None:
        n = len(documents) + 1
        documents.append(
            {
                "file": f"tai-lieu/{path.name}",
                "sha256": sha256(path),
                "docCode": f"{code}.{n:07d}",
                "typeName": type_code,
                "codeNumber": number,
                "codeNotation": notation,
                "issuedDate": f"{min(28, 3 + n * 3):02d}/{min(12, 1 + n):02d}/{spec.year}",
                "organName": name,
                "subject": subject,
                "language": "01",
                "numberOfPage": 1,
                "mode": spec.mode,
                "confidenceLevel": level,
            }
        )

    signer: Callable[[Path, str], Path] = lambda p, text: signed_letter(p, pki, text)  # noqa: E731
    for n, (type_code, abbr, template) in enumerate(DOCUMENT_KINDS, start=1):
        subject = template.format(topic=spec.topic)
        number = f"{(index * 17 + n * 5) % 300 + 1:02d}"
        notation = f"{abbr}-{short}" if abbr else f"{short}-VP"
        pdf = signer(docs_dir / f"{n:02d}-{abbr or 'CV'}.pdf", f"Số: {number}/{notation}  —  {subject}")
        add(pdf, type_code, subject, notation, number)
    scan = _scan(docs_dir / "09-ban-giay-so-hoa.pdf", pki)
    add(
        scan,
        "02",
        f"Quyết định (bản giấy số hóa) về {spec.topic}",
        f"QĐ-{short}",
        f"{index + 5:02d}",
        level="02",
    )
    add(
        _spreadsheet(docs_dir / "10-bang-tong-hop.xlsx", spec.topic),
        "32",
        f"Bảng tổng hợp số liệu {spec.topic}",
        "",
        "",
    )
    chart = f"Biểu đồ kết quả {spec.topic}"
    add(_image(docs_dir / "11-bieu-do.jpg", index, chart), "32", chart, "", "")
    _apply_problem(spec, folder, documents, pki)
    dossier = {
        "organId": spec.agency,
        "fileCode": code,
        "title": f"Hồ sơ về {spec.topic}",
        "maintenance": spec.maintenance,
        "mode": spec.mode,
        "language": "01",
        "startDate": f"02/01/{spec.year}",
        "endDate": f"28/12/{spec.year}",
        "keyword": spec.topic,
        "totalDoc": len(documents),
        "numberOfPage": len(documents),
        "riskRecovery": "0",
        "description": f"Người lập hồ sơ: chuyên viên {name}",
    }
    if spec.problem == "nfc":
        dossier["keyword"] = unicodedata.normalize("NFD", spec.topic)
    metadata = {"profile": "tt05-2025", "dossier": dossier, "documents": documents}
    (folder / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return folder


def _apply_problem(spec: DossierSpec, folder: Path, documents: list[dict[str, Any]], pki: TestPki) -> None:
    first = folder / documents[0]["file"]
    if spec.problem == "unsigned":
        pdfs.make_pdf(first, text="Dự thảo chưa ký số", pdfa="2b")
    elif spec.problem == "altered":
        pdfs.tamper_signed_range(first)
    elif spec.problem == "expired":
        base = pdfs.make_pdf(first.with_suffix(".b.pdf"), text="Ký bằng chứng thư hết hạn", pdfa="2b")
        pdfs.sign_pdf(base, first, pki.expired_person.signer, field="NguoiKy", crls=[pki.crl_der])
        base.unlink()
    elif spec.problem == "format":
        bat = folder / "tai-lieu" / "cai-dat.bat"
        bat.write_text("@echo off\r\necho cai dat\r\n", encoding="ascii")
        documents.append(
            dict(documents[-1], file="tai-lieu/cai-dat.bat", docCode=documents[-1]["docCode"][:-1] + "9")
        )
        documents[-1]["sha256"] = sha256(bat)
    elif spec.problem == "duplicate":  # the same letter as the first dossier of Sở Nội vụ
        source_spec = next(s for s in SPECS if s.agency == spec.agency and s.problem is None)
        src = folder.parent / file_code(source_spec)
        source_meta = json.loads((src / "metadata.json").read_text(encoding="utf-8"))
        shutil.copyfile(src / source_meta["documents"][0]["file"], first)
        for key in ("codeNumber", "codeNotation", "subject"):
            documents[0][key] = source_meta["documents"][0][key]
    if spec.problem in ("unsigned", "altered", "expired", "duplicate"):
        documents[0]["sha256"] = sha256(first)


def build_corpus(
    root: Path,
    pki: TestPki,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
    specs: tuple[DossierSpec, ...] = SPECS,
) -> list[Path]:
    """Build the demo submission folders under ``root`` (cached: existing ones are kept)."""
    root.mkdir(parents=True, exist_ok=True)
    chosen = specs if limit is None else specs[:limit]
    out = []
    for spec in chosen:
        index = SPECS.index(spec) + 1
        if progress:
            progress(file_code(spec))
        out.append(build_dossier(spec, root, pki, index))
    return out
