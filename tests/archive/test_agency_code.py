"""Agency codes (mã định danh điện tử), QCVN 102:2016 + SĐ 1:2022."""

from __future__ import annotations

import pytest

from archive.agency_code import (
    MAX_LENGTH,
    InvalidAgencyCode,
    file_code_prefixes,
    parse_agency_code,
    validate_agency_code,
)


def test_provincial_body() -> None:
    code = parse_agency_code("000.00.00.H54")
    assert (code.level1, code.level2, code.level3, code.level4) == ("H54", "00", "00", "000")
    assert code.level == 1
    assert code.reversed_form == "H54"
    assert validate_agency_code("000.00.00.H54") == []


def test_deeper_levels() -> None:
    assert parse_agency_code("000.00.12.H57").level == 2
    assert parse_agency_code("000.33.64.H49").level == 3
    assert parse_agency_code("001.33.64.H49").level == 4
    assert parse_agency_code("000.33.64.H49").reversed_form == "H49.64.33"
    longer = parse_agency_code("A1.B22.001.33.64.H49")
    assert longer.level == 6 and longer.extra == ("A1", "B22")


def test_level1_short_form_is_accepted_with_info() -> None:
    findings = validate_agency_code("G09")
    assert [f.code for f in findings] == ["agency_code.short_form"]
    assert findings[0].severity == "info"
    assert parse_agency_code("G09").canonical == "000.00.00.G09"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "agency_code.empty"),
        ("000.00.00.h54", "agency_code.characters"),
        ("000-00-00-H54", "agency_code.characters"),
        ("000.00.00.54H", "agency_code.structure"),
        ("00.00.H54", "agency_code.structure"),
        ("000.0.00.H54", "agency_code.structure"),
        ("000.00.00.H5", "agency_code.structure"),
        ("H54.00.00.000", "agency_code.structure"),
        ("1234567890.12345678901.000.00.00.H54", "agency_code.too_long"),
    ],
)
def test_invalid_codes(code: str, reason: str) -> None:
    findings = validate_agency_code(code)
    assert reason in {f.code for f in findings}
    assert all(f.message_vi and f.message_en for f in findings)
    with pytest.raises(InvalidAgencyCode):
        parse_agency_code(code)


def test_length_limit_is_35_not_13() -> None:
    code = "AB.CD.EF.GH.IJ.001.00.12.H57"  # 28 characters: longer than NĐ 30's 13
    assert len(code) > 13 and len(code) <= MAX_LENGTH
    assert validate_agency_code(code) == []


def test_file_code_prefixes_accept_both_orders() -> None:
    assert file_code_prefixes("000.33.64.H49") == ["000.33.64.H49", "H49.64.33"]
    assert file_code_prefixes("G09") == ["G09", "000.00.00.G09"]
    assert file_code_prefixes("not a code") == []
