"""Built-in PDF/A checks with pikepdf: the rules that matter most for long-term preservation.

These run always; veraPDF (``ingest.checks.verapdf``), when installed, adds the full ISO 19005
profile. Checked here, for a file whose XMP claims ``pdfaid:part``/``pdfaid:conformance``:

* the claim itself (part 1–4, a known conformance level);
* Info dictionary entries agree with their XMP equivalents (Title ↔ dc:title, …);
* an OutputIntent ``/S /GTS_PDFA1`` with an ICC ``DestOutputProfile``;
* every font used by pages, Form XObjects, Type3 glyphs and annotation appearances is embedded;
* no encryption, no JavaScript, no multimedia annotations, no LZWDecode streams;
* PDF/A-1 only: no transparency (soft masks, transparency groups, CA/ca < 1, blend modes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pikepdf

from archive.findings import Finding, error, warning

KNOWN_CLAIMS = {"1a", "1b", "2a", "2b", "2u", "3a", "3b", "3u", "4", "4e", "4f"}
MULTIMEDIA_ANNOTS = {"/Movie", "/Sound", "/Screen", "/RichMedia", "/3D"}
INFO_TO_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Keywords": "pdf:Keywords",
    "/Producer": "pdf:Producer",
    "/Creator": "xmp:CreatorTool",
}


def pdfa_claim(pdf: pikepdf.Pdf) -> str | None:
    """Return the PDF/A claim in the XMP metadata, lowercased (``"2b"``), or None."""
    try:
        meta = pdf.open_metadata()
    except (pikepdf.PdfError, ValueError):
        return None
    part = str(meta.get("pdfaid:part", "") or "").strip()
    conformance = str(meta.get("pdfaid:conformance", "") or "").strip().lower()
    return f"{part}{conformance}" if part else None


def _f(code: str, vi: str, en: str, path: str, severity: str = "error", **evidence: Any) -> Finding:
    make = error if severity == "error" else warning
    return make(f"pdfa.{code}", vi, en, path=path, evidence=evidence)


def _xmp_text(value: Any) -> str:
    if isinstance(value, list | set | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def check_xmp_info(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    """Compare each Info dictionary entry with its XMP equivalent."""
    found: list[Finding] = []
    meta = pdf.open_metadata()
    info = pdf.trailer.get("/Info")
    if info is None:
        return found
    for key, prop in INFO_TO_XMP.items():
        if key not in info:
            continue
        doc_value = str(info[key])
        xmp_value = meta.get(prop)
        if xmp_value is None or _xmp_text(xmp_value) != doc_value:
            found.append(
                _f(
                    "xmp_info_mismatch",
                    f"Siêu dữ liệu XMP ({prop}) không khớp với từ điển Info ({key}).",
                    f"XMP metadata ({prop}) does not match the Info dictionary ({key}).",
                    path,
                    key=key.lstrip("/"),
                    xmp=prop,
                )
            )
    return found


def check_output_intent(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    """Require an OutputIntent /GTS_PDFA1 whose DestOutputProfile is an ICC profile."""
    for intent in pdf.Root.get("/OutputIntents", pikepdf.Array()):
        if intent.get("/S") != pikepdf.Name.GTS_PDFA1:
            continue
        profile = intent.get("/DestOutputProfile")
        if isinstance(profile, pikepdf.Stream):
            header = profile.read_bytes()[:40]
            if len(header) >= 40 and header[36:40] == b"acsp":
                return []
        return [
            _f(
                "output_intent_profile_invalid",
                "OutputIntent GTS_PDFA1 không có hồ sơ màu ICC hợp lệ.",
                "The GTS_PDFA1 OutputIntent has no valid ICC DestOutputProfile.",
                path,
            )
        ]
    return [
        _f(
            "output_intent_missing",
            "Thiếu OutputIntent GTS_PDFA1 với hồ sơ màu ICC.",
            "No GTS_PDFA1 OutputIntent with an ICC profile.",
            path,
        )
    ]


def _content_units(pdf: pikepdf.Pdf) -> Iterator[tuple[Any, pikepdf.Dictionary]]:
    """Yield (content stream owner, its Resources) for pages, Form XObjects, Type3 glyph
    procedures and annotation appearance streams, each once."""
    seen: set[tuple[int, int]] = set()
    todo: list[tuple[Any, Any]] = []
    for page in pdf.pages:
        page_res = page.obj.get("/Resources")
        todo.append((page, page_res))
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            ap = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
            if not isinstance(ap, pikepdf.Dictionary):
                continue
            for key in ("/N", "/R", "/D"):
                entry = ap.get(key)
                streams = (
                    [entry]
                    if isinstance(entry, pikepdf.Stream)
                    else (list(entry.values()) if isinstance(entry, pikepdf.Dictionary) else [])
                )
                todo.extend((s, s.get("/Resources")) for s in streams if isinstance(s, pikepdf.Stream))
    while todo:
        owner, res = todo.pop()
        if not isinstance(res, pikepdf.Dictionary):
            res = pikepdf.Dictionary()
        if isinstance(owner, pikepdf.Stream) and owner.is_indirect:
            if owner.objgen in seen:
                continue
            seen.add(owner.objgen)
        yield owner, res
        for xobj in res.get("/XObject", pikepdf.Dictionary()).values():
            if isinstance(xobj, pikepdf.Stream) and xobj.get("/Subtype") == pikepdf.Name.Form:
                todo.append((xobj, xobj.get("/Resources", res)))
        for font in res.get("/Font", pikepdf.Dictionary()).values():
            if isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == pikepdf.Name.Type3:
                procs = font.get("/CharProcs", pikepdf.Dictionary())
                glyph_res = font.get("/Resources", res)
                todo.extend((g, glyph_res) for g in procs.values() if isinstance(g, pikepdf.Stream))


def _resources_tree(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Yield every Resources dictionary reachable from pages, forms, Type3 fonts, appearances."""
    seen: set[tuple[int, int]] = set()
    for _, res in _content_units(pdf):
        if res.is_indirect:
            if res.objgen in seen:
                continue
            seen.add(res.objgen)
        yield res


def _used_fonts(owner: Any, res: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    """Yield the fonts that render text in one content stream.

    A font counts when a text-showing operator (Tj, TJ, ', ") runs while it is selected by Tf;
    a font only selected (reportlab's page prologue does that) renders nothing.
    """
    fonts = res.get("/Font", pikepdf.Dictionary())
    names: set[str] = set()
    current: str | None = None
    stack: list[str | None] = []
    for instruction in pikepdf.parse_content_stream(owner, "Tf Tj TJ ' \" q Q"):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue
        op = str(instruction.operator)
        if op == "Tf" and instruction.operands:
            current = str(instruction.operands[0])
        elif op == "q":
            stack.append(current)
        elif op == "Q" and stack:
            current = stack.pop()
        elif op in ("Tj", "TJ", "'", '"') and current is not None:
            names.add(current)
    for name in names:
        font = fonts.get(name)
        if isinstance(font, pikepdf.Dictionary):
            yield font


def _font_embedded(font: pikepdf.Dictionary) -> bool:
    subtype = font.get("/Subtype")
    if subtype == pikepdf.Name.Type3:
        return True  # glyphs are content streams inside the file
    if subtype == pikepdf.Name.Type0:
        descendants = font.get("/DescendantFonts", pikepdf.Array())
        return len(descendants) > 0 and all(
            isinstance(d, pikepdf.Dictionary) and _font_embedded(d) for d in descendants
        )
    desc = font.get("/FontDescriptor")
    if not isinstance(desc, pikepdf.Dictionary):
        return False
    return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def check_fonts(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    """Report every font (by BaseFont name) used for rendering but not embedded."""
    missing: set[str] = set()
    for owner, res in _content_units(pdf):
        for font in _used_fonts(owner, res):
            if not _font_embedded(font):
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    return [
        _f(
            "font_not_embedded",
            f"Phông chữ {name} không được nhúng vào tệp.",
            f"Font {name} is not embedded.",
            path,
            font=name,
        )
        for name in sorted(missing)
    ]


def check_streams(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    """Report LZWDecode streams (forbidden in every PDF/A part)."""
    count = 0
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            filters = obj.get("/Filter")
            names = list(filters) if isinstance(filters, pikepdf.Array) else [filters]
            if pikepdf.Name.LZWDecode in names:
                count += 1
    if not count:
        return []
    return [
        _f(
            "lzw",
            "Tệp dùng nén LZW, không được phép trong PDF/A.",
            "The file uses LZWDecode compression, which PDF/A forbids.",
            path,
            streams=count,
        )
    ]


def check_multimedia(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    kinds = {
        str(a.get("/Subtype"))
        for page in pdf.pages
        for a in page.obj.get("/Annots", pikepdf.Array())
        if isinstance(a, pikepdf.Dictionary) and str(a.get("/Subtype")) in MULTIMEDIA_ANNOTS
    }
    return (
        [
            _f(
                "multimedia",
                "Tệp chứa nội dung đa phương tiện, không được phép trong PDF/A.",
                "The file contains multimedia annotations, which PDF/A forbids.",
                path,
                kinds=sorted(kinds),
            )
        ]
        if kinds
        else []
    )


def check_transparency(pdf: pikepdf.Pdf, path: str) -> list[Finding]:
    """PDF/A-1 forbids transparency: soft masks, transparency groups, CA/ca < 1, blend modes."""
    reasons: set[str] = set()
    for page in pdf.pages:
        group = page.obj.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
            reasons.add("page transparency group")
    for res in _resources_tree(pdf):
        for xobj in res.get("/XObject", pikepdf.Dictionary()).values():
            if not isinstance(xobj, pikepdf.Stream):
                continue
            if "/SMask" in xobj:
                reasons.add("image soft mask")
            group = xobj.get("/Group")
            if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
                reasons.add("form transparency group")
        for gs in res.get("/ExtGState", pikepdf.Dictionary()).values():
            if not isinstance(gs, pikepdf.Dictionary):
                continue
            for key in ("/CA", "/ca"):
                if key in gs and float(gs[key]) < 1.0:
                    reasons.add(f"ExtGState {key.lstrip('/')} < 1")
            smask = gs.get("/SMask")
            if smask is not None and smask != pikepdf.Name("/None"):
                reasons.add("ExtGState soft mask")
            bm = gs.get("/BM")
            if bm is not None and str(bm) not in ("/Normal", "/Compatible"):
                reasons.add("blend mode")
    return (
        [
            _f(
                "transparency",
                "PDF/A-1 không cho phép hiệu ứng trong suốt.",
                "PDF/A-1 does not allow transparency.",
                path,
                reasons=sorted(reasons),
            )
        ]
        if reasons
        else []
    )


def check_pdfa(pdf: pikepdf.Pdf, claim: str, path: str, *, has_javascript: bool) -> list[Finding]:
    """Run the built-in PDF/A rules for ``claim`` (e.g. "2b") on an open file."""
    found: list[Finding] = []
    if claim not in KNOWN_CLAIMS:
        found.append(
            _f(
                "claim_unknown",
                f"Khai báo PDF/A không hợp lệ: {claim}.",
                f"Unknown PDF/A claim: {claim}.",
                path,
                claim=claim,
            )
        )
    if pdf.is_encrypted:
        found.append(_f("encrypted", "PDF/A không được mã hóa.", "PDF/A files must not be encrypted.", path))
    if has_javascript:
        found.append(_f("javascript", "PDF/A không được chứa JavaScript.", "PDF/A forbids JavaScript.", path))
    found += check_xmp_info(pdf, path)
    found += check_output_intent(pdf, path)
    found += check_fonts(pdf, path)
    found += check_streams(pdf, path)
    found += check_multimedia(pdf, path)
    if claim.startswith("1"):
        found += check_transparency(pdf, path)
        if len(pdf.attachments):
            found.append(
                _f(
                    "embedded_file",
                    "PDF/A-1 không cho phép tệp đính kèm.",
                    "PDF/A-1 does not allow embedded files.",
                    path,
                )
            )
    return found
