"""Vietnamese analysis: folding, tokens, query parsing, legacy-encoding flag, highlights."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from archive.textenc import encode_legacy
from search.folding import fold, legacy_encoding, parse_query, token_streams, tokenize
from search.highlight import highlight, snippet


def test_fold_examples() -> None:
    assert fold("Quyết định") == "quyet dinh"
    assert fold("ĐẤT ĐAI") == "dat dai"
    assert fold("Ủy ban nhân dân") == "uy ban nhan dan"
    assert fold("Hồ sơ lưu trữ") == "ho so luu tru"


def test_fold_is_the_same_for_nfc_and_nfd() -> None:
    text = "Quyết định số 16"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)
    assert [t.exact for t in tokenize(unicodedata.normalize("NFD", text))] == ["quyết", "định", "số", "16"]


def test_codes_split_into_findable_tokens() -> None:
    tokens = tokenize("Số 15/QĐ-BNV ngày 01/7/2025")
    assert [t.exact for t in tokens] == ["số", "15", "qđ", "bnv", "ngày", "01", "7", "2025"]
    assert [t.folded for t in tokens][:4] == ["so", "15", "qd", "bnv"]
    exact, folded = token_streams("Nghị định 30/2020/NĐ-CP")
    assert exact == "nghị định 30 2020 nđ cp"
    assert folded == "nghi dinh 30 2020 nd cp"


def test_token_offsets_point_into_the_text() -> None:
    text = "Ủy ban, nhân dân!"
    assert [text[t.start : t.end] for t in tokenize(text)] == ["Ủy", "ban", "nhân", "dân"]


def test_parse_query_groups() -> None:
    parsed = parse_query('văn bản "đất đai" 15/QĐ-BNV quyet*')
    loose, phrase, code = parsed.groups
    assert not loose.phrase and [t.exact for t in loose.terms] == ["văn", "bản", "quyet"]
    assert loose.terms[-1].prefix and loose.terms[0].accented
    assert phrase.phrase and [t.folded for t in phrase.terms] == ["dat", "dai"]
    assert code.phrase and [t.folded for t in code.terms] == ["15", "qd", "bnv"]
    assert not parse_query("  ,;  ")


def test_legacy_text_is_flagged() -> None:
    text = "Quyết định về việc ban hành quy chế quản lý văn bản của Ủy ban nhân dân tỉnh"
    assert legacy_encoding(text) is None
    assert legacy_encoding(encode_legacy(text, "tcvn3")) == "tcvn3"
    assert legacy_encoding(encode_legacy(text, "vni")) == "vni"


def test_highlight_and_snippet() -> None:
    parsed = parse_query("luat dat")
    assert highlight("<Luật Đất> đai", parsed) == "&lt;<mark>Luật Đất</mark>&gt; đai"
    assert highlight("Luật <Đất> đai", parsed) == "Luật &lt;Đất&gt; đai"  # not side by side: no word
    long_text = "mở đầu " * 100 + "theo Luật Đất đai năm 2013 " + "kết thúc " * 100
    cut = snippet(long_text, parsed, max_chars=80)
    assert "<mark>Luật Đất</mark>" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut) < 80 + 60
    assert snippet("không có gì", parsed) == "không có gì"


def test_highlight_marks_whole_words_and_phrases_only() -> None:
    text = "Quyết định về giải quyết khiếu nại và thẩm định hồ sơ; QUYẾT ĐỊNH số 15/QĐ-BNV"
    marked = highlight(text, parse_query("quyết định"))
    assert marked.count("<mark>") == 2 and "<mark>Quyết định</mark>" in marked
    assert "<mark>QUYẾT ĐỊNH</mark>" in marked and "giải quyết khiếu" in marked and "thẩm định hồ" in marked
    # Overlapping pairs of a longer query merge into one mark; a code is marked whole.
    assert (
        highlight("quản lý văn bản điện tử", parse_query("quan ly van ban"))
        == "<mark>quản lý văn bản</mark> điện tử"
    )
    assert "<mark>15/QĐ-BNV</mark>" in highlight(text, parse_query("15/QĐ-BNV"))
    # One word on its own, a prefix and a quoted phrase.
    assert highlight("giải quyết", parse_query("quyet")) == "giải <mark>quyết</mark>"
    assert highlight("quyết toán, quyết định", parse_query("quyet*")).count("<mark>") == 2
    assert highlight("văn bản, bản văn", parse_query('"văn bản"')) == "<mark>văn bản</mark>, bản văn"


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ ĐĂÂÊÔƠƯ",
        max_size=40,
    )
)
def test_folded_tokens_are_ascii_and_stable(text: str) -> None:
    exact, folded = token_streams(text)
    assert folded.isascii()
    assert fold(folded) == folded
    assert len(exact.split()) == len(folded.split())
