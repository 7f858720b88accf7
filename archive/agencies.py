"""Agency register: create and look up agencies by their electronic identifier code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.agency_code import validate_agency_code
from archive.catalog import Agency, EventType
from archive.errors import Conflict, NotFound
from archive.findings import Severity


class InvalidAgencyCode(Conflict, ValueError):
    def __init__(self, code: str, reasons: list[str]) -> None:
        super().__init__(f"invalid agency code {code!r}: {'; '.join(reasons)}")
        self.code, self.reasons = code, reasons


def create_agency(
    session: Session,
    code: str,
    name: str,
    *,
    short_name: str | None = None,
    parent: Agency | None = None,
    actor: events.Agent = events.SYSTEM,
) -> Agency:
    """Register an agency after validating its code (QCVN 102:2016 SĐ 1:2022); records an event."""
    problems = [f.message_en for f in validate_agency_code(code) if f.severity is Severity.ERROR]
    if problems:
        raise InvalidAgencyCode(code, problems)
    if session.scalar(select(Agency).where(Agency.code == code)) is not None:
        raise Conflict(f"agency {code} exists")
    agency = Agency(code=code, name=name, short_name=short_name, parent_id=parent.id if parent else None)
    session.add(agency)
    session.flush()
    events.record(
        session,
        EventType.ADMINISTRATION,
        object_type="agency",
        object_id=code,
        agent=actor,
        detail="agency registered",
        data={"name": name},
    )
    return agency


def get_agency(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound("agency", code)
    return agency
