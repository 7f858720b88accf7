"""Readers and writers: JSON, XLSX/CSV listings (mục lục hồ sơ), TT 05/2025 EAD XML round trips."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook

from archive.metadata import load_profile, validate_dossier, validate_file
from archive.metadata.io import (
    ead_dossier_xml,
    read_csv,
    read_ead_dossier,
    read_json,
    read_listing,
    read_metadata,
    read_xlsx,
    write_ead_dossier,
    write_json,
)

DATA = Path(__file__).parent / "data" / "metadata"
TT05 = load_profile("tt05-2025")
EAD_ORDER = [f.name for f in TT05.kind("dossier").fields if f.ead]


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "tt05_dossier_ok.json").read_text(encoding="utf-8"))
    return data


def as_strings(record: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {k: (v if isinstance(v, list) else str(v)) for k, v in record.items() if k in names}


def test_json_round_trip(tmp_path: Path) -> None:
    data = sample()
    path = write_json(data, tmp_path / "metadata.json")
    assert read_json(path) == data
    assert "Thái Bình" in path.read_text(encoding="utf-8")  # not \\u-escaped


def test_ead_dossier_xml_has_the_18_elements_in_order() -> None:
    root = etree.fromstring(ead_dossier_xml(sample()))
    assert root.tag == "simpledc"
    assert [child.tag for child in root] == EAD_ORDER
    assert len(root) == 18
    assert root.findtext("title", "").startswith("Hồ sơ về việc xây dựng")
    assert root.find("paperFileCode") is not None and root.findtext("paperFileCode") == ""  # absent → empty


def test_ead_round_trip(tmp_path: Path) -> None:
    data = sample()
    data["dossier"]["language"] = ["01", "06"]
    written = write_ead_dossier(data, tmp_path / "ead")
    assert [p.name for p in written] == ["EAD.xml", "EAD_doc_1.xml", "EAD_doc_2.xml", "EAD_doc_3.xml"]
    doc_root = etree.parse(str(written[1])).getroot()
    assert [c.tag for c in doc_root][:3] == ["docId", "docCode", "maintenance"] and len(doc_root) == 21
    back = read_ead_dossier(tmp_path / "ead")
    assert back["dossier"]["language"] == ["01", "06"]
    assert back["dossier"] == as_strings(data["dossier"], EAD_ORDER)
    doc_names = [f.name for f in TT05.kind("document").fields]
    assert back["documents"] == [as_strings(d, doc_names) for d in data["documents"]]
    # EAD carries no file names: the only findings say so
    assert {f.code for f in validate_dossier(TT05, back)} == {"metadata.file_missing"}
    assert read_metadata(tmp_path / "ead") == back


def write_xlsx(path: Path, *, codes_as_numbers: bool = True, second: bool = False) -> dict[str, Any]:
    data = sample()
    dossier, documents = data["dossier"], data["documents"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Hồ sơ"
    ws.append(["MỤC LỤC HỒ SƠ NỘP LƯU — UBND TỈNH THÁI BÌNH"])
    ws.append([])
    labels = {f.name: f.label_vi for f in TT05.kind("dossier").fields}
    ws.append([labels[k] + (" *" if k == "title" else "") for k in dossier])
    rows = [dossier]
    if second:
        rows.append(
            {**dossier, "fileCode": "H54.2024.06.CCHC", "fileNotation": "06.CCHC", "maintenance": "09"}
        )
    for row in rows:
        values: list[Any] = []
        for key, value in row.items():
            if key in ("startDate", "endDate"):
                value = datetime.strptime(value, "%d/%m/%Y")
            elif codes_as_numbers and key in ("maintenance", "mode", "language", "confidenceLevel"):
                value = int(value)
            values.append(value)
        ws.append(values)
    docs = wb.create_sheet("Văn bản")
    doc_keys = ["fileCode", "file", "sha256", *[k for k in documents[0] if k not in ("file", "sha256")]]
    docs.append(["Mã hồ sơ" if k == "fileCode" else ("Tệp" if k == "file" else k) for k in doc_keys])
    for doc in documents:
        docs.append([dossier["fileCode"] if k == "fileCode" else doc.get(k) for k in doc_keys])
    wb.save(path)
    return data


def test_xlsx_listing_reads_into_the_same_shape(tmp_path: Path) -> None:
    path = tmp_path / "muc-luc.xlsx"
    data = write_xlsx(path)
    [read] = read_xlsx(path)
    assert read["profile"] == "tt05-2025"
    assert read["dossier"]["maintenance"] == "01"  # Excel number 1 → code "01"
    assert read["dossier"]["startDate"] == "05/01/2024"
    assert read["dossier"]["title"] == data["dossier"]["title"]
    assert len(read["documents"]) == 3
    assert read["documents"][0]["file"] == data["documents"][0]["file"]
    assert read["documents"][0]["subject"] == data["documents"][0]["subject"]
    assert validate_dossier(TT05, read) == []
    assert validate_file(path) == []


def test_xlsx_with_two_dossiers(tmp_path: Path) -> None:
    path = tmp_path / "muc-luc.xlsx"
    write_xlsx(path, second=True)
    dossiers = read_listing(path)
    assert [len(d["documents"]) for d in dossiers] == [3, 0]
    findings = validate_file(path)
    bad = [f for f in findings if f.code == "metadata.code_unknown"]
    assert [(f.field, f.path) for f in bad] == [("maintenance", "dossier 2")]


def test_csv_listing_with_documents_file(tmp_path: Path) -> None:
    data = sample()
    path = tmp_path / "muc-luc.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(data["dossier"]))
        writer.writerow([str(v) for v in data["dossier"].values()])
    doc_keys = list(data["documents"][0])
    with (tmp_path / "muc-luc.documents.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(doc_keys)
        for doc in data["documents"]:
            writer.writerow([str(doc.get(k, "")) for k in doc_keys])
    [read] = read_csv(path)
    assert read["dossier"] == {k: str(v) for k, v in data["dossier"].items()}
    assert [d["file"] for d in read["documents"]] == [d["file"] for d in data["documents"]]
    assert validate_dossier(TT05, read) == []
    assert read_metadata(path) == read


def test_nd30_listing_is_recognised_by_its_headers(tmp_path: Path) -> None:
    nd30 = json.loads((DATA / "nd30_dossier.json").read_text(encoding="utf-8"))
    path = tmp_path / "danh-muc.csv"
    labels = {f.name: f.label_vi for f in load_profile("nd30-2020").kind("dossier").fields}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([labels[k] for k in nd30["dossier"]])
        writer.writerow([str(v) for v in nd30["dossier"].values()])
    [read] = read_csv(path)
    assert read["profile"] == "nd30-2020"
    assert read["dossier"]["Maintenance"] == "10 năm"
    assert validate_file(path) == []
