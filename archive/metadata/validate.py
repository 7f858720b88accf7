"""The one validation engine: check one record of one kind against a profile.

Required and conditionally required fields, types, lengths, code lists, dates and their
order, derived codes (fileCode, docCode), counts, agency codes and text encoding, all driven
by the profile's data. Whole dossiers and files are in ``archive.metadata.dossier``.
Everything found is a ``Finding``; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from archive.agency_code import file_code_prefixes
from archive.findings import Finding, error, info, warning
from archive.metadata.profile import FieldSpec, Profile, RecordKind
from archive.metadata.values import DateSpan, as_text, boolean_value, check_value, parse_date, split_multi

RESERVED_KEYS = frozenset(("file", "sha256", "kind"))  # document keys that are not metadata
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class _Context:
    path: str | None = None
    dossier: Mapping[str, Any] | None = None
    dossier_kind: RecordKind | None = None
    ordinal: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    prefix: str = ""


def validate_record(
    profile: Profile,
    kind: str,
    record: Mapping[str, Any],
    *,
    path: str | None = None,
    dossier: Mapping[str, Any] | None = None,
    ordinal: int | None = None,
    counts: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Check ``record`` as a ``kind`` record of ``profile``; return the findings.

    ``path`` is set on every finding (the document's file). ``dossier`` (the enclosing
    dossier's fields) and ``ordinal`` (1-based position) let derived codes and date ranges be
    checked; ``counts`` (e.g. ``{"documents": 3}``) feeds ``count_of`` fields.
    """
    ctx = _Context(path, dossier, profile.kinds.get(profile.dossier_kind), ordinal, counts or {})
    return _validate(profile, profile.kind(kind), record, ctx)


def _validate(profile: Profile, kind: RecordKind, record: Mapping[str, Any], ctx: _Context) -> list[Finding]:
    findings: list[Finding] = []
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key in RESERVED_KEYS or key.startswith("_"):
            continue
        spec = kind.field(key)
        if spec is None:
            findings.append(
                info(
                    "metadata.unknown_field",
                    f"Trường {key!r} không có trong {kind.label_vi} ({profile.name}); được bỏ qua.",
                    f"Field {key!r} is not part of {kind.label_en} ({profile.name}); ignored.",
                    path=ctx.path,
                    field=ctx.prefix + key,
                )
            )
        elif not _blank(value) and spec.name not in values:
            values[spec.name] = value
    for spec in kind.fields:
        kw: dict[str, Any] = {"path": ctx.path, "field": ctx.prefix + spec.name}
        if spec.name not in values:
            findings += _missing(spec, values, kw)
            continue
        findings += _check_present(profile, kind, spec, values[spec.name], ctx)
    findings += _check_dates(kind, values, ctx)
    findings += _check_derivations(kind, values, ctx)
    findings += _check_counts(kind, values, ctx)
    return findings


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _missing(spec: FieldSpec, values: Mapping[str, Any], kw: dict[str, Any]) -> list[Finding]:
    reason = None
    if spec.required:
        reason = ("", "")
    for cond in spec.required_if:
        if _normalised(values.get(cond.field)) == cond.equals:
            reason = (f" khi {cond.field} = {cond.equals}", f" when {cond.field} = {cond.equals}")
    if reason is None:
        return []
    return [
        error(
            "metadata.required",
            f"Thiếu trường bắt buộc: {spec.label_vi}{reason[0]}.",
            f"Missing required field: {spec.label_en}{reason[1]}.",
            evidence={"condition": [{"field": c.field, "equals": c.equals} for c in spec.required_if]}
            if reason[0]
            else {},
            **kw,
        )
    ]


def _normalised(value: object) -> str | None:
    flag = boolean_value(value) if isinstance(value, (bool, int)) else None
    if flag is not None:
        return "1" if flag else "0"
    text = as_text(value)
    return None if text is None else text.strip()


def _check_present(
    profile: Profile, kind: RecordKind, spec: FieldSpec, value: object, ctx: _Context
) -> list[Finding]:
    items = split_multi(spec, value)
    if len(items) > 1 and not spec.multi:
        return [
            error(
                "metadata.type",
                f"{spec.label_vi}: chỉ được có một giá trị.",
                f"{spec.label_en}: only one value is allowed.",
                path=ctx.path,
                field=ctx.prefix + spec.name,
            )
        ]
    findings: list[Finding] = []
    for item in items:
        if spec.type == "group":
            if not isinstance(item, Mapping):
                findings.append(
                    error(
                        "metadata.type",
                        f"{spec.label_vi}: phải là một nhóm trường.",
                        f"{spec.label_en}: must be a group of fields.",
                        path=ctx.path,
                        field=ctx.prefix + spec.name,
                    )
                )
                continue
            sub = RecordKind(spec.name, spec.label_vi, spec.label_en, spec.subfields, None, kind.date_formats)
            sub_ctx = _Context(ctx.path, None, None, None, {}, f"{ctx.prefix}{spec.name}.")
            findings += _validate(profile, sub, item, sub_ctx)
        else:
            spec_kw = spec if not ctx.prefix else _prefixed(spec, ctx.prefix)
            findings += check_value(profile, spec_kw, item, kind.date_formats, ctx.path)
    return findings


def _prefixed(spec: FieldSpec, prefix: str) -> FieldSpec:
    return replace(spec, name=prefix + spec.name)


def _span(kind: RecordKind | None, values: Mapping[str, Any], name: str) -> DateSpan | None:
    if kind is None:
        return None
    spec = kind.field(name)
    if spec is None or spec.name not in values:
        return None
    return parse_date(values[spec.name], spec.date_formats or kind.date_formats)


def _check_dates(kind: RecordKind, values: Mapping[str, Any], ctx: _Context) -> list[Finding]:
    findings: list[Finding] = []
    for spec in kind.fields:
        if spec.type != "date" or spec.name not in values:
            continue
        here = _span(kind, values, spec.name)
        if here is None:
            continue
        kw: dict[str, Any] = {"path": ctx.path, "field": ctx.prefix + spec.name}
        earlier = _span(kind, values, spec.not_before) if spec.not_before else None
        if earlier is not None and here.last < earlier.first:
            other = kind.field(spec.not_before or "")
            label_vi = other.label_vi if other else spec.not_before
            label_en = other.label_en if other else spec.not_before
            findings.append(
                error(
                    "metadata.date_order",
                    f"{spec.label_vi} ({values[spec.name]}) trước {label_vi} ({earlier.first:%d/%m/%Y}).",
                    f"{spec.label_en} ({values[spec.name]}) is before {label_en} ({earlier.first:%d/%m/%Y}).",
                    evidence={"other": spec.not_before},
                    **kw,
                )
            )
        if len(spec.within) == 2 and ctx.dossier is not None:
            start = _span(ctx.dossier_kind, _resolved(ctx.dossier_kind, ctx.dossier), spec.within[0])
            end = _span(ctx.dossier_kind, _resolved(ctx.dossier_kind, ctx.dossier), spec.within[1])
            if (start is not None and here.last < start.first) or (end is not None and here.first > end.last):
                findings.append(
                    warning(
                        "metadata.date_outside_dossier",
                        f"{spec.label_vi} ({values[spec.name]}) nằm ngoài thời gian của hồ sơ.",
                        f"{spec.label_en} ({values[spec.name]}) falls outside the dossier's dates.",
                        evidence={"dossier_fields": list(spec.within)},
                        **kw,
                    )
                )
    return findings


def _resolved(kind: RecordKind | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """Map a raw record's keys (any case, aliases) to field names of ``kind``."""
    out: dict[str, Any] = {}
    if kind is None:
        return out
    for key, value in record.items():
        spec = kind.field(key) if isinstance(key, str) else None
        if spec is not None and not _blank(value):
            out.setdefault(spec.name, value)
    return out


def _part_candidates(
    kind: RecordKind, values: Mapping[str, Any], part: str, ctx: _Context, pad: int | None
) -> list[str] | None:
    """Spellings a derivation part may take inside the derived value; None when unknown."""
    if part == "@ordinal":
        if ctx.ordinal is None:
            return None
        return [str(ctx.ordinal).zfill(pad or 0)]
    if part.startswith("@dossier."):
        record, source_kind = _resolved(ctx.dossier_kind, ctx.dossier or {}), ctx.dossier_kind
        part = part.removeprefix("@dossier.")
    else:
        record, source_kind = dict(values), kind
    spec = source_kind.field(part) if source_kind else None
    if spec is None or spec.name not in record:
        return None
    text = as_text(record[spec.name])
    if text is None:
        return None
    if spec.check == "agency_code":
        return file_code_prefixes(text.strip()) or [text.strip()]
    return [text.strip()]


def _check_derivations(kind: RecordKind, values: Mapping[str, Any], ctx: _Context) -> list[Finding]:
    findings: list[Finding] = []
    for spec in kind.fields:
        if spec.derive != "concat" or spec.name not in values:
            continue
        derived = as_text(values[spec.name]) or ""
        pos, ok, used = 0, True, []
        for index, part in enumerate(spec.parts):
            candidates = _part_candidates(kind, values, part, ctx, spec.pad)
            if candidates is None:
                continue
            used.append(part)
            hits = [(derived.find(c, pos), c) for c in candidates if derived.find(c, pos) >= 0]
            if index == 0:
                hits = [h for h in hits if h[0] == 0]
            if part == "@ordinal":
                hits = [h for h in hits if derived.endswith(h[1])]
            if not hits:
                ok = False
                break
            at, cand = min(hits)
            pos = at + len(cand)
        if used and not ok:
            findings.append(
                warning(
                    "metadata.derivation",
                    f"{spec.label_vi} {derived!r} không khớp cách lập mã: {' + '.join(spec.parts)}.",
                    f"{spec.label_en} {derived!r} does not follow its composition: {' + '.join(spec.parts)}.",
                    path=ctx.path,
                    field=ctx.prefix + spec.name,
                    evidence={"parts": list(spec.parts), "checked": used},
                )
            )
    return findings


def _check_counts(kind: RecordKind, values: Mapping[str, Any], ctx: _Context) -> list[Finding]:
    findings: list[Finding] = []
    for spec in kind.fields:
        if spec.count_of is None or spec.name not in values or not ctx.counts.get(spec.count_of):
            continue
        declared, actual = as_text(values[spec.name]), ctx.counts[spec.count_of]
        if declared is not None and declared.strip().isdigit() and int(declared) != actual:
            findings.append(
                warning(
                    "metadata.count_mismatch",
                    f"{spec.label_vi} ghi {declared} nhưng có {actual} tài liệu kèm theo.",
                    f"{spec.label_en} says {declared} but {actual} documents are listed.",
                    path=ctx.path,
                    field=ctx.prefix + spec.name,
                    evidence={"declared": int(declared), "actual": actual},
                )
            )
    return findings


def ordinal_of(kind: RecordKind, doc: Mapping[str, Any]) -> int | None:
    """The document's declared order (docOrdinal / DocOrdinal), if it is a whole number."""
    spec = kind.field("docOrdinal")
    value = _resolved(kind, doc).get(spec.name) if spec else None
    text = as_text(value)
    return int(text) if text is not None and text.strip().isdigit() else None
