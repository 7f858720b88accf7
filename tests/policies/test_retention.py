"""Retention: due-date arithmetic, schedule import and versions, rule assignment, the daily job."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select

from archive import events
from archive.catalog import Event, HoldScope, RecordState, RetentionRule, RetentionSchedule
from policies.errors import NoMatchingRule, RoleRequired, ScheduleImportError
from policies.holds import place_hold
from policies.retention import (
    STARTER_SCHEDULE,
    assign_retention,
    code_for_years,
    due_date,
    due_year,
    import_schedule,
    is_due,
    list_due,
    mark_due,
    read_schedule_file,
    years_for,
)
from tests.policies.conftest import World

HEADER = ["nhóm hồ sơ", "doc_type", "agency_code", "maintenance", "years", "description"]
ROWS = [
    ["", "", "", "06", "", "Hồ sơ chung"],
    ["Kế toán", "", "", "05", "20", "Chứng từ kế toán"],
    ["Kế toán", "01", "", "04", "", "Báo cáo tài chính"],
    ["Kế toán", "01", "000.00.07.H54", "07", "5", "Phiếu tín nhiệm (5 năm)"],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for row in rows:  # numbers typed as numbers, as a records officer would
        ws.append([int(c) if c.isdigit() and i == 4 else (c or None) for i, c in enumerate(row)])
    wb.save(path)
    return path


# -- due dates --------------------------------------------------------------------------------


def test_due_date_counts_from_the_year_the_work_ended() -> None:
    assert due_date(date(2014, 12, 31), 10) == date(2025, 1, 1)
    assert due_date(date(2014, 1, 1), 10) == date(2025, 1, 1)
    assert due_year(date(2014, 6, 30), 5) == 2020
    assert not is_due(date(2014, 6, 30), 10, date(2024, 12, 31))
    assert is_due(date(2014, 6, 30), 10, date(2025, 1, 1))


def test_permanent_and_missing_end_date_are_never_due() -> None:
    assert due_date(date(1990, 1, 1), None) is None
    assert due_date(None, 10) is None
    assert not is_due(None, 10, date(2100, 1, 1))
    assert not is_due(date(1900, 1, 1), years_for("01"), date(2100, 1, 1))


def test_leap_day_end_dates_do_not_break() -> None:
    assert due_date(date(2016, 2, 29), 10) == date(2027, 1, 1)
    assert due_date(date(2020, 2, 29), 1) == date(2022, 1, 1)
    assert is_due(date(2020, 2, 29), 3, date(2024, 2, 29))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(1, 100))
def test_due_date_is_always_new_year_after_the_full_period(end: date, years: int) -> None:
    due = due_date(end, years)
    assert due is not None and (due.month, due.day) == (1, 1)
    assert due.year - end.year == years + 1


def test_codes_map_to_periods() -> None:
    assert [years_for(c) for c in ("01", "02", "03", "04", "05", "06")] == [None, 70, 50, 30, 20, 10]
    assert years_for("07", 5) == 5
    with pytest.raises(ValueError):
        years_for("07")
    with pytest.raises(ValueError):
        years_for("08")
    assert code_for_years(10) == "06" and code_for_years(5) == "07" and code_for_years(None) == "01"


# -- schedules --------------------------------------------------------------------------------


def test_csv_and_xlsx_of_the_same_rules_are_one_version(world: World, tmp_path: Path) -> None:
    with world.session() as s:
        admin = world.user(s, "quan_tri")
        first = import_schedule(s, admin, write_csv(tmp_path / "tt10.csv", ROWS), "TT10-2022", "TT 10/2022")
        again = import_schedule(s, admin, write_xlsx(tmp_path / "tt10.xlsx", ROWS), "TT10-2022", "TT 10/2022")
        s.commit()
        assert first.created and not again.created
        assert again.schedule.id == first.schedule.id and first.schedule.version == 1
        rules = first.schedule.rules
        assert [(r.maintenance, r.years) for r in rules] == [("06", 10), ("05", 20), ("04", 30), ("07", 5)]


def test_changed_import_is_a_new_version_and_old_decisions_keep_their_rule(
    world: World, tmp_path: Path
) -> None:
    world.add_dossier("D-OLD", maintenance=None, years=None, packages=False, series="Kế toán", doc_type="02")
    with world.session() as s:
        admin = world.user(s, "quan_tri")
        v1 = import_schedule(
            s, admin, write_csv(tmp_path / "a.csv", ROWS), "TT10-2022", "TT 10/2022"
        ).schedule
        old_rule = assign_retention(s, world.dossier(s, "D-OLD"), "TT10-2022", actor=admin)
        assert (old_rule.schedule_id, old_rule.years) == (v1.id, 20)
        changed = [*ROWS[:1], ["Kế toán", "", "", "04", "", "Chứng từ kế toán (sửa)"], *ROWS[2:]]
        v2 = import_schedule(
            s, admin, write_csv(tmp_path / "b.csv", changed), "TT10-2022", "TT 10/2022"
        ).schedule
        s.commit()
        assert v2.version == 2 and v1.superseded_at is not None
        old = world.dossier(s, "D-OLD")
        assert old.retention_rule_id == old_rule.id and old.retention_years == 20
        assert assign_retention(s, old, "TT10-2022").id == old_rule.id  # never re-assigned
    world.add_dossier("D-NEW", maintenance=None, years=None, packages=False, series="Kế toán", doc_type="02")
    with world.session() as s:
        rule = assign_retention(s, world.dossier(s, "D-NEW"), "TT10-2022")
        s.commit()
        assert rule.schedule_id == v2.id and rule.years == 30
        assert s.scalar(select(RetentionSchedule).where(RetentionSchedule.version == 1)) is not None
        assert len(s.scalars(select(RetentionRule)).all()) == 8


def test_the_most_specific_rule_wins(world: World, tmp_path: Path) -> None:
    world.add_dossier("D-AG", maintenance=None, years=None, packages=False, series="Kế toán", doc_type="01")
    world.add_dossier("D-TYPE", maintenance=None, years=None, packages=False, series="Kế toán", doc_type="01")
    world.add_dossier("D-ANY", maintenance=None, years=None, packages=False, doc_type="09")
    other = [[*r[:2], "000.00.99.H99", *r[3:]] if r[2] else r for r in ROWS]
    with world.session() as s:
        admin = world.user(s, "quan_tri")
        import_schedule(s, admin, write_csv(tmp_path / "a.csv", ROWS), "TT10-2022", "TT 10/2022")
        import_schedule(s, admin, write_csv(tmp_path / "b.csv", other), "BTC", "TT 74/2025/TT-BTC")
        assert (
            assign_retention(s, world.dossier(s, "D-AG"), "TT10-2022").description
            == "Phiếu tín nhiệm (5 năm)"
        )
        assert assign_retention(s, world.dossier(s, "D-TYPE"), "BTC").description == "Báo cáo tài chính"
        any_rule = assign_retention(s, world.dossier(s, "D-ANY"))
        assert any_rule.description == "Hồ sơ chung"
        assert world.dossier(s, "D-ANY").maintenance == "06"
        kinds = {e.detail for e in s.scalars(select(Event).where(Event.object_type == "dossier"))}
        assert any("retention rule assigned" in k for k in kinds)


def test_no_matching_rule_is_an_error(world: World, tmp_path: Path) -> None:
    world.add_dossier("D-X", maintenance=None, years=None, packages=False)
    with world.session() as s:
        only = [["Xây dựng", "", "", "04", "", "Hồ sơ xây dựng"]]
        import_schedule(s, world.user(s, "quan_tri"), write_csv(tmp_path / "a.csv", only), "XD", "XD")
        with pytest.raises(NoMatchingRule):
            assign_retention(s, world.dossier(s, "D-X"))


def test_bad_rows_are_reported_as_findings_and_nothing_is_imported(world: World, tmp_path: Path) -> None:
    bad = [
        ["A", "", "", "08", "", ""],
        ["B", "", "", "07", "", ""],
        ["C", "", "", "06", "20", ""],
        ["D", "", "", "6", "x", ""],
    ]
    with world.session() as s:
        with pytest.raises(ScheduleImportError) as err:
            import_schedule(s, world.user(s, "quan_tri"), write_csv(tmp_path / "bad.csv", bad), "X", "X")
        codes = [f.code for f in err.value.findings]
        assert codes == [
            "retention.schedule.maintenance_invalid",
            "retention.schedule.years_missing",
            "retention.schedule.years_mismatch",
            "retention.schedule.years_invalid",
        ]
        assert all(f.message_vi and f.message_en for f in err.value.findings)
        assert s.scalar(select(RetentionSchedule)) is None
        with pytest.raises(RoleRequired):
            import_schedule(s, world.user(s, "giam_doc"), write_csv(tmp_path / "ok.csv", ROWS), "X", "X")


# -- the daily job ----------------------------------------------------------------------------


def test_mark_due_marks_skips_held_and_lists_missing_end_dates(world: World) -> None:
    world.add_dossier("DUE", packages=False)
    world.add_dossier("NOT-YET", end=date(2015, 2, 28), packages=False)
    world.add_dossier("FOREVER", years=None, maintenance="01", packages=False)
    world.add_dossier("NO-END", end=None, packages=False)
    held_id = world.add_dossier("HELD", packages=False)
    with world.session() as s:
        place_hold(
            s,
            world.user(s, "luu_tru_vien"),
            HoldScope.DOSSIER,
            held_id,
            "inspection",
            "Thanh tra",
            "12/QĐ-TTr",
        )
        report = mark_due(s, date(2025, 1, 1))
        s.commit()
        assert [e.code for e in report.due] == ["DUE"] and report.marked == 1
        assert [e.code for e in report.held] == ["HELD"] and report.held[0].hold_id is not None
        assert [e.code for e in report.missing_end_date] == ["NO-END"]
        assert [f.code for f in report.findings] == ["retention.end_date_missing"]
        assert report.due[0].due_date == date(2025, 1, 1)
        assert world.dossier(s, "DUE").state is RecordState.UNDER_REVIEW
        assert world.dossier(s, "HELD").state is RecordState.ACTIVE
        again = mark_due(s, date(2025, 1, 2))
        assert again.marked == 0
        listed = list_due(s, date(2025, 1, 2))
        assert [e.code for e in listed.due] == ["DUE"]
        assert listed.to_json()["due"][0]["due_date"] == "2025-01-01"  # type: ignore[index]
        refused = s.scalars(select(Event).where(Event.object_id == "HELD", Event.outcome == "failure")).all()
        assert refused and "legal hold" in refused[0].detail
        assert events.verify_chain(s).ok


def test_the_starter_schedule_reads_cleanly() -> None:
    rules = read_schedule_file(STARTER_SCHEDULE)
    assert [(r.maintenance, r.years) for r in rules] == [("07", 5), ("06", 10), ("05", 20), ("07", 5)]
    assert all(r.description and "TT 10/2022" in r.description for r in rules)
