"""Every accession anchors the event chain on every replica; a failed checkpoint loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from archive import events
from archive.catalog import Dossier, Event, EventType, Outcome, Submission, SubmissionState
from archive.chain_checkpoints import PREFIX, seq_of
from luutru import evidence
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services


def _checkpoint_seqs(root: Path) -> list[int]:
    folder = root / PREFIX
    return (
        sorted(s for s in (seq_of(p.name) for p in folder.iterdir()) if s is not None)
        if folder.is_dir()
        else []
    )


def test_accession_writes_a_checkpoint_on_every_replica(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    svc = Services.build(settings)
    try:
        result = svc.ingest.ingest(
            make_dossier(tmp_path / "ho-so", pki, extra_files=False),
            AGENCY,
            actor=events.Agent.person("vanthu"),
        )
        assert result.status == "accepted"
        with svc.session() as s:
            accession_seq = s.scalar(
                select(Event.seq).where(Event.type == EventType.ACCESSION).order_by(Event.seq.desc())
            )
        assert accession_seq is not None
        for r in svc.replicas:
            root = Path(r.describe()["location"])
            seqs = _checkpoint_seqs(root)
            assert seqs and seqs[-1] >= accession_seq, (r.name, seqs)
            doc = json.loads((root / f"{PREFIX}{seqs[-1]:012d}.json").read_text())
            assert doc["checkpoint"]["trigger"] == "accession" and doc["algorithm"] == "Ed25519"
        report = evidence.verify(svc)
        assert report.ok and report.newest is not None and report.newest.seq >= accession_seq
    finally:
        svc.close()


def test_a_checkpoint_that_cannot_be_written_does_not_lose_the_accession(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    svc = Services.build(settings)
    try:
        second = Path(svc.replicas[1].describe()["location"])
        (second / "checkpoints").write_text("")  # r2 cannot hold checkpoints
        result = svc.ingest.ingest(
            make_dossier(tmp_path / "ho-so", pki, extra_files=False),
            AGENCY,
            actor=events.Agent.person("vanthu"),
        )
        assert result.status == "accepted"
        with svc.session() as s:
            assert s.scalars(select(Submission)).one().state is SubmissionState.ARCHIVED
            assert s.scalar(select(Dossier.code)) is not None
            failed = s.scalars(
                select(Event).where(Event.object_id == "checkpoint", Event.outcome == Outcome.FAILURE)
            ).all()
            assert failed and failed[0].data["failed"].keys() == {"r2"}
        (second / "checkpoints").unlink()
        retry = evidence.anchor(svc, "audit")  # the next anchoring writes the head everywhere
        assert retry is not None and retry.ok and "r2" in retry.written
        assert evidence.verify(svc).ok
    finally:
        svc.close()
