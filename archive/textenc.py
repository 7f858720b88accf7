"""Legacy Vietnamese encodings: detect and repair TCVN3 (ABC) and VNI text.

Before Unicode (TCVN 6909:2001) Vietnamese offices typed in TCVN3 (".VnTime" fonts, one byte
per letter) or VNI ("VNI-Times", a base letter followed by a byte for the marks). Such files,
read as cp1252/latin-1, turn "Quyết định" into "QuyÕt ®Þnh" (TCVN3) or "Quyeát ñònh" (VNI).
The code tables below are data: legacy character (= the byte read as latin-1) → Unicode.

TCVN3 has no upper-case letters with tone marks (those fonts drew lower-case bytes as
capitals), so ``encode_legacy`` writes them as lower case; see ``representable``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from archive.findings import Finding, error, info, warning

LegacyEncoding = Literal["tcvn3", "vni"]

# TCVN 5712:1993 VN3 ("ABC"): byte → letter. Bytes not listed are ASCII or unused.
_TCVN3_BYTES: dict[int, str] = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}  # fmt: skip
TCVN3_TABLE: dict[str, str] = {chr(b): u for b, u in _TCVN3_BYTES.items()}

# VNI-Windows: a base letter + one mark byte (or a single byte for i, ơ, ư, ỵ, đ).
_VNI_MARKS_LOWER = {"grave": "ø", "acute": "ù", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_MARKS_UPPER = {"grave": "Ø", "acute": "Ù", "hook": "Û", "tilde": "Õ", "dot": "Ï"}
_VNI_BREVE = {"": "ê", "grave": "è", "acute": "é", "hook": "ú", "tilde": "ü", "dot": "ë"}  # ă + tone
_VNI_CIRC = {"": "â", "grave": "à", "acute": "á", "hook": "å", "tilde": "ã", "dot": "ä"}  # â ê ô + tone
_COMBINING = {"grave": "\u0300", "acute": "\u0301", "hook": "\u0309", "tilde": "\u0303", "dot": "\u0323"}
_VNI_SINGLE: dict[str, str] = {
    "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "ô": "ơ", "ö": "ư", "î": "ỵ", "ñ": "đ",
    "Ì": "Ì", "Í": "Í", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Ô": "Ơ", "Ö": "Ư", "Î": "Ỵ", "Ñ": "Đ",
}  # fmt: skip


def _build_vni_table() -> dict[str, str]:
    table = dict(_VNI_SINGLE)
    for upper in (False, True):
        marks = _VNI_MARKS_UPPER if upper else _VNI_MARKS_LOWER

        def case(s: str, up: bool = upper) -> str:
            return s.upper() if up else s

        for base in "aeouy":
            for tone, mark in marks.items():
                if base == "y" and tone == "dot":
                    continue  # ỵ is the single byte î
                table[case(base) + mark] = unicodedata.normalize("NFC", case(base) + _COMBINING[tone])
        for base in ("ô", "ö"):  # ơ, ư + tone
            for tone, mark in marks.items():
                legacy = case(base) + mark
                table[legacy] = unicodedata.normalize("NFC", _VNI_SINGLE[case(base)] + _COMBINING[tone])
        for tone, mark in _VNI_BREVE.items():
            letter = "ă" + _COMBINING.get(tone, "")
            table[case("a") + case(mark)] = unicodedata.normalize("NFC", case(letter))
        for base, hat in (("a", "â"), ("e", "ê"), ("o", "ô")):
            for tone, mark in _VNI_CIRC.items():
                letter = hat + _COMBINING.get(tone, "")
                table[case(base) + case(mark)] = unicodedata.normalize("NFC", case(letter))
    return table


VNI_TABLE: dict[str, str] = _build_vni_table()

_TABLES: dict[LegacyEncoding, dict[str, str]] = {"tcvn3": TCVN3_TABLE, "vni": VNI_TABLE}
_REVERSE: dict[LegacyEncoding, dict[str, str]] = {
    enc: {u: legacy for legacy, u in sorted(t.items(), key=lambda kv: len(kv[0]))}
    for enc, t in _TABLES.items()
}
_LEGACY_CHARS: dict[LegacyEncoding, frozenset[str]] = {
    enc: frozenset(ch for legacy in t for ch in legacy if ord(ch) >= 0x80) for enc, t in _TABLES.items()
}
# Prefer the single-byte VNI forms for ì í (identical to Unicode).
_REVERSE["vni"].update({"ì": "ì", "í": "í", "Ì": "Ì", "Í": "Í"})


def representable(text: str, encoding: LegacyEncoding) -> str:
    """Return ``text`` as it survives a trip through ``encoding`` (TCVN3 loses capital tones)."""
    text = unicodedata.normalize("NFC", text)
    if encoding == "vni":
        return text
    reverse = _REVERSE["tcvn3"]
    return "".join(
        ch if ch in reverse or ord(ch) < 0x80 or ch.lower() not in reverse else ch.lower() for ch in text
    )


def encode_legacy(text: str, encoding: LegacyEncoding) -> str:
    """Write Unicode ``text`` in a legacy encoding, as the mojibake a latin-1 reader would show.

    Used to build test data and to reproduce what old files look like; the result encodes to
    the legacy bytes with ``.encode("latin-1")``.
    """
    reverse = _REVERSE[encoding]
    out: list[str] = []
    for ch in representable(text, encoding):
        if ch in reverse:
            out.append(reverse[ch])
        elif encoding == "tcvn3" and ch.lower() in reverse:
            out.append(reverse[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def convert_legacy(text: str, encoding: LegacyEncoding) -> str:
    """Repair text that was TCVN3 or VNI bytes decoded as latin-1/cp1252; return NFC Unicode."""
    table = _TABLES[encoding]
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair in table:
            out.append(table[pair])
            i += 2
            continue
        out.append(table.get(text[i], text[i]))
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


# A Vietnamese syllable: onset, vowel cluster, coda; at most one tone mark.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OPEN = "iêu|oai|oao|oay|oeo|uây|uôi|uya|uyu|ươi|ươu|yêu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi|ơi|ua|ui|ưa|ưi|ưu|uơ|ya"
_CLOSED = "uyê|iê|yê|uô|ươ|uâ|oă|ă|â"  # take a final consonant
_EITHER = "oa|oe|uê|uy|oo|a|e|ê|i|o|ô|ơ|u|ư|y"
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
_CODA = r"(?:ng|nh|ch|[cmnptk])"  # k: Đắk Lắk, Búk
_SYLLABLE = re.compile(rf"{_ONSET}(?:(?:{_OPEN})|(?:{_CLOSED}){_CODA}|(?:{_EITHER}){_CODA}?)")
_WORD = re.compile(r"[^\s\d!-/:-@\[-`{-~]+")


def _is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONES)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return _SYLLABLE.fullmatch(base) is not None


_UNICODE_ONLY = frozenset("ăĂđĐơƠưƯĩĨũŨ\u0300\u0301\u0303\u0309\u0323") | frozenset(
    chr(c) for c in range(0x1EA0, 0x1EFA)
)


def _beyond_latin1_vietnamese(text: str) -> int:
    """Count letters only Unicode can hold (no latin-1 byte reads as them)."""
    return sum(1 for ch in text if ch in _UNICODE_ONLY)


def _score(words: list[str], encoding: LegacyEncoding) -> tuple[int, int, int]:
    """Return (hits, misses, unresolved) for reading ``words`` as ``encoding``.

    A hit is a word that is no Vietnamese syllable as read but is one once repaired; a miss is
    the reverse; unresolved words are changed but still no syllable. Words the table leaves
    unchanged, or that read well both ways, decide nothing.
    """
    marks = _LEGACY_CHARS[encoding]
    hits = misses = unresolved = 0
    for word in words:
        if not any(ch in marks for ch in word):
            continue
        repaired = convert_legacy(word, encoding)
        if repaired == unicodedata.normalize("NFC", word):
            continue
        as_read, as_repaired = _is_syllable(word), _is_syllable(repaired)
        if as_repaired and not as_read:
            hits += 1
        elif as_read and not as_repaired:
            misses += 1
        elif not as_repaired:
            unresolved += 1
    return hits, misses, unresolved


def _prior(words: list[str], encoding: LegacyEncoding) -> int:
    """Break ties: TCVN3 shows symbols (® ¸ µ ¹ …) for letters, VNI shows only letters."""
    symbols = any(ch in _LEGACY_CHARS["tcvn3"] and not ch.isalpha() for w in words for ch in w)
    return int(symbols) if encoding == "tcvn3" else int(not symbols)


def detect_legacy_vietnamese(text: str) -> LegacyEncoding | None:
    """Say whether ``text`` is TCVN3 or VNI Vietnamese read as latin-1/cp1252, else None.

    Text holding letters only Unicode has (ă, đ, ơ, ư, ạ …) is Unicode. Otherwise each
    non-ASCII word is repaired with each table; an encoding wins when it turns more non-words
    into Vietnamese syllables than the reverse, and at least two (or one with no counter-case).
    """
    words = _words(text)
    if not words or _beyond_latin1_vietnamese(text) > len(words) // 4:
        return None
    best: LegacyEncoding | None = None
    best_key = (0, 0, 0)
    encodings: tuple[LegacyEncoding, ...] = ("tcvn3", "vni")
    for encoding in encodings:
        hits, misses, unresolved = _score(words, encoding)
        key = (hits, -unresolved, _prior(words, encoding))
        if hits > misses and (hits >= 2 or misses == 0) and (best is None or key > best_key):
            best, best_key = encoding, key
    return best


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if any(ord(ch) >= 0x80 for ch in w)]


def _cp1258_syllables(data: bytes) -> int:
    """Count non-ASCII words that are Vietnamese syllables when ``data`` is read as cp1258."""
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        return 0
    return sum(1 for w in _words(text) if _is_syllable(w))


def check_text_encoding(data: bytes) -> tuple[str | None, list[Finding]]:
    """Check raw bytes of a text file against TCVN 6909 (Unicode); return (encoding, findings).

    Valid UTF-8 → ``"utf-8"`` (a warning if not NFC, an error if it carries TCVN3/VNI
    mojibake). Invalid UTF-8 → ``"tcvn3"``, ``"vni"`` or ``"cp1258"`` when recognised, else
    None, always with an error finding (``encoding.legacy_tcvn3``, ``encoding.legacy_vni``,
    ``encoding.not_unicode``).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", [
            info("encoding.utf16", "Tệp văn bản mã hóa UTF-16 (Unicode).", "Text file is UTF-16 (Unicode).")
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _check_non_utf8(data)
    findings: list[Finding] = []
    legacy = detect_legacy_vietnamese(text)
    if legacy is not None:
        findings.append(_legacy_finding(legacy, in_utf8=True))
    elif unicodedata.normalize("NFC", text) != text:
        findings.append(
            warning(
                "encoding.not_nfc",
                "Văn bản Unicode chưa ở dạng dựng sẵn (NFC).",
                "Unicode text is not in composed form (NFC).",
            )
        )
    return "utf-8", findings


def _check_non_utf8(data: bytes) -> tuple[str | None, list[Finding]]:
    text = data.decode("latin-1")
    legacy = detect_legacy_vietnamese(text)
    cp1258 = _cp1258_syllables(data)
    if legacy is not None and _score(_words(text), legacy)[0] >= cp1258:
        return legacy, [_legacy_finding(legacy, in_utf8=False)]
    if cp1258 >= 2 or (cp1258 == 1 and len(_words(text)) == 1):
        return "cp1258", [
            error(
                "encoding.not_unicode",
                "Tệp văn bản dùng bảng mã Windows-1258, không phải Unicode (TCVN 6909:2001).",
                "Text file is in Windows-1258, not Unicode (TCVN 6909:2001).",
                evidence={"encoding": "cp1258"},
            )
        ]
    return None, [
        error(
            "encoding.not_unicode",
            "Tệp văn bản không dùng bảng mã Unicode (TCVN 6909:2001).",
            "Text file is not Unicode (TCVN 6909:2001).",
            evidence={"encoding": None},
        )
    ]


def _legacy_finding(encoding: LegacyEncoding, *, in_utf8: bool) -> Finding:
    name = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}[encoding]
    where_vi = " (đã bị chuyển sai sang UTF-8)" if in_utf8 else ""
    where_en = " (wrongly converted to UTF-8)" if in_utf8 else ""
    return error(
        f"encoding.legacy_{encoding}",
        f"Văn bản dùng bảng mã cũ {name}{where_vi}; cần chuyển sang Unicode (TCVN 6909:2001).",
        f"Text uses the legacy {name} encoding{where_en}; convert it to Unicode (TCVN 6909:2001).",
        evidence={"encoding": encoding},
    )
