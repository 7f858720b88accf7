"""The archivist's console: the dashboard and the queue of access requests to answer."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from archive import events
from archive.catalog import AccessRequest, AccessRequestState, EventType, Role, SubmissionState, User
from archive.vntime import utcnow
from luutru.web.auth import current_actor, requires, web_services
from luutru.web.charts import Bar, StackedBar, bar_chart, human_bytes, stacked_bar_chart
from luutru.web.dashboard import Dashboard, build_dashboard
from luutru.web.i18n import N_

bp = Blueprint("console", __name__, url_prefix="/console")

READING_PERIOD = timedelta(days=15)  # bản đọc: reading period ≤ 15 days


SUBMISSION_LABELS = {
    SubmissionState.RECEIVED: N_("Received"),
    SubmissionState.VALIDATING: N_("Validating"),
    SubmissionState.IN_REVIEW: N_("In review"),
    SubmissionState.ACCEPTED: N_("Accepted"),
    SubmissionState.REJECTED: N_("Rejected"),
    SubmissionState.WITHDRAWN: N_("Withdrawn"),
    SubmissionState.ARCHIVED: N_("Archived"),
}


def _charts(board: Dashboard) -> dict[str, Markup]:
    empty = _("No data yet")
    holdings = [Bar(f"{h.agency_code} · {h.year or '—'}", h.dossiers) for h in board.holdings]
    submissions = [Bar(_(SUBMISSION_LABELS[state]), n) for state, n in board.submissions.items()]
    fixity = [StackedBar(r.replica, (r.ok, r.damaged, r.missing)) for r in board.replicas]
    storage = [Bar(name, size) for name, size in board.storage.items()]
    return {
        "holdings": bar_chart(holdings, title=_("Holdings by agency and year"), empty_text=empty),
        "submissions": bar_chart(submissions, title=_("Submissions by state"), empty_text=empty),
        "fixity": stacked_bar_chart(
            fixity,
            (_("intact"), _("damaged"), _("missing")),
            title=_("Fixity health per replica"),
            empty_text=empty,
        ),
        "storage": bar_chart(storage, title=_("Storage used per replica"), empty_text=empty, fmt=human_bytes),
    }


@bp.get("/")
@requires(Role.ARCHIVIST, Role.ADMINISTRATOR, Role.AUDITOR)
def dashboard() -> ResponseReturnValue:
    svc = web_services()
    with svc.session() as s:
        board = build_dashboard(s, utcnow(), svc.settings.fixity_interval_days)
    return render_template(
        "console/dashboard.html",
        board=board,
        charts=_charts(board),
        labels=SUBMISSION_LABELS,
        human_bytes=human_bytes,
    )


@bp.get("/access-requests")
@requires(Role.ARCHIVIST)
def access_requests() -> ResponseReturnValue:
    with web_services().session() as s:
        rows = s.scalars(
            select(AccessRequest)
            .options(joinedload(AccessRequest.dossier))
            .order_by(AccessRequest.state != AccessRequestState.PENDING, AccessRequest.created_at.desc())
            .limit(200)
        ).all()
        people = s.execute(select(User.id, User.username).where(User.id.in_({r.requester_id for r in rows})))
        names = {user_id: username for user_id, username in people}
    return render_template("console/access_requests.html", rows=rows, names=names, State=AccessRequestState)


@bp.post("/access-requests/<int:request_id>")
@requires(Role.ARCHIVIST)
def decide_access_request(request_id: int) -> ResponseReturnValue:
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        abort(400)
    answer = request.form.get("answer", "").strip()[:1000] or None
    actor = current_actor()
    now = utcnow()
    with web_services().sessions.begin() as s:
        row = s.get(AccessRequest, request_id)
        if row is None:
            abort(404)
        if row.state is not AccessRequestState.PENDING:
            flash(_("This request has already been answered."), "error")
            return redirect(url_for("console.access_requests"))
        row.state = AccessRequestState.APPROVED if decision == "approve" else AccessRequestState.REFUSED
        row.decided_by = actor.user_id
        row.decided_at = now
        row.answer = answer
        row.expires_at = now + READING_PERIOD if decision == "approve" else None
        events.record(
            s,
            EventType.ADMINISTRATION,
            object_type="access_request",
            object_id=row.id,
            agent=events.Agent.person(actor.username or "-"),
            detail=f"access request {row.state.value}",
            data={"dossier_id": row.dossier_id, "requester_id": row.requester_id},
        )
    if request.headers.get("HX-Request") == "true":  # htmx: answer with the updated row only
        with web_services().session() as s:
            row = s.get(AccessRequest, request_id, options=[joinedload(AccessRequest.dossier)])
            requester = s.get(User, row.requester_id) if row else None
            names = {requester.id: requester.username} if requester else {}
        return render_template("console/_request_row.html", r=row, names=names, State=AccessRequestState)
    if decision == "approve":
        flash(_("Request approved for 15 days."), "info")
    else:
        flash(_("Request refused."), "info")
    return redirect(url_for("console.access_requests"))


__all__ = ["READING_PERIOD", "bp"]
