"""PDF/A rules for interactive and attached content (ISO 19005-1 §6.5–6.6/6.1.11/6.8,
19005-2/3 §6.3–6.4/6.8–6.9/6.7).

* annotations: a type the part allows; PDF/A-1: C/IC colours only with an RGB OutputIntent; the F flags (Print set; Hidden, Invisible, NoView,
  ToggleNoView clear); PDF/A-2/3: a normal appearance stream (only ``/N``) for every annotation
  but Popup, Link and zero-area ones; forms: no NeedAppearances, no XFA;
* actions: only GoTo/GoToR/Thread/URI/SubmitForm (and GoToE from part 2) and the four page
  navigation named actions; no additional-actions (AA) on catalog, pages, fields or widgets;
  no JavaScript;
* embedded files: none in PDF/A-1; PDF/A only in PDF/A-2; in PDF/A-3 any file, with
  AFRelationship, F/UF, a MIME type, listed in an /AF array;
* optional content: none in PDF/A-1; PDF/A-2/3 configurations have a Name and no AS;
* level a: a tagged PDF (MarkInfo Marked true; the structure tree itself is not checked).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pikepdf

from archive.findings import Finding
from ingest.checks.pdfa_colour import output_intent_family
from ingest.checks.pdfa_walk import Profile, rule_finding

ANNOTS_1 = {
    "/Text", "/Link", "/FreeText", "/Line", "/Square", "/Circle", "/Highlight", "/Underline",
    "/Squiggly", "/StrikeOut", "/Stamp", "/Ink", "/Popup", "/Widget", "/PrinterMark", "/TrapNet",
}  # fmt: skip
ANNOTS_2 = ANNOTS_1 | {
    "/Polygon", "/PolyLine", "/Caret", "/FileAttachment", "/Watermark", "/Redact", "/Projection",
}  # fmt: skip
ACTIONS_OK = {"/GoTo", "/GoToR", "/Thread", "/URI", "/SubmitForm", "/GoToE", "/Named"}
NAMED_OK = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
F_PRINT, F_HIDDEN, F_INVISIBLE, F_NOVIEW, F_TOGGLENOVIEW = 4, 2, 1, 32, 256
MAX_EMBEDDED_PDF = 50 * 1024 * 1024  # embedded PDFs larger than this are not opened


def _c(profile: Profile, part1: str, part2: str) -> str:
    return part1 if profile.part == 1 else part2


def _annotations(pdf: pikepdf.Pdf) -> Iterator[tuple[int, pikepdf.Dictionary]]:
    for n, page in enumerate(pdf.pages):
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary):
                yield n + 1, annot


def actions(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """Yield (where, action) for every action reachable from the catalog, outlines-free places,
    pages, annotations and form fields, following ``/Next`` chains."""
    todo: list[tuple[str, Any]] = [("OpenAction", pdf.Root.get("/OpenAction"))]
    for key, action in pdf.Root.get("/AA", pikepdf.Dictionary()).items():
        todo.append((f"Root.AA{key}", action))
    for n, page in enumerate(pdf.pages):
        for key, action in page.obj.get("/AA", pikepdf.Dictionary()).items():
            todo.append((f"page {n + 1} AA{key}", action))
    for n, annot in _annotations(pdf):
        todo.append((f"page {n} annotation", annot.get("/A")))
        for key, action in annot.get("/AA", pikepdf.Dictionary()).items():
            todo.append((f"page {n} annotation AA{key}", action))
    for field in pdf.Root.get("/AcroForm", pikepdf.Dictionary()).get("/Fields", pikepdf.Array()):
        if isinstance(field, pikepdf.Dictionary):
            for key, action in field.get("/AA", pikepdf.Dictionary()).items():
                todo.append((f"field AA{key}", action))
    seen: set[tuple[int, int]] = set()
    while todo:
        where, action = todo.pop()
        if not isinstance(action, pikepdf.Dictionary):
            continue
        if action.is_indirect:
            if action.objgen in seen:
                continue
            seen.add(action.objgen)
        yield where, action
        nxt = action.get("/Next")
        chained = list(nxt) if isinstance(nxt, pikepdf.Array) else [nxt]
        todo.extend((where + " Next", a) for a in chained)


def check_actions(pdf: pikepdf.Pdf, profile: Profile, path: str, *, has_javascript: bool) -> list[Finding]:
    found: list[Finding] = []
    if has_javascript:
        found.append(
            rule_finding(
                "javascript",
                "PDF/A không được chứa JavaScript.",
                "PDF/A forbids JavaScript.",
                path,
                _c(profile, "6.6.1", "6.6.1"),
            )
        )
    bad: set[str] = set()
    for _, action in actions(pdf):
        kind = str(action.get("/S", ""))
        if kind == "/JavaScript":
            continue  # reported above
        if kind not in ACTIONS_OK or (kind == "/GoToE" and profile.part == 1):
            bad.add(kind.lstrip("/") or "?")
        elif kind == "/Named" and str(action.get("/N", "")) not in NAMED_OK:
            bad.add(f"Named {str(action.get('/N', '?')).lstrip('/')}")
    if bad:
        found.append(
            rule_finding(
                "action_forbidden",
                "Tệp chứa hành động (action) không được phép trong PDF/A.",
                "The file contains actions PDF/A forbids.",
                path,
                _c(profile, "6.6.1", "6.6.1"),
                actions=sorted(bad),
            )
        )
    aa = ["catalog"] if "/AA" in pdf.Root else []
    aa += [f"page {n + 1}" for n, p in enumerate(pdf.pages) if "/AA" in p.obj]
    aa += [f"page {n} {str(a.get('/Subtype', '')).lstrip('/')}" for n, a in _annotations(pdf) if "/AA" in a]
    fields = pdf.Root.get("/AcroForm", pikepdf.Dictionary()).get("/Fields", pikepdf.Array())
    aa += ["form field" for f in fields if isinstance(f, pikepdf.Dictionary) and "/AA" in f]
    if aa:
        found.append(
            rule_finding(
                "additional_actions",
                "Tệp có hành động bổ sung (AA), không được phép trong PDF/A.",
                "The file has additional-actions (AA) entries, which PDF/A forbids.",
                path,
                _c(profile, "6.6.2", "6.6.2"),
                where=sorted(set(aa))[:20],
            )
        )
    return found


def check_annotations(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    allowed = ANNOTS_1 if profile.part == 1 else ANNOTS_2
    types: set[str] = set()
    flags: set[str] = set()
    appearance: set[str] = set()
    colours: set[str] = set()
    rgb_intent = output_intent_family(pdf) == "RGB"
    for n, annot in _annotations(pdf):
        subtype = str(annot.get("/Subtype", ""))
        if subtype not in allowed:
            types.add(subtype.lstrip("/"))
        where = f"page {n} {subtype.lstrip('/')}"
        f = int(annot.get("/F", 0)) if subtype != "/Popup" else F_PRINT
        if not f & F_PRINT or f & (F_HIDDEN | F_INVISIBLE | F_NOVIEW | F_TOGGLENOVIEW):
            flags.add(where)
        if profile.part == 1 and not rgb_intent and any(len(annot.get(k, ())) for k in ("/C", "/IC")):
            colours.add(where)  # PDF/A-1: C/IC colour arrays only with an RGB OutputIntent
        if profile.part == 1 or subtype in ("/Popup", "/Link"):
            continue
        rect = [float(x) for x in annot.get("/Rect", [0, 0, 0, 0])]
        if len(rect) == 4 and (rect[2] - rect[0] == 0 or rect[3] - rect[1] == 0):
            continue
        ap = annot.get("/AP")
        if not isinstance(ap, pikepdf.Dictionary) or "/N" not in ap or set(ap.keys()) - {"/N"}:
            appearance.add(where)
    form = pdf.Root.get("/AcroForm")
    form_problems = []
    if isinstance(form, pikepdf.Dictionary):
        if form.get("/NeedAppearances", False) is True:
            form_problems.append("NeedAppearances")
        if "/XFA" in form:
            form_problems.append("XFA")
    if "/NeedsRendering" in pdf.Root:
        form_problems.append("NeedsRendering")
    found: list[Finding] = []
    multimedia = types & {"Movie", "Sound", "Screen", "RichMedia", "3D"}
    if multimedia:
        found.append(
            rule_finding(
                "multimedia",
                "Tệp chứa nội dung đa phương tiện, không được phép trong PDF/A.",
                "The file contains multimedia annotations, which PDF/A forbids.",
                path,
                _c(profile, "6.5.2", "6.3.1"),
                kinds=sorted(multimedia),
            )
        )
    if types - multimedia:
        found.append(
            rule_finding(
                "annotation_type",
                f"Tệp có loại chú thích (annotation) không được phép trong PDF/A-{profile.part}.",
                f"The file has annotation types PDF/A-{profile.part} does not allow.",
                path,
                _c(profile, "6.5.2", "6.3.1"),
                kinds=sorted(types - multimedia),
            )
        )
    if flags:
        found.append(
            rule_finding(
                "annotation_flags",
                "Chú thích không được đặt cờ in (Print) hoặc bị ẩn.",
                "Annotations lack the Print flag or are hidden.",
                path,
                _c(profile, "6.5.3", "6.3.2"),
                where=sorted(flags)[:20],
            )
        )
    if appearance:
        found.append(
            rule_finding(
                "annotation_appearance",
                "Chú thích thiếu luồng hiển thị (appearance) chuẩn /N.",
                "Annotations lack a normal appearance stream (/N only).",
                path,
                "6.3.3",
                where=sorted(appearance)[:20],
            )
        )
    if colours:
        found.append(
            rule_finding(
                "annotation_colour",
                "Chú thích có mảng màu C/IC trong khi OutputIntent không phải RGB (PDF/A-1).",
                "Annotations carry C/IC colour arrays without an RGB OutputIntent (PDF/A-1).",
                path,
                "6.5.3",
                where=sorted(colours)[:20],
            )
        )
    if form_problems:
        found.append(
            rule_finding(
                "form_dynamic",
                "Biểu mẫu dựa vào trình đọc để dựng hiển thị (NeedAppearances/XFA).",
                "The form relies on the reader to build its appearance (NeedAppearances/XFA).",
                path,
                _c(profile, "6.9", "6.4.1"),
                problems=form_problems,
            )
        )
    return found


def _file_specs(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    for spec in pdf.attachments.values():
        yield spec.obj
    for _, annot in _annotations(pdf):
        fs = annot.get("/FS")
        if annot.get("/Subtype") == pikepdf.Name.FileAttachment and isinstance(fs, pikepdf.Dictionary):
            yield fs


def _associated(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """File specifications listed in an /AF array of the catalog, a page or an annotation."""
    holders: list[Any] = [pdf.Root, *(p.obj for p in pdf.pages), *(a for _, a in _annotations(pdf))]
    found: set[tuple[int, int]] = set()
    for holder in holders:
        af = holder.get("/AF")
        if isinstance(af, pikepdf.Array):
            found |= {s.objgen for s in af if isinstance(s, pikepdf.Dictionary) and s.is_indirect}
    return found


def _embedded_is_pdfa(stream: pikepdf.Stream) -> bool:
    if int(stream.get("/Length", 0)) > MAX_EMBEDDED_PDF:
        return False
    try:
        with pikepdf.open(io.BytesIO(stream.read_bytes())) as inner:
            meta = inner.open_metadata()
            return bool(str(meta.get("pdfaid:part", "") or "").strip())
    except (pikepdf.PdfError, ValueError):
        return False


def check_embedded_files(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    specs = list(_file_specs(pdf))
    if not specs:
        return []
    if profile.part == 1:
        return [
            rule_finding(
                "embedded_file",
                "PDF/A-1 không cho phép tệp đính kèm.",
                "PDF/A-1 does not allow embedded files.",
                path,
                "6.1.11",
            )
        ]
    problems: set[str] = set()
    associated = _associated(pdf)
    for spec in specs:
        name = str(spec.get("/UF", spec.get("/F", "?")))
        ef = spec.get("/EF", pikepdf.Dictionary())
        stream = ef.get("/F", ef.get("/UF")) if isinstance(ef, pikepdf.Dictionary) else None
        if profile.part == 2:
            if not isinstance(stream, pikepdf.Stream) or not _embedded_is_pdfa(stream):
                problems.add(f"{name}: not PDF/A")
        elif profile.part >= 3:
            if spec.is_indirect and spec.objgen not in associated:
                problems.add(f"{name}: not in an AF array")
            if "/AFRelationship" not in spec:
                problems.add(f"{name}: no AFRelationship")
            if "/F" not in spec or "/UF" not in spec:
                problems.add(f"{name}: no F/UF")
            if isinstance(stream, pikepdf.Stream) and "/Subtype" not in stream:
                problems.add(f"{name}: no MIME type")
    if not problems:
        return []
    code = "embedded_file_not_pdfa" if profile.part == 2 else "embedded_file_spec"
    vi, en = (
        ("PDF/A-2 chỉ cho phép đính kèm tệp PDF/A.", "PDF/A-2 allows only PDF/A files as attachments.")
        if profile.part == 2
        else (
            "Tệp đính kèm thiếu AFRelationship, F/UF hoặc kiểu MIME mà PDF/A-3 yêu cầu.",
            "An attachment lacks the AFRelationship, F/UF or MIME type PDF/A-3 requires.",
        )
    )
    return [rule_finding(code, vi, en, path, "6.8", files=sorted(problems)[:20])]


def check_optional_content(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    props = pdf.Root.get("/OCProperties")
    if not isinstance(props, pikepdf.Dictionary):
        return []
    if profile.part == 1:
        problems = ["optional content"]
    else:
        configs = [props.get("/D"), *list(props.get("/Configs", pikepdf.Array()))]
        problems = []
        for cfg in configs:
            if not isinstance(cfg, pikepdf.Dictionary):
                problems.append("no default configuration")
            elif "/Name" not in cfg:
                problems.append("configuration without Name")
            elif "/AS" in cfg:
                problems.append("configuration with AS")
    if not problems:
        return []
    return [
        rule_finding(
            "optional_content",
            f"Nội dung tùy chọn (lớp) không đúng quy định PDF/A-{profile.part}.",
            f"Optional content (layers) breaks the PDF/A-{profile.part} rules.",
            path,
            _c(profile, "6.1.13", "6.9"),
            problems=sorted(set(problems)),
        )
    ]


def check_structure(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    """Level a: the file is a tagged PDF."""
    if profile.level != "a":
        return []
    mark = pdf.Root.get("/MarkInfo")
    if isinstance(mark, pikepdf.Dictionary) and mark.get("/Marked", False) is True:
        return []
    return [
        rule_finding(
            "structure_missing",
            "PDF/A mức A phải là PDF có gắn thẻ cấu trúc (MarkInfo Marked true).",
            "PDF/A level A requires a tagged PDF (MarkInfo Marked true).",
            path,
            _c(profile, "6.8.2", "6.7.2"),
        )
    ]
