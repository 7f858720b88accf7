"""A submission a crash left half-way is taken up again: by start-up recovery (only those received
before the start) or by an archivist's retry (CLI and the same service call), each an event."""

from __future__ import annotations

import fcntl
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import events
from archive.catalog import Event, EventType, Submission, SubmissionState
from archive.errors import Conflict
from archive.vntime import utcnow
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.recovery import LOCK_NAME, recover_interrupted
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services


def _stuck(svc: Services, src: Path) -> str:
    """Receive a dossier and leave it where a kill during validation leaves it."""
    received = svc.ingest.receive(src, AGENCY, actor=events.Agent.person("vanthu"))
    with svc.session() as s, s.begin():
        sub = s.get(Submission, received.submission_id)
        assert sub is not None
        sub.state = SubmissionState.VALIDATING
    return received.submission_id


def _recovery_events(svc: Services, sid: str) -> list[Event]:
    with svc.session() as s:
        return list(s.scalars(select(Event).where(Event.object_id == sid, Event.type == EventType.RECOVERY)))


def test_archivist_retries_a_stuck_submission_from_the_cli(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    svc = Services.build(settings)
    sid = _stuck(svc, make_dossier(tmp_path / "ho-so", pki, extra_files=False))
    result = CliRunner().invoke(
        cli, ["submission", "retry", sid, "--as", "luutru1", "--json"], env=archive_env
    )
    assert result.exit_code == 0, result.output
    assert '"state": "archived"' in result.output
    (event,) = _recovery_events(svc, sid)
    assert event.agent == "luutru1" and "retried by an archivist" in event.detail
    with pytest.raises(Conflict):  # a decided submission is not "stuck"
        svc.ingest.retry(sid, actor=events.Agent.person("luutru1"))
    svc.close()


def test_recovery_takes_up_only_what_was_received_before_the_start(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    svc = Services.build(settings)
    sid = _stuck(svc, make_dossier(tmp_path / "ho-so", pki, extra_files=False))
    # A server started before this submission arrived leaves it to the request validating it.
    assert recover_interrupted(svc, received_before=utcnow() - timedelta(hours=1)) == []
    with svc.session() as s:
        assert s.get(Submission, sid).state is SubmissionState.VALIDATING  # type: ignore[union-attr]
    # Another process holding the lock is recovering: this one does nothing.
    with (settings.data_dir / LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert recover_interrupted(svc, received_before=utcnow()) is None
    assert recover_interrupted(svc, received_before=utcnow()) == [sid]
    with svc.session() as s:
        assert s.get(Submission, sid).state is SubmissionState.ARCHIVED  # type: ignore[union-attr]
        assert events.verify_chain(s).ok
    (event,) = _recovery_events(svc, sid)
    assert event.agent == events.SYSTEM.name and "resumed after an interruption" in event.detail
    svc.close()
