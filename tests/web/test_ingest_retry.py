"""An archivist takes up a submission a crash left in validation: the console's "Check again"
button calls the one service (``IngestService.retry``) and the submission reaches a decision."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.catalog import Event, EventType, Submission, SubmissionState
from luutru.samples.corpus import file_code

from .conftest import Web, sample_env, sample_spec

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, seeded_catalog: Path) -> Iterator[Web]:
    web = sample_env(tmp_path_factory, seeded_catalog, "review")
    yield web
    web.services.close()


def test_check_again_decides_a_submission_left_in_validation(env: Web) -> None:
    with env.services.sessions.begin() as s:
        sub = s.scalars(
            select(Submission).where(Submission.dossier_code == file_code(sample_spec("11.VP")))
        ).one()
        assert sub.state is SubmissionState.IN_REVIEW
        sub.state = SubmissionState.VALIDATING  # where a kill during validation leaves it
        sid = sub.id
    for username in ("docgia", "kiemtra"):  # the button is the archivist's
        page = env.signed_in(username).get(f"/console/ingest/{sid}").get_data(as_text=True)
        assert "data-retry" not in page
    client = env.signed_in("luutru")
    page = client.get(f"/console/ingest/{sid}").get_data(as_text=True)
    assert "data-retry" in page and "Kiểm tra lại" in page
    match = _CSRF.search(page)
    assert match
    assert env.signed_in("kiemtra").post(
        f"/console/ingest/{sid}/retry", data={"csrf_token": "x"}
    ).status_code in (
        400,
        403,
    )
    done = client.post(
        f"/console/ingest/{sid}/retry", data={"csrf_token": match.group(1)}, follow_redirects=True
    )
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert 'data-state="in_review"' in html and "Đã kiểm tra lại" in html and "data-retry" not in html
    with env.services.session() as s:
        events = list(
            s.scalars(select(Event).where(Event.object_id == sid, Event.type == EventType.RECOVERY))
        )
    assert [e.agent for e in events] == ["luutru"]
    again = client.post(
        f"/console/ingest/{sid}/retry", data={"csrf_token": match.group(1)}, follow_redirects=True
    )
    assert "cannot take this decision" in again.get_data(as_text=True) or "không" in again.get_data(
        as_text=True
    )
