"""Built-in PDF/A rule classes, one by one: conforming files from real producers pass, and a
copy breaking each rule class is refused with that rule's finding code.

Bases: reportlab + pikepdf files claiming 1b/2u/3b, LibreOffice's PDF/A-2 and PDF/A-1 (tagged,
level a) exports of a .docx (made once for the module) and Ghostscript's ``-dPDFA=2`` output.
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import pikepdf
import pytest

from ingest.checks.pdf import check_pdf
from ingest.checks.pdfa import check_pdfa
from ingest.checks.pdfa_walk import Profile
from ingest.checks.pdfa_xmp import check_xmp, parse_pdf_date
from luutru.samples import pdfs, producers
from luutru.samples.pdfa_variants import VARIANTS, expected_code

needs_tools = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("gs") is None,
    reason="LibreOffice and Ghostscript are installed by scripts/setup.sh",
)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pdfa-bases")
    made = {f"reportlab-{c}": pdfs.make_pdf(root / f"rl-{c}.pdf", pdfa=c) for c in ("1b", "2u", "3b")}
    if shutil.which("soffice") and shutil.which("gs"):
        letter = producers.make_docx(root / "cong-van.docx")
        made["libreoffice-2b"] = producers.libreoffice_pdfa([letter], root / "lo2")[0]
        made["libreoffice-1a"] = producers.libreoffice_pdfa([letter], root / "lo1", part=1)[0]  # tagged
        made["ghostscript-2b"] = producers.ghostscript_pdfa(
            pdfs.make_pdf(root / "plain.pdf"), root / "gs.pdf"
        )
    return made


def test_every_base_conforms(bases: dict[str, Path]) -> None:
    for name, path in bases.items():
        report = check_pdf(path)
        assert report.pdfa.claimed is not None, name
        assert report.pdfa.compliant is True, (name, [f.code for f in report.findings])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_rule_class_refuses_its_variant(variant: str, bases: dict[str, Path], tmp_path: Path) -> None:
    applied = 0
    for name, base in bases.items():
        made = VARIANTS[variant](base, tmp_path / f"{name}.pdf")
        if made is None:
            continue  # the rule does not apply to this part/level or this file has no such font
        applied += 1
        report = check_pdf(made)
        codes = {f.code for f in report.findings}
        assert report.pdfa.compliant is False, (variant, name, codes)
        want = expected_code(variant, base)
        assert want in codes, (variant, name, codes)
        finding = next(f for f in report.findings if f.code == want)
        assert finding.evidence and finding.evidence.get("clause"), "every rule finding names its clause"
        assert finding.message_vi and finding.message_en and finding.message_vi != finding.message_en
    assert applied, f"{variant} applied to no base"


def test_pdfa1_forbids_a_compressed_metadata_stream(bases: dict[str, Path]) -> None:
    # qpdf stores metadata streams uncompressed on save, so this one is checked in memory
    with pikepdf.open(bases["reportlab-1b"]) as pdf:
        assert check_xmp(pdf, Profile.parse("1b"), "x.pdf") == []
        data = pdf.Root.Metadata.read_bytes()
        pdf.Root.Metadata.write(zlib.compress(data), filter=pikepdf.Name.FlateDecode)
        codes = {f.code for f in check_xmp(pdf, Profile.parse("1b"), "x.pdf")}
        assert codes == {"pdfa.xmp_filtered"}
        assert check_xmp(pdf, Profile.parse("2b"), "x.pdf") == []  # PDF/A-2 allows it


def test_part_decides_transparency_and_attachments(bases: dict[str, Path], tmp_path: Path) -> None:
    for name, allowed in (("reportlab-1b", False), ("reportlab-3b", True)):
        out = tmp_path / f"{name}-ca.pdf"
        with pikepdf.open(bases[name]) as pdf:
            gs = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5)
            pdf.pages[0].Resources.ExtGState = pikepdf.Dictionary(GS9=gs)
            pdf.save(out)
        assert (check_pdf(out).pdfa.compliant is True) is allowed, name
    # a PDF/A-3 attachment made properly (AF, AFRelationship, MIME type) is allowed
    attached = pdfs.with_embedded_file(bases["reportlab-3b"], tmp_path / "af.pdf")
    assert check_pdf(attached).pdfa.compliant is True


def test_unicode_levels_need_tounicode_but_b_does_not(bases: dict[str, Path], tmp_path: Path) -> None:
    with pikepdf.open(bases["reportlab-2u"]) as pdf:
        for font in pdf.pages[0].Resources.Font.values():
            if "/ToUnicode" in font:
                del font["/ToUnicode"]
        findings = check_pdfa(pdf, "2u", "x.pdf", has_javascript=False)
        assert "pdfa.font_tounicode_missing" in {f.code for f in findings}
        assert "pdfa.font_tounicode_missing" not in {
            f.code for f in check_pdfa(pdf, "2b", "x.pdf", has_javascript=False)
        }


@needs_tools
def test_ghostscript_without_an_output_intent_is_refused(tmp_path: Path) -> None:
    """Ghostscript's -dPDFA without the ICC prologue claims PDF/A but is not (Archivematica #1220)."""
    out = producers.ghostscript_pdfa(pdfs.make_pdf(tmp_path / "in.pdf"), tmp_path / "gs.pdf", intent=False)
    report = check_pdf(out)
    assert report.pdfa.claimed == "2b" and report.pdfa.compliant is False
    assert "pdfa.output_intent_missing" in {f.code for f in report.findings}


def test_pdf_dates_compare_as_instants() -> None:
    assert parse_pdf_date("D:20261204175317Z'") == parse_pdf_date("D:20261205005317+07'00'")
    assert parse_pdf_date("D:2026") is not None and parse_pdf_date("hôm qua") is None
