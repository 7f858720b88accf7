"""The ingest path end to end on real signed PDFs: accepted, reviewed, rejected, idempotent."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select

from archive import events
from archive.bags import validate_bag
from archive.catalog import (
    CopyStatus,
    Document,
    Dossier,
    FileCopy,
    FileRole,
    IndexOutbox,
    Package,
    PackageState,
    StoredFile,
    Submission,
    SubmissionState,
)
from archive.schemas import validation_errors
from archive.storage.errors import PackageWriteFailed
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples import pdfs
from luutru.samples.dossiers import AGENCY, make_dossier, sha256
from luutru.samples.pki import TestPki
from luutru.services import Services


def _ingest(env: dict[str, str], path: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["ingest", str(path), "--json"], env=env)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_clean_dossier_is_accepted_and_on_every_replica(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki)
    code, out = _ingest(archive_env, src)
    assert code == 0 and out["status"] == "accepted", out["findings"]
    svc = Services.build(settings)
    with svc.session() as s:
        sub = s.get(Submission, out["submission"])
        assert sub is not None and sub.state is SubmissionState.ARCHIVED
        dossier = s.scalars(select(Dossier)).one()
        assert dossier.code == "H54.2024.05.CCHC" and dossier.retention_years == 10
        assert dossier.end_date is not None and dossier.end_date.year == 2024
        assert [d.ordinal for d in dossier.documents] == [1, 2, 3, 4, 5]
        pkg = s.scalars(select(Package)).one()
        assert pkg.state is PackageState.STORED and pkg.version == 1
        originals = s.scalars(select(StoredFile).where(StoredFile.role == FileRole.ORIGINAL)).all()
        assert len(originals) == 5 and all(f.document_id for f in originals)
        pdf_file = next(f for f in originals if f.path.endswith("0001.pdf"))
        assert pdf_file.sha256 == sha256(src / "tai-lieu" / "0001.pdf")
        assert pdf_file.properties["signatures_valid"] is True
        copies = s.scalars(select(FileCopy)).all()
        assert {c.replica for c in copies} == {"r1", "r2"} and all(c.status is CopyStatus.OK for c in copies)
        assert s.scalar(select(func.count()).select_from(IndexOutbox)) == 6  # dossier + 5 documents
        assert events.verify_chain(s).ok
    for root in settings.replica_roots:  # the AIP is a valid bag with valid METS and PREMIS on each replica
        aip = Path(root) / pkg.storage_key
        report = validate_bag(aip)
        assert report.valid, report.errors
        assert not validation_errors("mets", etree.parse(str(aip / "data" / "METS.xml")))
        assert not validation_errors(
            "premis", etree.parse(str(aip / "data" / "metadata" / "preservation" / "PREMIS.xml"))
        )
        reports = list((aip / "data" / "metadata" / "preservation" / "reports" / "signatures").glob("*.json"))
        assert len(reports) == 3 and "pyHanko" in reports[0].read_text()
    assert not any(settings.staging_path.iterdir()), "staging is cleaned after accession"
    # The first replica took the AIP's files (a move on one file system), the second copied
    # them: no two replicas share an inode, and nothing outside the replica holds one.
    first, second = (Path(root) / pkg.storage_key for root in settings.replica_roots)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        a, b = os.stat(first / rel), os.stat(second / rel)
        assert (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino), rel
        assert a.st_nlink == 1 and b.st_nlink == 1, rel
    svc.close()


def test_same_submission_twice_yields_one_aip(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki, extra_files=False)
    _, first = _ingest(archive_env, src)
    _, second = _ingest(archive_env, src)
    assert second["submission"] == first["submission"] and second["status"] == "accepted"
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Package)) == 1
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
    svc.close()


def test_tampered_pdf_rejects_with_reasons(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki, extra_files=False)
    victim = src / "tai-lieu" / "0002.pdf"
    pdfs.tamper_signed_range(victim)
    meta = json.loads((src / "metadata.json").read_text())
    meta["documents"][1]["sha256"] = sha256(victim)  # the agency declares the altered bytes
    (src / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    code, out = _ingest(archive_env, src)
    assert code == 1 and out["status"] == "rejected"
    findings = out["findings"]
    assert isinstance(findings, list)
    hit = [f for f in findings if f["code"] == "pdf.signature.digest_mismatch"]
    assert hit and hit[0]["path"] == "tai-lieu/0002.pdf" and hit[0]["message_vi"] and hit[0]["message_en"]
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 0
        sub = s.get(Submission, out["submission"])
        assert sub is not None and sub.state is SubmissionState.REJECTED and sub.decision_reason
    for root in settings.replica_roots:
        assert not any(Path(root).rglob("*.pdf"))
    svc.close()


def test_wrong_declared_checksum_is_refused_at_receipt(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki, extra_files=False)
    meta = json.loads((src / "metadata.json").read_text())
    meta["documents"][0]["sha256"] = "0" * 64
    (src / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    code, out = _ingest(archive_env, src)
    assert code == 1 and out["status"] == "rejected"
    assert any(f["code"] == "intake.checksum_mismatch" for f in out["findings"])  # type: ignore[union-attr]


def test_warning_goes_to_review_then_accept_or_withdraw(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    first = make_dossier(tmp_path / "a", pki, extra_files=False)
    _ingest(archive_env, first)
    # Same documents (same số/ký hiệu/cơ quan and same bytes) in a new dossier: duplicate warnings.
    second = tmp_path / "b"
    shutil.copytree(first, second)
    meta = json.loads((second / "metadata.json").read_text())
    meta["dossier"]["fileCode"] = "H54.2024.06.CCHC"
    for d in meta["documents"]:
        d["docCode"] = d["docCode"].replace("05.CCHC", "06.CCHC")
    (second / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    code, out = _ingest(archive_env, second)
    assert code == 0 and out["status"] == "review"
    codes = {f["code"] for f in out["findings"]}  # type: ignore[union-attr]
    assert {"duplicate.number_notation", "duplicate.content"} <= codes
    runner = CliRunner()
    sid = str(out["submission"])
    refused = runner.invoke(
        cli, ["submission", "reject", sid, "--as", "luutru", "--reason", " "], env=archive_env
    )
    assert refused.exit_code != 0  # a rejection needs a reason
    accepted = runner.invoke(cli, ["submission", "accept", sid, "--as", "luutru", "--json"], env=archive_env)
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["state"] == "archived"
    withdraw = runner.invoke(cli, ["submission", "withdraw", sid, "--as", "vanthu"], env=archive_env)
    assert withdraw.exit_code != 0 and "cannot become withdrawn" in withdraw.output
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 2
        assert s.scalar(select(func.count()).select_from(Document)) == 6
    svc.close()


def test_zip_and_bag_submissions_are_ingested_end_to_end(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    import zipfile

    import bagit

    zipped_src = make_dossier(tmp_path / "zip-src" / "ho-so", pki, notation="07.ZIP", extra_files=False)
    archive_zip = tmp_path / "ho-so.zip"
    with zipfile.ZipFile(archive_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(zipped_src.rglob("*")):
            if path.is_file():
                zf.write(path, f"ho-so/{path.relative_to(zipped_src).as_posix()}")
    code, out = _ingest(archive_env, archive_zip)
    assert code == 0 and out["status"] == "accepted", out["findings"]

    bag_dir = make_dossier(tmp_path / "bag", pki, notation="08.BAG", extra_files=False)
    bagit.make_bag(
        str(bag_dir), {"Source-Organization": "Ủy ban nhân dân tỉnh Thái Bình"}, checksums=["sha256"]
    )
    code, out = _ingest(archive_env, bag_dir)
    assert code == 0 and out["status"] == "accepted", out["findings"]

    svc = Services.build(settings)
    with svc.session() as s:
        codes = set(s.scalars(select(Dossier.code)))
        assert {"H54.2024.07.ZIP", "H54.2024.08.BAG"} <= codes
    svc.close()


def test_a_failed_replica_keeps_the_dossier_out_of_the_catalog_until_recovery(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki, extra_files=False)
    svc = Services.build(settings)
    first, second = (Path(r.describe()["location"]) for r in svc.replicas)
    blocked = second / ".tmp"
    shutil.rmtree(blocked)
    blocked.write_bytes(b"")  # the second replica cannot stage any write
    with pytest.raises(PackageWriteFailed):
        svc.ingest.ingest(src, AGENCY, actor=events.Agent.person("vanthu"))
    with svc.session() as s:
        sub = s.scalars(select(Submission)).one()
        assert sub.state is SubmissionState.ACCEPTED  # kept, with its staging, for a retry
        assert s.scalar(select(func.count()).select_from(Package)) == 0
        assert s.scalar(select(func.count()).select_from(Dossier)) == 0
    assert not (second / "aip").exists()
    blocked.unlink()
    blocked.mkdir()
    assert svc.ingest.recover() == [sub.id]
    with svc.session() as s:
        assert s.get(Submission, sub.id).state is SubmissionState.ARCHIVED  # type: ignore[union-attr]
        pkg = s.scalars(select(Package)).one()
        assert {c.replica for c in s.scalars(select(FileCopy))} == {"r1", "r2"}
        assert events.verify_chain(s).ok
    for root in (first, second):
        assert validate_bag(root / pkg.storage_key).valid
        assert not any((root / ".tmp").iterdir())
    svc.close()
