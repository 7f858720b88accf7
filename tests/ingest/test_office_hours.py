"""Office hours (Lạng Sơn Quy chế Điều 11.2) and the receipt built from a staged submission."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from archive.vntime import VN_TZ
from ingest.intake import (
    IntakeLimits,
    StagedSubmission,
    effective_receipt_time,
    is_office_time,
    make_receipt,
    stage_submission,
)

HOLIDAYS = {date(2025, 9, 1), date(2025, 9, 2)}  # Quốc khánh 2025: Monday 1 and Tuesday 2 September


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (vn(2025, 7, 4, 18, 0), vn(2025, 7, 7, 7, 30)),  # Friday evening → Monday morning
        (vn(2025, 7, 5, 10, 0), vn(2025, 7, 7, 7, 30)),  # Saturday
        (vn(2025, 7, 6, 23, 59), vn(2025, 7, 7, 7, 30)),  # Sunday night
        (vn(2025, 7, 7, 9, 15), vn(2025, 7, 7, 9, 15)),  # during hours: unchanged
        (vn(2025, 7, 7, 7, 30), vn(2025, 7, 7, 7, 30)),  # start is inside
        (vn(2025, 7, 7, 11, 30), vn(2025, 7, 7, 13, 0)),  # end is outside
        (vn(2025, 7, 7, 12, 10), vn(2025, 7, 7, 13, 0)),  # lunch break → afternoon session
        (vn(2025, 7, 7, 6, 0), vn(2025, 7, 7, 7, 30)),  # early morning
        (vn(2025, 7, 7, 17, 0), vn(2025, 7, 8, 7, 30)),  # closing time → next morning
        (vn(2025, 9, 2, 10, 0), vn(2025, 9, 3, 7, 30)),  # National Day, a Tuesday
        (vn(2025, 8, 29, 17, 30), vn(2025, 9, 3, 7, 30)),  # Friday before the long weekend
    ],
)
def test_effective_receipt_time(received: datetime, expected: datetime) -> None:
    got = effective_receipt_time(received, holidays=HOLIDAYS)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_vietnam_time_not_utc_decides() -> None:
    # 01:00 UTC on a Monday is 08:00 in Hà Nội: inside office hours.
    monday_utc = datetime(2025, 7, 7, 1, 0, tzinfo=UTC)
    assert effective_receipt_time(monday_utc) == monday_utc
    # 23:00 UTC on Sunday is already 06:00 Monday in Hà Nội.
    assert effective_receipt_time(datetime(2025, 7, 6, 23, 0, tzinfo=UTC)) == vn(2025, 7, 7, 7, 30)


def test_make_up_working_saturday_and_custom_hours() -> None:
    saturday = vn(2025, 7, 5, 10, 0)
    assert effective_receipt_time(saturday, extra_working_days={date(2025, 7, 5)}) == saturday
    assert effective_receipt_time(vn(2025, 7, 7, 7, 45), office_hours=("08:00-12:00",)) == vn(
        2025, 7, 7, 8, 0
    )
    assert is_office_time(vn(2025, 7, 7, 14, 0)) and not is_office_time(vn(2025, 7, 7, 12, 0))


@pytest.mark.parametrize("hours", [("11:30-07:30",), ("07:30-11:30", "11:00-17:00"), (), ("0730",)])
def test_bad_office_hours_are_refused(hours: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        effective_receipt_time(vn(2025, 7, 7, 9, 0), office_hours=hours)


def test_naive_time_and_no_working_day_are_refused() -> None:
    with pytest.raises(ValueError):
        effective_receipt_time(datetime(2025, 7, 7, 9, 0))
    with pytest.raises(ValueError):
        effective_receipt_time(vn(2025, 7, 7, 9, 0), office_days=())


def test_receipt_from_a_staged_submission(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    data = "Quyết định số 15/QĐ-UBND".encode()
    (source / "qd.txt").write_bytes(data)
    (source / "extra.txt").write_bytes(b"x")
    meta = {
        "profile": "tt05-2025",
        "dossier": {"fileCode": "H49.64.33.2025.03"},
        "documents": [{"file": "qd.txt", "sha256": hashlib.sha256(data).hexdigest()}],
    }
    (source / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    friday_evening = vn(2025, 8, 29, 19, 5)
    staged = stage_submission(source, tmp_path / "staging", limits=IntakeLimits(), received_at=friday_evening)
    assert isinstance(staged, StagedSubmission), staged
    receipt = make_receipt(staged, holidays=HOLIDAYS)
    assert receipt.received_at == friday_evening
    assert receipt.counted_from == vn(2025, 9, 3, 7, 30)
    assert [f[0] for f in receipt.files] == ["extra.txt", "metadata.json", "qd.txt"]
    assert receipt.total_bytes == sum(f[1] for f in receipt.files)
    out = receipt.to_json()
    assert out["received_at"] == "2025-08-29T19:05:00+07:00"
    assert out["counted_from"] == "2025-09-03T07:30:00+07:00"
    assert out["files"][2] == {
        "path": "qd.txt",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert [f["code"] for f in out["findings"]] == ["intake.file_unlisted"]
    json.dumps(out, ensure_ascii=False)
