"""Time: aware UTC inside, ISO 8601 in Vietnam time (+07:00) at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")  # giờ Việt Nam; no DST since 1975


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; a naive value is taken to be UTC (how SQLite returns it)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_vn(value: datetime) -> datetime:
    return as_utc(value).astimezone(VN_TZ)


def vn_iso(value: datetime | None) -> str:
    """Format as ISO 8601 with the +07:00 offset, to the second (``2025-07-01T08:30:00+07:00``)."""
    if value is None:
        return ""
    return to_vn(value).isoformat(timespec="seconds")


def vn_today() -> date:
    return utcnow().astimezone(VN_TZ).date()
