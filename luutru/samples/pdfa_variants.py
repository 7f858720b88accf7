"""Break one PDF/A rule at a time in a conforming file, for the rule-class tests and the bench.

Each breaker takes a conforming PDF/A file and writes a copy that violates exactly one rule
class of ISO 19005 (``VARIANTS`` maps the ``pdfa.*`` finding code it must cause to the
breaker). A breaker returns None when the rule does not apply to that file (a PDF/A-1-only
rule on a PDF/A-2 file, a font rule on a file without such a font). File-level defects are
written as byte patches of the same length, so every offset stays right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf

from luutru.samples.pdfs import with_embedded_file, with_javascript, with_launch_action, with_lzw

Breaker = Callable[[Path, Path], Path | None]


def _part(pdf: pikepdf.Pdf) -> str:
    return str(pdf.open_metadata().get("pdfaid:part", "") or "")


def _level(pdf: pikepdf.Pdf) -> str:
    return str(pdf.open_metadata().get("pdfaid:conformance", "") or "").lower()


def _patch(src: Path, out: Path, edit: Callable[[bytes], bytes]) -> Path:
    data = src.read_bytes()
    changed = edit(data)
    assert len(changed) == len(data) and changed != data, "a byte patch must keep offsets"
    out.write_bytes(changed)
    return out


def _edit(
    src: Path, out: Path, change: Callable[[pikepdf.Pdf], bool | None], *, raw: bool = False
) -> Path | None:
    with pikepdf.open(src) as pdf:
        if change(pdf) is False:
            return None
        pdf.save(out, fix_metadata_version=False)  # else pikepdf re-serialises the XMP packet
    return out


def _add_content(pdf: pikepdf.Pdf, ops: bytes, **resources: dict[str, pikepdf.Object]) -> None:
    page = pdf.pages[0]
    res = page.obj.get("/Resources")
    if res is None:
        page.obj.Resources = res = pikepdf.Dictionary()
    for kind, entries in resources.items():
        key = f"/{kind}"
        if key not in res:
            res[key] = pikepdf.Dictionary()
        for name, value in entries.items():
            res[key][f"/{name}"] = value
    page.contents_add(pdf.make_stream(b"q " + ops + b" Q"))


def _annotate(pdf: pikepdf.Pdf, **entries: Any) -> None:
    annot = pikepdf.Dictionary({"/Type": pikepdf.Name.Annot, "/Rect": [10, 10, 60, 30]})
    for key, value in entries.items():
        annot[f"/{key}"] = value
    page = pdf.pages[0]
    annots = page.obj.get("/Annots", pikepdf.Array())
    annots.append(pdf.make_indirect(annot))
    page.obj.Annots = annots


def _appearance(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        N=pdf.make_stream(b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 50, 20])
    )


def _simple_font(pdf: pikepdf.Pdf, subtype: str) -> pikepdf.Dictionary | None:
    for page in pdf.pages:
        fonts = page.obj.get("/Resources", pikepdf.Dictionary()).get("/Font", pikepdf.Dictionary())
        for font in fonts.values():
            if (
                isinstance(font, pikepdf.Dictionary)
                and str(font.get("/Subtype")) == subtype
                and "/FontDescriptor" in font
            ):
                return font
    return None


# -- file structure ----------------------------------------------------------------------------


def bad_header(src: Path, out: Path) -> Path:
    def edit(data: bytes) -> bytes:
        eol = data.index(b"\n") + 1
        line_end = data.index(b"\n", eol)
        comment = bytes(b if b < 128 else ord("a") for b in data[eol:line_end])
        return data[:eol] + comment + data[line_end:]

    return _patch(src, out, edit)


def trailing_data(src: Path, out: Path) -> Path:
    out.write_bytes(src.read_bytes() + b"% luutru: data after EOF\n")
    return out


def no_trailer_id(src: Path, out: Path) -> Path | None:
    data = src.read_bytes()
    matches = list(re.finditer(rb"/ID\s*\[\s*<[0-9a-fA-F]*>\s*<[0-9a-fA-F]*>\s*\]", data))
    match = matches[-1] if matches else None
    if match is None or b"/Type/XRef" in data[match.start() - 400 : match.start()]:
        return None  # xref streams keep the ID inside a compressed object
    return _patch(
        src, out, lambda d: d[: match.start()] + b" " * (match.end() - match.start()) + d[match.end() :]
    )


def broken_xref(src: Path, out: Path) -> Path:
    def edit(data: bytes) -> bytes:
        start = data.rindex(b"startxref") + len(b"startxref")
        digits = re.match(rb"\s*(\d+)", data[start:])
        assert digits is not None
        a, b = start + digits.start(1), start + digits.end(1)
        return data[:a] + b"1".rjust(b - a, b"0") + data[b:]

    return _patch(src, out, edit)


def encrypted(src: Path, out: Path) -> Path:
    with pikepdf.open(src) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="chu-so-huu", user="", R=6))
    return out


def external_stream(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        form = pdf.make_stream(b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 1, 1])
        form.FFilter = pikepdf.Name.FlateDecode
        _add_content(pdf, b"/LtExt Do", XObject={"LtExt": form})

    return _edit(src, out, change)


def interpolated_image(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        image = pdf.make_stream(
            b"\x80",
            Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=1, Height=1,
            ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Interpolate=True,
        )  # fmt: skip
        _add_content(pdf, b"10 0 0 10 20 20 cm /LtImg Do", XObject={"LtImg": image})

    return _edit(src, out, change)


def postscript_xobject(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        ps = pdf.make_stream(b"0 0 moveto", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.PS)
        _add_content(pdf, b"/LtPS Do", XObject={"LtPS": ps})

    return _edit(src, out, change)


# -- metadata --------------------------------------------------------------------------------


def info_mismatch(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.docinfo["/Title"] = "Tiêu đề khác"

    return _edit(src, out, change)


def date_mismatch(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> bool:
        if "xmp:CreateDate" not in pdf.open_metadata():
            return False
        pdf.docinfo["/CreationDate"] = "D:19990101000000Z"
        return True

    return _edit(src, out, change)


def _rewrite_xmp(
    src: Path, out: Path, edit: Callable[[bytes], bytes], *, filtered: bool = False
) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> bool:
        data = pdf.Root.Metadata.read_bytes()
        new = edit(data)
        if new == data:
            return False
        pdf.Root.Metadata.write(new)
        return True

    return _edit(src, out, change)


def xmp_extension_missing(src: Path, out: Path) -> Path | None:
    prop = b'<rdf:Description rdf:about="" xmlns:lt="http://luutru.example/ns/hoso/1.0/"><lt:maHoSo>H-12</lt:maHoSo></rdf:Description></rdf:RDF>'
    return _rewrite_xmp(src, out, lambda d: d.replace(b"</rdf:RDF>", prop, 1))


def xmp_packet_bytes(src: Path, out: Path) -> Path | None:
    return _rewrite_xmp(
        src, out, lambda d: re.sub(rb"<\?xpacket begin=", b'<?xpacket bytes="4096" begin=', d, count=1)
    )


def claim_unknown(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["pdfaid:conformance"] = "X"

    return _edit(src, out, change)


# -- colour ----------------------------------------------------------------------------------


def no_output_intent(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        del pdf.Root["/OutputIntents"]

    return _edit(src, out, change)


def broken_output_profile(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OutputIntents[0].DestOutputProfile.write(b"\0" * 200)

    return _edit(src, out, change)


def second_output_intent(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        first = pdf.Root.OutputIntents[0]
        copy = pdf.make_stream(first.DestOutputProfile.read_bytes(), N=first.DestOutputProfile.get("/N", 3))
        second = pikepdf.Dictionary({k: v for k, v in first.items()})
        second.S = pikepdf.Name.GTS_PDFX
        second.DestOutputProfile = copy
        pdf.Root.OutputIntents.append(pdf.make_indirect(second))

    return _edit(src, out, change)


def cmyk_without_intent(src: Path, out: Path) -> Path | None:
    return _edit(src, out, lambda pdf: _add_content(pdf, b"0 0 0 1 k 5 5 20 20 re f"))


def bad_iccbased(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        profile = pdf.make_stream(pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes(), N=4)
        space = pikepdf.Array([pikepdf.Name.ICCBased, profile])
        _add_content(pdf, b"/LtCS cs 0 0 0 1 sc 5 5 20 20 re f", ColorSpace={"LtCS": space})

    return _edit(src, out, change)


def bad_rendering_intent(src: Path, out: Path) -> Path | None:
    return _edit(src, out, lambda pdf: _add_content(pdf, b"/LtIntent ri"))


def transfer_function(src: Path, out: Path) -> Path | None:
    gs = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, TR=pikepdf.Name.Identity)
    return _edit(src, out, lambda pdf: _add_content(pdf, b"/LtTR gs", ExtGState={"LtTR": gs}))


def unknown_blend_mode(src: Path, out: Path) -> Path | None:
    gs = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, BM=pikepdf.Name("/LtBlend"))
    return _edit(src, out, lambda pdf: _add_content(pdf, b"/LtBM gs", ExtGState={"LtBM": gs}))


def transparency(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> bool:
        gs = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5)
        _add_content(pdf, b"/LtCA gs", ExtGState={"LtCA": gs})
        return _part(pdf) == "1"

    return _edit(src, out, change)


# -- fonts -----------------------------------------------------------------------------------


def unembedded_font(src: Path, out: Path) -> Path | None:
    courier = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Courier
    )
    return _edit(
        src,
        out,
        lambda pdf: _add_content(pdf, b"BT /LtCour 9 Tf 20 20 Td (x) Tj ET", Font={"LtCour": courier}),
    )


def _font_edit(
    src: Path, out: Path, subtype: str, change: Callable[[pikepdf.Dictionary], bool]
) -> Path | None:
    def apply(pdf: pikepdf.Pdf) -> bool:
        font = _simple_font(pdf, subtype)
        return font is not None and change(font)

    return _edit(src, out, apply)


def no_widths(src: Path, out: Path) -> Path | None:
    def change(font: pikepdf.Dictionary) -> bool:
        del font["/Widths"]
        return True

    return _font_edit(src, out, "/TrueType", change) or _font_edit(src, out, "/Type1", change)


def truetype_encoding(src: Path, out: Path) -> Path | None:
    def change(font: pikepdf.Dictionary) -> bool:
        flags = int(font.FontDescriptor.get("/Flags", 0))
        if flags & 32:  # nonsymbolic: a symbolic Encoding name is wrong
            font.Encoding = pikepdf.Name.StandardEncoding
        else:  # symbolic: no Encoding allowed
            font.Encoding = pikepdf.Name.WinAnsiEncoding
        return True

    return _font_edit(src, out, "/TrueType", change)


def no_tounicode(src: Path, out: Path) -> Path | None:
    with pikepdf.open(src) as pdf:
        if _level(pdf) not in ("a", "u"):
            return None

    def change(font: pikepdf.Dictionary) -> bool:
        if "/ToUnicode" not in font:
            return False
        del font["/ToUnicode"]
        return True

    return _font_edit(src, out, "/TrueType", change)


def font_program_type(src: Path, out: Path) -> Path | None:
    def change(font: pikepdf.Dictionary) -> bool:
        desc = font.FontDescriptor
        key = next((k for k in ("/FontFile2", "/FontFile") if k in desc), None)
        if key is None:
            return False
        desc.FontFile3 = desc[key]
        desc.FontFile3.Subtype = pikepdf.Name("/LtFontType")
        del desc[key]
        return True

    return _font_edit(src, out, "/TrueType", change)


# -- interactive content -----------------------------------------------------------------------


def named_print_action(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.Print)

    return _edit(src, out, change)


def page_additional_action(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        goto = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit]))
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=goto)

    return _edit(src, out, change)


def sound_annotation(src: Path, out: Path) -> Path | None:
    return _edit(src, out, lambda pdf: _annotate(pdf, Subtype=pikepdf.Name.Sound, F=4, AP=_appearance(pdf)))


def unknown_annotation(src: Path, out: Path) -> Path | None:
    return _edit(
        src, out, lambda pdf: _annotate(pdf, Subtype=pikepdf.Name("/LtNote"), F=4, AP=_appearance(pdf))
    )


def hidden_annotation(src: Path, out: Path) -> Path | None:
    return _edit(
        src, out, lambda pdf: _annotate(pdf, Subtype=pikepdf.Name.Square, F=4 | 2, AP=_appearance(pdf))
    )


def coloured_annotation_with_cmyk_intent(src: Path, out: Path) -> Path | None:
    """PDF/A-1: a red Square annotation (a C array) in a file whose OutputIntent becomes CMYK."""

    def change(pdf: pikepdf.Pdf) -> bool:
        if _part(pdf) != "1":
            return False
        intent = pdf.Root.OutputIntents[0]
        header = bytearray(intent.DestOutputProfile.read_bytes())
        header[16:20] = b"CMYK"  # the profile now says CMYK (its tags are not looked at)
        intent.DestOutputProfile.write(bytes(header))
        intent.DestOutputProfile.N = 4
        _annotate(pdf, Subtype=pikepdf.Name.Square, F=4, C=[1, 0, 0], AP=_appearance(pdf))
        return True

    return _edit(src, out, change)


def annotation_without_appearance(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> bool:
        _annotate(pdf, Subtype=pikepdf.Name.Square, F=4)
        return _part(pdf) != "1"

    return _edit(src, out, change)


def need_appearances(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        form = pdf.Root.get("/AcroForm")
        if form is None:
            pdf.Root.AcroForm = form = pikepdf.Dictionary(Fields=pikepdf.Array())
        form.NeedAppearances = True

    return _edit(src, out, change)


def attachment(src: Path, out: Path) -> Path | None:
    """A text attachment: forbidden in PDF/A-1, not PDF/A in PDF/A-2; PDF/A-3 allows it, so
    there the file specification loses its AFRelationship."""
    with_embedded_file(src, out)

    def drop_relationship(pdf: pikepdf.Pdf) -> None:
        for spec in pdf.attachments.values():
            del spec.obj["/AFRelationship"]

    with pikepdf.open(out) as pdf:
        part = _part(pdf)
    return _edit(out, out.with_suffix(".af.pdf"), drop_relationship) if part not in ("1", "2") else out


def optional_content(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> None:
        layer = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.OCG, Name="Lớp ghi chú"))
        pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=[layer], D=pikepdf.Dictionary(ON=[layer]))

    return _edit(src, out, change)


def untagged(src: Path, out: Path) -> Path | None:
    def change(pdf: pikepdf.Pdf) -> bool:
        if _level(pdf) != "a":
            return False
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
        return True

    return _edit(src, out, change)


def _embedded_code(src: Path) -> str:
    with pikepdf.open(src) as pdf:
        part = _part(pdf)
    return {"1": "pdfa.embedded_file", "2": "pdfa.embedded_file_not_pdfa"}.get(
        part, "pdfa.embedded_file_spec"
    )


# finding code that each breaker must cause; "embedded" depends on the part (see EMBEDDED)
VARIANTS: dict[str, Breaker] = {
    "pdfa.file_header": bad_header,
    "pdfa.trailing_data": trailing_data,
    "pdfa.trailer_id_missing": no_trailer_id,
    "pdfa.xref_damaged": broken_xref,
    "pdfa.encrypted": encrypted,
    "pdfa.lzw": lambda src, out: with_lzw(src, out),
    "pdfa.stream_external": external_stream,
    "pdfa.image_forbidden_key": interpolated_image,
    "pdfa.postscript": postscript_xobject,
    "pdfa.xmp_info_mismatch": info_mismatch,
    "pdfa.xmp_info_mismatch#date": date_mismatch,
    "pdfa.xmp_extension_schema_missing": xmp_extension_missing,
    "pdfa.xmp_packet_header": xmp_packet_bytes,
    "pdfa.claim_unknown": claim_unknown,
    "pdfa.output_intent_missing": no_output_intent,
    "pdfa.output_intent_profile_invalid": broken_output_profile,
    "pdfa.output_intent_multiple": second_output_intent,
    "pdfa.device_colour_without_intent": cmyk_without_intent,
    "pdfa.icc_profile_invalid": bad_iccbased,
    "pdfa.rendering_intent": bad_rendering_intent,
    "pdfa.transfer_function": transfer_function,
    "pdfa.blend_mode": unknown_blend_mode,
    "pdfa.transparency": transparency,
    "pdfa.font_not_embedded": unembedded_font,
    "pdfa.font_widths": no_widths,
    "pdfa.font_encoding": truetype_encoding,
    "pdfa.font_tounicode_missing": no_tounicode,
    "pdfa.font_program_type": font_program_type,
    "pdfa.javascript": lambda src, out: with_javascript(src, out),
    "pdfa.action_forbidden": named_print_action,
    "pdfa.action_forbidden#launch": lambda src, out: with_launch_action(src, out),
    "pdfa.additional_actions": page_additional_action,
    "pdfa.multimedia": sound_annotation,
    "pdfa.annotation_type": unknown_annotation,
    "pdfa.annotation_flags": hidden_annotation,
    "pdfa.annotation_appearance": annotation_without_appearance,
    "pdfa.annotation_colour": coloured_annotation_with_cmyk_intent,
    "pdfa.form_dynamic": need_appearances,
    "pdfa.embedded_file*": attachment,
    "pdfa.optional_content": optional_content,
    "pdfa.structure_missing": untagged,
}


def expected_code(key: str, src: Path) -> str:
    """The finding code a variant must cause on ``src`` (keys may carry a #suffix)."""
    if key == "pdfa.embedded_file*":
        return _embedded_code(src)
    return key.split("#")[0]
