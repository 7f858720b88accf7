"""Agency codes (mã định danh điện tử của cơ quan, tổ chức), QCVN 102:2016 + SĐ 1:2022.

Structure ``V1V2V3.Z1Z2.Y1Y2.MX1X2`` (REGULATIONS §2.1): the last group is the cấp-1 body
(letter + two digits, ``H54`` UBND tỉnh Thái Bình), before it cấp 2 (``Y1Y2``), cấp 3
(``Z1Z2``) and cấp 4 (``V1V2V3``); unused levels are zeros: ``000.00.00.H54``.

Choices (documented in docs/metadata-profiles.md):

* A cấp-1 code alone (``G09``, ``H57``) is accepted as a short form of ``000.00.00.G09``,
  with an info finding, because QĐ 09/2025 lists cấp-1 bodies that way.
* Since 2022 codes may be longer: up to 35 characters, only ``.``, ``0-9`` and ``A-Z``,
  one dot-separated group per level. Extra groups in front of the four standard ones are
  accepted as deeper levels (level 5, 6 …) and must be alphanumeric.
* In dossier codes the order may be reversed (``H49.64.33.2001.160`` puts cấp 1 first,
  REGULATIONS §13.6), so ``file_code_prefixes`` gives every accepted spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.findings import Finding, error, info

MAX_LENGTH = 35  # QCVN 102:2016 SĐ 1:2022; was 13 (NĐ 30 OrganId String 13)
_ALLOWED = re.compile(r"[.0-9A-Z]*")
_LEVEL1 = re.compile(r"[A-Z][0-9]{2}")
_LEVEL2 = re.compile(r"[0-9A-Z]{2}")
_LEVEL3 = re.compile(r"[0-9A-Z]{2}")
_LEVEL4 = re.compile(r"[0-9A-Z]{3}")
_EXTRA = re.compile(r"[0-9A-Z]{1,10}")


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """A parsed agency code; ``level`` is the deepest level in use (1 = cấp 1 body)."""

    code: str  # as written
    level1: str  # MX1X2, e.g. "H54"
    level2: str = "00"  # Y1Y2
    level3: str = "00"  # Z1Z2
    level4: str = "000"  # V1V2V3
    extra: tuple[str, ...] = ()  # post-2022 groups in front of V1V2V3, outermost first

    @property
    def level(self) -> int:
        if self.extra:
            return 4 + len(self.extra)
        for depth, group in ((4, self.level4), (3, self.level3), (2, self.level2)):
            if set(group) != {"0"}:
                return depth
        return 1

    @property
    def canonical(self) -> str:
        """The full dotted form, ``000.00.00.H54``."""
        return ".".join((*self.extra, self.level4, self.level3, self.level2, self.level1))

    @property
    def reversed_form(self) -> str:
        """Cấp 1 first without the zero levels, as in dossier codes: ``H49.64.33``."""
        groups = [self.level1, self.level2, self.level3, self.level4, *reversed(self.extra)]
        while len(groups) > 1 and set(groups[-1]) == {"0"}:
            groups.pop()
        return ".".join(groups)


class InvalidAgencyCode(ValueError):
    """The text is not an agency code; ``findings`` says why."""

    def __init__(self, code: str, findings: list[Finding]) -> None:
        super().__init__(f"invalid agency code {code!r}: {findings[0].message_en}")
        self.code, self.findings = code, findings


def _bad(kind: str, vi: str, en: str, code: str) -> Finding:
    return error(f"agency_code.{kind}", vi, en, evidence={"code": code})


def _check(code: str) -> tuple[AgencyCode | None, list[Finding]]:
    if not code:
        return None, [_bad("empty", "Mã định danh cơ quan bị trống.", "The agency code is empty.", code)]
    findings: list[Finding] = []
    if len(code) > MAX_LENGTH:
        findings.append(
            _bad(
                "too_long",
                f"Mã định danh cơ quan dài {len(code)} ký tự, tối đa {MAX_LENGTH}.",
                f"The agency code has {len(code)} characters, at most {MAX_LENGTH} are allowed.",
                code,
            )
        )
    if not _ALLOWED.fullmatch(code):
        findings.append(
            _bad(
                "characters",
                "Mã định danh cơ quan chỉ được gồm dấu chấm, chữ số và chữ in hoa A-Z.",
                "An agency code may hold only '.', digits and capital letters A-Z.",
                code,
            )
        )
        return None, findings
    groups = code.split(".")
    parsed = _parse_groups(code, groups)
    if parsed is None:
        findings.append(
            _bad(
                "structure",
                "Mã định danh cơ quan phải có dạng V1V2V3.Z1Z2.Y1Y2.MX1X2 (ví dụ 000.00.00.H54).",
                "An agency code must look like V1V2V3.Z1Z2.Y1Y2.MX1X2 (e.g. 000.00.00.H54).",
                code,
            )
        )
        return None, findings
    if len(groups) == 1:
        findings.append(
            info(
                "agency_code.short_form",
                f"Mã cấp 1 viết tắt; dạng đầy đủ là {parsed.canonical}.",
                f"Level-1 short form; the full form is {parsed.canonical}.",
                evidence={"code": code, "canonical": parsed.canonical},
            )
        )
    return (
        parsed if not findings or all(f.code == "agency_code.short_form" for f in findings) else None
    ), findings


def _parse_groups(code: str, groups: list[str]) -> AgencyCode | None:
    if len(groups) == 1:
        return AgencyCode(code, groups[0]) if _LEVEL1.fullmatch(groups[0]) else None
    if len(groups) < 4:
        return None
    *extra, level4, level3, level2, level1 = groups
    checks = (
        (_LEVEL1, level1),
        (_LEVEL2, level2),
        (_LEVEL3, level3),
        (_LEVEL4, level4),
        *((_EXTRA, g) for g in extra),
    )
    if not all(rx.fullmatch(value) for rx, value in checks):
        return None
    return AgencyCode(code, level1, level2, level3, level4, tuple(extra))


def validate_agency_code(code: str) -> list[Finding]:
    """Check an agency code; return findings (empty when it is a valid full code)."""
    return _check(code)[1]


def parse_agency_code(code: str) -> AgencyCode:
    """Parse an agency code; raise ``InvalidAgencyCode`` (a ValueError) when it is not one."""
    parsed, findings = _check(code)
    if parsed is None:
        raise InvalidAgencyCode(code, findings)
    return parsed


def file_code_prefixes(code: str) -> list[str]:
    """Every accepted spelling of ``code`` at the head of a dossier code (REGULATIONS §13.6).

    Returns the code as written, the canonical form and the cấp-1-first form; an empty list
    when ``code`` is not an agency code.
    """
    try:
        parsed = parse_agency_code(code)
    except InvalidAgencyCode:
        return []
    forms = [code, parsed.canonical, parsed.reversed_form]
    return list(dict.fromkeys(forms))
