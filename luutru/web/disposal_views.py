"""Retention and disposal in the console: due list, appraisal, cases, council, review, decision,
destruction, the papers and legal holds.

Each view parses its form, calls one function of ``policies.retention`` / ``policies.disposal`` /
``policies.holds`` exactly as ``luutru disposal`` does, and shows the result. The services check
roles, states, holds and four eyes; a refusal is shown in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import (
    AppraisalDecision,
    CouncilVote,
    DisposalCase,
    DisposalState,
    Dossier,
    HoldScope,
    LegalHold,
    RecordState,
    Role,
    Tombstone,
    User,
    Vote,
)
from archive.errors import ArchiveError, Conflict
from archive.vntime import vn_today
from luutru.disposal_wiring import Progress, execute_case, papers_dir
from luutru.web.auth import requires, web_services
from luutru.web.i18n import N_
from policies import disposal as svc
from policies import holds
from policies.disposal_documents import disposal_file_bundle
from policies.errors import (
    DestructionIncomplete,
    DuplicateVote,
    FourEyesViolation,
    InvalidAppraisal,
    InvalidTransition,
    LegalHoldActive,
    RoleRequired,
)
from policies.retention import list_due, mark_due

bp = Blueprint("disposal", __name__, url_prefix="/disposal")

VIEWERS = (Role.ARCHIVIST, Role.ADMINISTRATOR, Role.AUDITOR, Role.COUNCIL_MEMBER, Role.DECIDER)
Step = Callable[[Session, User], object]

STATE_LABELS = {
    DisposalState.DRAFT: N_("Draft"),
    DisposalState.COUNCIL: N_("Before the council"),
    DisposalState.REVIEW: N_("Under review (thẩm định)"),
    DisposalState.DECISION: N_("Awaiting the decision"),
    DisposalState.APPROVED: N_("Approved for destruction"),
    DisposalState.EXECUTING: N_("Being destroyed"),
    DisposalState.DESTROYED: N_("Destroyed"),
    DisposalState.REJECTED: N_("Rejected"),
}
VOTE_LABELS = {Vote.APPROVE: N_("Approve"), Vote.REJECT: N_("Reject"), Vote.ABSTAIN: N_("Abstain")}


@bp.app_template_filter("disposal_state")
def state_label(state: DisposalState) -> str:
    return str(_(STATE_LABELS[state]))


@bp.app_template_filter("disposal_vote")
def vote_label(ballot: Vote) -> str:
    return str(_(VOTE_LABELS[ballot]))


def refusal_message(exc: Exception) -> str:
    """A refused step, in Vietnamese and English (the services' own text is English)."""
    if isinstance(exc, LegalHoldActive):
        vi = f"Hồ sơ {exc.dossier_code} đang bị phong tỏa pháp lý (lệnh #{exc.hold_id}): không được thực hiện bước này."
    elif isinstance(exc, FourEyesViolation):
        vi = "Người đề nghị hủy không được tự quyết định hủy (nguyên tắc bốn mắt)."
    elif isinstance(exc, RoleRequired):
        vi = "Bạn không có vai trò cần cho bước này."
    elif isinstance(exc, InvalidTransition):
        vi = f"Trạng thái hiện tại ({exc.state}) không cho phép bước này."
    elif isinstance(exc, DuplicateVote):
        vi = "Bạn đã biểu quyết về hồ sơ hủy này."
    elif isinstance(exc, DestructionIncomplete):
        vi = f"Việc hủy chưa hoàn tất trên bản sao {exc.replica}."
    elif isinstance(exc, InvalidAppraisal | ValueError):
        vi = "Thiếu hoặc sai thông tin bắt buộc."
    elif isinstance(exc, Conflict):
        vi = "Xung đột với trạng thái hiện tại."
    else:
        vi = "Yêu cầu bị từ chối."
    return f"Từ chối: {vi} — Refused: {exc}"


def _me(s: Session) -> User:
    user = s.get(User, current_user.user_id)
    if user is None:
        abort(403)
    return user


def _act(step: Step, done: str) -> bool:
    """Run one service call in one transaction; flash ``done`` or the refusal."""
    with web_services().session() as s:
        try:
            step(s, _me(s))
            s.commit()
        except (ArchiveError, ValueError) as exc:
            s.rollback()
            flash(refusal_message(exc), "error")
            return False
    flash(done, "info")
    return True


def _case(s: Session, code: str) -> DisposalCase:
    case = s.scalar(select(DisposalCase).where(DisposalCase.code == code))
    if case is None:
        abort(404)
    return case


def _dossier(s: Session, code: str) -> Dossier:
    dossier = s.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        abort(404)
    return dossier


def _form(name: str, limit: int = 2000) -> str:
    return request.form.get(name, "").strip()[:limit]


# -- due list, appraisal ------------------------------------------------------------------------


@bp.get("/")
@requires(*VIEWERS)
def index() -> ResponseReturnValue:
    with web_services().session() as s:
        report = list_due(s, vn_today())
        under_review = s.scalars(
            select(Dossier).where(Dossier.state == RecordState.UNDER_REVIEW).order_by(Dossier.code)
        ).all()
        proposed = [d for d in under_review if svc.pending_proposal(s, d) is not None]
        cases = s.scalars(select(DisposalCase).order_by(DisposalCase.id.desc())).all()
        states = {
            d.id: d.state
            for d in s.scalars(select(Dossier).where(Dossier.id.in_([e.dossier_id for e in report.due])))
        }
        return render_template(
            "disposal/index.html",
            report=report,
            proposed=proposed,
            cases=cases,
            states=states,
            RecordState=RecordState,
        )


@bp.post("/due/mark")
@requires(Role.ARCHIVIST)
def mark() -> ResponseReturnValue:
    with web_services().sessions.begin() as s:
        report = mark_due(s, vn_today())
    flash(_("%(n)d dossiers marked for disposal review (Xem xét hủy).", n=report.marked), "info")
    return redirect(url_for("disposal.index"))


@bp.route("/dossiers/<path:code>/appraise", methods=["GET", "POST"])
@requires(Role.ARCHIVIST)
def appraise(code: str) -> ResponseReturnValue:
    if request.method == "POST":
        years = _form("years", 4)

        def step(s: Session, me: User) -> object:
            return svc.appraise(
                s,
                _dossier(s, code),
                me,
                _form("decision", 10),
                _form("reason"),
                int(years) if years.isdigit() else None,
                today=vn_today(),
            )

        if _act(step, _("Appraisal recorded.")):
            return redirect(url_for("disposal.index"))
    with web_services().session() as s:
        dossier = _dossier(s, code)
        return render_template("disposal/appraise.html", dossier=dossier, Decision=AppraisalDecision)


# -- the case ------------------------------------------------------------------------------------


@bp.post("/cases")
@requires(Role.ARCHIVIST)
def open_case() -> ResponseReturnValue:
    codes = request.form.getlist("dossier")[:500]
    created: list[str] = []

    def step(s: Session, me: User) -> object:
        case = svc.open_case(
            s, me, _form("title", 500), [_dossier(s, c) for c in codes], _form("note", 10_000)
        )
        created.append(case.code)
        return case

    if _act(step, _("Disposal case opened.")):
        return redirect(url_for("disposal.case", code=created[0]))
    return redirect(url_for("disposal.index"))


@bp.get("/cases/<code>")
@requires(*VIEWERS)
def case(code: str) -> ResponseReturnValue:
    with web_services().session() as s:
        found = _case(s, code)
        names = {u.id: u for u in s.scalars(select(User))}
        votes = s.scalars(
            select(CouncilVote).where(CouncilVote.case_id == found.id).order_by(CouncilVote.id)
        ).all()
        tombstones = {
            t.dossier_id: t
            for t in s.scalars(select(Tombstone).where(Tombstone.disposal_case_id == found.id))
        }
        members = svc.council_members(s)
        voted = {v.user_id for v in votes}
        return render_template(
            "disposal/case.html",
            case=found,
            State=DisposalState,
            Vote=Vote,
            dossiers=svc.case_dossiers(s, found),
            votes=votes,
            names=names,
            members=members,
            tombstones=tombstones,
            may_vote=current_user.has(Role.COUNCIL_MEMBER) and current_user.user_id not in voted,
            papers=sorted(found.documents or {}),
        )


def _case_step(
    code: str, done: str, action: Callable[[Session, DisposalCase, User], object]
) -> ResponseReturnValue:
    _act(lambda s, me: action(s, _case(s, code), me), done)
    return redirect(url_for("disposal.case", code=code))


@bp.post("/cases/<code>/submit")
@requires(Role.ARCHIVIST)
def submit(code: str) -> ResponseReturnValue:
    return _case_step(code, _("Submitted to the council."), svc.submit_to_council)


@bp.post("/cases/<code>/vote")
@requires(Role.COUNCIL_MEMBER)
def vote(code: str) -> ResponseReturnValue:
    ballot, opinion = _form("vote", 10), _form("opinion", 10_000) or None
    return _case_step(
        code, _("Your vote was recorded."), lambda s, c, me: svc.vote(s, c, me, ballot, opinion)
    )


@bp.post("/cases/<code>/close")
@requires(Role.ARCHIVIST)
def close(code: str) -> ResponseReturnValue:
    return _case_step(code, _("The council was concluded."), svc.close_council)


@bp.post("/cases/<code>/review")
@requires(Role.ARCHIVIST)
def review(code: str) -> ResponseReturnValue:
    reference, opinion = _form("reference", 300), _form("opinion", 10_000)
    approved = request.form.get("approved") == "yes"
    return _case_step(
        code,
        _("The review (thẩm định) was recorded."),
        lambda s, c, me: svc.record_review(s, c, me, reference, opinion, approved),
    )


@bp.post("/cases/<code>/decide")
@requires(Role.DECIDER)
def decide(code: str) -> ResponseReturnValue:
    reference, approve = _form("reference", 300), request.form.get("approve") == "yes"
    deadline_days = web_services().settings.disposal_deadline_days
    return _case_step(
        code,
        _("The decision was recorded."),
        lambda s, c, me: svc.decide(
            s, c, me, reference, deadline_days=deadline_days, approve=approve, today=vn_today()
        ),
    )


@bp.post("/cases/<code>/execute")
@requires(Role.ARCHIVIST, Role.ADMINISTRATOR)
def execute(code: str) -> ResponseReturnValue:
    services = web_services()
    with services.session() as s:
        found, me = _case(s, code), _me(s)
        s.expunge_all()
    progress = Progress()
    try:
        report, paths = execute_case(services, found, me, vn_today(), progress)
    except (ArchiveError, ValueError) as exc:
        flash(refusal_message(exc), "error")
        return redirect(url_for("disposal.case", code=code))
    flash(_("Destruction completed on every replica and in the index."), "info")
    return render_template(
        "disposal/executed.html",
        code=code,
        report=report,
        steps=progress.steps,
        papers=[p.name for p in paths],
    )


@bp.post("/cases/<code>/papers")
@requires(Role.ARCHIVIST)
def make_papers(code: str) -> ResponseReturnValue:
    settings = web_services().settings
    step = lambda s, c, me: disposal_file_bundle(s, c, papers_dir(settings, c.code))  # noqa: E731
    return _case_step(code, _("The papers were generated."), step)


@bp.get("/cases/<code>/papers/<name>")
@requires(*VIEWERS)
def paper(code: str, name: str) -> ResponseReturnValue:
    """Download one generated paper: only a file the case records, from the case's folder."""
    with web_services().session() as s:
        found = _case(s, code)
        if name not in (found.documents or {}):
            abort(404)
    folder = papers_dir(web_services().settings, code).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        abort(404)
    return send_file(Path(path), as_attachment=True, download_name=name, max_age=0)


# -- legal holds ---------------------------------------------------------------------------------


@bp.get("/holds")
@requires(*VIEWERS)
def hold_list() -> ResponseReturnValue:
    with web_services().session() as s:
        active = holds.active_holds(s)
        dossier_ids = [h.scope_id for h in active if h.scope is HoldScope.DOSSIER]
        codes = {
            i: c for i, c in s.execute(select(Dossier.id, Dossier.code).where(Dossier.id.in_(dossier_ids)))
        }
        return render_template("disposal/holds.html", holds=active, codes=codes, Scope=HoldScope)


@bp.post("/holds")
@requires(Role.ARCHIVIST, Role.ADMINISTRATOR)
def place_hold() -> ResponseReturnValue:
    scope, target = _form("scope", 10), _form("target", 200)

    def step(s: Session, me: User) -> LegalHold:
        if scope == HoldScope.DOSSIER.value and not target.isdigit():
            scope_id = _dossier(s, target).id
        elif target.isdigit():
            scope_id = int(target)
        else:
            raise ValueError("give the dossier code or the id of the agency, fonds or document")
        return holds.place_hold(
            s, me, scope, scope_id, _form("kind", 30), _form("reason"), _form("reference", 200) or None
        )

    _act(step, _("The legal hold was placed."))
    return redirect(url_for("disposal.hold_list"))


@bp.post("/holds/<int:hold_id>/release")
@requires(Role.ARCHIVIST, Role.ADMINISTRATOR)
def release_hold(hold_id: int) -> ResponseReturnValue:
    reason = _form("reason")
    _act(lambda s, me: holds.release_hold(s, me, hold_id, reason), _("The legal hold was released."))
    return redirect(url_for("disposal.hold_list"))


__all__ = ["bp", "refusal_message"]
