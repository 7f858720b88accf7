"""ingest_many: the next dossier's file checks run in the pool while this one is archived.

Real signed dossiers, a real catalog and replicas, the real worker pool: the batch must end as
one-by-one ingest ends, keep catalog decisions in order, and leave nothing started behind.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import wait
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.agencies import create_agency
from archive.catalog import Dossier, Package, Submission, SubmissionState
from archive.errors import NotFound
from archive.events import Agent
from ingest.service import BatchItem, BatchSource
from ingest.validate import Inspection
from luutru.config import Settings
from luutru.samples import pdfs
from luutru.samples.dossiers import AGENCY, make_dossier, sha256
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures

OFFICER = Agent.person("vanthu")


def _services(settings: Settings, pki: TestPki) -> Services:
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    svc = Services.build(settings)
    with svc.session() as s, s.begin():
        create_agency(s, AGENCY, "Ủy ban nhân dân tỉnh Thái Bình")
    return svc


@pytest.fixture
def svc(settings: Settings, pki: TestPki) -> Iterator[Services]:
    services = _services(settings, pki)
    yield services
    services.close()


def _dossier(root: Path, pki: TestPki, notation: str) -> Path:
    """A clean dossier of four signed PDFs (enough files for the checks to go to the pool)."""
    subjects = tuple(f"Kế hoạch {notation} phần {n}" for n in range(1, 5))
    return make_dossier(root / notation, pki, notation=notation, subjects=subjects, extra_files=False)


def _tampered(root: Path, pki: TestPki, notation: str) -> Path:
    src = _dossier(root, pki, notation)
    victim = src / "tai-lieu" / "0002.pdf"
    pdfs.tamper_signed_range(victim)
    _declare(src, 1, sha256(victim))
    return src


def _declare(src: Path, index: int, digest: str) -> None:
    meta = json.loads((src / "metadata.json").read_text(encoding="utf-8"))
    meta["documents"][index]["sha256"] = digest
    (src / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _refused(root: Path, pki: TestPki, notation: str) -> Path:
    """Declared checksum differs from the bytes sent: refused at intake (invariant 1)."""
    src = _dossier(root, pki, notation)
    _declare(src, 0, "0" * 64)
    return src


def _batch(paths: list[Path], code: str = AGENCY) -> list[BatchSource]:
    return [BatchSource(p, code, OFFICER) for p in paths]


def _status(item: BatchItem) -> str:
    return item.result.status if item.result is not None else f"error:{type(item.error).__name__}"


def test_batch_ends_as_one_by_one_ingest_ends(tmp_path: Path, pki: TestPki, settings: Settings) -> None:
    """Clean, refused at intake, unknown agency, tampered, clean: same outcomes, one AIP each accepted."""
    paths = [
        _dossier(tmp_path, pki, "01.CLEAN"),
        _refused(tmp_path, pki, "02.REFUSED"),
        _dossier(tmp_path, pki, "03.NOAGENCY"),
        _tampered(tmp_path, pki, "04.TAMPERED"),
        _dossier(tmp_path, pki, "05.CLEAN"),
    ]
    codes = [AGENCY, AGENCY, "999.99.99.X99", AGENCY, AGENCY]

    one_by_one = _services(Settings(data_dir=tmp_path / "one-by-one"), pki)
    expected = []
    for path, code in zip(paths, codes, strict=True):
        try:
            expected.append(one_by_one.ingest.ingest(path, code, actor=OFFICER).status)
        except NotFound:
            expected.append("error:NotFound")
    one_by_one.close()

    svc = _services(settings, pki)
    items = list(
        svc.ingest.ingest_many([BatchSource(p, c, OFFICER) for p, c in zip(paths, codes, strict=True)])
    )
    assert [i.source for i in items] == paths
    assert (
        [_status(i) for i in items]
        == expected
        == ["accepted", "rejected", "error:NotFound", "rejected", "accepted"]
    )
    assert items[2].submission_id is None and "999.99.99.X99" in str(items[2].error)
    refused = items[1].result
    assert refused is not None and "intake.checksum_mismatch" in {f.code for f in refused.findings}
    tampered = items[3].result
    assert tampered is not None and "pdf.signature.digest_mismatch" in {f.code for f in tampered.findings}
    with svc.session() as s:
        packages = s.scalars(select(Package)).all()
        assert sorted(p.dossier.code for p in packages if p.dossier) == [
            "H54.2024.01.CLEAN",
            "H54.2024.05.CLEAN",
        ]
        assert s.scalar(select(func.count()).select_from(Dossier)) == 2
        states = {sub.dossier_code: sub.state for sub in s.scalars(select(Submission))}
    assert states["H54.2024.01.CLEAN"] is SubmissionState.ARCHIVED
    assert states["H54.2024.04.TAMPERED"] is SubmissionState.REJECTED
    assert svc.ingest.prefetched() == {}
    assert not any(svc.settings.staging_path.iterdir()), "every staging folder is cleaned"
    svc.close()


def test_next_dossier_is_checked_in_the_pool_before_this_one_is_archived(
    tmp_path: Path, pki: TestPki, svc: Services
) -> None:
    """At each accession, the next dossier's file checks are already dispatched to the pool; they
    can even finish there while this dossier is still not archived. The batch then uses them."""
    paths = [_dossier(tmp_path, pki, f"{n:02d}.PIPE") for n in range(1, 4)]
    seen: list[tuple[int, list[Inspection], SubmissionState]] = []

    def hook(index: int, label: str) -> None:
        if label != "accession":
            return
        ahead = list(svc.ingest.prefetched().values())
        for ins in ahead:
            assert ins.pending_files is not None and ins.pending_files.batches, "dispatched to the pool"
            _, not_done = wait(ins.pending_files.batches, timeout=120)
            assert not not_done
        with svc.session() as s:  # this dossier: its AIP is not in the catalog yet
            sub = s.scalars(
                select(Submission).where(Submission.dossier_code == f"H54.2024.{index + 1:02d}.PIPE")
            ).one()
            seen.append((index, ahead, sub.state))

    items = list(svc.ingest.ingest_many(_batch(paths), progress=hook))
    assert [_status(i) for i in items] == ["accepted"] * 3
    assert [(index, len(ahead), state) for index, ahead, state in seen] == [
        (0, 1, SubmissionState.ACCEPTED),
        (1, 1, SubmissionState.ACCEPTED),
        (2, 0, SubmissionState.ACCEPTED),  # the last dossier has nothing after it
    ]
    for index, ahead, _ in seen[:2]:  # the inspection started ahead is the one the next dossier used
        ins = ahead[0]
        assert ins.staged.submission_id == items[index + 1].submission_id
        assert ins.pending_files is None and len(ins.identities) == 5 and len(ins.signature_reports) == 4
    assert svc.ingest.prefetched() == {}


def test_document_repeated_in_two_dossiers_of_one_batch_is_a_duplicate(
    tmp_path: Path, pki: TestPki, svc: Services
) -> None:
    first = _dossier(tmp_path, pki, "01.FIRST")
    second = _dossier(tmp_path, pki, "02.SECOND")
    shutil.copyfile(first / "tai-lieu" / "0001.pdf", second / "tai-lieu" / "0001.pdf")
    _declare(second, 0, sha256(second / "tai-lieu" / "0001.pdf"))
    items = list(svc.ingest.ingest_many(_batch([first, second])))
    assert [_status(i) for i in items] == ["accepted", "review"]
    result = items[1].result
    assert result is not None
    dup = [f for f in result.findings if f.code == "duplicate.content"]
    assert (
        dup and dup[0].path == "tai-lieu/0001.pdf" and dup[0].evidence["other_dossier"] == "H54.2024.01.FIRST"
    )


def test_same_dossier_twice_in_a_batch_is_one_submission(tmp_path: Path, pki: TestPki, svc: Services) -> None:
    src = _dossier(tmp_path, pki, "01.TWICE")
    items = list(svc.ingest.ingest_many(_batch([src, src])))
    assert [_status(i) for i in items] == ["accepted", "accepted"]
    assert items[0].submission_id == items[1].submission_id
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Package)) == 1
    assert svc.ingest.prefetched() == {}


def test_nothing_started_remains_when_the_caller_stops_early(
    tmp_path: Path, pki: TestPki, svc: Services
) -> None:
    paths = [_dossier(tmp_path, pki, f"{n:02d}.STOP") for n in range(1, 4)]
    with closing(svc.ingest.ingest_many(_batch(paths))) as items:
        first = next(items)
        assert _status(first) == "accepted"
        ahead = svc.ingest.prefetched()
        assert len(ahead) == 1  # the second dossier, received and being checked
    assert svc.ingest.prefetched() == {}
    (sid,) = ahead
    assert ahead[sid].pending_files is None, "its checks were dropped"
    assert svc.ingest.result(sid).state is SubmissionState.RECEIVED  # recovery finishes it later
    assert svc.ingest.recover() == [sid]
    assert svc.ingest.result(sid).state is SubmissionState.ARCHIVED


def test_nothing_started_remains_after_an_exception_inside_the_batch(
    tmp_path: Path, pki: TestPki, svc: Services
) -> None:
    paths = [_dossier(tmp_path, pki, f"{n:02d}.BOOM") for n in range(1, 4)]

    class Interrupted(Exception):
        pass

    def interrupt(index: int, label: str) -> None:
        if label == "accession":
            assert len(svc.ingest.prefetched()) == 1
            raise Interrupted  # e.g. Ctrl-C while the first dossier is written to the replicas

    with pytest.raises(Interrupted):
        list(svc.ingest.ingest_many(_batch(paths), progress=interrupt))
    assert svc.ingest.prefetched() == {}
    with svc.session() as s:
        states = sorted(sub.state.value for sub in s.scalars(select(Submission)))
    assert states == ["accepted", "received"]  # the third was never received; both recoverable
    assert len(svc.ingest.recover()) == 2


def test_a_dossier_withdrawn_while_prefetched_drops_its_checks(
    tmp_path: Path, pki: TestPki, svc: Services
) -> None:
    paths = [_dossier(tmp_path, pki, f"{n:02d}.WD") for n in range(1, 3)]
    withdrawn: list[str] = []

    def withdraw_next(index: int, label: str) -> None:
        if label == "accession" and index == 0:
            (sid,) = svc.ingest.prefetched()
            svc.ingest.withdraw(sid, actor=Agent.organization(AGENCY))
            withdrawn.append(sid)
            assert svc.ingest.prefetched() == {}

    items = list(svc.ingest.ingest_many(_batch(paths), progress=withdraw_next))
    assert [_status(i) for i in items] == ["accepted", "withdrawn"]
    assert items[1].submission_id == withdrawn[0]
