"""The event log is append-only and hash-chained: any change, insertion or deletion is found."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import Agency, Event, EventType, Outcome
from luutru.cli.main import cli


def _append(sessions: sessionmaker[Session], n: int) -> None:
    for i in range(n):
        with sessions() as s, s.begin():
            events.record(
                s,
                EventType.FIXITY_CHECK if i % 2 else EventType.INGESTION,
                object_type="file",
                object_id=i,
                agent=events.Agent.person("luutru"),
                detail=f"kiểm tra lần {i}",
                data={"sha256": f"{i:064x}", "đường dẫn": "data/Quyết định.pdf"},
            )


def test_chain_verifies_end_to_end(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 7)
    with sessions() as s:
        report = events.verify_chain(s)
        rows = s.scalars(select(Event).order_by(Event.seq)).all()
    assert report.ok and report.checked == 7
    assert [r.seq for r in rows] == list(range(1, 8))
    assert rows[0].prev_hash == events.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 7))
    assert report.head_hash == rows[-1].hash
    assert rows[3].occurred_at.tzinfo is not None


def test_event_commits_with_the_change_or_not_at_all(sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as s, s.begin():
            s.add(Agency(code="000.00.00.H12", name="Cơ quan thử"))
            events.record(s, EventType.ADMINISTRATION, object_type="agency", object_id="000.00.00.H12")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with sessions() as s:
        assert s.scalar(select(Agency)) is None
        assert s.scalar(select(Event)) is None


def _tamper_and_verify(catalog_url: str, sql: str) -> tuple[int, dict[str, object]]:
    runner = CliRunner()
    result = runner.invoke(cli, ["events", "verify", "--json"], env={"LUUTRU_DATABASE_URL": catalog_url})
    assert result.exit_code == 0, result.output
    from archive.db import make_engine

    engine = make_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()
    result = runner.invoke(cli, ["events", "verify", "--json"], env={"LUUTRU_DATABASE_URL": catalog_url})
    return result.exit_code, json.loads(result.output)


def test_changed_byte_is_detected_and_named(sessions: sessionmaker[Session], catalog_url: str) -> None:
    _append(sessions, 5)
    with sessions() as s:
        victim = s.scalars(select(Event).where(Event.seq == 3)).one()
    # change one character of the stored detail, as someone editing the database would
    code, report = _tamper_and_verify(catalog_url, "UPDATE event SET detail = 'kiểm tra lần 9' WHERE seq = 3")
    assert code == 1
    assert report["ok"] is False
    assert report["broken"] == {
        "seq": 3,
        "uuid": victim.uuid,
        "reason": "content changed: stored hash does not match the event",
    }


def test_outcome_flip_and_rehash_is_still_detected(sessions: sessionmaker[Session], catalog_url: str) -> None:
    _append(sessions, 4)
    # A forger who recomputes this event's own hash still breaks the next link.
    with sessions() as s, s.begin():
        ev = s.scalars(select(Event).where(Event.seq == 2)).one()
        ev.outcome = Outcome.FAILURE
        ev.hash = events.event_hash(ev)
    with sessions() as s:
        report = events.verify_chain(s)
    assert not report.ok and report.broken_seq == 3
    assert report.reason == "prev_hash does not match the preceding event"


def test_deleted_event_is_detected(sessions: sessionmaker[Session], catalog_url: str) -> None:
    _append(sessions, 5)
    code, report = _tamper_and_verify(catalog_url, "DELETE FROM event WHERE seq = 2")
    assert code == 1
    broken = report["broken"]
    assert isinstance(broken, dict) and broken["seq"] == 3 and "gap" in str(broken["reason"])
