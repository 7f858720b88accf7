"""Built-in PDF/A checks on real PDF/A-2b claiming files, whole and deliberately broken."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from ingest.checks.pdf import check_pdf
from luutru.samples import pdfs


@pytest.fixture(scope="module")
def pdfa2b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pdfs.make_pdf(tmp_path_factory.mktemp("pdfa") / "pdfa2b.pdf", pdfa="2b")


def pdfa_codes(path: Path) -> set[str]:
    return {f.code for f in check_pdf(path).findings if f.code.startswith("pdfa.")}


def test_valid_pdfa_2b_passes_builtin_checks(pdfa2b: Path) -> None:
    report = check_pdf(pdfa2b)
    assert report.pdfa.claimed == "2b"
    assert report.pdfa.compliant is True and report.pdfa.validator == "builtin"
    assert report.findings == ()


def test_non_embedded_font_fails(tmp_path: Path) -> None:
    pdf = pdfs.make_pdf(tmp_path / "helv.pdf", pdfa="2b", embed_fonts=False)
    report = check_pdf(pdf)
    assert report.pdfa.compliant is False
    font = next(f for f in report.findings if f.code == "pdfa.font_not_embedded")
    assert font.evidence["font"] == "Helvetica"


def test_no_output_intent_fails(tmp_path: Path) -> None:
    pdf = pdfs.make_pdf(tmp_path / "no-oi.pdf", pdfa="2b", output_intent=False)
    assert pdfa_codes(pdf) == {"pdfa.output_intent_missing"}


def test_lzw_stream_fails(pdfa2b: Path, tmp_path: Path) -> None:
    pdf = pdfs.with_lzw(pdfa2b, tmp_path / "lzw.pdf")
    # the LZW data is real: the page still decodes to the same content
    with pikepdf.open(pdf) as p, pikepdf.open(pdfa2b) as orig:
        assert p.pages[0].obj.Contents.read_bytes() == orig.pages[0].obj.Contents.read_bytes()
    assert "pdfa.lzw" in pdfa_codes(pdf)


def test_info_xmp_mismatch_fails(pdfa2b: Path, tmp_path: Path) -> None:
    out = tmp_path / "mismatch.pdf"
    with pikepdf.open(pdfa2b) as pdf:
        pdf.docinfo["/Title"] = "Tiêu đề khác"
        pdf.save(out)
    found = [f for f in check_pdf(out).findings if f.code == "pdfa.xmp_info_mismatch"]
    assert [f.evidence["key"] for f in found] == ["Title"]


def test_javascript_breaks_pdfa(pdfa2b: Path, tmp_path: Path) -> None:
    assert "pdfa.javascript" in pdfa_codes(pdfs.with_javascript(pdfa2b, tmp_path / "js.pdf"))


def test_pdfa1_forbids_transparency_and_pdfa2_allows_it(tmp_path: Path) -> None:
    for claim in ("1b", "2b"):
        out = tmp_path / f"ca-{claim}.pdf"
        with pikepdf.open(pdfs.make_pdf(tmp_path / f"src-{claim}.pdf", pdfa=claim)) as pdf:
            res = pdf.pages[0].obj.Resources
            res.ExtGState = pikepdf.Dictionary(GS1=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5))
            pdf.save(out)
        codes = pdfa_codes(out)
        assert ("pdfa.transparency" in codes) is (claim == "1b")


def test_font_in_form_xobject_is_found(pdfa2b: Path, tmp_path: Path) -> None:
    out = tmp_path / "form.pdf"
    with pikepdf.open(pdfa2b) as pdf:
        helv = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Courier
        )
        form = pdf.make_stream(
            b"BT /F9 10 Tf (x) Tj ET",
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=[0, 0, 100, 100],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F9=helv)),
        )
        page = pdf.pages[0]
        page.obj.Resources.XObject = pikepdf.Dictionary(Fm1=form)
        page.contents_add(pdf.make_stream(b"q /Fm1 Do Q"))
        pdf.save(out)
    fonts = [f.evidence["font"] for f in check_pdf(out).findings if f.code == "pdfa.font_not_embedded"]
    assert fonts == ["Courier"]
