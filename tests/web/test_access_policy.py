"""The one access decision: the whole role × mode × state matrix, read from explicit tables."""

from __future__ import annotations

import itertools

import pytest

from archive.catalog import AccessMode, RecordState, Role
from archive.visibility import Visibility
from policies.access import (
    Actor,
    RecordFacts,
    can_download_original,
    can_read_content,
    can_see_metadata,
    visibility_for,
)

OWN = "000.00.07.H54"
OTHER = "000.00.14.H54"
OP, CO, SE = AccessMode.OPEN, AccessMode.CONDITIONAL, AccessMode.SECRET
LIVE_STATES = (RecordState.ACTIVE, RecordState.UNDER_REVIEW, RecordState.DAMAGED)

# who → {mode: (metadata, content, original)} for a live record of another agency, no grants
EXPECTED: dict[str, dict[AccessMode, tuple[int, int, int]]] = {
    "administrator": {OP: (1, 1, 1), CO: (1, 1, 1), SE: (1, 1, 1)},
    "archivist": {OP: (1, 1, 1), CO: (1, 1, 1), SE: (1, 1, 1)},
    "auditor": {OP: (1, 1, 1), CO: (1, 1, 1), SE: (1, 1, 1)},
    "council_member": {OP: (1, 1, 1), CO: (1, 0, 0), SE: (1, 0, 0)},
    "decider": {OP: (1, 1, 1), CO: (1, 0, 0), SE: (1, 0, 0)},
    "researcher": {OP: (1, 1, 1), CO: (1, 0, 0), SE: (0, 0, 0)},
    "agency_officer": {OP: (1, 1, 1), CO: (1, 0, 0), SE: (0, 0, 0)},
    "anonymous": {OP: (1, 1, 0), CO: (1, 0, 0), SE: (0, 0, 0)},
}


def actor_for(who: str, grants: frozenset[int] = frozenset()) -> Actor:
    if who == "anonymous":
        return Actor.anonymous()
    agency = OWN if who == "agency_officer" else None
    return Actor.of(7, who, [Role(who)], agency, grants)


CASES = [(who, mode, state) for who, mode, state in itertools.product(EXPECTED, (OP, CO, SE), LIVE_STATES)]


@pytest.mark.parametrize(("who", "mode", "state"), CASES)
def test_live_records_follow_the_matrix(who: str, mode: AccessMode, state: RecordState) -> None:
    record = RecordFacts(OTHER, mode, state, dossier_id=42)
    actor = actor_for(who)
    got = (
        can_see_metadata(actor, record).allowed,
        can_read_content(actor, record).allowed,
        can_download_original(actor, record).allowed,
    )
    assert got == tuple(bool(x) for x in EXPECTED[who][mode])


@pytest.mark.parametrize(("who", "mode"), list(itertools.product(EXPECTED, (OP, CO, SE))))
def test_destroyed_records_show_only_a_tombstone(who: str, mode: AccessMode) -> None:
    record = RecordFacts(OTHER, mode, RecordState.DESTROYED, dossier_id=42)
    actor = actor_for(who)
    meta = can_see_metadata(actor, record)
    assert meta.allowed == bool(EXPECTED[who][mode][0])
    if meta.allowed:
        assert meta.reason_code == "access.allowed.tombstone"
    content = can_read_content(actor, record)
    assert not content.allowed and content.reason_code == "access.denied.destroyed"
    assert not can_download_original(actor, record).allowed


@pytest.mark.parametrize("mode", [OP, CO, SE])
def test_agency_officer_sees_everything_of_their_own_agency(mode: AccessMode) -> None:
    officer = actor_for("agency_officer")
    record = RecordFacts(OWN, mode, RecordState.ACTIVE, 1)
    for check in (can_see_metadata, can_read_content, can_download_original):
        decision = check(officer, record)
        assert decision.allowed and decision.reason_code == "access.allowed.own_agency"


def test_agency_officer_without_agency_is_treated_as_public() -> None:
    officer = Actor.of(3, "vt", [Role.AGENCY_OFFICER], None)
    assert not can_see_metadata(officer, RecordFacts(None, SE, RecordState.ACTIVE, 1)).allowed
    assert visibility_for(officer) == visibility_for(actor_for("researcher"))


@pytest.mark.parametrize("mode", [CO, SE])
def test_an_approved_request_opens_a_reading_copy_but_not_the_original(mode: AccessMode) -> None:
    researcher = actor_for("researcher", grants=frozenset({42}))
    granted = RecordFacts(OTHER, mode, RecordState.ACTIVE, 42)
    assert can_see_metadata(researcher, granted).allowed
    content = can_read_content(researcher, granted)
    assert content.allowed and content.reason_code == "access.allowed.access_request"
    original = can_download_original(researcher, granted)
    assert not original.allowed and original.reason_code == "access.denied.reading_copy_only"
    other = RecordFacts(OTHER, mode, RecordState.ACTIVE, 43)
    assert not can_read_content(researcher, other).allowed


def test_grants_count_only_for_researchers() -> None:
    council = Actor.of(5, "hd", [Role.COUNCIL_MEMBER], None, [42])
    assert not can_read_content(council, RecordFacts(OTHER, SE, RecordState.ACTIVE, 42)).allowed


def test_a_grant_does_not_survive_destruction() -> None:
    researcher = actor_for("researcher", grants=frozenset({42}))
    record = RecordFacts(OTHER, SE, RecordState.DESTROYED, 42)
    assert can_see_metadata(researcher, record).reason_code == "access.allowed.tombstone"
    assert not can_read_content(researcher, record).allowed


def test_decisions_explain_themselves_in_both_languages() -> None:
    for who, mode, state in CASES + [(w, m, RecordState.DESTROYED) for w in EXPECTED for m in (OP, CO, SE)]:
        record = RecordFacts(OTHER, mode, state, 42)
        for check in (can_see_metadata, can_read_content, can_download_original):
            d = check(actor_for(who), record)
            assert d.reason_code.startswith("access.allowed." if d.allowed else "access.denied.")
            assert d.message_vi and d.message_en and d.message_vi != d.message_en
            assert bool(d) is d.allowed


@pytest.mark.parametrize("who", list(EXPECTED))
def test_visibility_agrees_with_the_per_record_decisions(who: str) -> None:
    """For every role, search's Visibility says what the per-record decision says (no grants)."""
    actor = actor_for(who)
    vis = visibility_for(actor)
    agency = OWN if who == "agency_officer" else OTHER
    for mode in (OP, CO, SE):
        record = RecordFacts(agency, mode, RecordState.ACTIVE, 1)
        assert vis.metadata_visible(mode.value, agency) == can_see_metadata(actor, record).allowed
        assert vis.content_visible(mode.value, agency) == can_read_content(actor, record).allowed


def test_visibility_per_role() -> None:
    assert visibility_for(actor_for("archivist")) == Visibility.everything()
    assert visibility_for(Actor.anonymous()) == Visibility.public()
    officer = visibility_for(actor_for("agency_officer"))
    assert officer.agencies == frozenset({OWN}) and officer.content_modes is None
    assert not officer.metadata_visible("01", OTHER)
    researcher = visibility_for(actor_for("researcher"))
    assert researcher.content_modes == frozenset({"01"})
    assert researcher.metadata_modes == frozenset({"01", "02"})
