"""Access-request grants: loaded from the catalog (SQLite and PostgreSQL), then the same answer
from the per-record decision and from search's Visibility."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from archive.agencies import create_agency
from archive.catalog import AccessMode, AccessRequest, AccessRequestState, Dossier, RecordState, Role
from archive.visibility import Visibility
from luutru.accounts import create_user
from policies.access import (
    Actor,
    RecordFacts,
    can_read_content,
    can_see_metadata,
    granted_dossiers,
    visibility_for,
)

AGENCY = "000.00.07.H54"
NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)


def _dossier(s: Session, agency_id: int, code: str, mode: AccessMode) -> int:
    d = Dossier(code=code, agency_id=agency_id, title=f"Hồ sơ {code}", profile="TT05-2025", access_mode=mode)
    s.add(d)
    s.flush()
    return d.id


def test_only_approved_unexpired_requests_grant(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        agency = create_agency(s, AGENCY, "Sở Nội vụ tỉnh Thái Bình")
        reader = create_user(s, "docgia", "Độc giả", None, [Role.RESEARCHER])
        other = create_user(s, "docgia2", "Độc giả khác", None, [Role.RESEARCHER])
        ids = {
            name: _dossier(s, agency.id, f"HS-{name}", AccessMode.CONDITIONAL)
            for name in ("live", "open_ended", "expired", "refused", "pending", "others")
        }
        rows = [
            (reader.id, "live", AccessRequestState.APPROVED, NOW + timedelta(days=15)),
            (reader.id, "open_ended", AccessRequestState.APPROVED, None),
            (reader.id, "expired", AccessRequestState.APPROVED, NOW - timedelta(seconds=1)),
            (reader.id, "refused", AccessRequestState.REFUSED, None),
            (reader.id, "pending", AccessRequestState.PENDING, None),
            (other.id, "others", AccessRequestState.APPROVED, NOW + timedelta(days=15)),
        ]
        for user_id, name, state, expires in rows:
            s.add(AccessRequest(requester_id=user_id, dossier_id=ids[name], purpose="Nghiên cứu",
                                state=state, expires_at=expires))  # fmt: skip
        reader_id, other_id = reader.id, other.id
    with sessions() as s:
        assert granted_dossiers(s, reader_id, NOW) == {ids["live"], ids["open_ended"]}
        assert granted_dossiers(s, other_id, NOW) == {ids["others"]}
        later = NOW + timedelta(days=16)
        assert granted_dossiers(s, reader_id, later) == {ids["open_ended"]}  # the reading period ended
        assert granted_dossiers(s, reader_id, NOW.replace(tzinfo=None)) == granted_dossiers(s, reader_id, NOW)
        assert granted_dossiers(s, 10_000, NOW) == frozenset()


OTHER = "000.00.14.H54"
ROLES = ("researcher", "council_member", "agency_officer", "archivist", "anonymous")
MODES = (AccessMode.OPEN, AccessMode.CONDITIONAL, AccessMode.SECRET)


def _actor(who: str, grants: frozenset[int]) -> Actor:
    if who == "anonymous":
        return Actor.anonymous()
    return Actor.of(7, who, [Role(who)], AGENCY if who == "agency_officer" else None, grants)


CASES = [
    (who, mode, agency)
    for who, mode, agency in itertools.product(ROLES, MODES, (AGENCY, OTHER))
    # search shows an agency officer their own agency's records only (the API's scope), where
    # the record pages also show other agencies' records as the public sees them
    if not (who == "agency_officer" and agency == OTHER)
]


@pytest.mark.parametrize(("who", "mode", "agency"), CASES)
def test_search_visibility_agrees_with_the_decision_with_grants(
    who: str, mode: AccessMode, agency: str
) -> None:
    """A granted dossier (42) and another one (43): search shows what the record pages open."""
    actor = _actor(who, frozenset({42}))
    vis = visibility_for(actor)
    for dossier_id in (42, 43):
        record = RecordFacts(agency, mode, RecordState.ACTIVE, dossier_id)
        assert vis.metadata_visible(mode.value, agency, dossier_id) == can_see_metadata(actor, record).allowed
        assert vis.content_visible(mode.value, agency, dossier_id) == can_read_content(actor, record).allowed


def test_visibility_carries_a_researchers_grants_only() -> None:
    researcher = visibility_for(_actor("researcher", frozenset({42, 44})))
    assert researcher.granted_dossiers == {42, 44}
    assert researcher.content_modes == {"01"} and researcher.metadata_modes == {"01", "02"}
    assert visibility_for(_actor("researcher", frozenset())) == Visibility.public()
    council = visibility_for(_actor("council_member", frozenset({42})))
    assert council.granted_dossiers == frozenset()  # grants count only for researchers
    assert visibility_for(_actor("archivist", frozenset({42}))) == Visibility.everything()
    both = Actor.of(8, "vt-dg", [Role.AGENCY_OFFICER, Role.RESEARCHER], AGENCY, [42])
    vis = visibility_for(both)
    assert vis.agencies == {AGENCY} and vis.granted_dossiers == {42}
    assert vis.content_visible("02", OTHER, 42) and not vis.metadata_visible("02", OTHER, 43)
