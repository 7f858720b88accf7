"""The edXML exchange trail of a submission as PREMIS events of its package (incoming provenance).

Each document built from an edXML message carries ``_edxml`` (see
``ingest.intake.edxml_mapping.provenance``): its ``DocumentId``, sender, and the exchange's
``TraceHeaderList`` (each hop: OrganId, Timestamp). Each hop becomes one ``transfer`` event with
the hop's organisation as agent, so the AIP's PREMIS tells how the document travelled before
the archive received it. Timestamps are Vietnam time (``YYYY/MM/DD HH:MM:SS`` or
``DD/MM/YYYY HH:MM:SS``); one that cannot be read is kept in the detail, dated at receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from archive.vntime import as_utc
from ingest.package.premis import Outcome, PremisEvent

__all__ = ["exchange_events"]

_FORMATS = ("%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d")
_VN = datetime.fromisoformat("2000-01-01T00:00:00+07:00").tzinfo


def _when(text: str, default: datetime) -> datetime:
    for fmt in _FORMATS:
        try:
            return as_utc(datetime.strptime(text.strip(), fmt).replace(tzinfo=_VN))
        except ValueError:
            continue
    return default


def _hops(trace: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    hops = trace.get("TraceHeader") or []
    return [h for h in (hops if isinstance(hops, list) else [hops]) if isinstance(h, Mapping)]


def exchange_events(documents: Iterable[Mapping[str, Any]], received: datetime) -> list[PremisEvent]:
    """One ``transfer`` event per trace hop of each distinct edXML message among ``documents``."""
    out: list[PremisEvent] = []
    seen: set[str] = set()
    for doc in documents:
        trail = doc.get("_edxml")
        if not isinstance(trail, Mapping) or str(trail.get("message")) in seen:
            continue
        seen.add(str(trail.get("message")))
        document_id = str(trail.get("document_id") or "")
        for hop in _hops(trail.get("trace") or {}):
            organ, stamp = str(hop.get("OrganId") or ""), str(hop.get("Timestamp") or "")
            out.append(
                PremisEvent(
                    f"uuid-{uuid.uuid4()}", "transfer", _when(stamp, received), Outcome.SUCCESS,
                    detail=f"edXML exchange (QCVN 102:2016): {document_id} passed {organ} at {stamp}",
                    agents=(("organization", organ),) if organ else (),
                )
            )  # fmt: skip
    return out
