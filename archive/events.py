"""The event log: append-only, PREMIS-style, hash-chained.

Each event stores the SHA-256 of its predecessor and its own hash over a canonical form of
every field, so changing, inserting or deleting a row is detected by ``verify_chain``.
Events are written with ``record`` inside the caller's transaction: the change and the event
that records it commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.catalog.base import new_uuid
from archive.catalog.event import Event, EventType, Outcome
from archive.vntime import as_utc, utcnow

GENESIS = "0" * 64
SOFTWARE_AGENT = "luutru"
# Any constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x6C757574


@dataclass(frozen=True, slots=True)
class Agent:
    """Who acted: a person (username), an organization (agency code) or software."""

    type: str
    name: str

    @classmethod
    def person(cls, username: str) -> Agent:
        return cls("person", username)

    @classmethod
    def organization(cls, code: str) -> Agent:
        return cls("organization", code)

    @classmethod
    def software(cls, name: str = SOFTWARE_AGENT) -> Agent:
        return cls("software", name)


SYSTEM = Agent.software()


def _canonical(event: Event) -> bytes:
    body = {
        "seq": event.seq,
        "uuid": event.uuid,
        "type": EventType(event.type).value,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "agent_type": event.agent_type,
        "agent": event.agent,
        "occurred_at": as_utc(event.occurred_at).isoformat(timespec="microseconds"),
        "outcome": Outcome(event.outcome).value,
        "detail": event.detail,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: Event) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(
    session: Session,
    type: EventType,
    *,
    object_type: str,
    object_id: object,
    agent: Agent = SYSTEM,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str = "",
    data: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event to the chain inside the caller's transaction and return it.

    On PostgreSQL an advisory transaction lock serialises appenders; on SQLite the
    connection already holds the write lock (BEGIN IMMEDIATE). ``seq`` is unique, so a
    forked chain cannot be committed even if both guards were bypassed.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    last = session.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    when = as_utc(occurred_at or utcnow())
    event = Event(
        seq=seq,
        uuid=new_uuid(),
        type=type,
        object_type=object_type,
        object_id=str(object_id),
        agent_type=agent.type,
        agent=agent.name,
        occurred_at=when.replace(microsecond=when.microsecond),
        outcome=outcome,
        detail=detail,
        data=json.loads(json.dumps(dict(data or {}), default=str)),
        prev_hash=prev,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    broken_seq: int | None = None
    broken_uuid: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_hash": self.head_hash,
            "broken": None
            if self.ok
            else {"seq": self.broken_seq, "uuid": self.broken_uuid, "reason": self.reason},
        }


def iter_events(session: Session, batch: int = 2000) -> Iterator[Event]:
    last = 0
    while True:
        rows = session.scalars(select(Event).where(Event.seq > last).order_by(Event.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Recompute every hash in order; report the first broken link (changed, inserted or missing)."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for ev in iter_events(session):
        reason = None
        if ev.seq != expected_seq:
            reason = f"sequence gap: expected {expected_seq}, found {ev.seq} (an event was deleted)"
        elif ev.prev_hash != prev:
            reason = "prev_hash does not match the preceding event"
        elif event_hash(ev) != ev.hash:
            reason = "content changed: stored hash does not match the event"
        if reason:
            return ChainReport(False, count, prev, ev.seq, ev.uuid, reason)
        prev = ev.hash
        expected_seq += 1
        count += 1
        if progress and count % 1000 == 0:
            progress(1000)
    return ChainReport(True, count, prev)
