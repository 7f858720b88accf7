"""Signed checkpoints outside the catalog make truncation and recomputed chains detectable.

Each attack is what someone with write access to the catalog can do: delete the newest events,
delete one in the middle and renumber, or edit one and recompute every later hash with
``archive.events.event_hash``. ``luutru events verify --json`` must fail and name the seq.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.backup import make_backup
from archive.catalog import Event, EventType, Outcome
from archive.chain_audit import replica_source, verify_with_checkpoints
from archive.chain_checkpoints import (
    PREFIX,
    PUBLIC_KEY_NAME,
    CheckpointWriter,
    key_for,
    key_id,
    load_or_create_key,
)
from archive.storage import LocalReplica, Replica
from luutru.cli.main import cli

from .test_events import _append
from .test_storage_conformance import replica  # noqa: F401 - the local / S3 replica fixture


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def replicas(data_dir: Path) -> list[LocalReplica]:
    return [LocalReplica(data_dir / "replicas" / n, name=n) for n in ("r1", "r2")]


@pytest.fixture
def writer(sessions: sessionmaker[Session], data_dir: Path, replicas: list[LocalReplica]) -> CheckpointWriter:
    return CheckpointWriter(sessions, load_or_create_key(data_dir / "keys"), replicas)


def _verify(catalog_url: str, data_dir: Path, *extra: str) -> tuple[int, dict[str, object]]:
    env = {
        "LUUTRU_DATABASE_URL": catalog_url,
        "LUUTRU_DATA_DIR": str(data_dir),
        "LUUTRU_CONFIG": str(data_dir / "none.toml"),
    }
    result: Result = CliRunner().invoke(cli, ["events", "verify", "--json", *extra], env=env)
    return result.exit_code, json.loads(result.output)


def _recompute_from(s: Session, seq: int) -> None:
    """What a forger does after an edit: recompute every hash from ``seq`` on."""
    prev = s.scalar(select(Event.hash).where(Event.seq == seq - 1)) or events.GENESIS
    for ev in s.scalars(select(Event).where(Event.seq >= seq).order_by(Event.seq)):
        ev.prev_hash = prev
        ev.hash = events.event_hash(ev)
        prev = ev.hash
        s.flush()


def _broken_seq(report: dict[str, object]) -> object:
    broken = report["broken"]
    assert isinstance(broken, dict), report
    return broken["seq"]


def test_clean_chain_with_checkpoints_verifies(
    sessions: sessionmaker[Session], catalog_url: str, data_dir: Path, writer: CheckpointWriter
) -> None:
    _append(sessions, 6)
    first = writer.anchor("accession")
    assert first.ok and first.seq == 6 and sorted(first.written) == ["r1", "r2"]
    _append(sessions, 3)
    assert writer.anchor("audit").seq == 9
    assert writer.anchor("audit").already == ["r1", "r2"]  # same head: nothing rewritten
    code, report = _verify(catalog_url, data_dir)
    assert code == 0 and report["ok"] is True and report["broken"] is None
    cps = report["checkpoints"]
    assert isinstance(cps, dict)
    assert cps["count"] == 2 and cps["newest"]["seq"] == 9 and cps["sources"] == {"r1": 9, "r2": 9}
    _append(sessions, 2)  # events after the newest checkpoint: covered by the links until the next
    assert _verify(catalog_url, data_dir)[0] == 0


def test_truncation_is_detected_and_names_the_first_missing_event(
    sessions: sessionmaker[Session], catalog_url: str, data_dir: Path, writer: CheckpointWriter
) -> None:
    _append(sessions, 10)
    writer.anchor("accession")
    with sessions() as s, s.begin():
        s.execute(delete(Event).where(Event.seq >= 8))
    with sessions() as s:
        assert events.verify_chain(s).ok  # the links alone cannot see it
    code, report = _verify(catalog_url, data_dir)
    assert code == 1 and report["ok"] is False
    assert _broken_seq(report) == 8
    assert "missing" in str(report["broken"])


def test_deletion_in_the_middle_with_renumbering_is_detected(
    sessions: sessionmaker[Session], catalog_url: str, data_dir: Path, writer: CheckpointWriter
) -> None:
    _append(sessions, 8)
    writer.anchor("accession")
    with sessions() as s, s.begin():
        s.execute(delete(Event).where(Event.seq == 5))
        for ev in s.scalars(select(Event).where(Event.seq > 5).order_by(Event.seq)):
            ev.seq -= 1
            s.flush()
        _recompute_from(s, 5)
    with sessions() as s:
        assert events.verify_chain(s).ok
    code, report = _verify(catalog_url, data_dir)
    assert code == 1 and _broken_seq(report) == 5


def test_edit_and_recomputed_later_hashes_are_detected(
    sessions: sessionmaker[Session], catalog_url: str, data_dir: Path, writer: CheckpointWriter
) -> None:
    _append(sessions, 6)
    writer.anchor("accession")
    _append(sessions, 6)
    writer.anchor("backup")
    _append(sessions, 2)
    writer.anchor("audit")  # checkpoints at 6, 12 and 14
    with sessions() as s, s.begin():
        victim = s.scalars(select(Event).where(Event.seq == 9)).one()
        victim.outcome = Outcome.FAILURE
        victim.detail = "sửa lại cho đẹp"
        uuid = victim.uuid
        _recompute_from(s, 9)
    with sessions() as s:
        assert events.verify_chain(s).ok
    code, report = _verify(catalog_url, data_dir)
    assert code == 1
    broken = report["broken"]
    assert isinstance(broken, dict) and broken["seq"] == 9 and broken["uuid"] == uuid
    # the forger also appends new events and re-anchors with the key he lacks: still found
    _append(sessions, 3)
    assert _broken_seq(_verify(catalog_url, data_dir)[1]) == 9


def test_edit_before_the_oldest_checkpoint_is_named(
    sessions: sessionmaker[Session], catalog_url: str, data_dir: Path, writer: CheckpointWriter
) -> None:
    _append(sessions, 5)
    writer.anchor("accession")
    _append(sessions, 5)
    writer.anchor("accession")
    with sessions() as s, s.begin():
        s.scalars(select(Event).where(Event.seq == 2)).one().detail = "khác"
        _recompute_from(s, 2)
    assert _broken_seq(_verify(catalog_url, data_dir)[1]) == 2


def test_checkpoints_on_every_replica_and_in_a_backup_verify_with_the_public_key(
    sessions: sessionmaker[Session],
    catalog_url: str,
    data_dir: Path,
    replicas: list[LocalReplica],
    writer: CheckpointWriter,
) -> None:
    _append(sessions, 4)
    backup = make_backup(
        sessions, catalog_url, list(replicas), data_dir / "backups" / "b1", kind="full", checkpoints=writer
    )
    writer.anchor("backup")
    manifest = json.loads((backup.path / "backup.json").read_text())
    assert manifest["checkpoint"] == key_for(4)
    files = [backup.path / key_for(4), *(r.root / key_for(5) for r in replicas)]  # + the backup event
    for path in files:
        pem = (path.parent / PUBLIC_KEY_NAME).read_bytes()
        public = serialization.load_pem_public_key(pem)
        assert isinstance(public, Ed25519PublicKey)
        doc = json.loads(path.read_bytes())
        body = json.dumps(doc["checkpoint"], sort_keys=True, separators=(",", ":")).encode()
        public.verify(base64.b64decode(doc["signature"]), body)  # raises if it does not verify
        with pytest.raises(InvalidSignature):
            public.verify(base64.b64decode(doc["signature"]), body.replace(b'"count":', b'"count":1'))
    with sessions() as s:
        head = s.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert head is not None and head.type == EventType.BACKUP
    # the one who deletes the replicas' checkpoints as well is still caught by the backup's
    for r in replicas:
        r.delete_prefix(PREFIX)
    with sessions() as s, s.begin():
        s.execute(delete(Event).where(Event.seq >= 3))
    code, report = _verify(catalog_url, data_dir)
    assert code == 1 and _broken_seq(report) == 3


def test_a_forged_or_altered_checkpoint_fails_verification(
    sessions: sessionmaker[Session],
    catalog_url: str,
    data_dir: Path,
    replicas: list[LocalReplica],
    writer: CheckpointWriter,
) -> None:
    _append(sessions, 3)
    writer.anchor("manual")
    path = replicas[1].root / key_for(3)
    doc = json.loads(path.read_bytes())
    doc["checkpoint"]["hash"] = "0" * 64
    path.write_text(json.dumps(doc))
    code, report = _verify(catalog_url, data_dir)
    assert code == 1
    cps = report["checkpoints"]
    assert isinstance(cps, dict) and cps["invalid"] and "r2 3" in cps["invalid"][0]


def test_extra_backup_folder_is_read(
    sessions: sessionmaker[Session],
    catalog_url: str,
    data_dir: Path,
    tmp_path: Path,
    writer: CheckpointWriter,
) -> None:
    _append(sessions, 5)
    with sessions() as s:
        from archive.chain_checkpoints import chain_head

        head = chain_head(s)
    assert head is not None
    offsite = tmp_path / "offsite"
    writer.write_to_dir(offsite, head)
    with sessions() as s, s.begin():
        s.execute(delete(Event).where(Event.seq == 5))
    assert _verify(catalog_url, data_dir)[0] == 0  # nothing anchored on the replicas or in backups/
    code, report = _verify(catalog_url, data_dir, "--backup", str(offsite))
    assert code == 1 and _broken_seq(report) == 5


def test_unwritable_replica_does_not_raise_and_is_retried(
    sessions: sessionmaker[Session], data_dir: Path, replicas: list[LocalReplica], writer: CheckpointWriter
) -> None:
    _append(sessions, 2)
    blocker = replicas[1].root / "checkpoints"
    blocker.write_text("not a folder")  # r2 cannot hold checkpoints/ now
    result = writer.anchor("accession")
    assert result.written == ["r1"] and list(result.failed) == ["r2"]
    with sessions() as s:
        ev = s.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert ev is not None and ev.outcome == Outcome.FAILURE and ev.object_id == "checkpoint"
        assert ev.data["failed"].keys() == {"r2"} and events.verify_chain(s).ok
    blocker.unlink()
    retry = writer.anchor("accession")
    assert retry.ok and retry.seq == 3 and sorted(retry.written) == ["r1", "r2"]


def test_scheduled_chain_check_uses_the_checkpoints(tmp_path: Path) -> None:
    from luutru.config import Settings
    from luutru.evidence import anchor
    from luutru.jobs import verify_event_chain
    from luutru.services import Services, prepare_data_dir

    settings = Settings(data_dir=tmp_path / "d")
    prepare_data_dir(settings)
    services = Services.build(settings)
    try:
        _append(services.sessions, 4)
        assert anchor(services, "manual") is not None
        assert verify_event_chain(services) is True
        with services.engine.begin() as conn:
            conn.execute(text("DELETE FROM event WHERE seq >= 3"))
        assert verify_event_chain(services) is False
        with services.session() as s:
            ev = s.scalars(select(Event).order_by(Event.seq.desc())).first()
            assert ev is not None and ev.outcome == Outcome.FAILURE
            assert "event chain broken at seq 3" in ev.detail
    finally:
        services.close()


def test_a_deliberate_step_back_retires_newer_checkpoints_visibly(
    sessions: sessionmaker[Session],
    catalog_url: str,
    data_dir: Path,
    replicas: list[LocalReplica],
    writer: CheckpointWriter,
) -> None:
    _append(sessions, 3)
    writer.anchor("backup")
    _append(sessions, 3)
    writer.anchor("accession")
    with sessions() as s, s.begin():  # as a restore from the backup at event 3 would leave it
        s.execute(delete(Event).where(Event.seq > 3))
    assert _verify(catalog_url, data_dir)[0] == 1
    assert writer.retire_after(3, "catalog restored from backup b1") == {"r1": 1, "r2": 1}
    code, report = _verify(catalog_url, data_dir)
    assert code == 0, report
    for r in replicas:
        assert [k for k in r.list("checkpoints-retired/") if k.endswith(".json")]
    with sessions() as s:
        ev = s.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert ev is not None and ev.detail.startswith("checkpoints after event 3 retired")


def test_checkpoints_go_through_the_replica_protocol(
    sessions: sessionmaker[Session],
    data_dir: Path,
    replica: Replica,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    """The same on a local directory and on S3 (when LUUTRU_S3_URL is set): write, list, read, retire."""
    key = load_or_create_key(data_dir / "keys")
    other = LocalReplica(tmp_path / "other", name="r2")
    writer = CheckpointWriter(sessions, key, [replica, other])
    _append(sessions, 3)
    assert writer.anchor("accession").written == [replica.name, "r2"]
    assert replica.exists(key_for(3)) and replica.exists(PREFIX + PUBLIC_KEY_NAME)
    keys = {key_id(key.public_key()): key.public_key()}
    with sessions() as s:
        report = verify_with_checkpoints(s, [replica_source(replica, keys)])
    assert report.ok and report.newest is not None and report.newest.seq == 3
    with sessions() as s, s.begin():
        s.execute(delete(Event).where(Event.seq == 3))
    with sessions() as s:
        report = verify_with_checkpoints(s, [replica_source(replica, keys)])
    assert not report.ok and report.broken_seq == 3
    assert writer.retire_after(2, "test")[replica.name] == 1
    assert not replica.exists(key_for(3))
