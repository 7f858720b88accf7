"""Legal holds (tạm dừng hủy: thanh tra, tố tụng…) and the guards every disposal stage runs.

A hold on an agency, a fonds, a dossier or one of its documents stops appraisal, every disposal
step and destruction of the dossier until the hold is released. A refused step is itself
evidence: ``refuse_if_held`` writes a failure event and commits it before raising, so the
refusal survives the caller's rollback.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import (
    Agency,
    Document,
    Dossier,
    EventType,
    Fonds,
    HoldScope,
    LegalHold,
    Outcome,
    Role,
    User,
)
from archive.errors import Conflict, NotFound
from archive.vntime import utcnow
from policies.errors import LegalHoldActive, RoleRequired

log = logging.getLogger(__name__)

HOLD_ROLES = (Role.ARCHIVIST, Role.ADMINISTRATOR)
_SCOPE_MODELS: dict[HoldScope, type[Agency | Fonds | Dossier | Document]] = {
    HoldScope.AGENCY: Agency,
    HoldScope.FONDS: Fonds,
    HoldScope.DOSSIER: Dossier,
    HoldScope.DOCUMENT: Document,
}


def require_role(user: User, roles: tuple[Role, ...], step: str) -> None:
    """Raise RoleRequired unless ``user`` is active and has one of ``roles``."""
    if not user.active or not user.has_role(*roles):
        raise RoleRequired(user.username, [r.value for r in roles], step)


def place_hold(
    session: Session,
    actor: User,
    scope: HoldScope | str,
    scope_id: int,
    kind: str,
    reason: str,
    reference: str | None = None,
) -> LegalHold:
    """Place a legal hold on an agency, fonds, dossier or document; records an event.

    Raises RoleRequired (archivist or administrator), NotFound (no such target) and
    ValueError (empty kind or reason).
    """
    require_role(actor, HOLD_ROLES, "place a legal hold")
    scope = HoldScope(scope)
    if not kind.strip() or not reason.strip():
        raise ValueError("a legal hold needs a kind and a reason")
    if session.get(_SCOPE_MODELS[scope], scope_id) is None:
        raise NotFound(scope.value, scope_id)
    hold = LegalHold(
        scope=scope, scope_id=scope_id, kind=kind, reason=reason, reference=reference, placed_by=actor.id
    )
    session.add(hold)
    session.flush()
    events.record(
        session,
        EventType.LEGAL_HOLD,
        object_type="legal_hold",
        object_id=hold.id,
        agent=events.Agent.person(actor.username),
        detail=f"legal hold placed on {scope.value} {scope_id}",
        data={
            "scope": scope.value,
            "scope_id": scope_id,
            "kind": kind,
            "reason": reason,
            "reference": reference,
        },
    )
    return hold


def release_hold(session: Session, actor: User, hold_id: int, reason: str) -> LegalHold:
    """Release an active hold; the reason goes into the event. Raises NotFound, Conflict."""
    require_role(actor, HOLD_ROLES, "release a legal hold")
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound("legal hold", hold_id)
    if hold.released_at is not None:
        raise Conflict(f"legal hold #{hold_id} was already released")
    if not reason.strip():
        raise ValueError("releasing a legal hold needs a reason")
    hold.released_at = utcnow()
    hold.released_by = actor.id
    session.flush()
    events.record(
        session,
        EventType.LEGAL_HOLD,
        object_type="legal_hold",
        object_id=hold.id,
        agent=events.Agent.person(actor.username),
        detail=f"legal hold released on {hold.scope.value} {hold.scope_id}",
        data={"scope": hold.scope.value, "scope_id": hold.scope_id, "reason": reason},
    )
    return hold


def is_held(session: Session, dossier: Dossier) -> LegalHold | None:
    """Return the oldest active hold covering ``dossier`` (its agency, fonds, itself or a document)."""
    doc_ids = select(Document.id).where(Document.dossier_id == dossier.id)
    scopes = [
        and_(LegalHold.scope == HoldScope.AGENCY, LegalHold.scope_id == dossier.agency_id),
        and_(LegalHold.scope == HoldScope.DOSSIER, LegalHold.scope_id == dossier.id),
        and_(LegalHold.scope == HoldScope.DOCUMENT, LegalHold.scope_id.in_(doc_ids)),
    ]
    if dossier.fonds_id is not None:
        scopes.append(and_(LegalHold.scope == HoldScope.FONDS, LegalHold.scope_id == dossier.fonds_id))
    query = (
        select(LegalHold).where(LegalHold.released_at.is_(None), or_(*scopes)).order_by(LegalHold.id).limit(1)
    )
    return session.scalars(query).first()


def active_holds(session: Session) -> list[LegalHold]:
    """Every hold not yet released, oldest first."""
    return list(
        session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id))
    )


def refuse_if_held(
    session: Session,
    dossiers: list[Dossier],
    step: str,
    agent: events.Agent,
    *,
    object_type: str = "dossier",
    object_id: object = None,
) -> None:
    """Raise LegalHoldActive when any of ``dossiers`` is held, after committing a failure event.

    The event names the step, the dossier and the hold. It is committed here, together with
    whatever the session already held, so that the refusal stays on record when the caller's
    transaction is rolled back by the exception.
    """
    for dossier in dossiers:
        hold = is_held(session, dossier)
        if hold is None:
            continue
        events.record(
            session,
            EventType.LEGAL_HOLD,
            object_type=object_type,
            object_id=object_id if object_id is not None else dossier.code,
            agent=agent,
            outcome=Outcome.FAILURE,
            detail=f"{step} refused: legal hold #{hold.id} ({hold.kind})",
            data={"step": step, "dossier": dossier.code, "hold_id": hold.id, "reference": hold.reference},
        )
        session.commit()
        log.info("step refused by legal hold", extra={"dossier": dossier.code, "hold_id": hold.id})
        raise LegalHoldActive(dossier.code, hold.id, step)
