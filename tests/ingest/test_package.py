"""SIP and AIP packaging on real files: bag validity, METS/PREMIS against the XSDs, read-back."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bagit
import pytest
from lxml import etree
from reportlab.pdfgen import canvas

from archive.bags import validate_bag
from archive.schemas import CSIP_NS, METS_NS, XLINK_NS, validation_errors
from archive.vntime import utcnow
from ingest.package import (
    AipPreservation,
    ChecksumMismatch,
    EventType,
    FileFormat,
    InvalidPackage,
    Outcome,
    PremisAgent,
    PremisEvent,
    PremisSignature,
    UnsafePath,
    build_aip,
    build_sip,
    read_aip,
)
from ingest.package.csip import REP_METS, REP_PREMIS, ROOT_PREMIS

FILE_CODE = "H49.64.33.2001.160"
AGENCY = "UBND tỉnh Thái Bình"
M = {"mets": METS_NS, "xlink": XLINK_NS}


def simpledc(fields: Mapping[str, Any]) -> bytes:
    """A TT 05/2025-shaped EAD file (flat ``<simpledc>``), standing in for archive.metadata.io."""
    root = etree.Element("simpledc")
    for key, value in fields.items():
        if key not in ("file", "sha256"):
            etree.SubElement(root, key).text = str(value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@pytest.fixture
def staged(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A staged dossier: a reportlab PDF, a UTF-8 text file and a PNG (when Pillow is there)."""
    stage = tmp_path / "stage"
    (stage / "van-ban").mkdir(parents=True)
    pdf = stage / "van-ban" / "qd-15.pdf"
    c = canvas.Canvas(str(pdf))
    c.drawString(72, 720, "Quyet dinh so 15/QD-UBND")
    c.save()
    (stage / "ghi-chu.txt").write_text("Ghi chú: hồ sơ lưu trữ vĩnh viễn\n", encoding="utf-8")
    files = ["van-ban/qd-15.pdf", "ghi-chu.txt"]
    try:
        from PIL import Image

        Image.new("RGB", (8, 8), (200, 30, 30)).save(stage / "anh.png")
        files.append("anh.png")
    except ImportError:
        pass
    documents = [
        {
            "file": rel,
            "sha256": hashlib.sha256((stage / rel).read_bytes()).hexdigest(),
            "docId": f"{FILE_CODE}.{n}",
            "typeName": "02",
            "subject": f"Tài liệu số {n}",
        }
        for n, rel in enumerate(files, 1)
    ]
    metadata = {
        "profile": "tt05-2025",
        "dossier": {
            "fileCode": FILE_CODE,
            "title": "Hồ sơ xây dựng trụ sở",
            "maintenance": "01",
            "language": "01",
        },
        "documents": documents,
    }
    return stage, metadata


def make_sip(staged: tuple[Path, dict[str, Any]], out: Path, **kw: Any) -> Any:
    stage, metadata = staged
    return build_sip(
        stage,
        metadata,
        out,
        agency=AGENCY,
        dossier_ead=simpledc(metadata["dossier"]),
        document_ead=[simpledc(d) for d in metadata["documents"]],
        **kw,
    )


def check_mets_checksums(mets_path: Path) -> int:
    """Every file and mdRef in a METS document exists with the recorded size and SHA-256."""
    tree = etree.parse(str(mets_path))
    count = 0
    for el in tree.iter(f"{{{METS_NS}}}file", f"{{{METS_NS}}}mdRef"):
        loc = el if el.tag.endswith("mdRef") else el.find("mets:FLocat", M)
        target = mets_path.parent / loc.get(f"{{{XLINK_NS}}}href")
        assert target.stat().st_size == int(el.get("SIZE")), target
        assert hashlib.sha256(target.read_bytes()).hexdigest() == el.get("CHECKSUM"), target
        assert el.get("CHECKSUMTYPE") == "SHA-256"
        count += 1
    return count


def test_sip_is_a_valid_bag_with_csip_layout(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    sip = make_sip(staged, tmp_path / "sip")
    report = validate_bag(sip.path)
    assert report.valid and not report.warnings, (report.errors, report.warnings)
    bagit.Bag(str(sip.path)).validate()  # the Library of Congress implementation agrees
    data = sip.path / "data"
    n_docs = len(staged[1]["documents"])
    for rel in [
        "METS.xml",
        "metadata/descriptive/EAD.xml",
        REP_METS,
        "schemas/mets1_12.xsd",
        "schemas/premis.xsd",
    ]:
        assert (data / rel).is_file(), rel
    for n in range(1, n_docs + 1):
        assert (data / f"representations/rep1/metadata/descriptive/EAD_doc_{n}.xml").is_file()
    assert (data / "representations/rep1/data/van-ban/qd-15.pdf").is_file()
    assert not (data / "metadata/preservation").exists()  # SIP has no PREMIS (TT 05/2025)
    info = dict(bagit.Bag(str(sip.path)).info)
    assert info["Source-Organization"] == AGENCY and info["External-Identifier"] == FILE_CODE
    assert info["Bag-Software-Agent"].startswith("luutru") and "Bagging-Date" in info
    assert (sip.path / "manifest-sha512.txt").is_file() and (sip.path / "tagmanifest-sha256.txt").is_file()
    on_disk = sorted(p.relative_to(sip.path).as_posix() for p in sip.path.rglob("*") if p.is_file())
    assert sorted(e.path for e in sip.entries) == on_disk


def test_sip_mets_validates_and_checksums_match(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    sip = make_sip(staged, tmp_path / "sip")
    root_mets, rep_mets = sip.path / "data/METS.xml", sip.path / "data" / REP_METS
    for path in (root_mets, rep_mets):
        assert validation_errors("mets", path.read_bytes()) == []
    root = etree.parse(str(root_mets)).getroot()
    assert root.get("OBJID") == FILE_CODE
    assert root.get(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE") == "OTHER"
    hdr = root.find("mets:metsHdr", M)
    assert hdr.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") == "SIP"
    assert hdr.get("CREATEDATE").endswith("+07:00")
    assert root.find("mets:amdSec", M) is None
    assert root.find("mets:structMap", M).get("LABEL") == "CSIP"
    mptr = root.find(".//mets:mptr", M)
    assert mptr.get(f"{{{XLINK_NS}}}href") == REP_METS
    ids = [el.get("ID") for el in root.iter() if el.get("ID")]
    assert ids and all(i.startswith("uuid-") for i in ids)
    assert check_mets_checksums(root_mets) >= 8  # EAD + 6 XSDs + representation METS
    assert check_mets_checksums(rep_mets) == 2 * len(staged[1]["documents"])
    uses = {g.get("USE") for g in root.iterfind(".//mets:fileGrp", M)}
    assert uses == {"Schemas", "Representations/rep1"}


def test_sip_hard_links_or_streams(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    stage = staged[0]
    linked = make_sip(staged, tmp_path / "linked", link=True)
    copied = make_sip(staged, tmp_path / "copied", link=False)
    src = stage / "van-ban/qd-15.pdf"
    rel = "data/representations/rep1/data/van-ban/qd-15.pdf"
    assert os.stat(linked.path / rel).st_ino == src.stat().st_ino
    assert os.stat(copied.path / rel).st_ino != src.stat().st_ino
    assert (copied.path / rel).read_bytes() == src.read_bytes()
    assert validate_bag(copied.path).valid


def test_sip_accepts_ead_functions(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    stage, metadata = staged
    sip = build_sip(
        stage,
        metadata,
        tmp_path / "sip",
        agency=AGENCY,
        dossier_ead=lambda m: simpledc(m["dossier"]),
        document_ead=simpledc,
    )
    ead = etree.parse(str(sip.path / "data/metadata/descriptive/EAD.xml")).getroot()
    assert ead.findtext("fileCode") == FILE_CODE


def test_declared_checksum_mismatch_leaves_nothing(
    tmp_path: Path, staged: tuple[Path, dict[str, Any]]
) -> None:
    staged[1]["documents"][1]["sha256"] = "0" * 64
    with pytest.raises(ChecksumMismatch) as exc:
        make_sip(staged, tmp_path / "sip")
    assert exc.value.path == "ghi-chu.txt"
    assert not (tmp_path / "sip").exists() and not (tmp_path / "sip.partial").exists()


def test_unsafe_document_path_is_refused(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    staged[1]["documents"][0]["file"] = "../outside.pdf"
    with pytest.raises(UnsafePath):
        make_sip(staged, tmp_path / "sip")
    assert not (tmp_path / "sip").exists()


def test_existing_output_is_never_overwritten(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    (tmp_path / "sip").mkdir()
    with pytest.raises(FileExistsError):
        make_sip(staged, tmp_path / "sip")


def preservation_for(metadata: dict[str, Any]) -> AipPreservation:
    files = [d["file"] for d in metadata["documents"]]
    when = utcnow()
    archivist = PremisAgent("user:7", "Nguyễn Thị Lan", "person")
    events = [
        PremisEvent(
            f"uuid-fix-{n}",
            EventType.FIXITY_CHECK,
            when,
            Outcome.SUCCESS,
            "SHA-256 at receipt",
            agents=[("luutru", "executing program")],
            objects=[f],
        )
        for n, f in enumerate(files)
    ]
    events.append(
        PremisEvent(
            "uuid-acc",
            EventType.ACCESSION,
            when,
            Outcome.SUCCESS,
            "accepted",
            agents=[("user:7", "approver")],
        )
    )
    sig = PremisSignature(
        "PAdES-B-B",
        "RSA-SHA256",
        "3f2a…",
        "ETSI EN 319 102-1 (pyHanko)",
        "CN=Nguyễn Văn A",
        ["validity: VALID"],
    )
    return AipPreservation(
        events=events,
        agents=[archivist],
        formats={"van-ban/qd-15.pdf": FileFormat("fmt/18", "Acrobat PDF 1.4", "1.4", "application/pdf")},
        validation_reports={
            "van-ban/qd-15.pdf": {"findings": [], "profile": "tt05-2025"},
            "dossier": {"ok": True},
        },
        signature_reports={"van-ban/qd-15.pdf": {"signatures": [{"signer": "Nguyễn Văn A", "valid": True}]}},
        signatures={"van-ban/qd-15.pdf": [sig]},
        significant_properties={"van-ban/qd-15.pdf": {"page count": "1"}},
    )


def test_aip_built_validated_and_read_back(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    sip = make_sip(staged, tmp_path / "sip")
    aip = build_aip(
        sip.path, tmp_path / "aip", aip_id="aip-0001", version=1, preservation=preservation_for(staged[1])
    )
    report = validate_bag(aip.path)
    assert report.valid and not report.warnings, report.errors
    bagit.Bag(str(aip.path)).validate()
    data = aip.path / "data"
    for rel in (ROOT_PREMIS, REP_PREMIS):
        assert validation_errors("premis", (data / rel).read_bytes()) == [], rel
    for rel in ("METS.xml", REP_METS):
        assert validation_errors("mets", (data / rel).read_bytes()) == [], rel
        hdr = etree.parse(str(data / rel)).getroot().find("mets:metsHdr", M)
        assert hdr.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") == "AIP"
        check_mets_checksums(data / rel)
    root = etree.parse(str(data / "METS.xml")).getroot()
    premis_refs = [r.get(f"{{{XLINK_NS}}}href") for r in root.iterfind(".//mets:digiprovMD/mets:mdRef", M)]
    assert ROOT_PREMIS in premis_refs
    reports = sorted(
        p.relative_to(data).as_posix() for p in (data / "metadata/preservation/reports").rglob("*.json")
    )
    assert reports == [
        "metadata/preservation/reports/signatures/van-ban__qd-15.pdf.json",
        "metadata/preservation/reports/validation/dossier.json",
        "metadata/preservation/reports/validation/van-ban__qd-15.pdf.json",
    ]
    assert all(r in premis_refs for r in reports)
    on_disk = {p.relative_to(aip.path).as_posix(): p for p in aip.path.rglob("*") if p.is_file()}
    assert sorted(e.path for e in aip.entries) == sorted(on_disk)
    for e in aip.entries:
        assert hashlib.sha256(on_disk[e.path].read_bytes()).hexdigest() == e.sha256
        assert on_disk[e.path].stat().st_size == e.size

    summary = read_aip(aip.path, verify=True)
    assert (summary.aip_id, summary.version, summary.file_code) == ("aip-0001", 1, FILE_CODE)
    assert summary.package_type == "AIP" and summary.agency == AGENCY
    assert summary.dossier["title"] == "Hồ sơ xây dựng trụ sở"
    assert [d["docId"] for d in summary.documents] == [d["docId"] for d in staged[1]["documents"]]
    pdf = next(f for f in summary.files if f.path.endswith("qd-15.pdf"))
    assert pdf.puid == "fmt/18" and pdf.mimetype == "application/pdf"
    assert len(summary.files) == len(staged[1]["documents"])
    types = [str(e.event_type) for e in summary.events]
    assert types.count("fixity check") == len(staged[1]["documents"])
    assert {"accession", "information package creation"} <= set(types)
    fixity = next(e for e in summary.events if e.identifier == "uuid-fix-0")
    assert fixity.objects == ["representations/rep1/data/van-ban/qd-15.pdf"]
    assert {a.identifier for a in summary.agents} == {"luutru", "user:7", "source-organization"}
    assert next(a for a in summary.agents if a.agent_type == "organization").name == AGENCY
    rep_premis = (data / REP_PREMIS).read_text("utf-8")
    assert "CN=Nguyễn Văn A" in rep_premis and "fmt/18" in rep_premis and "page count" in rep_premis


def test_aip_refuses_a_tampered_sip(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    sip = make_sip(staged, tmp_path / "sip", link=False)
    target = sip.path / "data/representations/rep1/data/ghi-chu.txt"
    content = bytearray(target.read_bytes())
    content[0] ^= 0x01  # same size: only the checksum can tell
    target.write_bytes(bytes(content))
    with pytest.raises(ChecksumMismatch):
        build_aip(sip.path, tmp_path / "aip", aip_id="a", version=1, preservation=AipPreservation())
    (sip.path / "data/extra.txt").write_text("x")
    with pytest.raises(InvalidPackage):
        build_aip(sip.path, tmp_path / "aip", aip_id="a", version=1, preservation=AipPreservation())
    assert not (tmp_path / "aip").exists()


def test_aip_needs_a_sip_with_mets(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "data" / "a.txt").write_text("x")
    bagit.make_bag(str(bag))
    with pytest.raises(InvalidPackage):
        build_aip(bag, tmp_path / "aip", aip_id="a", version=1, preservation=AipPreservation())


def test_read_aip_refuses_a_broken_bag(tmp_path: Path, staged: tuple[Path, dict[str, Any]]) -> None:
    sip = make_sip(staged, tmp_path / "sip")
    aip = build_aip(
        sip.path, tmp_path / "aip", aip_id="a", version=2, preservation=AipPreservation(), link=False
    )
    assert read_aip(aip.path).version == 2
    (aip.path / "data" / REP_PREMIS).unlink()
    with pytest.raises(InvalidPackage):
        read_aip(aip.path)


def test_large_file_is_streamed(tmp_path: Path) -> None:
    """A 200 MB sparse file goes through SIP, AIP and validation in bounded memory."""
    import tracemalloc

    stage = tmp_path / "stage"
    stage.mkdir()
    big = stage / "scan.tif"
    with big.open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    metadata = {
        "profile": "tt05-2025",
        "dossier": {"fileCode": FILE_CODE},
        "documents": [{"file": "scan.tif"}],
    }
    chunks: list[int] = []
    tracemalloc.start()
    try:
        sip = build_sip(
            stage,
            metadata,
            tmp_path / "sip",
            agency=AGENCY,
            dossier_ead=simpledc(metadata["dossier"]),
            document_ead=[simpledc({"docId": "1"})],
            progress=chunks.append,
        )
        report = validate_bag(sip.path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.valid
    assert sum(chunks) == big.stat().st_size and max(chunks) <= 1024 * 1024
    assert peak < 16 * 1024 * 1024  # far below the 200 MB file
