"""The researcher portal (cổng độc giả): home, a dossier's page, access requests.

Every record page asks ``policies.access``; a record whose metadata the actor may not see
answers 404, so its existence is not disclosed. Reading a restricted record's content under an
approved request is a DISSEMINATION event (NĐ 30/2020 PL VI III.6: log access and use).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import events
from archive.catalog import (
    AccessMode,
    AccessRequest,
    AccessRequestState,
    Agency,
    Dossier,
    EventType,
    Role,
    Tombstone,
)
from luutru.web.auth import current_actor, requires, web_services
from policies.access import Actor, Decision, RecordFacts, can_read_content, can_see_metadata
from search.folding import MAX_QUERY_CHARS

bp = Blueprint("portal", __name__, url_prefix="/portal")

MODE_LABELS = {
    AccessMode.OPEN: "01 Công khai",
    AccessMode.CONDITIONAL: "02 Sử dụng có điều kiện",
    AccessMode.SECRET: "03 Mật",
}


def facts(s: Session, dossier: Dossier) -> RecordFacts:
    code = s.scalar(select(Agency.code).where(Agency.id == dossier.agency_id))
    return RecordFacts(code, dossier.access_mode, dossier.state, dossier.id)


def visible_dossier(s: Session, actor: Actor, dossier: Dossier | None) -> tuple[Dossier, RecordFacts]:
    """``dossier`` and its facts if ``actor`` may see its metadata; 404 otherwise (existence not disclosed)."""
    if dossier is None:
        abort(404)
    record = facts(s, dossier)
    if not can_see_metadata(actor, record).allowed:
        abort(404)
    return dossier, record


def read_under_request(s: Session, actor: Actor, dossier: Dossier, content: Decision, what: str) -> None:
    """The dissemination event when a restricted dossier is read under an approved access request."""
    if content.reason_code == "access.allowed.access_request":
        events.record(
            s,
            EventType.DISSEMINATION,
            object_type="dossier",
            object_id=dossier.code,
            agent=events.Agent.person(actor.username or "-"),
            detail=f"restricted dossier read under an approved access request: {what}",
            data={"mode": dossier.access_mode.value},
        )


@bp.get("/")
def home() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    return render_template("portal/home.html", query=query, max_query=MAX_QUERY_CHARS)


@bp.get("/dossiers/<int:dossier_id>")
def dossier(dossier_id: int) -> ResponseReturnValue:
    actor = current_actor()
    with web_services().sessions.begin() as s:
        loaded = s.get(Dossier, dossier_id, options=[selectinload(Dossier.documents)])
        found, record = visible_dossier(s, actor, loaded)
        metadata = can_see_metadata(actor, record)
        content = can_read_content(actor, record)
        tombstone = None
        if metadata.reason_code == "access.allowed.tombstone":
            tombstone = s.scalar(select(Tombstone).where(Tombstone.dossier_id == found.id))
        read_under_request(s, actor, found, content, "dossier page")
        documents = list(found.documents) if content.allowed else []
        return render_template(
            "portal/dossier.html",
            dossier=found,
            agency_code=record.agency_code,
            mode_label=MODE_LABELS[found.access_mode],
            metadata=metadata,
            content=content,
            documents=documents,
            tombstone=tombstone,
            can_request=actor.has(Role.RESEARCHER) and not content.allowed and tombstone is None,
        )


@bp.get("/requests")
@requires(Role.RESEARCHER)
def my_requests() -> ResponseReturnValue:
    actor = current_actor()
    with web_services().session() as s:
        rows = s.scalars(
            select(AccessRequest)
            .options(selectinload(AccessRequest.dossier))
            .where(AccessRequest.requester_id == actor.user_id)
            .order_by(AccessRequest.created_at.desc())
        ).all()
    return render_template("portal/requests.html", rows=rows, State=AccessRequestState)


@bp.route("/requests/new", methods=["GET", "POST"])
@requires(Role.RESEARCHER)
def new_request() -> ResponseReturnValue:
    actor = current_actor()
    raw = request.values.get("dossier_id", "").strip()
    if request.method == "GET":
        return render_template("portal/request_form.html", dossier_id=raw, purpose="")
    purpose = request.form.get("purpose", "").strip()[:2000]
    if not raw.isdigit() or not purpose:
        flash(_("Give the dossier number and the purpose of your request."), "error")
        return render_template("portal/request_form.html", dossier_id=raw, purpose=purpose), 400
    with web_services().sessions.begin() as s:
        dossier = s.get(Dossier, int(raw))
        record = facts(s, dossier) if dossier else None
        if dossier is None or record is None or not can_see_metadata(actor, record).allowed:
            flash(_("No dossier with this number is open to requests."), "error")
            return render_template("portal/request_form.html", dossier_id=raw, purpose=purpose), 404
        if can_read_content(actor, record).allowed:
            flash(_("You can already read this dossier."), "info")
            return redirect(url_for("portal.dossier", dossier_id=dossier.id))
        pending = s.scalar(
            select(AccessRequest.id).where(
                AccessRequest.requester_id == actor.user_id,
                AccessRequest.dossier_id == dossier.id,
                AccessRequest.state == AccessRequestState.PENDING,
            )
        )
        if pending is None:
            row = AccessRequest(requester_id=actor.user_id, dossier_id=dossier.id, purpose=purpose)
            s.add(row)
            s.flush()
            events.record(
                s,
                EventType.ADMINISTRATION,
                object_type="access_request",
                object_id=row.id,
                agent=events.Agent.person(actor.username or "-"),
                detail="access request submitted",
                data={"dossier_id": dossier.id},
            )
    flash(_("Your request was sent to the archivists."), "info")
    return redirect(url_for("portal.my_requests"))


__all__ = ["MODE_LABELS", "bp", "facts"]
