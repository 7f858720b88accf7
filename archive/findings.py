"""Findings: problems found in a submission, a file or a record, as data.

A finding is not an exception. Every check (metadata profile, PDF structure, signature,
format, encoding, fixity) returns findings, so the console, the API receipt and the PREMIS
event all show the same words in Vietnamese and English.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding weighs in the ingest decision."""

    ERROR = "error"  # blocks acceptance
    WARNING = "warning"  # the archivist decides
    INFO = "info"  # recorded, nothing to decide


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem or observation, with a stable code and both languages.

    ``code`` is stable across releases (e.g. ``"pdf.signature.digest_mismatch"``); tools and
    tests match on it. ``path`` is the file inside the submission, ``field`` the metadata
    field, ``evidence`` small JSON-able facts that support the finding (never file content).
    """

    code: str
    severity: Severity
    message_vi: str
    message_en: str
    path: str | None = None
    field: str | None = None
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["evidence"] = dict(self.evidence)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            code=str(data["code"]),
            severity=Severity(data["severity"]),
            message_vi=str(data["message_vi"]),
            message_en=str(data["message_en"]),
            path=data.get("path"),
            field=data.get("field"),
            evidence=dict(data.get("evidence") or {}),
        )


def error(code: str, vi: str, en: str, **kw: Any) -> Finding:
    return Finding(code, Severity.ERROR, vi, en, **kw)


def warning(code: str, vi: str, en: str, **kw: Any) -> Finding:
    return Finding(code, Severity.WARNING, vi, en, **kw)


def info(code: str, vi: str, en: str, **kw: Any) -> Finding:
    return Finding(code, Severity.INFO, vi, en, **kw)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def worst(findings: Iterable[Finding]) -> Severity | None:
    """Return the heaviest severity among ``findings`` (None when there are none)."""
    order = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
    best: Severity | None = None
    for f in findings:
        if best is None or order[f.severity] > order[best]:
            best = f.severity
    return best
