"""Walk a PDF's content once for the PDF/A rules: what fonts render text, which device colour
spaces are painted with, which rendering intents and inline-image filters appear.

Content streams are the pages, Form XObjects, tiling patterns, Type3 glyph procedures and
annotation appearance streams; each indirect stream is parsed once. The rules in
``ingest.checks.pdfa_*`` read the resulting ``ContentUsage`` instead of parsing again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf

from archive.findings import Finding, error

DEVICE_NAMES = {"/DeviceRGB": "RGB", "/DeviceCMYK": "CMYK", "/DeviceGray": "Gray"}
INLINE_ABBREV = {"/RGB": "RGB", "/CMYK": "CMYK", "/G": "Gray"}
DEFAULT_SPACES = {"RGB": "/DefaultRGB", "CMYK": "/DefaultCMYK", "Gray": "/DefaultGray"}
OPERATOR_SPACE = {"rg": "RGB", "RG": "RGB", "k": "CMYK", "K": "CMYK", "g": "Gray", "G": "Gray"}
TEXT_SHOW = {"Tj", "TJ", "'", '"'}


@dataclass(slots=True)
class ContentUsage:
    """What the content streams of a file use, gathered in one pass."""

    fonts: dict[tuple[int, int] | int, pikepdf.Dictionary] = field(default_factory=dict)
    device_spaces: set[str] = field(default_factory=set)  # "RGB", "CMYK", "Gray"
    intents: set[str] = field(default_factory=set)  # rendering intents named in content
    inline_filters: set[str] = field(default_factory=set)
    operators_forbidden: set[str] = field(default_factory=set)  # PS
    iccbased: list[pikepdf.Stream] = field(default_factory=list)


def _key(obj: Any) -> tuple[int, int] | int:
    return obj.objgen if obj.is_indirect else id(obj)


def _appearance_streams(annot: pikepdf.Dictionary) -> Iterator[pikepdf.Stream]:
    ap = annot.get("/AP")
    if not isinstance(ap, pikepdf.Dictionary):
        return
    for key in ("/N", "/R", "/D"):
        entry = ap.get(key)
        if isinstance(entry, pikepdf.Stream):
            yield entry
        elif isinstance(entry, pikepdf.Dictionary):
            yield from (s for s in entry.values() if isinstance(s, pikepdf.Stream))


def content_units(pdf: pikepdf.Pdf) -> Iterator[tuple[Any, pikepdf.Dictionary]]:
    """Yield (content stream owner, its Resources) for every content stream, each once."""
    seen: set[tuple[int, int]] = set()
    todo: list[tuple[Any, Any]] = []
    for page in pdf.pages:
        todo.append((page, page.obj.get("/Resources")))
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary):
                todo.extend((s, s.get("/Resources")) for s in _appearance_streams(annot))
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
        for pattern in res.get("/Pattern", pikepdf.Dictionary()).values():
            if isinstance(pattern, pikepdf.Stream) and pattern.get("/PatternType") == 1:
                todo.append((pattern, pattern.get("/Resources", res)))
        for font in res.get("/Font", pikepdf.Dictionary()).values():
            if isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == pikepdf.Name.Type3:
                procs = font.get("/CharProcs", pikepdf.Dictionary())
                glyph_res = font.get("/Resources", res)
                todo.extend((g, glyph_res) for g in procs.values() if isinstance(g, pikepdf.Stream))


def resources_tree(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Yield every Resources dictionary reachable from the content streams, each once."""
    seen: set[tuple[int, int]] = set()
    for _, res in content_units(pdf):
        if res.is_indirect:
            if res.objgen in seen:
                continue
            seen.add(res.objgen)
        yield res


def colour_space_devices(cs: Any, usage: ContentUsage | None = None, depth: int = 0) -> set[str]:
    """Device colour families a colour space paints with (through Indexed, Separation, …)."""
    if depth > 8 or cs is None:
        return set()
    if isinstance(cs, pikepdf.Name):
        name = str(cs)
        return {DEVICE_NAMES[name]} if name in DEVICE_NAMES else set()
    if isinstance(cs, pikepdf.Array) and len(cs) > 0:
        family = str(cs[0])
        if family == "/ICCBased" and len(cs) > 1 and isinstance(cs[1], pikepdf.Stream):
            if usage is not None:
                usage.iccbased.append(cs[1])
            return set()
        if family == "/Indexed" and len(cs) > 1:
            return colour_space_devices(cs[1], usage, depth + 1)
        if family in ("/Separation", "/DeviceN") and len(cs) > 2:
            return colour_space_devices(cs[2], usage, depth + 1)
        if family == "/Pattern" and len(cs) > 1:
            return colour_space_devices(cs[1], usage, depth + 1)
        if family in DEVICE_NAMES:
            return {DEVICE_NAMES[family]}
    return set()


def _named_space(name: str, res: pikepdf.Dictionary, usage: ContentUsage) -> set[str]:
    if name in DEVICE_NAMES:
        return {DEVICE_NAMES[name]}
    spaces = res.get("/ColorSpace", pikepdf.Dictionary())
    return colour_space_devices(spaces.get(name), usage) if isinstance(spaces, pikepdf.Dictionary) else set()


def _defaults(res: pikepdf.Dictionary) -> set[str]:
    """Device families overridden by a Default colour space in these resources (allowed)."""
    spaces = res.get("/ColorSpace", pikepdf.Dictionary())
    if not isinstance(spaces, pikepdf.Dictionary):
        return set()
    return {family for family, key in DEFAULT_SPACES.items() if key in spaces}


def _inline_image(image: Any, usage: ContentUsage, res: pikepdf.Dictionary) -> set[str]:
    spaces: set[str] = set()
    try:
        obj = image.obj
    except (pikepdf.PdfError, AttributeError):
        return spaces
    cs = obj.get("/ColorSpace", obj.get("/CS"))
    if isinstance(cs, pikepdf.Name) and str(cs) in INLINE_ABBREV:
        spaces.add(INLINE_ABBREV[str(cs)])
    elif isinstance(cs, pikepdf.Name):
        spaces |= _named_space(str(cs), res, usage)
    elif cs is not None:
        spaces |= colour_space_devices(cs, usage)
    filters = obj.get("/Filter", obj.get("/F"))
    for f in filters if isinstance(filters, pikepdf.Array) else [filters]:
        if f is not None:
            usage.inline_filters.add(str(f))
    return spaces


def _scan_unit(owner: Any, res: pikepdf.Dictionary, usage: ContentUsage) -> None:
    fonts = res.get("/Font", pikepdf.Dictionary())
    xobjects = res.get("/XObject", pikepdf.Dictionary())
    shadings = res.get("/Shading", pikepdf.Dictionary())
    spaces: set[str] = set()
    current: str | None = None
    stack: list[str | None] = []
    for instruction in pikepdf.parse_content_stream(owner):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            spaces |= _inline_image(instruction.iimage, usage, res)
            continue
        op = str(instruction.operator)
        operands = instruction.operands
        if op == "Tf" and operands:
            current = str(operands[0])
        elif op == "q":
            stack.append(current)
        elif op == "Q" and stack:
            current = stack.pop()
        elif op in TEXT_SHOW and current is not None:
            font = fonts.get(current)
            if isinstance(font, pikepdf.Dictionary):
                usage.fonts.setdefault(_key(font), font)
        elif op in OPERATOR_SPACE:
            spaces.add(OPERATOR_SPACE[op])
        elif op in ("cs", "CS") and operands:
            spaces |= _named_space(str(operands[0]), res, usage)
        elif op == "ri" and operands:
            usage.intents.add(str(operands[0]))
        elif op == "PS":
            usage.operators_forbidden.add("PS")
        elif op == "sh" and operands:
            shading = shadings.get(str(operands[0]))
            if isinstance(shading, pikepdf.Object) and hasattr(shading, "get"):
                spaces |= colour_space_devices(shading.get("/ColorSpace"), usage)
        elif op == "Do" and operands:
            xobj = xobjects.get(str(operands[0]))
            if isinstance(xobj, pikepdf.Stream) and xobj.get("/Subtype") == pikepdf.Name.Image:
                if not xobj.get("/ImageMask", False):
                    spaces |= colour_space_devices(xobj.get("/ColorSpace"), usage)
                if "/Intent" in xobj:
                    usage.intents.add(str(xobj.Intent))
    usage.device_spaces |= spaces - _defaults(res)


def scan_content(pdf: pikepdf.Pdf) -> ContentUsage:
    """Parse every content stream once and return what they use."""
    usage = ContentUsage()
    for owner, res in content_units(pdf):
        _scan_unit(owner, res, usage)
        for gs in res.get("/ExtGState", pikepdf.Dictionary()).values():
            if isinstance(gs, pikepdf.Dictionary) and "/RI" in gs:
                usage.intents.add(str(gs.RI))
    return usage


@dataclass(frozen=True, slots=True)
class Profile:
    """The PDF/A flavour a file claims: part 1–4 and conformance level ("a", "b", "u", "")."""

    part: int
    level: str

    @classmethod
    def parse(cls, claim: str) -> Profile:
        digits = "".join(c for c in claim if c.isdigit())
        return cls(int(digits) if digits else 0, claim[len(digits) :].lower())

    @property
    def unicode(self) -> bool:
        """Levels a and u require Unicode mappings for text."""
        return self.level in ("a", "u")


def rule_finding(code: str, vi: str, en: str, path: str, clause: str, **evidence: Any) -> Finding:
    """An ERROR finding ``pdfa.<code>`` with the ISO 19005 clause as evidence."""
    return error(f"pdfa.{code}", vi, en, path=path, evidence={"clause": clause, **evidence})
