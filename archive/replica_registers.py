"""What the catalog knows beyond single dossiers, kept on every replica (sổ đăng ký trên bản sao).

An AIP is immutable once stored, so it can only hold what was known when it was made. Two
things a rebuilt catalog needs are not about one dossier, or keep growing after the AIP:

* the **event log**: the whole hash chain (logins, audits, backups, disposals and the
  dossiers' own events alike). After every accession (and on demand) the events a replica
  does not hold yet are appended to it as one segment, ``events/<first seq>-<last seq>.jsonl``
  (12-digit numbers, one JSON object per event with every column the chain hash covers plus
  ``hash``). Segments are only ever added; the replica's latest segment says how far it goes.
* the **agency register** (``registers/agencies.json``): every agency with its parent, short
  name, archive code, validity and state, rewritten whole after each accession.

``luutru catalog rebuild`` restores both before reading the AIPs, so the rebuilt catalog's
chain is the old chain (it verifies with ``luutru events verify``) up to the last export, and
the agencies have their hierarchy. Events after the last export (at most those since the
last accession or ``luutru events export``) are lost; the rebuild's own events follow.
This does not replace the signed chain checkpoints on replicas (another module): those prove
the head of the chain; the segments carry the events themselves.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog import Agency, Event, EventType, Outcome
from archive.events import GENESIS, event_hash
from archive.storage import Replica, StorageError
from archive.vntime import as_utc

log = logging.getLogger(__name__)

EVENTS_PREFIX = "events/"
AGENCIES_KEY = "registers/agencies.json"
_SEGMENT = re.compile(r"^events/(\d{12})-(\d{12})\.jsonl$")
BATCH = 2000


def _segments(replica: Replica) -> list[tuple[int, int, str]]:
    out = []
    for key in replica.list(EVENTS_PREFIX):
        m = _SEGMENT.match(key)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), key))
    return sorted(out)


def event_row(ev: Event) -> dict[str, Any]:
    """One event as stored in a segment: every field of the chain hash, and the hash."""
    return {
        "seq": ev.seq,
        "uuid": ev.uuid,
        "type": EventType(ev.type).value,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "agent_type": ev.agent_type,
        "agent": ev.agent,
        "occurred_at": as_utc(ev.occurred_at).isoformat(timespec="microseconds"),
        "outcome": Outcome(ev.outcome).value,
        "detail": ev.detail,
        "data": ev.data,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }


def export_events(sessions: sessionmaker[Session], replicas: Sequence[Replica]) -> dict[str, int]:
    """Append to each replica the events it does not hold yet; return events written per replica.

    A replica that cannot be written is skipped (logged); the next export catches it up.
    """
    written: dict[str, int] = {}
    for replica in replicas:
        try:
            segments = _segments(replica)
            last = segments[-1][1] if segments else 0
            buf = io.BytesIO()
            first = end = 0
            with sessions() as s:
                while True:
                    rows = s.scalars(
                        select(Event).where(Event.seq > max(last, end)).order_by(Event.seq).limit(BATCH)
                    ).all()
                    if not rows:
                        break
                    first = first or rows[0].seq
                    for ev in rows:
                        line = json.dumps(event_row(ev), ensure_ascii=False, sort_keys=True, default=str)
                        buf.write(line.encode("utf-8") + b"\n")
                    end = rows[-1].seq
                    s.expunge_all()
            if not end:
                written[replica.name] = 0
                continue
            buf.seek(0)
            replica.put_file(buf, f"{EVENTS_PREFIX}{first:012d}-{end:012d}.jsonl")
            written[replica.name] = end - first + 1
        except (OSError, StorageError) as exc:
            log.warning("event export failed", extra={"replica": replica.name, "error": str(exc)})
    return written


def export_agencies(sessions: sessionmaker[Session], replicas: Sequence[Replica]) -> None:
    """Write the agency register (hierarchy, short names, codes) to every replica."""
    with sessions() as s:
        agencies = s.scalars(select(Agency).order_by(Agency.id)).all()
        codes = {a.id: a.code for a in agencies}
        body = [
            {
                "code": a.code,
                "name": a.name,
                "short_name": a.short_name,
                "parent": codes.get(a.parent_id) if a.parent_id else None,
                "archive_code": a.archive_code,
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                "active": a.active,
            }
            for a in agencies
        ]
    data = json.dumps({"format": "luutru-agencies/1", "agencies": body}, ensure_ascii=False, indent=1)
    for replica in replicas:
        try:
            replica.put_file(io.BytesIO(data.encode("utf-8")), AGENCIES_KEY)
        except (OSError, StorageError) as exc:
            log.warning("agency register export failed", extra={"replica": replica.name, "error": str(exc)})


def export_registers(sessions: sessionmaker[Session], replicas: Sequence[Replica]) -> dict[str, int]:
    """Both exports (called after each accession and by ``luutru events export``)."""
    export_agencies(sessions, replicas)
    return export_events(sessions, replicas)


@dataclass(slots=True)
class RestoredRegisters:
    agencies: int = 0
    events: int = 0
    source: str | None = None  # the replica whose event segments were used
    problems: list[str] = field(default_factory=list)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def restore_agencies(s: Session, replicas: Sequence[Replica], result: RestoredRegisters) -> None:
    for replica in replicas:
        try:
            with replica.open(AGENCIES_KEY) as f:
                body = json.loads(f.read().decode("utf-8"))
        except (OSError, StorageError, ValueError) as exc:
            result.problems.append(f"{replica.name}: agency register unreadable: {exc}")
            continue
        rows = body.get("agencies") or []
        by_code = {a.code: a for a in s.scalars(select(Agency))}
        for row in rows:
            agency = by_code.get(row["code"])
            if agency is None:
                agency = Agency(code=row["code"], name=row["name"])
                s.add(agency)
                by_code[row["code"]] = agency
            agency.name = row["name"]
            agency.short_name = row.get("short_name")
            agency.archive_code = row.get("archive_code")
            agency.valid_from = _date(row.get("valid_from"))
            agency.valid_to = _date(row.get("valid_to"))
            agency.active = bool(row.get("active", True))
        s.flush()
        for row in rows:
            parent = row.get("parent")
            by_code[row["code"]].parent_id = by_code[parent].id if parent in by_code else None
        result.agencies = len(rows)
        return


def _read_segments(replica: Replica) -> list[dict[str, Any]]:
    """Every event on ``replica`` in order, as long as the chain holds (stops at a break)."""
    events: list[dict[str, Any]] = []
    prev, expected = GENESIS, 1
    for first, _end, key in _segments(replica):
        if first != expected:
            break  # a missing segment: what follows cannot be chained
        with replica.open(key) as f:
            for raw in f:
                row = json.loads(raw)
                if row["seq"] != expected or row["prev_hash"] != prev or _hash(row) != row["hash"]:
                    return events
                events.append(row)
                prev, expected = row["hash"], expected + 1
    return events


def _event(row: dict[str, Any]) -> Event:
    return Event(
        seq=row["seq"], uuid=row["uuid"], type=EventType(row["type"]), object_type=row["object_type"],
        object_id=row["object_id"], agent_type=row["agent_type"], agent=row["agent"],
        occurred_at=datetime.fromisoformat(row["occurred_at"]), outcome=Outcome(row["outcome"]),
        detail=row["detail"], data=row["data"], prev_hash=row["prev_hash"], hash=row["hash"],
    )  # fmt: skip


def _hash(row: dict[str, Any]) -> str:
    return event_hash(_event(row))


def restore_registers(sessions: sessionmaker[Session], replicas: Sequence[Replica]) -> RestoredRegisters:
    """Bring back the agency register and the longest verifying event chain found on a replica.

    Events are restored only into an empty event log (the rebuild starts from an empty
    catalog); each restored row is the exported row, so the chain verifies as before.
    """
    result = RestoredRegisters()
    with sessions() as s, s.begin():
        restore_agencies(s, replicas, result)
    best: list[dict[str, Any]] = []
    for replica in replicas:
        try:
            found = _read_segments(replica)
        except (OSError, StorageError, ValueError, KeyError) as exc:
            result.problems.append(f"{replica.name}: event segments unreadable: {exc}")
            continue
        if len(found) > len(best):
            best, result.source = found, replica.name
    with sessions() as s, s.begin():
        if s.scalar(select(func.count()).select_from(Event)):
            result.problems.append("the event log is not empty: exported events not restored")
            return result
        for start in range(0, len(best), BATCH):
            s.add_all(_event(row) for row in best[start : start + BATCH])
            s.flush()
        result.events = len(best)
    return result


# -- extracted text (văn bản trích xuất) -------------------------------------------------------
# Text is extracted (OCR included) after the AIP is stored, by the search worker; it is kept on
# every replica beside the AIPs so that a rebuilt catalog gets it back without re-extraction.
TEXTS_PREFIX = "texts/"


def text_key(dossier_code: str, ordinal: int) -> str:
    return f"{TEXTS_PREFIX}{dossier_code}/{ordinal:07d}.json"


def export_text(replicas: Sequence[Replica], dossier_code: str, ordinal: int, text: str, method: str) -> None:
    """Keep one document's extracted text on every replica (best effort, logged on failure)."""
    body = json.dumps({"text": text, "method": method}, ensure_ascii=False).encode("utf-8")
    for replica in replicas:
        try:
            replica.put_file(io.BytesIO(body), text_key(dossier_code, ordinal))
        except (OSError, StorageError) as exc:
            log.warning("text export failed", extra={"replica": replica.name, "error": str(exc)})


def restore_texts(s: Session, replicas: Sequence[Replica], dossier_code: str) -> int:
    """Give the dossier's documents their extracted text back from a replica; return how many."""
    from archive.catalog import Document, Dossier

    dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
    if dossier is None:
        return 0
    restored = 0
    for doc in s.scalars(select(Document).where(Document.dossier_id == dossier.id)):
        for replica in replicas:
            try:
                with replica.open(text_key(dossier_code, doc.ordinal)) as f:
                    body = json.loads(f.read().decode("utf-8"))
            except (OSError, StorageError, ValueError):
                continue
            doc.text_content = str(body.get("text") or "")
            doc.text_method = str(body.get("method") or "")[:20]
            restored += 1
            break
    return restored
