"""SIPs of other producers at intake: an E-ARK SIP with Dublin Core, a TT 05/2025 SIP_hoso."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from archive.metadata.ead import ead_document_xml, ead_dossier_xml
from ingest.intake import IntakeLimits, IntakeRejected, StagedSubmission, stage_submission
from luutru.cli.main import cli
from luutru.samples.dossiers import make_dossier, sha256
from luutru.samples.pki import TestPki

M = "http://www.loc.gov/METS/"
X = "http://www.w3.org/1999/xlink"
DC = "http://purl.org/dc/elements/1.1/"


def _mets(out: Path, files: list[str], metadata: list[str] = ()) -> None:  # type: ignore[assignment]
    """A small CSIP-shaped METS naming ``files`` (fileSec) and ``metadata`` (dmdSec), with SHA-256."""
    root = etree.Element(
        f"{{{M}}}mets",
        nsmap={"mets": M, "xlink": X},
        OBJID="uuid-test",
        PROFILE="https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml",
    )
    base = out.parent
    for i, rel in enumerate(metadata):
        dmd = etree.SubElement(root, f"{{{M}}}dmdSec", ID=f"dmd-{i}")
        ref = etree.SubElement(
            dmd,
            f"{{{M}}}mdRef",
            LOCTYPE="URL",
            MDTYPE="DC",
            CHECKSUM=sha256(base / rel),
            CHECKSUMTYPE="SHA-256",
        )
        ref.set(f"{{{X}}}href", rel)
    grp = etree.SubElement(
        etree.SubElement(root, f"{{{M}}}fileSec"), f"{{{M}}}fileGrp", USE="Representations/rep1"
    )
    for i, rel in enumerate(files):
        f = etree.SubElement(
            grp, f"{{{M}}}file", ID=f"file-{i}", CHECKSUM=sha256(base / rel), CHECKSUMTYPE="SHA-256"
        )
        loc = etree.SubElement(f, f"{{{M}}}FLocat", LOCTYPE="URL")
        loc.set(f"{{{X}}}href", rel)
    etree.SubElement(etree.SubElement(root, f"{{{M}}}structMap"), f"{{{M}}}div")
    out.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _eark_sip_with_dc(root: Path, pdf: Path) -> Path:
    """What commons-ip / RODA-in make: DC in metadata/descriptive, files in representations/rep1/data."""
    data = root / "representations" / "rep1" / "data"
    data.mkdir(parents=True)
    shutil.copy(pdf, data / "cong-van.pdf")
    (root / "metadata" / "descriptive").mkdir(parents=True)
    dc = etree.Element(
        "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
        nsmap={"oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/", "dc": DC},
    )
    for name, value in (("title", "Hồ sơ hội nghị tổng kết năm 2024"), ("identifier", "H54.2024.07.HN"),
                        ("date", "2024-01-08/2024-12-27"), ("language", "vi"), ("subject", "hội nghị")):  # fmt: skip
        etree.SubElement(dc, f"{{{DC}}}{name}").text = value
    (root / "metadata" / "descriptive" / "dc.xml").write_bytes(
        etree.tostring(dc, xml_declaration=True, encoding="UTF-8")
    )
    _mets(root / "METS.xml", ["representations/rep1/data/cong-van.pdf"], ["metadata/descriptive/dc.xml"])
    return root


def test_eark_sip_with_dublin_core_is_mapped_and_goes_to_review_for_what_it_lacks(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str]
) -> None:
    sip = _eark_sip_with_dc(tmp_path / "sip", fully_signed)
    staged = stage_submission(sip, tmp_path / "staging", limits=IntakeLimits())
    assert isinstance(staged, StagedSubmission), staged
    assert staged.dossier["title"] == "Hồ sơ hội nghị tổng kết năm 2024"
    assert (staged.dossier["fileCode"], staged.dossier["startDate"], staged.dossier["endDate"]) == (
        "H54.2024.07.HN",
        "08/01/2024",
        "27/12/2024",
    )
    assert staged.dossier["language"] == ["01"] and staged.dossier["_source"] == "e-ark-sip"
    assert [d["file"] for d in staged.documents] == ["representations/rep1/data/cong-van.pdf"]
    result = CliRunner().invoke(
        cli, ["ingest", str(sip), "--agency", "000.00.00.H54", "--json"], env=archive_env
    )
    out = json.loads(result.stdout)
    assert out["status"] == "review", out["findings"]
    fields = {f["field"] for f in out["findings"] if f["code"] == "intake.field_to_complete"}
    assert {"maintenance", "mode", "subject", "typeName", "issuedDate"} <= fields  # DC cannot say them
    assert not [f for f in out["findings"] if f["severity"] == "error"]


def test_a_mets_checksum_that_differs_refuses_the_sip(tmp_path: Path, fully_signed: Path) -> None:
    sip = _eark_sip_with_dc(tmp_path / "sip", fully_signed)
    pdf = sip / "representations" / "rep1" / "data" / "cong-van.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n%changed after the METS was written\n")
    result = stage_submission(sip, tmp_path / "staging", limits=IntakeLimits())
    assert isinstance(result, IntakeRejected)
    assert {f.code for f in result.findings} == {"intake.checksum_mismatch"}
    assert not (tmp_path / "staging" / result.submission_id).exists()


def test_mets_naming_a_missing_file_refuses_the_sip(tmp_path: Path, fully_signed: Path) -> None:
    sip = _eark_sip_with_dc(tmp_path / "sip", fully_signed)
    (sip / "representations" / "rep1" / "data" / "cong-van.pdf").unlink()
    (sip / "representations" / "rep1" / "data" / "khac.txt").write_text("x", encoding="utf-8")
    result = stage_submission(sip, tmp_path / "staging", limits=IntakeLimits())
    assert isinstance(result, IntakeRejected) and "intake.file_missing" in {f.code for f in result.findings}


def _tt05_sip_hoso(root: Path, pki: TestPki, tmp_path: Path) -> Path:
    """A TT 05/2025 SIP_hoso from a folder submission: EAD.xml, EAD_doc_<n>.xml, data/, METS."""
    src = make_dossier(tmp_path / "src", pki, extra_files=False)
    metadata = json.loads((src / "metadata.json").read_text(encoding="utf-8"))
    rep = root / "representations" / "rep1"
    (rep / "data").mkdir(parents=True)
    (rep / "metadata" / "descriptive").mkdir(parents=True)
    (root / "metadata" / "descriptive").mkdir(parents=True)
    (root / "metadata" / "descriptive" / "EAD.xml").write_bytes(ead_dossier_xml(metadata))
    files = []
    for n, doc in enumerate(metadata["documents"], start=1):
        name = f"{n:04d}-{Path(doc['file']).name}"
        shutil.copy(src / doc["file"], rep / "data" / name)
        (rep / "metadata" / "descriptive" / f"EAD_doc_{n}.xml").write_bytes(ead_document_xml(doc))
        files.append(f"data/{name}")
    _mets(
        rep / "METS.xml", files, [f"metadata/descriptive/EAD_doc_{n}.xml" for n in range(1, len(files) + 1)]
    )
    _mets(root / "METS.xml", ["representations/rep1/METS.xml"], ["metadata/descriptive/EAD.xml"])
    return root


def test_tt05_sip_hoso_is_read_from_its_ead_files_and_archived(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    sip = _tt05_sip_hoso(tmp_path / "SIP_hoso", pki, tmp_path)
    staged = stage_submission(sip, tmp_path / "staging", limits=IntakeLimits())
    assert isinstance(staged, StagedSubmission), staged
    assert staged.dossier["fileCode"] == "H54.2024.05.CCHC" and staged.dossier["_source"] == "tt05-sip"
    assert [d["file"].rsplit("/", 1)[-1] for d in staged.documents] == [
        "0001-0001.pdf",
        "0002-0002.pdf",
        "0003-0003.pdf",
    ]
    assert staged.documents[1]["subject"] == "Quyết định giao chỉ tiêu cải cách hành chính"
    result = CliRunner().invoke(
        cli, ["ingest", str(sip), "--agency", "000.00.00.H54", "--json"], env=archive_env
    )
    out = json.loads(result.stdout)
    assert out["status"] == "accepted", out["findings"]  # a complete SIP_hoso needs no archivist
    assert out["dossier"] == "H54.2024.05.CCHC"
    assert not [f for f in out["findings"] if f["severity"] == "error"]
