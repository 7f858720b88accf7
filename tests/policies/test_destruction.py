"""Destruction on every replica, resumable after a crash; tombstone, papers and event chain remain.

ARCHITECTURE invariant 4: a destroyed record is gone from every replica, every index and every
cache; its tombstone and certificate remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from archive import events
from archive.catalog import (
    CopyStatus,
    DisposalState,
    Document,
    FileCopy,
    HoldScope,
    IndexOutbox,
    PackageState,
    RecordState,
    Tombstone,
)
from policies.destruction import execute
from policies.disposal_documents import disposal_file_bundle
from policies.errors import DestructionIncomplete, InvalidTransition, LegalHoldActive
from policies.holds import place_hold
from tests.policies.conftest import TODAY, World


class Crash(RuntimeError):
    pass


def pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def run(world: World, case_id: int, **kw: object) -> object:
    with world.session() as s:
        case, actor = world.case(s, case_id), world.user(s, "luu_tru_vien")

    def purge_index(ids: Sequence[int]) -> None:
        world.purged.extend(ids)

    return execute(world.sessions, case, actor, world.replicas, purge_index, TODAY, **kw)  # type: ignore[arg-type]


def test_invariant_4_destroyed_record_is_gone_from_every_replica_and_index(
    world: World, tmp_path: Path
) -> None:
    world.add_dossier("KT-2014-01")
    world.add_dossier("KT-2014-02")
    world.add_dossier("KT-2020-KEEP", end=None)  # not in the case: must survive
    assert world.bytes_on_disk("KT-2014-01")
    case_id = world.approved_case(["KT-2014-01", "KT-2014-02"])
    caches: list[int] = []
    report = run(world, case_id, purge_derivatives=caches.extend)
    assert report.destroyed == ["KT-2014-01", "KT-2014-02"]  # type: ignore[attr-defined]
    for code in ("KT-2014-01", "KT-2014-02"):
        assert world.bytes_on_disk(code) == []  # checked directly on disk, both replicas
    assert len(world.bytes_on_disk("KT-2020-KEEP")) == 6
    with world.session() as s:
        d = world.dossier(s, "KT-2014-01")
        assert sorted(world.purged) == sorted(caches) == sorted([d.id, world.dossier(s, "KT-2014-02").id])
        assert d.state is RecordState.DESTROYED and all(p.state is PackageState.DESTROYED for p in d.packages)
        assert d.descriptive["summary"]["code"] == "KT-2014-01" and "keyword" not in str(d.descriptive)
        docs = s.scalars(select(Document).where(Document.dossier_id == d.id)).all()
        assert all(
            x.text_content is None and x.subject is None and x.state is RecordState.DESTROYED for x in docs
        )
        copies = s.scalars(select(FileCopy)).all()
        assert {c.status for c in copies if "KT-2014" in c.key} == {CopyStatus.DELETED}
        assert {c.status for c in copies if "KEEP" in c.key} == {CopyStatus.OK}
        tomb = s.scalar(select(Tombstone).where(Tombstone.dossier_id == d.id))
        assert tomb is not None and tomb.decision_reference == "45/QĐ-SNV" and tomb.code == "KT-2014-01"
        assert len(tomb.file_hashes) == 3 and all(len(h["sha256"]) == 64 for h in tomb.file_hashes)
        assert "nội dung" not in str(tomb.file_hashes)
        outbox = s.scalars(select(IndexOutbox).where(IndexOutbox.op == "delete")).all()
        assert {(o.entity, o.entity_id) for o in outbox} >= {("dossier", d.id)}
        case = world.case(s, case_id)
        assert case.state is DisposalState.DESTROYED and case.executed_at is not None
        paths = disposal_file_bundle(s, case, tmp_path / "papers")
        s.commit()
        assert [p.suffix for p in paths] == [".pdf", ".pdf", ".pdf", ".xlsx"]
        assert set(case.documents) == {p.name for p in paths}
        record = pdf_text(next(p for p in paths if "bien-ban" in p.name))
        for expected in (
            "BIÊN BẢN",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "KT-2014-01",
            "KT-2014-02",
            "45/QĐ-SNV",
            "SỞ NỘI VỤ TỈNH THÁI BÌNH",
        ):
            assert expected in record
        listing = pdf_text(next(p for p in paths if p.name.endswith("danh-muc.pdf")))
        assert "DANH MỤC TÀI LIỆU HẾT THỜI HẠN LƯU TRỮ" in listing and "Hết thời hạn 10 năm" in listing
        assert "QUYẾT ĐỊNH" in pdf_text(next(p for p in paths if "quyet-dinh" in p.name))
        sheet = load_workbook(paths[-1], read_only=True).worksheets[0]
        rows = [r for r in sheet.iter_rows(values_only=True)]
        assert rows[3][1] == "KT-2014-01" and rows[4][1] == "KT-2014-02"
        assert events.verify_chain(s).ok
    with pytest.raises(InvalidTransition):  # a destroyed case cannot run again
        run(world, case_id)


def test_crash_between_replicas_then_resume_leaves_no_copy(world: World) -> None:
    world.add_dossier("KT-2014-01")
    world.add_dossier("KT-2014-02")
    case_id = world.approved_case(["KT-2014-01", "KT-2014-02"])
    seen: list[tuple[str, str]] = []

    def crash_after_first_replica(code: str, replica: str) -> None:
        seen.append((code, replica))
        if (code, replica) == ("KT-2014-02", "r1"):
            raise Crash("power cut")

    with pytest.raises(Crash):
        run(world, case_id, after_replica=crash_after_first_replica)
    assert world.bytes_on_disk("KT-2014-01") == []
    assert world.bytes_on_disk("KT-2014-02") and all("/r2/" in p for p in world.bytes_on_disk("KT-2014-02"))
    with world.session() as s:
        assert world.case(s, case_id).state is DisposalState.EXECUTING
        assert world.dossier(s, "KT-2014-02").state is RecordState.UNDER_REVIEW
    report = run(world, case_id)
    assert report.destroyed == ["KT-2014-02"] and report.already_destroyed == ["KT-2014-01"]  # type: ignore[attr-defined]
    assert world.bytes_on_disk("KT-2014-01") == world.bytes_on_disk("KT-2014-02") == []
    with world.session() as s:
        assert world.case(s, case_id).state is DisposalState.DESTROYED
        assert len(s.scalars(select(Tombstone)).all()) == 2
        assert {c.status for c in s.scalars(select(FileCopy))} == {CopyStatus.DELETED}
        assert events.verify_chain(s).ok


def test_crash_after_copies_are_gone_but_before_the_tombstone(world: World) -> None:
    world.add_dossier("KT-2014-01")
    case_id = world.approved_case(["KT-2014-01"])

    def index_down(ids: Sequence[int]) -> None:
        raise Crash("search index unreachable")

    with world.session() as s:
        case, actor = world.case(s, case_id), world.user(s, "luu_tru_vien")
    with pytest.raises(Crash):
        execute(world.sessions, case, actor, world.replicas, index_down, TODAY)
    with world.session() as s:
        assert s.scalar(select(Tombstone)) is None  # rolled back with the failed step
    run(world, case_id)
    with world.session() as s:
        assert s.scalar(select(Tombstone)) is not None and world.purged


def test_hold_placed_mid_execution_stops_it_and_a_missing_replica_is_refused(world: World) -> None:
    world.add_dossier("KT-2014-01")
    dossier_id = world.add_dossier("KT-2014-02")
    case_id = world.approved_case(["KT-2014-01", "KT-2014-02"])
    with world.session() as s:
        case, actor = world.case(s, case_id), world.user(s, "luu_tru_vien")
    with pytest.raises(DestructionIncomplete):  # r2 holds copies but is not given
        execute(world.sessions, case, actor, world.replicas[:1], lambda ids: None, TODAY)
    assert len(world.bytes_on_disk("KT-2014-01")) == 6  # nothing touched

    def hold_after_first(code: str, replica: str) -> None:
        if (code, replica) == ("KT-2014-01", "r2"):
            with world.session() as s:
                place_hold(
                    s,
                    world.user(s, "luu_tru_vien_2"),
                    HoldScope.DOSSIER,
                    dossier_id,
                    "inspection",
                    "Thanh tra",
                )
                s.commit()

    with pytest.raises(LegalHoldActive):
        run(world, case_id, after_replica=hold_after_first)
    assert world.bytes_on_disk("KT-2014-01") == []
    assert len(world.bytes_on_disk("KT-2014-02")) == 6  # the held dossier is untouched
    with world.session() as s:
        assert world.dossier(s, "KT-2014-02").state is RecordState.UNDER_REVIEW
        assert events.verify_chain(s).ok
