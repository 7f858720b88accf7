"""PDF/A font rules (ISO 19005-1 §6.3, 19005-2/3 §6.2.11) on the fonts that render text.

Checked on the font dictionaries (the font programs themselves are not parsed):
embedded programs and their declared type, simple-font widths arrays, TrueType encodings,
CIDToGIDMap of embedded CIDFontType2, CharSet/CIDSet of PDF/A-1 subsets, and ToUnicode
maps for levels a and u.
"""

from __future__ import annotations

import re

import pikepdf

from archive.findings import Finding
from ingest.checks.pdfa_walk import ContentUsage, Profile, rule_finding

SIMPLE = {"/Type1", "/MMType1", "/TrueType"}
STANDARD_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding"}
TRUETYPE_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding"}
FONTFILE3_SUBTYPES = {"/Type1C", "/CIDFontType0C", "/OpenType"}
UNICODE_REGISTRIES = {"Adobe-GB1", "Adobe-CNS1", "Adobe-Japan1", "Adobe-Korea1"}
SUBSET = re.compile(r"^/?[A-Z]{6}\+")
FLAG_SYMBOLIC, FLAG_NONSYMBOLIC = 4, 32


def _name(font: pikepdf.Dictionary) -> str:
    return str(font.get("/BaseFont", "?")).lstrip("/")


def _clause(profile: Profile, part1: str, part2: str) -> str:
    return part1 if profile.part == 1 else part2


def _descendant(font: pikepdf.Dictionary) -> pikepdf.Dictionary | None:
    kids = font.get("/DescendantFonts", pikepdf.Array())
    if isinstance(kids, pikepdf.Array) and len(kids) and isinstance(kids[0], pikepdf.Dictionary):
        return kids[0]
    return None


def font_embedded(font: pikepdf.Dictionary) -> bool:
    """True if the font program is in the file (Type3 glyphs always are)."""
    subtype = font.get("/Subtype")
    if subtype == pikepdf.Name.Type3:
        return True
    if subtype == pikepdf.Name.Type0:
        kid = _descendant(font)
        return kid is not None and font_embedded(kid)
    desc = font.get("/FontDescriptor")
    if not isinstance(desc, pikepdf.Dictionary):
        return False
    return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _program_type_ok(font: pikepdf.Dictionary, profile: Profile) -> bool:
    desc = font.get("/FontDescriptor")
    if not isinstance(desc, pikepdf.Dictionary) or "/FontFile3" not in desc:
        return True
    sub = str(desc.FontFile3.get("/Subtype", ""))
    allowed = FONTFILE3_SUBTYPES - ({"/OpenType"} if profile.part == 1 else set())
    return sub in allowed


def _widths_ok(font: pikepdf.Dictionary) -> bool:
    widths = font.get("/Widths")
    first, last = font.get("/FirstChar"), font.get("/LastChar")
    if not isinstance(widths, pikepdf.Array) or first is None or last is None:
        return False
    return len(widths) == int(last) - int(first) + 1


def _truetype_encoding_ok(font: pikepdf.Dictionary) -> bool:
    desc = font.get("/FontDescriptor")
    flags = int(desc.get("/Flags", 0)) if isinstance(desc, pikepdf.Dictionary) else 0
    encoding = font.get("/Encoding")
    if flags & FLAG_SYMBOLIC and not flags & FLAG_NONSYMBOLIC:
        return encoding is None  # symbolic: the font's own (3,0) cmap decides
    if isinstance(encoding, pikepdf.Dictionary):
        encoding = encoding.get("/BaseEncoding")
    return encoding is not None and str(encoding) in TRUETYPE_ENCODINGS


def _has_unicode(font: pikepdf.Dictionary) -> bool:
    if "/ToUnicode" in font:
        return True
    subtype = str(font.get("/Subtype"))
    if subtype in SIMPLE:
        encoding = font.get("/Encoding")
        if isinstance(encoding, pikepdf.Dictionary):
            encoding = encoding.get("/BaseEncoding")
        desc = font.get("/FontDescriptor")
        flags = int(desc.get("/Flags", 0)) if isinstance(desc, pikepdf.Dictionary) else 0
        return (encoding is not None and str(encoding) in STANDARD_ENCODINGS) or bool(
            flags & FLAG_SYMBOLIC and not flags & FLAG_NONSYMBOLIC and subtype != "/TrueType"
        )
    if subtype == "/Type0":
        kid = _descendant(font)
        info = kid.get("/CIDSystemInfo") if kid is not None else None
        if isinstance(info, pikepdf.Dictionary) and str(font.get("/Encoding")) not in (
            "/Identity-H",
            "/Identity-V",
        ):
            registry = f"{info.get('/Registry', '')}-{info.get('/Ordering', '')}"
            return registry in UNICODE_REGISTRIES
    return False


def _subset_set_ok(font: pikepdf.Dictionary) -> bool:
    """PDF/A-1: a subset font lists its glyphs (CharSet for Type1, CIDSet for CID fonts)."""
    target = _descendant(font) if font.get("/Subtype") == pikepdf.Name.Type0 else font
    if target is None or not SUBSET.match(str(target.get("/BaseFont", ""))):
        return True
    desc = target.get("/FontDescriptor")
    if not isinstance(desc, pikepdf.Dictionary):
        return True  # reported as not embedded
    if target.get("/Subtype") in (pikepdf.Name.Type1, pikepdf.Name.MMType1):
        return "/CharSet" in desc
    if target.get("/Subtype") in (pikepdf.Name.CIDFontType0, pikepdf.Name.CIDFontType2):
        return "/CIDSet" in desc
    return True


def check_fonts(usage: ContentUsage, profile: Profile, path: str) -> list[Finding]:
    """Apply the font rules to every font that renders text."""
    problems: dict[str, set[str]] = {}

    def add(code: str, font: pikepdf.Dictionary) -> None:
        problems.setdefault(code, set()).add(_name(font))

    for font in usage.fonts.values():
        subtype = str(font.get("/Subtype"))
        if not font_embedded(font):
            add("font_not_embedded", font)
            continue
        kid = _descendant(font) if subtype == "/Type0" else None
        if not _program_type_ok(kid if kid is not None else font, profile):
            add("font_program_type", font)
        if subtype in SIMPLE and not _widths_ok(font):
            add("font_widths", font)
        if subtype == "/TrueType" and not _truetype_encoding_ok(font):
            add("font_encoding", font)
        if kid is not None and kid.get("/Subtype") == pikepdf.Name.CIDFontType2 and "/CIDToGIDMap" not in kid:
            add("font_cidtogidmap", font)
        if profile.part == 1 and not _subset_set_ok(font):
            add("font_subset_set", font)
        if profile.unicode and not _has_unicode(font):
            add("font_tounicode_missing", font)
    texts = {
        "font_not_embedded": (
            "Phông chữ {n} không được nhúng vào tệp.",
            "Font {n} is not embedded.",
            _clause(profile, "6.3.4", "6.2.11.4.1"),
        ),
        "font_program_type": (
            "Chương trình phông chữ {n} có kiểu không được phép trong PDF/A-{p}.",
            "The embedded program of font {n} is of a type PDF/A-{p} does not allow.",
            _clause(profile, "6.3.2", "6.2.11.2"),
        ),
        "font_widths": (
            "Phông chữ {n} thiếu hoặc sai mảng độ rộng ký tự (Widths/FirstChar/LastChar).",
            "Font {n} has a missing or wrong glyph widths array (Widths/FirstChar/LastChar).",
            _clause(profile, "6.3.6", "6.2.11.5"),
        ),
        "font_encoding": (
            "Phông TrueType {n} có bảng mã (Encoding) không đúng quy định PDF/A.",
            "TrueType font {n} has an Encoding that PDF/A does not allow.",
            _clause(profile, "6.3.7", "6.2.11.6"),
        ),
        "font_cidtogidmap": (
            "Phông CIDFontType2 {n} thiếu CIDToGIDMap.",
            "CIDFontType2 font {n} has no CIDToGIDMap.",
            _clause(profile, "6.3.3.2", "6.2.11.3.2"),
        ),
        "font_subset_set": (
            "Phông con {n} thiếu danh sách ký tự (CharSet/CIDSet) mà PDF/A-1 yêu cầu.",
            "Subset font {n} lacks the CharSet/CIDSet that PDF/A-1 requires.",
            "6.3.5",
        ),
        "font_tounicode_missing": (
            "Phông chữ {n} không có bảng ánh xạ Unicode (ToUnicode), bắt buộc ở mức {lv}.",
            "Font {n} has no Unicode mapping (ToUnicode), required at level {lv}.",
            _clause(profile, "6.3.8", "6.2.11.7.2"),
        ),
    }
    found: list[Finding] = []
    for code, names in problems.items():
        vi, en, clause = texts[code]
        for n in sorted(names):
            fmt = {"n": n, "p": profile.part, "lv": profile.level.upper()}
            found.append(rule_finding(code, vi.format(**fmt), en.format(**fmt), path, clause, font=n))
    return found
