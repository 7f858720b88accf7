"""Retention schedules (bảng thời hạn bảo quản): import, versions, rule assignment, due dates.

Periods are TT 05/2025 ``maintenance`` codes: 01 Vĩnh viễn, 02 70 năm, 03 50 năm, 04 30 năm,
05 20 năm, 06 10 năm, 07 Khác (the schedule row gives the years, e.g. 5). Several schedules
coexist (TT 10/2022 for common records, sector schedules such as TT 74/2025/TT-BTC), each
versioned by (code, version). Re-importing a file whose rules differ makes a new version;
dossiers keep ``retention_rule_id`` pointing at the rule version they were assigned.

Due dates: ``due_year`` / ``due_date``; the daily job ``mark_due`` (and ``list_due``) marks due
dossiers "Xem xét hủy" (RecordState.UNDER_REVIEW) as TT 05/2025 Điều 48 asks.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import (
    Document,
    Dossier,
    EventType,
    Outcome,
    RecordState,
    RetentionRule,
    RetentionSchedule,
    Role,
    User,
)
from archive.findings import Finding, error, warning
from archive.vntime import utcnow
from policies.errors import NoMatchingRule, ScheduleImportError
from policies.holds import is_held, require_role

log = logging.getLogger(__name__)

# A starter general schedule: only the TT 10/2022 periods confirmed in REGULATIONS §11; the full
# table is an open question, so an archive imports its own on top (a new version).
STARTER_SCHEDULE = Path(__file__).parent / "data" / "general_schedule.csv"
PERMANENT = "01"
OTHER = "07"
# maintenance code → years (None = vĩnh viễn, permanent; 07 takes the years from the row)
PERIODS: dict[str, int | None] = {"01": None, "02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
LABELS_VI = {
    "01": "Vĩnh viễn",
    "02": "70 năm",
    "03": "50 năm",
    "04": "30 năm",
    "05": "20 năm",
    "06": "10 năm",
    "07": "Khác",
}
# Accepted column headers (lower-cased, stripped) → field
HEADERS = {
    "series": "series",
    "nhóm hồ sơ": "series",
    "nhom ho so": "series",
    "nhom_ho_so": "series",
    "doc_type": "doc_type",
    "loại văn bản": "doc_type",
    "typename": "doc_type",
    "agency_code": "agency_code",
    "mã cơ quan": "agency_code",
    "maintenance": "maintenance",
    "mã thời hạn": "maintenance",
    "thời hạn bảo quản": "maintenance",
    "years": "years",
    "số năm": "years",
    "description": "description",
    "mô tả": "description",
    "ghi chú": "description",
}
FIELDS = ("series", "doc_type", "agency_code", "maintenance", "years", "description")


def years_for(maintenance: str, years: int | None = None) -> int | None:
    """Years a maintenance code stands for; 07 (Khác) needs ``years``. Raises ValueError."""
    if maintenance == OTHER:
        if years is None or years <= 0:
            raise ValueError("maintenance 07 (Khác) needs a positive number of years")
        return years
    if maintenance not in PERIODS:
        raise ValueError(f"unknown maintenance code {maintenance!r}: expected 01–07")
    return PERIODS[maintenance]


def code_for_years(years: int | None) -> str:
    """The maintenance code for a period: None → 01, 70 → 02 … 10 → 06, anything else → 07."""
    if years is None:
        return PERMANENT
    return next((code for code, y in PERIODS.items() if y == years), OTHER)


def due_year(end_date: date | None, years: int | None) -> int | None:
    """Return the first year in which a dossier is due for appraisal, or None if never.

    TT 10/2022/TT-BNV counts the period "tính từ năm công việc kết thúc": the year the matter
    ended is year 0 and the N full calendar years that follow are the period. Work ended in
    2014 with 10 năm runs through 2015–2024 and is due from 1 January 2025: Y + N + 1.
    Only the year of ``end_date`` is used, so 29 February (or any day) needs no arithmetic.
    Permanent (``years`` None) and an unknown end date are never due.
    """
    if end_date is None or years is None:
        return None
    return end_date.year + years + 1


def due_date(end_date: date | None, years: int | None) -> date | None:
    """1 January of ``due_year``; None when the dossier is never due."""
    year = due_year(end_date, years)
    return None if year is None else date(year, 1, 1)


def is_due(end_date: date | None, years: int | None, today: date) -> bool:
    due = due_date(end_date, years)
    return due is not None and today >= due


# -- import -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleRow:
    series: str | None
    doc_type: str | None
    agency_code: str | None
    maintenance: str
    years: int | None
    description: str | None

    def to_json(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in FIELDS}


@dataclass(frozen=True, slots=True)
class ImportResult:
    schedule: RetentionSchedule
    created: bool  # False: the same content was already the current version


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _raw_rows(path: Path) -> Iterator[list[object]]:
    """Yield the rows of a CSV (UTF-8, BOM allowed) or XLSX (first sheet), streamed."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = wb.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
        finally:
            wb.close()
        return
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.reader(fh)


def _parse_row(cells: dict[str, str | None], line: int, findings: list[Finding]) -> RuleRow | None:
    code = cells.get("maintenance")
    if code and code.isdigit() and len(code) == 1:
        code = "0" + code  # "6" typed into a spreadsheet number cell
    raw_years = cells.get("years")
    years: int | None = None
    if raw_years is not None:
        try:
            years = int(raw_years)
        except ValueError:
            findings.append(
                error(
                    "retention.schedule.years_invalid",
                    f"Dòng {line}: số năm '{raw_years}' không hợp lệ",
                    f"Row {line}: years '{raw_years}' is not a whole number",
                    field="years",
                )
            )
            return None
    if code is None or (code not in PERIODS and code != OTHER):
        findings.append(
            error(
                "retention.schedule.maintenance_invalid",
                f"Dòng {line}: mã thời hạn '{code}' phải từ 01 đến 07",
                f"Row {line}: maintenance code '{code}' must be 01–07",
                field="maintenance",
            )
        )
        return None
    if code == OTHER and (years is None or years <= 0):
        findings.append(
            error(
                "retention.schedule.years_missing",
                f"Dòng {line}: mã 07 (Khác) cần số năm",
                f"Row {line}: code 07 (other) needs a number of years",
                field="years",
            )
        )
        return None
    if code != OTHER and years is not None and years != PERIODS[code]:
        findings.append(
            error(
                "retention.schedule.years_mismatch",
                f"Dòng {line}: mã {code} là {LABELS_VI[code]}, không phải {years} năm",
                f"Row {line}: code {code} means {PERIODS[code]} years, not {years}",
                field="years",
            )
        )
        return None
    return RuleRow(
        cells.get("series"),
        cells.get("doc_type"),
        cells.get("agency_code"),
        code,
        years_for(code, years),
        cells.get("description"),
    )


def read_schedule_file(path: Path) -> list[RuleRow]:
    """Read and check every rule of a schedule file. Raises ScheduleImportError with findings."""
    rows = _raw_rows(path)
    findings: list[Finding] = []
    header = next(rows, None)
    columns = [HEADERS.get((_cell(h) or "").lower()) for h in header or []]
    if "maintenance" not in columns:
        findings.append(
            error(
                "retention.schedule.no_header",
                "Thiếu cột mã thời hạn (maintenance)",
                "The header row has no maintenance column",
            )
        )
        raise ScheduleImportError(str(path), findings)
    rules: list[RuleRow] = []
    for line, raw in enumerate(rows, start=2):
        cells = {col: _cell(v) for col, v in zip(columns, raw, strict=False) if col}
        if not any(cells.values()):
            continue
        rule = _parse_row(cells, line, findings)
        if rule is not None:
            rules.append(rule)
    if not rules and not findings:
        findings.append(
            error("retention.schedule.empty", "Bảng thời hạn không có dòng nào", "The schedule has no rules")
        )
    if findings:
        raise ScheduleImportError(str(path), findings)
    return rules


def content_hash(rules: list[RuleRow]) -> str:
    """SHA-256 over the rules in canonical JSON: the same rules from CSV or XLSX hash alike."""
    body = json.dumps([r.to_json() for r in rules], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def current_schedule(session: Session, code: str) -> RetentionSchedule | None:
    """The newest version of schedule ``code``."""
    query = select(RetentionSchedule).where(RetentionSchedule.code == code)
    return session.scalars(query.order_by(RetentionSchedule.version.desc()).limit(1)).first()


def import_schedule(
    session: Session,
    actor: User,
    path: Path,
    code: str,
    name: str,
    *,
    source: str | None = None,
    effective_from: date | None = None,
) -> ImportResult:
    """Import a schedule from CSV or XLSX as a new version of ``code`` unless unchanged.

    The previous version is marked superseded; its rules stay, and so do dossiers pointing at them.
    Raises RoleRequired (administrator or archivist) and ScheduleImportError.
    """
    require_role(actor, (Role.ADMINISTRATOR, Role.ARCHIVIST), "import a retention schedule")
    rules = read_schedule_file(path)
    digest = content_hash(rules)
    latest = current_schedule(session, code)
    if latest is not None and latest.content_sha256 == digest:
        return ImportResult(latest, created=False)
    version = (
        session.scalar(select(func.max(RetentionSchedule.version)).where(RetentionSchedule.code == code)) or 0
    ) + 1
    if latest is not None:
        latest.superseded_at = utcnow()
    schedule = RetentionSchedule(
        code=code,
        version=version,
        name=name,
        source=source,
        effective_from=effective_from,
        imported_from=path.name,
        content_sha256=digest,
        rules=[RetentionRule(**{f: getattr(r, f) for f in FIELDS}) for r in rules],
    )
    session.add(schedule)
    session.flush()
    events.record(
        session,
        EventType.POLICY_ASSIGNMENT,
        object_type="retention_schedule",
        object_id=f"{code}@{version}",
        agent=events.Agent.person(actor.username),
        detail=f"retention schedule {code} version {version} imported ({len(rules)} rules)",
        data={"file": path.name, "sha256": digest, "supersedes": latest.version if latest else None},
    )
    return ImportResult(schedule, created=True)


# -- assignment -------------------------------------------------------------------------------


def _specificity(rule: RetentionRule) -> int:
    """agency (4) > doc_type (2) > series (1): agency+doc_type+series is the most specific."""
    return 4 * (rule.agency_code is not None) + 2 * (rule.doc_type is not None) + (rule.series is not None)


def match_rule(session: Session, dossier: Dossier, schedule_code: str | None = None) -> RetentionRule | None:
    """The most specific rule of the current schedule versions that fits ``dossier``.

    A rule fits when each field it sets equals the dossier's: agency code, a document's
    typeName code, and the series (``dossier.descriptive["series"]``, nhóm hồ sơ). Ties go to
    the longer period (permanent first), then to the older rule.
    """
    latest = (
        select(RetentionSchedule.code, func.max(RetentionSchedule.version).label("v"))
        .group_by(RetentionSchedule.code)
        .subquery()
    )
    query = (
        select(RetentionRule)
        .join(RetentionSchedule)
        .join(latest, (latest.c.code == RetentionSchedule.code) & (latest.c.v == RetentionSchedule.version))
    )
    if schedule_code is not None:
        query = query.where(RetentionSchedule.code == schedule_code)
    doc_types = set(session.scalars(select(Document.type_code).where(Document.dossier_id == dossier.id)))
    series = dossier.descriptive.get("series") if isinstance(dossier.descriptive, dict) else None
    fitting = [
        r
        for r in session.scalars(query)
        if (r.agency_code is None or r.agency_code == dossier.agency.code)
        and (r.doc_type is None or r.doc_type in doc_types)
        and (r.series is None or r.series == series)
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda r: (-_specificity(r), r.years is not None, -(r.years or 0), r.id))


def assign_retention(
    session: Session, dossier: Dossier, schedule_code: str | None = None, *, actor: User | None = None
) -> RetentionRule:
    """Give ``dossier`` a retention rule when it has none; return the rule it ends up with.

    A dossier that already points at a rule keeps it (earlier decisions are never altered).
    The rule fills ``maintenance`` and ``retention_years`` only when the dossier has no
    maintenance code of its own. Raises NoMatchingRule.
    """
    if dossier.retention_rule_id is not None:
        existing = session.get(RetentionRule, dossier.retention_rule_id)
        assert existing is not None  # foreign key
        return existing
    rule = match_rule(session, dossier, schedule_code)
    if rule is None:
        raise NoMatchingRule(f"no retention rule fits dossier {dossier.code}")
    dossier.retention_rule_id = rule.id
    if dossier.maintenance is None:
        dossier.maintenance = rule.maintenance
        dossier.retention_years = rule.years
    session.flush()
    events.record(
        session,
        EventType.POLICY_ASSIGNMENT,
        object_type="dossier",
        object_id=dossier.code,
        agent=events.Agent.person(actor.username) if actor else events.SYSTEM,
        detail=f"retention rule assigned from {rule.schedule.code}@{rule.schedule.version}",
        data={"rule_id": rule.id, "maintenance": dossier.maintenance, "years": dossier.retention_years},
    )
    return rule


# -- the daily due-date job -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueEntry:
    dossier_id: int
    code: str
    title: str
    end_date: date | None
    due_date: date | None
    maintenance: str | None
    hold_id: int | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "dossier": self.dossier_id,
            "code": self.code,
            "title": self.title,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "maintenance": self.maintenance,
        }
        if self.hold_id is not None:
            out["hold"] = self.hold_id
        return out


@dataclass(frozen=True, slots=True)
class DueReport:
    """Due dossiers, those a legal hold keeps back, and those whose due date cannot be known."""

    today: date
    due: list[DueEntry]
    held: list[DueEntry]
    missing_end_date: list[DueEntry]
    findings: list[Finding]
    marked: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "due": [e.to_json() for e in self.due],
            "missing_end_date": [e.to_json() for e in self.missing_end_date],
            "held": [e.to_json() for e in self.held],
            "marked": self.marked,
            "findings": [f.to_json() for f in self.findings],
        }


def _entry(d: Dossier, hold_id: int | None = None) -> DueEntry:
    return DueEntry(
        d.id, d.code, d.title, d.end_date, due_date(d.end_date, d.retention_years), d.maintenance, hold_id
    )


def _scan(session: Session, today: date, states: tuple[RecordState, ...]) -> tuple[list[Dossier], DueReport]:
    query = (
        select(Dossier)
        .where(Dossier.state.in_(states), Dossier.retention_years.is_not(None))
        .where((Dossier.maintenance.is_(None)) | (Dossier.maintenance != PERMANENT))
        .order_by(Dossier.id)
    )
    due: list[Dossier] = []
    report = DueReport(today, [], [], [], [])
    for dossier in session.scalars(query):
        if dossier.end_date is None:
            report.missing_end_date.append(_entry(dossier))
            report.findings.append(
                warning(
                    "retention.end_date_missing",
                    f"Hồ sơ {dossier.code} không có ngày kết thúc: không tính được hạn bảo quản",
                    f"Dossier {dossier.code} has no end date: its retention due date cannot be computed",
                    field="end_date",
                    evidence={"dossier": dossier.code},
                )
            )
        elif is_due(dossier.end_date, dossier.retention_years, today):
            hold = is_held(session, dossier)
            if hold is not None:
                report.held.append(_entry(dossier, hold.id))
            else:
                due.append(dossier)
                report.due.append(_entry(dossier))
    return due, report


def list_due(session: Session, today: date) -> DueReport:
    """Dossiers due on ``today`` (active or already under review); changes nothing."""
    return _scan(session, today, (RecordState.ACTIVE, RecordState.UNDER_REVIEW))[1]


def mark_due(session: Session, today: date) -> DueReport:
    """Mark every active, due, unheld dossier "Xem xét hủy" (UNDER_REVIEW), one event each.

    Held dossiers are reported and their skip recorded as a failure event; dossiers without an
    end date are reported with a finding. Safe to run daily: marked ones are not re-marked.
    """
    due, report = _scan(session, today, (RecordState.ACTIVE,))
    for dossier in due:
        dossier.state = RecordState.UNDER_REVIEW
        events.record(
            session,
            EventType.APPRAISAL,
            object_type="dossier",
            object_id=dossier.code,
            detail="retention period ended: Xem xét hủy",
            data={
                "due_date": due_date(dossier.end_date, dossier.retention_years),
                "maintenance": dossier.maintenance,
                "years": dossier.retention_years,
                "today": today,
            },
        )
    for entry in report.held:
        events.record(
            session,
            EventType.LEGAL_HOLD,
            object_type="dossier",
            object_id=entry.code,
            outcome=Outcome.FAILURE,
            detail=f"due for review but kept back by legal hold #{entry.hold_id}",
            data={"step": "mark due", "hold_id": entry.hold_id, "today": today},
        )
    session.flush()
    return DueReport(
        report.today, report.due, report.held, report.missing_end_date, report.findings, len(due)
    )
