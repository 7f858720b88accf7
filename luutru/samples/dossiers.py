"""Build real submission folders: metadata.json (TT 05/2025) and signed PDFs, a spreadsheet, an image."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from PIL import Image

from archive.fixity.hashing import sha256_file
from luutru.samples import pdfs
from luutru.samples.pki import TestPki

AGENCY = "000.00.00.H54"
AGENCY_NAME = "Ủy ban nhân dân tỉnh Thái Bình"


def sha256(path: Path) -> str:
    return sha256_file(path)[0]


def signed_letter(path: Path, pki: TestPki, text: str) -> Path:
    """A PDF/A-2b letter signed by the competent person, then by the body (NĐ 30 Điều 5)."""
    base = pdfs.make_pdf(
        path.with_suffix(".unsigned.pdf"), text=text, pdfa="2b", signature_fields=("NguoiKy", "CoQuan")
    )
    mid = pdfs.sign_pdf(
        base, path.with_suffix(".person.pdf"), pki.person.signer, field="NguoiKy", crls=[pki.crl_der]
    )
    out = pdfs.sign_pdf(mid, path, pki.organisation.signer, field="CoQuan", crls=[pki.crl_der])
    for tmp in (base, mid):
        tmp.unlink()
    return out


def make_dossier(
    root: Path,
    pki: TestPki,
    *,
    notation: str = "05.CCHC",
    year: int = 2024,
    subjects: Sequence[str] = (
        "Kế hoạch cải cách hành chính năm 2024",
        "Quyết định giao chỉ tiêu cải cách hành chính",
        "Báo cáo kết quả cải cách hành chính năm 2024",
    ),
    extra_files: bool = True,
    mode: str = "01",
    body: str = "",
) -> Path:
    """Write a submission folder with signed PDFs (and an XLSX and a PNG) and its metadata.json."""
    docs_dir = root / "tai-lieu"
    docs_dir.mkdir(parents=True, exist_ok=True)
    file_code = f"H54.{year}.{notation}"
    documents: list[dict[str, Any]] = []
    for i, subject in enumerate(subjects, start=1):
        pdf = signed_letter(
            docs_dir / f"{i:04d}.pdf",
            pki,
            f"Số: {i}/KH-UBND — {subject} — {body} — Thái Bình, ngày 05 tháng 01 năm {year}",
        )
        documents.append(
            {
                "file": f"tai-lieu/{pdf.name}",
                "sha256": sha256(pdf),
                "docCode": f"{file_code}.{i:07d}",
                "typeName": "10",
                "codeNumber": f"{i:02d}",
                "codeNotation": f"KH-UBND-{notation}",
                "issuedDate": f"05/01/{year}",
                "organName": AGENCY_NAME,
                "subject": subject,
                "language": "01",
                "numberOfPage": 1,
                "mode": mode,
                "confidenceLevel": "01",
            }
        )
    if extra_files:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["STT", "Đơn vị", "Chỉ tiêu"])
        ws.append([1, "Sở Nội vụ", "Hoàn thành"])
        xlsx = docs_dir / "bang-tong-hop.xlsx"
        wb.save(xlsx)
        png = docs_dir / "so-do.png"
        Image.new("RGB", (64, 48), (200, 30, 30)).save(png)
        for n, extra in enumerate((xlsx, png), start=len(documents) + 1):
            documents.append(
                {
                    "file": f"tai-lieu/{extra.name}",
                    "sha256": sha256(extra),
                    "docCode": f"{file_code}.{n:07d}",
                    "typeName": "32",
                    "issuedDate": f"06/01/{year}",
                    "organName": AGENCY_NAME,
                    "subject": f"Phụ lục {n}",
                    "language": "01",
                    "mode": mode,
                    "confidenceLevel": "01",
                }
            )
    metadata = {
        "profile": "tt05-2025",
        "dossier": {
            "organId": AGENCY,
            "fileCode": file_code,
            "title": f"Hồ sơ về việc thực hiện {subjects[0].lower()}",
            "maintenance": "06",
            "mode": mode,
            "language": "01",
            "startDate": f"05/01/{year}",
            "endDate": f"27/12/{year}",
            "totalDoc": len(documents),
            "numberOfPage": len(documents),
            "riskRecovery": "0",
            "description": "Người lập hồ sơ: Nguyễn Thị Hương",
        },
        "documents": documents,
    }
    (root / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    return root
