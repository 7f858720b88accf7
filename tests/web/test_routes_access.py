"""The access matrix through the routes: pages per role, dossier pages per role × mode, requests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive.catalog import AccessRequest, AccessRequestState, Event, EventType, User
from archive.vntime import utcnow

from .conftest import OTHER_AGENCY, OWN_AGENCY, Web, post

PAGES = (
    "/console/",
    "/console/access-requests",
    "/admin/users",
    "/admin/agencies",
    "/admin/tokens",
    "/portal/requests",
    "/disposal/",
    "/admin/settings/trust",
    "/console/preservation/policy",
)
# username → the pages above it may open (others: 403)
ALLOWED = {
    "admin": {
        "/console/",
        "/admin/users",
        "/admin/agencies",
        "/admin/tokens",
        "/disposal/",
        "/admin/settings/trust",
        "/console/preservation/policy",
    },
    "luutru": {"/console/", "/console/access-requests", "/disposal/", "/console/preservation/policy"},
    "kiemtra": {"/console/", "/disposal/"},
    "hoidong1": {"/disposal/"},
    "giamdoc": {"/disposal/"},
    "docgia": {"/portal/requests"},
    "vanthu": set(),
}
NAV = {
    "admin": {
        "dashboard",
        "admin-users",
        "admin-agencies",
        "admin-tokens",
        "portal",
        "search",
        "disposal",
        "admin-settings",
        "format-policy",
    },
    "luutru": {
        "dashboard",
        "access-requests",
        "ingest",
        "registers",
        "portal",
        "search",
        "disposal",
        "format-policy",
    },
    "kiemtra": {"dashboard", "portal", "search", "disposal"},
    "hoidong1": {"portal", "search", "disposal"},
    "giamdoc": {"portal", "search", "disposal"},
    "docgia": {"portal", "search", "my-requests"},
    "vanthu": {"portal", "search"},
}


@pytest.mark.parametrize("username", list(ALLOWED))
def test_each_role_opens_only_its_pages(web: Web, username: str) -> None:
    client = web.signed_in(username)
    for page in PAGES:
        expected = 200 if page in ALLOWED[username] else 403
        assert client.get(page).status_code == expected, page
    html = client.get("/portal/").get_data(as_text=True)
    assert set(re.findall(r'data-nav="([a-z-]+)"', html)) == NAV[username]


def test_anonymous_is_sent_to_sign_in(web: Web) -> None:
    client = web.client()
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    assert client.get("/portal/").status_code == 200


def test_forbidden_page_is_bilingual(web: Web) -> None:
    client = web.signed_in("docgia")
    assert "Không có quyền truy cập" in client.get("/admin/users").get_data(as_text=True)
    assert "Access denied" in client.get("/admin/users?lang=en").get_data(as_text=True)
    r = client.get("/khong-co-trang-nay")
    assert r.status_code == 404
    assert "Not found" in r.get_data(as_text=True)  # the English switch is remembered


# who → {"<agency>-<mode>": (status, content shown)}
OP, CO, SE = "01", "02", "03"
DOSSIER_MATRIX: dict[str | None, dict[str, tuple[int, bool]]] = {
    None: {
        f"{OTHER_AGENCY}-{OP}": (200, True),
        f"{OTHER_AGENCY}-{CO}": (200, False),
        f"{OTHER_AGENCY}-{SE}": (404, False),
    },
    "docgia": {
        f"{OTHER_AGENCY}-{OP}": (200, True),
        f"{OTHER_AGENCY}-{CO}": (200, False),
        f"{OTHER_AGENCY}-{SE}": (404, False),
    },
    "luutru": {
        f"{OTHER_AGENCY}-{OP}": (200, True),
        f"{OTHER_AGENCY}-{CO}": (200, True),
        f"{OTHER_AGENCY}-{SE}": (200, True),
    },
    "hoidong1": {
        f"{OTHER_AGENCY}-{OP}": (200, True),
        f"{OTHER_AGENCY}-{CO}": (200, False),
        f"{OTHER_AGENCY}-{SE}": (200, False),
    },
    "vanthu": {
        f"{OWN_AGENCY}-{SE}": (200, True),
        f"{OWN_AGENCY}-{CO}": (200, True),
        f"{OTHER_AGENCY}-{CO}": (200, False),
        f"{OTHER_AGENCY}-{SE}": (404, False),
    },
}


@pytest.mark.parametrize("username", list(DOSSIER_MATRIX))
def test_dossier_pages_follow_the_access_decision(web: Web, username: str | None) -> None:
    client = web.signed_in(username) if username else web.client()
    for key, (status, content) in DOSSIER_MATRIX[username].items():
        r = client.get(f"/portal/dossiers/{web.dossiers[key]}")
        assert r.status_code == status, key
        html = r.get_data(as_text=True)
        if status == 200:
            assert ('data-content="visible"' in html) is content, key
            assert ("Nội dung mật" in html) is content, key
        else:
            assert "Hồ sơ chế độ" not in html


def test_destroyed_dossier_shows_no_content(web: Web) -> None:
    client = web.signed_in("luutru")
    html = client.get(f"/portal/dossiers/{web.dossiers['destroyed']}").get_data(as_text=True)
    assert "data-tombstone" in html and 'data-content="visible"' not in html


def _request_ids(web: Web) -> list[int]:
    with web.services.session() as s:
        return list(s.scalars(select(AccessRequest.id).order_by(AccessRequest.id)))


def test_access_request_approved_opens_a_reading_copy(web: Web) -> None:
    target = web.dossiers[f"{OTHER_AGENCY}-{CO}"]
    researcher = web.signed_in("docgia")
    page = f"/portal/requests/new?dossier_id={target}"
    r = post(
        researcher, "/portal/requests/new", {"dossier_id": target, "purpose": "Nghiên cứu lịch sử"}, page
    )
    assert r.status_code == 302
    # a second pending request for the same dossier is not duplicated
    post(researcher, "/portal/requests/new", {"dossier_id": target, "purpose": "lần hai"}, page)
    (request_id,) = _request_ids(web)
    assert "Chờ duyệt" in researcher.get("/portal/requests").get_data(as_text=True)

    archivist = web.signed_in("luutru")
    queue = archivist.get("/console/access-requests").get_data(as_text=True)
    assert f'data-request="{request_id}"' in queue and "Nghiên cứu lịch sử" in queue
    r = post(
        archivist,
        f"/console/access-requests/{request_id}",
        {"decision": "approve"},
        "/console/access-requests",
    )
    assert r.status_code == 302
    with web.services.session() as s:
        row = s.get(AccessRequest, request_id)
        assert row is not None and row.state is AccessRequestState.APPROVED
        assert row.expires_at is not None
        assert timedelta(days=14) < row.expires_at - utcnow() <= timedelta(days=15)

    html = researcher.get(f"/portal/dossiers/{target}").get_data(as_text=True)
    assert 'data-content="visible"' in html
    with web.services.session() as s:
        reads = s.scalars(select(Event).where(Event.type == EventType.DISSEMINATION)).all()
        assert [e.agent for e in reads] == ["docgia"]
        admin_events = s.scalars(
            select(Event.detail).where(Event.object_type == "access_request").order_by(Event.seq)
        ).all()
        assert admin_events == ["access request submitted", "access request approved"]
    # answering twice is refused
    post(
        archivist,
        f"/console/access-requests/{request_id}",
        {"decision": "refuse"},
        "/console/access-requests",
    )
    with web.services.session() as s:
        assert s.get(AccessRequest, request_id).state is AccessRequestState.APPROVED  # type: ignore[union-attr]


def test_expired_or_refused_requests_open_nothing(web: Web) -> None:
    target = web.dossiers[f"{OTHER_AGENCY}-{CO}"]
    with web.services.sessions.begin() as s:
        docgia = s.scalar(select(User).where(User.username == "docgia"))
        assert docgia is not None
        s.add(
            AccessRequest(
                requester_id=docgia.id,
                dossier_id=target,
                purpose="cũ",
                state=AccessRequestState.APPROVED,
                expires_at=utcnow() - timedelta(days=1),
            )
        )
        s.add(
            AccessRequest(
                requester_id=docgia.id,
                dossier_id=target,
                purpose="bị từ chối",
                state=AccessRequestState.REFUSED,
            )
        )
    client = web.signed_in("docgia")
    html = client.get(f"/portal/dossiers/{target}").get_data(as_text=True)
    assert 'data-content="hidden"' in html


def test_secret_dossier_cannot_be_requested_by_a_researcher(web: Web) -> None:
    """A secret dossier is invisible to researchers: asking for it must not reveal it exists."""
    client = web.signed_in("docgia")
    secret = web.dossiers[f"{OTHER_AGENCY}-{SE}"]
    r = post(client, "/portal/requests/new", {"dossier_id": secret, "purpose": "x"}, "/portal/requests/new")
    assert r.status_code == 404
    r = post(client, "/portal/requests/new", {"dossier_id": 999999, "purpose": "x"}, "/portal/requests/new")
    assert r.status_code == 404
    assert _request_ids(web) == []


def test_open_dossier_needs_no_request(web: Web) -> None:
    client = web.signed_in("docgia")
    target = web.dossiers[f"{OTHER_AGENCY}-{OP}"]
    r = post(client, "/portal/requests/new", {"dossier_id": target, "purpose": "x"}, "/portal/requests/new")
    assert r.status_code == 302 and r.headers["Location"] == f"/portal/dossiers/{target}"
    assert _request_ids(web) == []


def test_refusal_is_recorded(web: Web) -> None:
    target = web.dossiers[f"{OTHER_AGENCY}-{CO}"]
    researcher = web.signed_in("docgia")
    post(researcher, "/portal/requests/new", {"dossier_id": target, "purpose": "x"}, "/portal/requests/new")
    (request_id,) = _request_ids(web)
    archivist = web.signed_in("luutru")
    post(
        archivist,
        f"/console/access-requests/{request_id}",
        {"decision": "refuse", "answer": "Hồ sơ đang được chỉnh lý"},
        "/console/access-requests",
    )
    with web.services.session() as s:
        row = s.get(AccessRequest, request_id)
        assert row is not None and row.state is AccessRequestState.REFUSED and row.expires_at is None
    assert "Hồ sơ đang được chỉnh lý" in researcher.get("/portal/requests").get_data(as_text=True)


def test_htmx_decision_answers_with_the_row(web: Web) -> None:
    target = web.dossiers[f"{OTHER_AGENCY}-{CO}"]
    researcher = web.signed_in("docgia")
    post(
        researcher, "/portal/requests/new", {"dossier_id": target, "purpose": "htmx"}, "/portal/requests/new"
    )
    (request_id,) = _request_ids(web)
    archivist = web.signed_in("luutru")
    page = archivist.get("/console/access-requests").get_data(as_text=True)
    assert f'hx-post="/console/access-requests/{request_id}"' in page
    token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    r = archivist.post(
        f"/console/access-requests/{request_id}",
        data={"decision": "approve"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'<tr data-request="{request_id}">' in html and "badge-approved" in html and "<html" not in html
