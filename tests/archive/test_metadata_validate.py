"""The validation engine: a correct TT 05/2025 dossier passes; each defect gives a field-level finding."""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from archive.findings import Finding, Severity
from archive.metadata import load_profile, validate_dossier, validate_file, validate_record
from archive.textenc import encode_legacy

DATA = Path(__file__).parent / "data" / "metadata"
TT05 = load_profile("tt05-2025")


def sample(name: str = "tt05_dossier_ok.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def found(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def only(findings: list[Finding], code: str, field: str, severity: Severity = Severity.ERROR) -> Finding:
    hits = [f for f in findings if f.code == code and f.field == field]
    assert len(hits) == 1, [f.to_json() for f in findings]
    assert hits[0].severity is severity
    assert hits[0].message_vi and hits[0].message_en and hits[0].message_vi != hits[0].message_en
    return hits[0]


def test_correct_dossier_has_no_findings() -> None:
    assert validate_dossier(TT05, sample()) == []
    assert validate_file(DATA / "tt05_dossier_ok.json") == []


def test_wrong_agency_code() -> None:
    data = sample()
    data["dossier"]["organId"] = "000.00.00.h54"
    f = only(validate_dossier(TT05, data), "metadata.agency_code", "organId")
    assert "Mã định danh cơ quan" in f.message_vi
    data["dossier"]["organId"] = "H54.00.00.000"
    only(validate_dossier(TT05, data), "metadata.agency_code", "organId")


def test_over_long_title() -> None:
    data = sample()
    data["dossier"]["title"] = "Kế hoạch cải cách hành chính " * 40  # 1160 characters
    f = only(validate_dossier(TT05, data), "metadata.too_long", "title")
    assert f.evidence["max_length"] == 1000 and f.evidence["length"] == 1160
    assert "Tiêu đề hồ sơ" in f.message_vi


def test_length_counts_nfc_characters() -> None:
    title = "Kế hoạch " * 111  # 999 characters composed, many more decomposed
    findings = validate_record(TT05, "dossier", {"title": unicodedata.normalize("NFD", title)})
    assert not found(findings, "metadata.too_long")
    assert only(findings, "metadata.not_nfc", "title", Severity.WARNING)


def test_unknown_maintenance_code() -> None:
    data = sample()
    data["dossier"]["maintenance"] = "09"
    f = only(validate_dossier(TT05, data), "metadata.code_unknown", "maintenance")
    assert "Thời hạn lưu trữ" in f.message_vi and f.evidence["codes"][0] == "01"


def test_missing_required_field() -> None:
    data = sample()
    del data["dossier"]["title"]
    data["documents"][1]["subject"] = "   "
    findings = validate_dossier(TT05, data)
    assert "Tiêu đề hồ sơ" in only(findings, "metadata.required", "title").message_vi
    f = only(findings, "metadata.required", "subject")
    assert f.path == "documents/0002-QD-UBND-giao-chi-tieu.pdf"


def test_end_date_before_start_date() -> None:
    data = sample()
    data["dossier"]["endDate"] = "31/12/2023"
    findings = validate_dossier(TT05, data)
    only(findings, "metadata.date_order", "endDate")
    # the documents now fall outside the dossier's dates: warnings, not errors
    assert {f.severity for f in found(findings, "metadata.date_outside_dossier")} == {Severity.WARNING}


def test_invalid_dates_and_formats() -> None:
    findings = validate_record(TT05, "dossier", {"startDate": "31/02/2024", "endDate": "12/2024"})
    only(findings, "metadata.date_invalid", "startDate")
    only(findings, "metadata.date_invalid", "endDate")  # MM/YYYY only in AIP
    aip = validate_record(TT05, "aip_dossier", {"startDate": "2024", "endDate": "12/2024"})
    assert not found(aip, "metadata.date_invalid") and not found(aip, "metadata.date_order")
    iso = validate_record(TT05, "dossier", {"startDate": "2024-01-05", "endDate": "2024-01-04"})
    only(iso, "metadata.date_order", "endDate")


def test_non_nfc_text_is_a_warning_with_suggestion() -> None:
    data = sample()
    data["documents"][0]["subject"] = unicodedata.normalize("NFD", data["documents"][0]["subject"])
    findings = validate_dossier(TT05, data)
    f = only(findings, "metadata.not_nfc", "subject", Severity.WARNING)
    assert f.path == "documents/0001-KH-UBND-ke-hoach-cchc-2024.pdf"
    assert f.evidence["suggestion"] == "Kế hoạch cải cách hành chính tỉnh Thái Bình năm 2024"
    assert not [x for x in findings if x.severity is Severity.ERROR]


def test_tcvn3_text_is_an_error() -> None:
    data = sample()
    data["dossier"]["title"] = encode_legacy(data["dossier"]["title"], "tcvn3")
    f = only(validate_dossier(TT05, data), "metadata.legacy_encoding", "title")
    assert f.evidence["encoding"] == "tcvn3"
    assert f.evidence["suggestion"].startswith("Hồ sơ về việc xây dựng")


def test_vni_text_is_an_error() -> None:
    data = sample()
    data["documents"][2]["organName"] = encode_legacy("Ủy ban nhân dân tỉnh Thái Bình", "vni")
    f = only(validate_dossier(TT05, data), "metadata.legacy_encoding", "organName")
    assert f.evidence == {"encoding": "vni", "suggestion": "Ủy ban nhân dân tỉnh Thái Bình"}
    assert f.path == "documents/0003-BC-UBND-ket-qua-cchc-2024.pdf"


def test_conditional_requirements() -> None:
    data = sample()
    data["dossier"]["confidenceLevel"] = "02"  # Số hóa → paperFileCode required
    data["dossier"]["riskRecovery"] = 1
    del data["dossier"]["riskRecoveryStatus"]
    findings = validate_dossier(TT05, data)
    assert "confidenceLevel = 02" in only(findings, "metadata.required", "paperFileCode").message_vi
    only(findings, "metadata.required", "riskRecoveryStatus")
    data["dossier"].update(paperFileCode="H54.K01.G02.H0345", riskRecovery="0")
    assert validate_dossier(TT05, data) == []


def test_types_codes_and_multi_values() -> None:
    record = {"totalDoc": "ba", "mode": 1, "riskRecovery": "có lẽ", "language": "01,06"}
    findings = validate_record(TT05, "dossier", record)
    only(findings, "metadata.type", "totalDoc")
    only(findings, "metadata.type", "mode")  # codes are strings ("01"), not numbers
    only(findings, "metadata.type", "riskRecovery")
    assert not found(findings, "metadata.code_unknown")
    bad = validate_record(TT05, "dossier", {"language": ["01", "99"], "mode": "01,02"})
    assert only(bad, "metadata.code_unknown", "language").evidence["value"] == "99"
    only(bad, "metadata.code_unknown", "mode")  # not multi-valued: "01,02" is one (unknown) code


def test_derived_codes_and_counts() -> None:
    data = sample()
    data["dossier"]["fileCode"] = "H55.2024.05.CCHC"
    data["dossier"]["totalDoc"] = 5
    data["documents"][1]["docCode"] = "H54.2024.05.CCHC.0000009"
    findings = validate_dossier(TT05, data)
    only(findings, "metadata.derivation", "fileCode", Severity.WARNING)
    only(findings, "metadata.count_mismatch", "totalDoc", Severity.WARNING)
    assert {f.field for f in found(findings, "metadata.derivation")} == {"fileCode", "docCode", "docId"}
    # the canonical agency-code order is accepted too (REGULATIONS §13.6)
    ok = sample()
    ok["dossier"]["fileCode"] = "000.00.00.H54.2024.05.CCHC"
    for n, doc in enumerate(ok["documents"], start=1):
        doc["docCode"] = f"000.00.00.H54.2024.05.CCHC{n:07d}"
        del doc["docId"]
    assert validate_dossier(TT05, ok) == []


def test_unknown_fields_and_structure() -> None:
    data = sample()
    data["dossier"]["colour"] = "đỏ"
    data["documents"].append("not a document")
    data["documents"].append(dict(data["documents"][0]))
    findings = validate_dossier(TT05, data)
    assert only(findings, "metadata.unknown_field", "colour", Severity.INFO)
    assert found(findings, "metadata.structure")
    assert found(findings, "metadata.duplicate_file")
    assert validate_dossier(TT05, {"dossier": "x"})[0].code == "metadata.structure"


def test_nd30_groups_and_agency_codes() -> None:
    nd30 = load_profile("nd30-2020")
    data = sample("nd30_dossier.json")
    assert validate_dossier(nd30, data) == []
    bad = copy.deepcopy(data)
    bad["documents"][0]["To"][1]["OrganId"] = "sở tài chính"
    bad["documents"][1]["ArrivalDate"] = "01/12/2024"  # before the document's own date
    findings = validate_dossier(nd30, bad)
    f = only(findings, "metadata.agency_code", "To.OrganId")
    assert f.path == "documents/01-GM-UBND.pdf"
    only(findings, "metadata.date_order", "ArrivalDate")


def test_tt02_sample_validates() -> None:
    assert validate_dossier(load_profile("tt02-2019"), sample("tt02_dossier.json")) == []


def test_validate_file_reports_instead_of_raising(tmp_path: Path) -> None:
    broken = tmp_path / "metadata.json"
    broken.write_text("{not json", encoding="utf-8")
    assert [f.code for f in validate_file(broken)] == ["metadata.unreadable"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"profile": "tt99-2030", "dossier": {}}), encoding="utf-8")
    assert [f.code for f in validate_file(other)] == ["metadata.profile_unknown"]
    findings = validate_file(DATA / "nd30_dossier.json", profile="tt05-2025")
    assert found(findings, "metadata.profile_mismatch")
    only(findings, "metadata.code_unknown", "mode")  # "Công khai" is text, TT 05 wants a code
    assert found(findings, "metadata.kind_unknown")


@pytest.mark.parametrize("name", ["tt05_dossier_bad.json"])
def test_bad_sample_file_lists_every_defect(name: str) -> None:
    findings = validate_file(DATA / name)
    expected = {
        ("metadata.agency_code", "organId"),
        ("metadata.too_long", "title"),
        ("metadata.code_unknown", "maintenance"),
        ("metadata.required", "mode"),
        ("metadata.date_order", "endDate"),
        ("metadata.not_nfc", "keyword"),
        ("metadata.legacy_encoding", "description"),
        ("metadata.legacy_encoding", "subject"),
    }
    assert expected <= {(f.code, f.field) for f in findings}
    assert all(json.dumps(f.to_json(), ensure_ascii=False) for f in findings)
