"""Appraisal, the disposal case, the council, the review and the decision; legal holds on each step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import (
    Appraisal,
    AppraisalDecision,
    DisposalCase,
    DisposalState,
    Event,
    EventType,
    HoldScope,
    Outcome,
    RecordState,
    Vote,
)
from archive.errors import Conflict
from policies import disposal
from policies.errors import (
    DuplicateVote,
    FourEyesViolation,
    InvalidAppraisal,
    InvalidTransition,
    LegalHoldActive,
    RoleRequired,
)
from policies.holds import is_held, place_hold, release_hold
from policies.retention import mark_due
from tests.policies.conftest import MEMBERS, TODAY, World


def _case_in(world: World, s: Session, state: DisposalState, code: str = "D1") -> DisposalCase:
    """A case over dossier ``code`` advanced to ``state`` (DRAFT, COUNCIL, REVIEW or DECISION)."""
    archivist = world.user(s, "luu_tru_vien")
    mark_due(s, TODAY)
    d = world.dossier(s, code)
    disposal.appraise(s, d, archivist, "propose", "hết giá trị", today=TODAY)
    case = disposal.open_case(s, archivist, "Hủy", [d], "Thuyết minh")
    if state is DisposalState.DRAFT:
        return case
    disposal.submit_to_council(s, case, archivist)
    if state is DisposalState.COUNCIL:
        return case
    for m in MEMBERS:
        disposal.vote(s, case, world.user(s, m), Vote.APPROVE)
    if state is DisposalState.REVIEW:
        return case
    disposal.record_review(s, case, archivist, "1/TĐ", "đồng ý", approved=True)
    return case


def test_appraisal_rules(world: World) -> None:
    world.add_dossier("D1", packages=False)
    world.add_dossier("D2", packages=False)
    with world.session() as s:
        archivist = world.user(s, "luu_tru_vien")
        mark_due(s, TODAY)
        d1, d2 = world.dossier(s, "D1"), world.dossier(s, "D2")
        with pytest.raises(InvalidAppraisal):
            disposal.appraise(s, d1, archivist, "keep", "", 20, today=TODAY)  # keep needs a reason
        with pytest.raises(InvalidAppraisal):
            disposal.appraise(s, d1, archivist, "keep", "giá trị lịch sử", today=TODAY)  # and a period
        with pytest.raises(InvalidAppraisal):
            disposal.appraise(s, d1, archivist, "extend", "kéo dài", today=TODAY)  # extend needs new_years
        with pytest.raises(InvalidAppraisal):
            disposal.appraise(s, d1, archivist, "extend", "kéo dài", 8, today=TODAY)  # shorter than 10
        with pytest.raises(InvalidAppraisal):
            disposal.appraise(s, d1, archivist, "extend", "kéo dài", 10, today=TODAY)  # ends in the past
        with pytest.raises(RoleRequired):
            disposal.appraise(s, d1, world.user(s, "giam_doc"), "propose", "x", today=TODAY)
        kept = disposal.appraise(s, d1, archivist, AppraisalDecision.KEEP, "giá trị lịch sử", 20, today=TODAY)
        assert kept.new_years == 20
        assert (d1.state, d1.retention_years, d1.maintenance) == (RecordState.ACTIVE, 20, "05")
        with pytest.raises(InvalidTransition):
            disposal.appraise(s, d1, archivist, "propose", "hết giá trị", today=TODAY)  # not due any more
        disposal.appraise(s, d2, archivist, "propose", "hết giá trị", today=TODAY)
        assert disposal.pending_proposal(s, d2) is not None
        s.commit()
        assert len(s.scalars(select(Appraisal)).all()) == 2
        assert s.scalars(
            select(Event).where(Event.type == EventType.APPRAISAL, Event.object_id == "D1")
        ).all()


def test_open_case_needs_a_pending_proposal(world: World) -> None:
    world.add_dossier("D1", packages=False)
    with world.session() as s:
        archivist = world.user(s, "luu_tru_vien")
        mark_due(s, TODAY)
        d = world.dossier(s, "D1")
        with pytest.raises(Conflict):
            disposal.open_case(s, archivist, "Hủy", [d], "Thuyết minh")
        disposal.appraise(s, d, archivist, "propose", "hết giá trị", today=TODAY)
        with pytest.raises(ValueError):
            disposal.open_case(s, archivist, "Hủy", [d], " ")
        case = disposal.open_case(s, archivist, "Hủy", [d], "Thuyết minh")
        assert case.code.startswith("HUY-") and case.state is DisposalState.DRAFT
        with pytest.raises(Conflict):  # already taken by the case
            disposal.open_case(s, archivist, "Hủy lần hai", [d], "Thuyết minh")
        with pytest.raises(InvalidTransition):  # no re-appraisal while a case lists it
            disposal.appraise(s, d, archivist, "keep", "giá trị", 30, today=TODAY)
        assert disposal.case_of(s, d) == case.code


def test_council_majority_with_dissent_kept_verbatim(world: World) -> None:
    world.add_dossier("D1", packages=False)
    dissent = "Tôi không đồng ý: hồ sơ còn liên quan vụ việc đang khiếu nại (đơn ngày 02/01/2025)."
    with world.session() as s:
        case = _case_in(world, s, DisposalState.COUNCIL)
        with pytest.raises(RoleRequired):
            disposal.vote(s, case, world.user(s, "luu_tru_vien"), Vote.APPROVE)
        disposal.vote(s, case, world.user(s, MEMBERS[0]), Vote.APPROVE, "Đồng ý")
        with pytest.raises(DuplicateVote):
            disposal.vote(s, case, world.user(s, MEMBERS[0]), Vote.REJECT)
        disposal.vote(s, case, world.user(s, MEMBERS[1]), Vote.REJECT, dissent)
        assert case.state is DisposalState.COUNCIL  # one member has not voted
        disposal.vote(s, case, world.user(s, MEMBERS[2]), Vote.APPROVE)
        s.commit()
        assert (case.state, case.council_outcome) == (DisposalState.REVIEW, "approved")
        concluded = s.scalars(select(Event).where(Event.detail == "council concluded: approved")).one()
        assert concluded.data["dissent"] == [{"member": MEMBERS[1], "vote": "reject", "opinion": dissent}]
        assert concluded.data["tally"] == {"approve": 2, "reject": 1, "abstain": 0}


def test_council_closed_early_rejects_without_a_majority(world: World) -> None:
    world.add_dossier("D1", packages=False)
    with world.session() as s:
        case = _case_in(world, s, DisposalState.COUNCIL)
        disposal.vote(s, case, world.user(s, MEMBERS[0]), Vote.APPROVE)
        disposal.vote(s, case, world.user(s, MEMBERS[1]), Vote.ABSTAIN, "Chưa đủ thông tin")
        assert (
            disposal.close_council(s, case, world.user(s, "luu_tru_vien")) == "rejected"
        )  # 1 of 2 is no majority
        assert case.state is DisposalState.REJECTED
        with pytest.raises(InvalidTransition):
            disposal.record_review(s, case, world.user(s, "luu_tru_vien"), "1/TĐ", "x", approved=True)


def test_four_eyes_the_proposer_may_not_decide(world: World) -> None:
    world.add_dossier("D1", packages=False)
    with world.session() as s:
        admin = world.user(s, "quan_tri")  # archivist AND decider
        mark_due(s, TODAY)
        d = world.dossier(s, "D1")
        disposal.appraise(s, d, admin, "propose", "hết giá trị", today=TODAY)
        case = disposal.open_case(s, admin, "Hủy", [d], "Thuyết minh")
        disposal.submit_to_council(s, case, admin)
        for m in MEMBERS:
            disposal.vote(s, case, world.user(s, m), Vote.APPROVE)
        disposal.record_review(s, case, admin, "1/TĐ", "đồng ý", approved=True)
        s.commit()
        case_id = case.id
        with pytest.raises(FourEyesViolation):
            disposal.decide(s, case, admin, "9/QĐ", today=TODAY)
    with world.session() as s:
        case = world.case(s, case_id)
        assert case.state is DisposalState.DECISION and case.decided_by is None
        refusal = s.scalars(select(Event).where(Event.outcome == Outcome.FAILURE)).one()
        assert "four eyes" in refusal.detail and refusal.agent == "quan_tri"
        with pytest.raises(RoleRequired):
            disposal.decide(s, case, world.user(s, "luu_tru_vien_2"), "9/QĐ", today=TODAY)
        disposal.decide(s, case, world.user(s, "giam_doc"), "9/QĐ", deadline_days=15, today=date(2025, 3, 20))
        assert case.state is DisposalState.APPROVED and case.deadline == date(2025, 4, 4)
        s.commit()
        assert events.verify_chain(s).ok


Step = Callable[[World, Session, DisposalCase], object]
STEPS: dict[str, tuple[DisposalState | None, Step]] = {
    "appraise": (
        None,
        lambda w, s, c: disposal.appraise(
            s, w.dossier(s, "D1"), w.user(s, "luu_tru_vien"), "propose", "x", today=TODAY
        ),
    ),
    "submit": (
        DisposalState.DRAFT,
        lambda w, s, c: disposal.submit_to_council(s, c, w.user(s, "luu_tru_vien")),
    ),
    "vote": (DisposalState.COUNCIL, lambda w, s, c: disposal.vote(s, c, w.user(s, MEMBERS[0]), Vote.APPROVE)),
    "close": (DisposalState.COUNCIL, lambda w, s, c: disposal.close_council(s, c, w.user(s, "luu_tru_vien"))),
    "review": (
        DisposalState.REVIEW,
        lambda w, s, c: disposal.record_review(s, c, w.user(s, "luu_tru_vien"), "1/TĐ", "ok", approved=True),
    ),
    "decide": (DisposalState.DECISION, lambda w, s, c: disposal.decide(s, c, w.user(s, "giam_doc"), "9/QĐ")),
}


SCOPES = (HoldScope.DOSSIER, HoldScope.DOCUMENT, HoldScope.AGENCY)


@pytest.mark.parametrize(("step", "scope"), [(step, SCOPES[i % 3]) for i, step in enumerate(STEPS)])
def test_a_legal_hold_blocks_each_stage_and_the_refusal_is_recorded(
    world: World, step: str, scope: HoldScope
) -> None:
    dossier_id = world.add_dossier("D1", packages=False)
    state, run = STEPS[step]
    with world.session() as s:
        case = _case_in(world, s, state) if state else None
        if case is None:
            mark_due(s, TODAY)
        if step == "close":  # closing needs at least one vote
            disposal.vote(s, case, world.user(s, MEMBERS[2]), Vote.APPROVE)  # type: ignore[arg-type]
        d = world.dossier(s, "D1")
        target = {
            HoldScope.DOSSIER: dossier_id,
            HoldScope.DOCUMENT: d.documents[1].id,
            HoldScope.AGENCY: d.agency_id,
        }[scope]
        hold = place_hold(
            s, world.user(s, "luu_tru_vien"), scope, target, "litigation", "Tòa án yêu cầu", "5/TA"
        )
        s.commit()
        before = case.state if case else None
        with pytest.raises(LegalHoldActive) as err:
            run(world, s, case)  # type: ignore[arg-type]
        assert err.value.hold_id == hold.id
    with world.session() as s:
        refused = s.scalars(select(Event).where(Event.outcome == Outcome.FAILURE)).all()
        assert len(refused) == 1 and f"#{hold.id}" in refused[0].detail
        if case is not None:
            assert world.case(s, case.id).state is before
        assert is_held(s, world.dossier(s, "D1")) is not None
        release_hold(s, world.user(s, "luu_tru_vien"), hold.id, "Bản án có hiệu lực")
        assert is_held(s, world.dossier(s, "D1")) is None
        run(world, s, world.case(s, case.id) if case else None)  # type: ignore[arg-type]
        s.commit()
        assert events.verify_chain(s).ok
