"""Office hours (giờ hành chính): when a submission received at some instant starts to count.

Rule (Lạng Sơn 2020 Quy chế, Điều 11 khoản 2): the receipt time of an electronic document
is when it enters the receiving system; if that is outside office hours, the receipt
counts from the start of the next office-hours period ("thời điểm bắt đầu giờ hành chính
kế tiếp"). Decisions taken here, all configurable:

* Office hours are the morning and afternoon sessions, 07:30–11:30 and 13:00–17:00 by
  default. The lunch break is *outside* office hours, so 12:10 counts from 13:00 the same day.
* A period includes its start and excludes its end: 07:30:00 is inside, 11:30:00 is not.
* Working days are Monday–Friday, minus public holidays (``holidays``), plus any
  Saturday/Sunday the government declares a make-up working day (``extra_working_days``).
* Everything is computed in Vietnam time (UTC+07:00, no daylight saving); input and
  output are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta

from archive.vntime import VN_TZ

__all__ = [
    "DEFAULT_OFFICE_DAYS",
    "DEFAULT_OFFICE_HOURS",
    "effective_receipt_time",
    "is_office_time",
    "parse_periods",
]

DEFAULT_OFFICE_HOURS = ("07:30-11:30", "13:00-17:00")
DEFAULT_OFFICE_DAYS = (0, 1, 2, 3, 4)  # Monday = 0 … Friday = 4
_SEARCH_DAYS = 400  # more than a year of holidays in a row means the calendar is wrong


def _clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def parse_periods(office_hours: Sequence[str]) -> list[tuple[time, time]]:
    """Parse ``"HH:MM-HH:MM"`` periods; they must be ordered, non-empty and not overlap.

    Raises ValueError on a malformed or inconsistent list.
    """
    periods: list[tuple[time, time]] = []
    for text in office_hours:
        start_text, sep, end_text = text.partition("-")
        if not sep:
            raise ValueError(f"office-hours period {text!r} is not HH:MM-HH:MM")
        start, end = _clock(start_text), _clock(end_text)
        if start >= end:
            raise ValueError(f"office-hours period {text!r} ends before it starts")
        if periods and start < periods[-1][1]:
            raise ValueError(f"office-hours period {text!r} overlaps or is out of order")
        periods.append((start, end))
    if not periods:
        raise ValueError("at least one office-hours period is needed")
    return periods


def _is_working_day(
    day: date, office_days: Collection[int], holidays: Collection[date], extra: Collection[date]
) -> bool:
    if day in holidays:
        return False
    return day.weekday() in office_days or day in extra


def effective_receipt_time(
    received_at_utc: datetime,
    *,
    office_hours: Sequence[str] = DEFAULT_OFFICE_HOURS,
    office_days: Collection[int] = DEFAULT_OFFICE_DAYS,
    holidays: Collection[date] = frozenset(),
    extra_working_days: Collection[date] = frozenset(),
) -> datetime:
    """Return when a submission received at ``received_at_utc`` counts as received (aware UTC).

    Inside office hours the time is unchanged. Otherwise it is the start of the next
    office-hours period on a working day, in Vietnam time: Friday 18:00 → Monday 07:30,
    Tuesday 12:00 → Tuesday 13:00, 2 September (a holiday) → the next working day 07:30.
    ``holidays`` and ``extra_working_days`` are calendar dates in Vietnam time.

    Raises ValueError for a naive datetime, bad periods, or no working day within 400 days.
    """
    if received_at_utc.tzinfo is None or received_at_utc.utcoffset() is None:
        raise ValueError("received_at_utc must be timezone-aware")
    periods = parse_periods(office_hours)
    local = received_at_utc.astimezone(VN_TZ)
    day = local.date()
    for offset in range(_SEARCH_DAYS):
        current = day + timedelta(days=offset)
        if not _is_working_day(current, office_days, holidays, extra_working_days):
            continue
        for start, end in periods:
            opens = datetime.combine(current, start, tzinfo=VN_TZ)
            closes = datetime.combine(current, end, tzinfo=VN_TZ)
            if offset == 0 and opens <= local < closes:
                return received_at_utc.astimezone(UTC)
            if local < opens:
                return opens.astimezone(UTC)
    raise ValueError(f"no working day within {_SEARCH_DAYS} days of {local.date().isoformat()}")


def is_office_time(
    at_utc: datetime,
    *,
    office_hours: Sequence[str] = DEFAULT_OFFICE_HOURS,
    office_days: Collection[int] = DEFAULT_OFFICE_DAYS,
    holidays: Collection[date] = frozenset(),
    extra_working_days: Collection[date] = frozenset(),
) -> bool:
    """Tell whether ``at_utc`` falls inside office hours (the receipt time is unchanged)."""
    effective = effective_receipt_time(
        at_utc,
        office_hours=office_hours,
        office_days=office_days,
        holidays=holidays,
        extra_working_days=extra_working_days,
    )
    return effective == at_utc.astimezone(UTC)
