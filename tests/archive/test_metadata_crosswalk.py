"""Crosswalks NĐ 30/2020 → TT 05/2025 and TT 02/2019 → TT 05/2025: codes from text, originals kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archive.errors import NotFound
from archive.findings import Severity
from archive.metadata import crosswalk, crosswalk_dossier, load_profile, validate_dossier
from archive.metadata.crosswalk import map_text

DATA = Path(__file__).parent / "data" / "metadata"
TT05 = load_profile("tt05-2025")


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def test_nd30_dossier_crosswalks_to_a_valid_tt05_dossier() -> None:
    out, findings = crosswalk_dossier(sample("nd30_dossier.json"))
    assert findings == []
    assert out["profile"] == "tt05-2025"
    dossier = out["dossier"]
    assert (dossier["maintenance"], dossier["mode"], dossier["language"]) == ("06", "01", "01")
    assert dossier["_original"]["Maintenance"] == "10 năm"
    assert dossier["description"].startswith("Người lập hồ sơ: Trần Văn Minh")
    first, second = out["documents"]
    assert (first["typeName"], second["typeName"]) == ("26", "14")  # Giấy mời, Báo cáo
    assert first["_original"]["TypeName"] == "Giấy mời"
    assert first["docCode"] == "000.00.00.H54.2024.12.VP.0000001"
    assert first["file"] == "documents/01-GM-UBND.pdf" and len(first["sha256"]) == 64
    assert "Người ký: Chánh Văn phòng Phạm Quang Huy" in first["description"]
    assert second["_original"]["ArrivalNumber"] == 4512
    assert second["mode"] == "01"  # inherited from the dossier
    assert validate_dossier(TT05, out) == []


def test_tt02_dossier_crosswalks_to_a_valid_tt05_dossier() -> None:
    out, findings = crosswalk_dossier(sample("tt02_dossier.json"), "tt02-2019")
    assert findings == []
    dossier = out["dossier"]
    assert (dossier["maintenance"], dossier["mode"]) == ("01", "02")
    assert dossier["_original"]["Identifier"] == "000.00.00.H54"
    assert (dossier["numberOfPaper"], dossier["numberOfPage"]) == (14, 26)
    doc = out["documents"][1]
    assert (doc["typeName"], doc["mode"], doc["confidenceLevel"]) == ("02", "02", "02")
    assert doc["docId"] == "H54.2018.03.TCCB.2" and doc["docCode"] == "H54.2018.03.TCCB.0000002"
    assert validate_dossier(TT05, out) == []


@pytest.mark.parametrize(
    ("table", "text", "code"),
    [
        ("maintenance", "Vĩnh viễn", "01"),
        ("maintenance", "70 năm", "02"),
        ("maintenance", "  20  NĂM ", "05"),
        ("maintenance", "5 năm", "07"),
        ("mode", "Sử dụng có điều kiện", "02"),
        ("mode", "Mật", "03"),
        ("language", "Tiếng Việt", "01"),
        ("language", "Hán Nôm", "09"),
        ("typeName", "Quyết định", "02"),
        ("typeName", "QĐ", "02"),
        ("typeName", "Công văn", "22"),
        ("typeName", "02", "02"),
    ],
)
def test_text_to_code(table: str, text: str, code: str) -> None:
    assert map_text(table, text) == code


def test_five_years_becomes_other_and_keeps_the_years() -> None:
    out, findings = crosswalk({"Title": "Hồ sơ", "Maintenance": "5 năm"}, "nd30-2020")
    assert findings == []
    assert out["maintenance"] == "07"
    assert out["description"] == "Thời hạn lưu trữ: 5 năm"
    assert out["_original"] == {"Maintenance": "5 năm"}


def test_unmappable_values_warn_and_keep_the_original() -> None:
    record = {"Maintenance": "Đến khi hết hiệu lực", "Language": "Tiếng Việt, Tiếng Ê Đê", "Colour": "đỏ"}
    out, findings = crosswalk(record, "nd30-2020")
    unmapped = [f for f in findings if f.code == "crosswalk.unmapped"]
    assert {(f.field, f.evidence["value"]) for f in unmapped} == {
        ("Maintenance", "Đến khi hết hiệu lực"),
        ("Language", "Tiếng Ê Đê"),
    }
    assert all(f.severity is Severity.WARNING for f in unmapped)
    assert "maintenance" not in out and out["language"] == "01"
    assert out["_original"]["Maintenance"] == "Đến khi hết hiệu lực"
    assert out["_original"]["Colour"] == "đỏ"
    assert [f.field for f in findings if f.code == "crosswalk.field_unmapped"] == ["Colour"]


def test_several_languages_become_several_codes() -> None:
    out, _ = crosswalk({"Language": "Tiếng Việt; Tiếng Anh"}, "tt02-2019")
    assert out["language"] == ["01", "02"]
    assert validate_dossier(TT05, {"dossier": out}) != []  # still incomplete, but not for language
    assert not [f for f in validate_dossier(TT05, {"dossier": out}) if f.field == "language"]


def test_unknown_crosswalk() -> None:
    with pytest.raises(NotFound):
        crosswalk({}, "tt05-2025", "nd30-2020")
    with pytest.raises(NotFound):
        crosswalk({}, "nd30-2020", kind="fonds")
