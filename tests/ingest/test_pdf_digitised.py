"""Digitised copies ("02 Số hóa"): PDF/A, text layer, colour page images at ≥ 200 dpi."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from ingest.checks.pdf import check_digitised, placed_images
from luutru.samples import pdfs


def codes(path: Path) -> set[str]:
    return {f.code for f in check_digitised(path)}


def test_300_dpi_colour_with_text_layer_passes(tmp_path: Path) -> None:
    pdf = pdfs.make_scanned_pdf(tmp_path / "scan300.pdf", dpi=300)
    assert check_digitised(pdf) == []
    with pikepdf.open(pdf) as p:
        (image,) = placed_images(p.pages[0])
    assert round(image.dpi) == 300 and image.colour


def test_150_dpi_fails(tmp_path: Path) -> None:
    pdf = pdfs.make_scanned_pdf(tmp_path / "scan150.pdf", dpi=150)
    found = {f.code: f for f in check_digitised(pdf)}
    assert set(found) == {"pdf.digitised.low_resolution"}
    assert found["pdf.digitised.low_resolution"].evidence["dpi"] == 150.0


def test_greyscale_fails(tmp_path: Path) -> None:
    assert "pdf.digitised.not_colour" in codes(pdfs.make_scanned_pdf(tmp_path / "grey.pdf", colour=False))


def test_no_text_layer_fails(tmp_path: Path) -> None:
    pdf = pdfs.make_scanned_pdf(tmp_path / "image-only.pdf", text_layer=False)
    assert codes(pdf) == {"pdf.digitised.no_text_layer"}


def test_not_pdfa_fails(tmp_path: Path) -> None:
    assert "pdf.digitised.not_pdfa" in codes(pdfs.make_scanned_pdf(tmp_path / "plain.pdf", pdfa=None))


def test_image_scaled_by_cm_inside_form_xobject(tmp_path: Path) -> None:
    """A 300 dpi image drawn at twice its size through a Form XObject is 150 dpi."""
    src = pdfs.make_scanned_pdf(tmp_path / "src.pdf", dpi=300)
    out = tmp_path / "scaled.pdf"
    with pikepdf.open(src) as pdf:
        page = pdf.pages[0]
        images = {k: v for k, v in page.obj.Resources.XObject.items() if v.Subtype == pikepdf.Name.Image}
        ((name, image),) = images.items()
        form = pdf.make_stream(
            f"q 576 0 0 720 0 0 cm {name} Do Q".encode(),
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=[0, 0, 576, 720],
            Matrix=[1, 0, 0, 1, 0, 0],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary({name: image})),
        )
        page.obj.Resources.XObject["/Fm9"] = form
        page.obj.Contents = pdf.make_stream(b"q 1 0 0 1 0 0 cm /Fm9 Do Q")
        page.obj.MediaBox = [0, 0, 576, 720]
        pdf.save(out)
    with pikepdf.open(out) as pdf:
        (placed,) = placed_images(pdf.pages[0])
    assert round(placed.dpi) == 150
