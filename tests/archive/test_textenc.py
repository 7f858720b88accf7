"""Legacy Vietnamese encodings: real sentences are written in TCVN3 and VNI, detected, repaired."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.textenc import (
    TCVN3_TABLE,
    VNI_TABLE,
    LegacyEncoding,
    check_text_encoding,
    convert_legacy,
    detect_legacy_vietnamese,
    encode_legacy,
    representable,
)

SEEDS = sorted((Path(__file__).parent / "data" / "metadata" / "seeds").glob("*.txt"))
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
LOWER = [unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in TONES] + ["đ"]


def seed_texts() -> list[str]:
    if not SEEDS:
        pytest.skip("seed texts are not present")
    return [p.read_text(encoding="utf-8") for p in SEEDS]


def cp1258_bytes(text: str) -> bytes:
    """Write text as Windows-1258 does: base letter (with ^ ˘ ′) + a combining tone mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out.append(base + tones)
    return "".join(out).encode("cp1258", errors="replace")


def test_tables_cover_every_vietnamese_letter() -> None:
    assert len(LOWER) == 73
    for letter in LOWER:
        assert convert_legacy(encode_legacy(letter, "tcvn3"), "tcvn3") == letter
        for case in (letter, letter.upper()):
            assert convert_legacy(encode_legacy(case, "vni"), "vni") == case
    assert len(set(TCVN3_TABLE.values())) == len(TCVN3_TABLE) == 74  # 60 toned + 14 base letters
    assert all(len(k) == 1 and 0xA0 < ord(k) < 0x100 for k in TCVN3_TABLE)
    assert all(1 <= len(k) <= 2 for k in VNI_TABLE)


def test_known_spellings_of_quyet_dinh() -> None:
    assert encode_legacy("Quyết định", "tcvn3") == "QuyÕt ®Þnh"
    assert encode_legacy("Quyết định", "tcvn3").encode("latin-1") == b"Quy\xd5t \xae\xdenh"
    assert encode_legacy("Quyết định", "vni") == "Quyeát ñònh"
    assert convert_legacy("Quyeát ñònh", "vni") == "Quyết định"
    assert convert_legacy("QuyÕt ®Þnh", "tcvn3") == "Quyết định"


def test_tcvn3_has_no_capital_tones() -> None:
    assert representable("ỦY BAN NHÂN DÂN", "tcvn3") == "ủY BAN NHÂN DÂN"
    assert representable("ỦY BAN NHÂN DÂN", "vni") == "ỦY BAN NHÂN DÂN"


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_seed_texts_round_trip(encoding: LegacyEncoding) -> None:
    for text in seed_texts():
        legacy = encode_legacy(text, encoding)
        assert legacy != text
        assert detect_legacy_vietnamese(legacy) == encoding
        assert convert_legacy(legacy, encoding) == representable(text, encoding)


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_seed_sentences_are_detected_one_by_one(encoding: LegacyEncoding) -> None:
    sentences = [
        line
        for text in seed_texts()
        for line in text.splitlines()
        if sum(1 for w in line.split() if any(ord(c) > 127 for c in w)) >= 4
    ]
    assert len(sentences) > 100
    detected = [detect_legacy_vietnamese(encode_legacy(s, encoding)) for s in sentences]
    assert detected.count(encoding) / len(sentences) > 0.98
    assert all(d in (encoding, None) for d in detected)


def test_unicode_and_other_languages_are_not_flagged() -> None:
    for text in seed_texts():
        assert detect_legacy_vietnamese(text) is None
        for line in text.splitlines():
            assert detect_legacy_vietnamese(line) is None, line
            for word in line.split():
                assert detect_legacy_vietnamese(word) is None, word
    for text in (
        "The archive keeps signed PDF files for decades.",
        "Le comité a approuvé le procès-verbal de la réunion à Genève.",
        "Café, naïve résumé; señor Ñandú está aquí.",
        "Über die Größe der Straße wird später entschieden.",
        "Có",
        "Ông Bà",
        "",
    ):
        assert detect_legacy_vietnamese(text) is None, text


def test_check_text_encoding_utf8() -> None:
    text = seed_texts()[0]
    assert check_text_encoding(text.encode("utf-8")) == ("utf-8", [])
    assert check_text_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == ("utf-8", [])
    encoding, findings = check_text_encoding(unicodedata.normalize("NFD", text).encode("utf-8"))
    assert encoding == "utf-8"
    assert [f.code for f in findings] == ["encoding.not_nfc"]


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_check_text_encoding_legacy_bytes(encoding: LegacyEncoding) -> None:
    text = seed_texts()[3]
    raw = encode_legacy(text, encoding).encode("cp1252", errors="replace")
    found, findings = check_text_encoding(raw)
    assert found == encoding
    assert [f.code for f in findings] == [f"encoding.legacy_{encoding}"]
    assert findings[0].severity == "error"
    assert "TCVN 6909" in findings[0].message_vi and "Unicode" in findings[0].message_en
    # The same mojibake saved again as UTF-8 is still legacy text.
    found, findings = check_text_encoding(encode_legacy(text, encoding).encode("utf-8"))
    assert (found, findings[0].code) == ("utf-8", f"encoding.legacy_{encoding}")


def test_check_text_encoding_cp1258_and_unknown() -> None:
    found, findings = check_text_encoding(cp1258_bytes(seed_texts()[4]))
    assert found == "cp1258"
    assert [f.code for f in findings] == ["encoding.not_unicode"]
    found, findings = check_text_encoding(bytes(range(128, 256)))
    assert found is None
    assert [f.code for f in findings] == ["encoding.not_unicode"]


VIETNAMESE_TEXT = st.text(
    alphabet=st.sampled_from([*LOWER, *(c.upper() for c in LOWER), *"bcdghklmnpqrstvx ,.-0123456789/"]),
    max_size=60,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(VIETNAMESE_TEXT)
def test_any_vietnamese_text_round_trips(text: str) -> None:
    for encoding in ("tcvn3", "vni"):
        legacy = encode_legacy(text, encoding)
        assert convert_legacy(legacy, encoding) == representable(text, encoding)
        assert len(legacy.encode("latin-1")) == len(legacy)  # one legacy byte per character
