"""Check one metadata value against its field spec: type, length, code list, text encoding.

Every function here returns findings for one value; record-level rules (required fields,
date order, derivations) live in ``archive.metadata.validate``.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from archive.agency_code import validate_agency_code
from archive.findings import Finding, error, warning
from archive.metadata.profile import CodeList, FieldSpec, Profile
from archive.textenc import convert_legacy, detect_legacy_vietnamese

_DATE_PATTERNS = {
    "DD/MM/YYYY": re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
    "MM/YYYY": re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4})"),
    "YYYY": re.compile(r"(?P<y>\d{4})"),
    "YYYY-MM-DD": re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
}
_TRUE = {"1", "true", "có", "co", "yes"}
_FALSE = {"0", "false", "không", "khong", "no"}


@dataclass(frozen=True, slots=True)
class DateSpan:
    """A date as written, as the span of days it covers (``05/2024`` = 1–31 May 2024)."""

    first: date
    last: date


def parse_date(value: object, formats: tuple[str, ...]) -> DateSpan | None:
    """Parse ``value`` in one of ``formats``; None when it fits none or is no real date."""
    if isinstance(value, date):
        return DateSpan(value, value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in formats:
        m = _DATE_PATTERNS[fmt].fullmatch(text)
        if m is None:
            continue
        groups = m.groupdict()
        try:
            year = int(groups["y"])
            if "d" in groups:
                day = date(year, int(groups["m"]), int(groups["d"]))
                return DateSpan(day, day)
            if "m" in groups:
                month = int(groups["m"])
                last = calendar.monthrange(year, month)[1]
                return DateSpan(date(year, month, 1), date(year, month, last))
            return DateSpan(date(year, 1, 1), date(year, 12, 31))
        except ValueError:
            return None
    return None


def as_text(value: object) -> str | None:
    """The value as text for length and encoding checks (numbers become digits)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def split_multi(spec: FieldSpec, value: object) -> list[object]:
    """Split a multi-valued field: a JSON list, or a string joined by ``spec.separator``."""
    if isinstance(value, list):
        return list(value)
    if spec.multi and isinstance(value, str) and spec.type != "group":
        return [part.strip() for part in value.split(spec.separator) if part.strip()]
    return [value]


def boolean_value(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().casefold()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    return None


def check_value(
    profile: Profile, spec: FieldSpec, value: object, formats: tuple[str, ...], path: str | None
) -> list[Finding]:
    """Check one (single, not multi) value of ``spec``; ``formats`` are the kind's date formats."""
    kw: dict[str, Any] = {"path": path, "field": spec.name}
    findings: list[Finding] = []
    text = as_text(value)
    if (text is None and spec.type != "date") or (spec.type == "code" and not isinstance(value, str)):
        return [_type_error(spec, value, kw)]
    if spec.type in ("string", "longtext", "code") and text is not None:
        findings += check_text(spec, text, kw)
    if (spec.type == "number" and text is not None and not re.fullmatch(r"\d+", text.strip())) or (
        spec.type == "boolean" and boolean_value(value) is None
    ):
        return [*findings, _type_error(spec, value, kw)]
    if spec.type == "date":
        fmts = spec.date_formats or formats
        if parse_date(value, fmts) is None:
            findings.append(
                error(
                    "metadata.date_invalid",
                    f"{spec.label_vi}: ngày {value!r} không hợp lệ; dạng chấp nhận: {', '.join(fmts)}.",
                    f"{spec.label_en}: {value!r} is not a valid date; accepted: {', '.join(fmts)}.",
                    evidence={"value": str(value)[:40], "formats": list(fmts)},
                    **kw,
                )
            )
    elif spec.type == "code" and spec.codelist is not None and text is not None:
        findings += _check_code(profile.codelists[spec.codelist], spec, text.strip(), kw)
    if text is not None and spec.max_length is not None and spec.type != "date":
        length = len(unicodedata.normalize("NFC", text.strip() if spec.type == "number" else text))
        if length > spec.max_length:
            findings.append(
                error(
                    "metadata.too_long",
                    f"{spec.label_vi}: dài {length} ký tự, tối đa {spec.max_length}.",
                    f"{spec.label_en}: {length} characters, at most {spec.max_length} allowed.",
                    evidence={"length": length, "max_length": spec.max_length},
                    **kw,
                )
            )
    if spec.check == "agency_code" and text is not None:
        findings += _agency(spec, text.strip(), kw)
    return findings


def check_text(spec: FieldSpec, text: str, kw: dict[str, Any]) -> list[Finding]:
    """Legacy TCVN3/VNI text is an error; Unicode not in NFC is a warning with the NFC form."""
    legacy = detect_legacy_vietnamese(text)
    if legacy is not None:
        name = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}[legacy]
        return [
            error(
                "metadata.legacy_encoding",
                f"{spec.label_vi}: văn bản dùng bảng mã cũ {name}, không phải Unicode (TCVN 6909:2001).",
                f"{spec.label_en}: text is in the legacy {name} encoding, not Unicode (TCVN 6909:2001).",
                evidence={"encoding": legacy, "suggestion": convert_legacy(text, legacy)[:200]},
                **kw,
            )
        ]
    nfc = unicodedata.normalize("NFC", text)
    if nfc != text:
        return [
            warning(
                "metadata.not_nfc",
                f"{spec.label_vi}: văn bản Unicode chưa ở dạng dựng sẵn (NFC); đề nghị: {nfc[:80]!r}.",
                f"{spec.label_en}: Unicode text is not in composed form (NFC); suggested: {nfc[:80]!r}.",
                evidence={"suggestion": nfc[:200]},
                **kw,
            )
        ]
    return []


def _check_code(codelist: CodeList, spec: FieldSpec, code: str, kw: dict[str, Any]) -> list[Finding]:
    if code in codelist.codes:
        return []
    known = ", ".join(f"{c} {label}" for c, label in codelist.codes.items())
    return [
        error(
            "metadata.code_unknown",
            f"{spec.label_vi}: mã {code!r} không có trong bảng mã {codelist.label_vi} ({known}).",
            f"{spec.label_en}: code {code!r} is not in the {codelist.name} code list ({', '.join(codelist.codes)}).",
            evidence={"value": code[:40], "codelist": codelist.name, "codes": list(codelist.codes)},
            **kw,
        )
    ]


def _agency(spec: FieldSpec, code: str, kw: dict[str, Any]) -> list[Finding]:
    found = [f for f in validate_agency_code(code) if f.severity != "info"]
    if not found:
        return []
    first = found[0]
    return [
        error(
            "metadata.agency_code",
            f"{spec.label_vi}: {first.message_vi}",
            f"{spec.label_en}: {first.message_en}",
            evidence={"value": code[:40], "reasons": [f.code for f in found]},
            **kw,
        )
    ]


def _type_error(spec: FieldSpec, value: object, kw: dict[str, Any]) -> Finding:
    kinds_vi = {
        "number": "số",
        "boolean": "1 hoặc 0",
        "string": "chuỗi ký tự",
        "longtext": "văn bản",
        "code": 'mã (chuỗi, ví dụ "01")',
        "date": "ngày",
        "group": "nhóm trường",
    }
    return error(
        "metadata.type",
        f"{spec.label_vi}: giá trị {str(value)[:40]!r} không đúng kiểu {kinds_vi[spec.type]}.",
        f"{spec.label_en}: value {str(value)[:40]!r} is not of type {spec.type}.",
        evidence={"type": spec.type, "given": type(value).__name__},
        **kw,
    )
