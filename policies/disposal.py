"""Appraisal and lawful disposal (tiêu hủy tài liệu hết thời hạn lưu trữ), step by step.

The steps follow Luật Lưu trữ 2024 khoản 6 Điều 16 with TT 06/2025/TT-BNV (and Luật 2011
Điều 18, 28 for older holdings): appraisal of due dossiers → a disposal case with its danh mục
and bản thuyết minh → the Hội đồng xét hủy votes (majority; dissent kept verbatim) → thẩm định
by the competent body → quyết định hủy by the competent person, who must not be the proposer
(four eyes) → destruction within the deadline (``policies.destruction.execute``) → biên bản
hủy and a tombstone (``policies.disposal_documents``).

Every step writes an event; a legal hold on any dossier of the case refuses the step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import (
    Appraisal,
    AppraisalDecision,
    CouncilVote,
    DisposalCase,
    DisposalItem,
    DisposalState,
    Dossier,
    EventType,
    Outcome,
    RecordState,
    Role,
    User,
    UserRole,
    Vote,
)
from archive.errors import Conflict
from archive.vntime import to_vn, utcnow, vn_today
from policies.errors import DuplicateVote, FourEyesViolation, InvalidAppraisal, InvalidTransition
from policies.holds import refuse_if_held, require_role
from policies.retention import code_for_years, due_date

log = logging.getLogger(__name__)

ARCHIVIST_ROLES = (Role.ARCHIVIST,)
OPEN_STATES = (
    DisposalState.DRAFT,
    DisposalState.COUNCIL,
    DisposalState.REVIEW,
    DisposalState.DECISION,
    DisposalState.APPROVED,
    DisposalState.EXECUTING,
)


def agent_of(user: User) -> events.Agent:
    return events.Agent.person(user.username)


def case_dossiers(session: Session, case: DisposalCase) -> list[Dossier]:
    """The dossiers listed in the case's danh mục, in the order they were added."""
    query = select(Dossier).join(DisposalItem, DisposalItem.dossier_id == Dossier.id)
    return list(session.scalars(query.where(DisposalItem.case_id == case.id).order_by(DisposalItem.id)))


def require_state(case: DisposalCase, step: str, *states: DisposalState) -> None:
    if case.state not in states:
        raise InvalidTransition(f"disposal case {case.code}", case.state.value, step)


def _case_event(
    session: Session, case: DisposalCase, actor: User, detail: str, data: dict[str, object] | None = None
) -> None:
    events.record(
        session,
        EventType.DISPOSAL,
        object_type="disposal_case",
        object_id=case.code,
        agent=agent_of(actor),
        detail=detail,
        data={"state": case.state.value, **(data or {})},
    )


def guard_case(session: Session, case: DisposalCase, actor: User, step: str) -> None:
    refuse_if_held(
        session,
        case_dossiers(session, case),
        step,
        agent_of(actor),
        object_type="disposal_case",
        object_id=case.code,
    )


# -- appraisal (xác định giá trị tài liệu) ----------------------------------------------------


def appraise(
    session: Session,
    dossier: Dossier,
    actor: User,
    decision: AppraisalDecision | str,
    reason: str,
    new_years: int | None = None,
    *,
    today: date | None = None,
) -> Appraisal:
    """Record an appraisal of an active or due dossier.

    ``keep`` (giữ lại) needs a reason and a new period; ``extend`` (kéo dài) needs ``new_years``
    longer than the current period; both return the dossier to ACTIVE with the new period, which
    must end after ``today``. ``propose`` (đề nghị hủy) needs the dossier to be due ("Xem xét
    hủy") and makes it eligible for a disposal case. Every decision needs a reason.
    Raises RoleRequired, InvalidTransition, InvalidAppraisal, LegalHoldActive.
    """
    require_role(actor, ARCHIVIST_ROLES, "appraise a dossier")
    decision = AppraisalDecision(decision)
    if dossier.state not in (RecordState.ACTIVE, RecordState.UNDER_REVIEW):
        raise InvalidTransition(f"dossier {dossier.code}", dossier.state.value, "appraise")
    open_case_code = case_of(session, dossier)
    if open_case_code is not None:
        raise InvalidTransition(
            f"dossier {dossier.code}", f"listed in disposal case {open_case_code}", "appraise"
        )
    refuse_if_held(session, [dossier], "appraisal", agent_of(actor))
    today = today or vn_today()
    if not reason.strip():
        raise InvalidAppraisal("an appraisal needs a reason (lý do)")
    if decision is AppraisalDecision.PROPOSE:
        if dossier.state is not RecordState.UNDER_REVIEW:
            raise InvalidTransition(f"dossier {dossier.code}", dossier.state.value, "propose for disposal")
        if new_years is not None:
            raise InvalidAppraisal("a disposal proposal takes no new period")
    else:
        if new_years is None or new_years <= 0:
            raise InvalidAppraisal(f"{decision.value} needs a new period in years (new_years > 0)")
        old = dossier.retention_years
        if decision is AppraisalDecision.EXTEND and old is not None and new_years <= old:
            raise InvalidAppraisal(f"extend needs more than the current {old} years, got {new_years}")
        new_due = due_date(dossier.end_date, new_years)
        if new_due is not None and new_due <= today:
            raise InvalidAppraisal(f"a period of {new_years} years would already have ended on {new_due}")
        dossier.retention_years = new_years
        dossier.maintenance = code_for_years(new_years)
        dossier.retention_text = f"{new_years} năm (xác định lại / re-appraised)"
        dossier.state = RecordState.ACTIVE
    appraisal = Appraisal(
        dossier_id=dossier.id, decision=decision, reason=reason, new_years=new_years, appraised_by=actor.id
    )
    session.add(appraisal)
    session.flush()
    events.record(
        session,
        EventType.APPRAISAL,
        object_type="dossier",
        object_id=dossier.code,
        agent=agent_of(actor),
        detail=f"appraisal: {decision.value}",
        data={
            "appraisal": appraisal.id,
            "decision": decision.value,
            "reason": reason,
            "new_years": new_years,
        },
    )
    return appraisal


def case_of(session: Session, dossier: Dossier) -> str | None:
    """The code of the open (not rejected, not finished) disposal case listing ``dossier``, if any."""
    query = (
        select(DisposalCase.code)
        .join(DisposalItem, DisposalItem.case_id == DisposalCase.id)
        .where(DisposalItem.dossier_id == dossier.id, DisposalCase.state.in_(OPEN_STATES))
    )
    return session.scalars(query.limit(1)).first()


def pending_proposal(session: Session, dossier: Dossier) -> Appraisal | None:
    """The dossier's latest appraisal when it proposes disposal and no case has taken it yet."""
    query = select(Appraisal).where(Appraisal.dossier_id == dossier.id).order_by(Appraisal.id.desc()).limit(1)
    latest = session.scalars(query).first()
    if (
        latest is None
        or latest.decision is not AppraisalDecision.PROPOSE
        or latest.disposal_case_id is not None
    ):
        return None
    return latest


# -- the case, the council, the review, the decision --------------------------------------------


def open_case(
    session: Session, actor: User, title: str, dossiers: Sequence[Dossier], explanatory_note: str
) -> DisposalCase:
    """Open a disposal case: the danh mục tài liệu hết giá trị (``dossiers``) and bản thuyết minh.

    Each dossier must be "Xem xét hủy" with a pending disposal proposal and in no other open case.
    Raises RoleRequired, InvalidTransition, Conflict, ValueError, LegalHoldActive.
    """
    require_role(actor, ARCHIVIST_ROLES, "open a disposal case")
    if not dossiers:
        raise ValueError("a disposal case lists at least one dossier")
    if not title.strip() or not explanatory_note.strip():
        raise ValueError("a disposal case needs a title and an explanatory note (bản thuyết minh)")
    proposals: list[Appraisal] = []
    for dossier in dossiers:
        if dossier.state is not RecordState.UNDER_REVIEW:
            raise InvalidTransition(f"dossier {dossier.code}", dossier.state.value, "list for disposal")
        proposal = pending_proposal(session, dossier)
        if proposal is None:
            raise Conflict(f"dossier {dossier.code} has no pending disposal proposal (appraise it: propose)")
        proposals.append(proposal)
    refuse_if_held(session, list(dossiers), "open disposal case", agent_of(actor))
    year = vn_today().year
    count = session.scalar(select(func.count(DisposalCase.id)).where(DisposalCase.code.like(f"HUY-{year}-%")))
    case = DisposalCase(
        code=f"HUY-{year}-{(count or 0) + 1:04d}",
        title=title,
        explanatory_note=explanatory_note,
        proposed_by=actor.id,
        items=[DisposalItem(dossier_id=d.id) for d in dossiers],
    )
    session.add(case)
    session.flush()
    for proposal in proposals:
        proposal.disposal_case_id = case.id
    _case_event(session, case, actor, "disposal case opened", {"dossiers": [d.code for d in dossiers]})
    return case


def council_members(session: Session) -> list[User]:
    """Active users with the council-member role (Hội đồng xét hủy tài liệu), by id."""
    query = select(User).join(UserRole).where(UserRole.role == Role.COUNCIL_MEMBER, User.active.is_(True))
    return list(session.scalars(query.order_by(User.id)))


def submit_to_council(session: Session, case: DisposalCase, actor: User) -> DisposalCase:
    """DRAFT → COUNCIL. Raises RoleRequired, InvalidTransition, Conflict (no members), LegalHoldActive."""
    require_role(actor, ARCHIVIST_ROLES, "submit a case to the council")
    require_state(case, "submit to the council", DisposalState.DRAFT)
    guard_case(session, case, actor, "submit to council")
    members = council_members(session)
    if not members:
        raise Conflict("no council members: give the council_member role to the Hội đồng first")
    case.state = DisposalState.COUNCIL
    _case_event(session, case, actor, "submitted to the council", {"members": [m.username for m in members]})
    return case


def vote(
    session: Session, case: DisposalCase, member: User, vote: Vote | str, opinion: str | None = None
) -> CouncilVote:
    """Record one council member's vote; the opinion is kept word for word.

    When every member has voted the council concludes (see ``close_council``).
    Raises RoleRequired, InvalidTransition, DuplicateVote, LegalHoldActive.
    """
    require_role(member, (Role.COUNCIL_MEMBER,), "vote in the council")
    require_state(case, "vote", DisposalState.COUNCIL)
    guard_case(session, case, member, "council vote")
    if session.scalar(
        select(CouncilVote).where(CouncilVote.case_id == case.id, CouncilVote.user_id == member.id)
    ):
        raise DuplicateVote(f"{member.username} has already voted on {case.code}")
    ballot = CouncilVote(case_id=case.id, user_id=member.id, vote=Vote(vote), opinion=opinion)
    session.add(ballot)
    session.flush()
    _case_event(
        session,
        case,
        member,
        f"council vote: {ballot.vote.value}",
        {"vote": ballot.vote.value, "opinion": opinion},
    )
    voters = set(session.scalars(select(CouncilVote.user_id).where(CouncilVote.case_id == case.id)))
    if all(m.id in voters for m in council_members(session)):
        _conclude(session, case, member)
    return ballot


def close_council(session: Session, case: DisposalCase, actor: User) -> str:
    """Conclude the council with the votes cast so far; return "approved" or "rejected".

    The outcome is approval only when more than half of the members who voted approved
    (an abstention counts as a vote that does not approve). Raises InvalidTransition,
    Conflict (no votes), RoleRequired, LegalHoldActive.
    """
    require_role(actor, ARCHIVIST_ROLES, "close the council (thư ký Hội đồng)")
    require_state(case, "close the council", DisposalState.COUNCIL)
    guard_case(session, case, actor, "close council")
    return _conclude(session, case, actor)


def _conclude(session: Session, case: DisposalCase, actor: User) -> str:
    ballots = list(
        session.scalars(select(CouncilVote).where(CouncilVote.case_id == case.id).order_by(CouncilVote.id))
    )
    if not ballots:
        raise Conflict(f"no council member has voted on {case.code}")
    approvals = sum(b.vote is Vote.APPROVE for b in ballots)
    outcome = "approved" if approvals * 2 > len(ballots) else "rejected"
    case.council_outcome = outcome
    case.state = DisposalState.REVIEW if outcome == "approved" else DisposalState.REJECTED
    users = {
        u.id: u.username
        for u in session.scalars(select(User).where(User.id.in_([b.user_id for b in ballots])))
    }
    winning = Vote.APPROVE if outcome == "approved" else Vote.REJECT
    dissent = [
        {"member": users[b.user_id], "vote": b.vote.value, "opinion": b.opinion}
        for b in ballots
        if b.vote is not winning
    ]
    tally = {v.value: sum(b.vote is v for b in ballots) for v in Vote}
    _case_event(session, case, actor, f"council concluded: {outcome}", {"tally": tally, "dissent": dissent})
    return outcome


def record_review(
    session: Session, case: DisposalCase, actor: User, reference: str, opinion: str, approved: bool
) -> DisposalCase:
    """Record the thẩm định (appraisal review) by the competent body with its document reference.

    REVIEW → DECISION when approved, else REJECTED. Raises RoleRequired, InvalidTransition,
    ValueError (no reference), LegalHoldActive.
    """
    require_role(actor, ARCHIVIST_ROLES, "record the review (thẩm định)")
    require_state(case, "record the review", DisposalState.REVIEW)
    if not reference.strip():
        raise ValueError("the review needs the reference of its document (văn bản thẩm định)")
    guard_case(session, case, actor, "review")
    case.review_reference, case.review_opinion, case.reviewed_by = reference, opinion, actor.id
    case.state = DisposalState.DECISION if approved else DisposalState.REJECTED
    _case_event(
        session,
        case,
        actor,
        f"review recorded: {'approved' if approved else 'rejected'}",
        {"reference": reference, "opinion": opinion, "approved": approved},
    )
    return case


def decide(
    session: Session,
    case: DisposalCase,
    decider: User,
    reference: str,
    *,
    deadline_days: int = 15,
    approve: bool = True,
    today: date | None = None,
) -> DisposalCase:
    """Record the quyết định hủy: DECISION → APPROVED (or REJECTED when ``approve`` is False).

    The decider needs the DECIDER role and must not be the proposer (four eyes); a refusal is
    recorded as a failure event and committed. The deadline for destruction is the decision
    date (Vietnam time) + ``deadline_days`` (TT 06/2025: 15 ngày).
    Raises RoleRequired, FourEyesViolation, InvalidTransition, ValueError, LegalHoldActive.
    """
    require_role(decider, (Role.DECIDER,), "decide a disposal")
    require_state(case, "decide", DisposalState.DECISION)
    if decider.id == case.proposed_by:
        events.record(
            session,
            EventType.DISPOSAL,
            object_type="disposal_case",
            object_id=case.code,
            agent=agent_of(decider),
            outcome=Outcome.FAILURE,
            detail="decision refused: the proposer may not decide (four eyes)",
        )
        session.commit()
        raise FourEyesViolation(decider.username, case.code)
    if not reference.strip():
        raise ValueError("the decision needs its reference (số, ký hiệu quyết định)")
    guard_case(session, case, decider, "decision")
    now = utcnow()
    case.decided_by, case.decision_reference, case.decided_at = decider.id, reference, now
    if approve:
        case.state = DisposalState.APPROVED
        case.deadline = (today or to_vn(now).date()) + timedelta(days=deadline_days)
    else:
        case.state = DisposalState.REJECTED
    _case_event(
        session,
        case,
        decider,
        f"decision: {'destroy' if approve else 'do not destroy'}",
        {"reference": reference, "deadline": case.deadline},
    )
    return case
