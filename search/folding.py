"""Vietnamese text analysis: normalisation, folding, syllable tokens, query parsing.

Vietnamese words are space-separated syllables ("quyết định" is two syllables, one word), so
the unit we index is the syllable. Every token is kept twice:

* ``exact``  — NFC, case-folded, diacritics kept (``"quyết"``);
* ``folded`` — diacritics removed and ``đ`` → ``d`` (``"quyet"``).

Searching the folded stream makes a query with or without diacritics match every variant;
scoring the exact stream as well ranks documents spelled as the query above the rest.

Codes such as ``15/QĐ-BNV`` split on punctuation into ``15``, ``qđ``/``qd``, ``bnv``; the query
``15/QĐ-BNV`` becomes the phrase ``15 qd bnv``, so document numbers stay findable.

Text in the legacy TCVN3 (ABC) or VNI encodings read as if it were Unicode is mojibake: it is
flagged through ``archive.textenc`` and not indexed as words (see :func:`legacy_encoding`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

ANALYZER_VERSION = "vi-1"  # bump when tokens change: the index must then be rebuilt

_TOKEN_RE = re.compile(r"[^\W_]+")
# A query's cost must not depend on how much a visitor types: the engine reads at most
# MAX_QUERY_CHARS characters (the portal and the API refuse longer ones with a hint), keeps at
# most MAX_QUERY_TERMS distinct terms and MAX_QUERY_GROUPS phrases, and drops repeated terms.
MAX_QUERY_CHARS = 256
MAX_QUERY_TERMS = 32
MAX_QUERY_GROUPS = 8
_QUERY_RE = re.compile(r'"([^"]*)"|(\S+)')
# How much of a text legacy detection looks at; mojibake shows in the first lines.
_LEGACY_SAMPLE = 8 * 1024
# Latin-1 characters that are not Vietnamese letters; TCVN3 and VNI mojibake is full of them
# (®, Þ, ©, ¬, ñ, Ë …), proper Unicode Vietnamese almost never holds them.
_MOJIBAKE_HINT = re.compile(
    "[\u00a0-\u00bf\u00c4-\u00c7\u00cb\u00ce-\u00d1\u00d6-\u00d8\u00db\u00dc\u00de-\u00df"
    "\u00e4-\u00e7\u00eb\u00ee-\u00f1\u00f6-\u00f8\u00fb\u00fc\u00fe\u00ff]"
)


def normalize(text: str) -> str:
    """Return ``text`` in Unicode NFC (composed), the form TCVN 6909 text is compared in."""
    return unicodedata.normalize("NFC", text)


def _build_tables() -> tuple[dict[int, str | None], dict[int, str]]:
    """Per-character folding tables for the Latin ranges Vietnamese uses (and their neighbours).

    ``strip``: a lowercase letter with diacritics → its base letter, combining marks → removed.
    ``chars``: any case → folded lowercase, always one character for one (offsets are kept).
    """
    strip: dict[int, str | None] = {cp: None for cp in range(0x300, 0x370)}
    chars: dict[int, str] = {cp: chr(cp).lower() for cp in range(0x41, 0x5B)}
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(cp)
        lower = ch.lower()
        base = "".join(c for c in unicodedata.normalize("NFD", lower) if unicodedata.category(c) != "Mn")
        if ch in "đĐ":
            base = "d"
        if base != ch and len(base) == 1 and lower == ch:
            strip[cp] = base
        if len(lower) == 1 and len(base) == 1 and base != ch:
            chars[cp] = base
    return strip, chars


_STRIP, _CHARS = _build_tables()


def _fold_word(word: str) -> str:
    """Fold an already case-folded NFC string (diacritics off, đ → d)."""
    return word.translate(_STRIP)


def fold(text: str) -> str:
    """Case-fold and strip diacritics, ``đ``/``Đ`` → ``d``: ``fold("Quyết định") == "quyet dinh"``.

    Punctuation and spacing are kept; only letters change.
    """
    return _fold_word(normalize(text).casefold())


def fold_chars(text: str) -> str:
    """Fold character by character, keeping the length, so offsets match ``text`` (highlighting)."""
    return text.translate(_CHARS)


def lower_exact(text: str) -> str:
    """NFC and case folding only (diacritics kept): the exact token form."""
    return normalize(text).casefold()


def has_diacritics(token: str) -> bool:
    return fold(token) != lower_exact(token)


@dataclass(frozen=True, slots=True)
class Token:
    """One syllable or code part: exact and folded forms and its span in the NFC text."""

    exact: str
    folded: str
    start: int
    end: int


def iter_tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text`` (which must already be NFC; offsets refer to it)."""
    for match in _TOKEN_RE.finditer(text):
        exact = match.group(0).casefold()
        folded = _fold_word(exact)
        yield Token(exact, folded, match.start(), match.end())


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text`` after NFC normalisation."""
    return list(iter_tokens(normalize(text)))


# Whitespace-separated chunk → its (exact, folded) tokens. Text repeats the same few thousand
# syllables, so indexing looks most chunks up instead of running the regex and the folding table.
_CHUNKS: dict[str, tuple[str, str]] = {}
_CHUNKS_MAX = 200_000


def _chunk_tokens(chunk: str) -> tuple[str, str]:
    found = _CHUNKS.get(chunk)
    if found is None:
        exact = " ".join(_TOKEN_RE.findall(chunk.casefold()))
        found = (exact, _fold_word(exact))
        if len(_CHUNKS) < _CHUNKS_MAX:
            _CHUNKS[chunk] = found
    return found


def token_streams(text: str) -> tuple[str, str]:
    """Return ``(exact, folded)`` space-joined token streams for indexing ``text``.

    Tokens never span whitespace, so each whitespace-separated chunk is analysed (and cached)
    on its own; the result equals tokenising the whole text at once.
    """
    known = _CHUNKS.get
    pairs = [known(chunk) or _chunk_tokens(chunk) for chunk in normalize(text).split()]
    if not pairs:
        return "", ""
    exact, folded = zip(*pairs, strict=True)
    return " ".join(filter(None, exact)), " ".join(filter(None, folded))


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A term of a parsed query: one syllable, or a prefix when the user typed ``quyet*``."""

    exact: str
    folded: str
    prefix: bool = False

    @property
    def accented(self) -> bool:
        """True when the user typed diacritics, so exact spelling should rank first."""
        return self.exact != self.folded


@dataclass(frozen=True, slots=True)
class QueryGroup:
    """Terms that belong together: a quoted phrase, a code like ``15/QĐ-BNV``, or loose words.

    ``phrase`` groups must match as a phrase; loose groups match as an AND of terms and a
    phrase of the same terms is boosted.
    """

    terms: tuple[QueryTerm, ...]
    phrase: bool
    # Loose words as typed, repeats kept (at most 2 x MAX_QUERY_TERMS): which syllables stand
    # side by side ("cai nghiện" in "người nghiện … cai nghiện"), while ``terms`` counts each once.
    order: tuple[QueryTerm, ...] = ()

    @property
    def sequence(self) -> tuple[QueryTerm, ...]:
        return self.order or self.terms


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    groups: tuple[QueryGroup, ...]

    @property
    def terms(self) -> tuple[QueryTerm, ...]:
        return tuple(t for g in self.groups for t in g.terms)

    def __bool__(self) -> bool:
        return any(g.terms for g in self.groups)


def _terms_of(chunk: str, allow_prefix: bool) -> list[QueryTerm]:
    prefix = allow_prefix and chunk.endswith("*")
    tokens = tokenize(chunk)
    terms = [QueryTerm(t.exact, t.folded) for t in tokens]
    if prefix and terms:
        last = terms[-1]
        terms[-1] = QueryTerm(last.exact, last.folded, prefix=True)
    return terms


def parse_query(text: str) -> ParsedQuery:
    """Parse what a researcher typed.

    ``"văn bản"`` (quoted) is a phrase; ``15/QĐ-BNV`` (one chunk with several tokens) is a
    phrase; ``quyet*`` is a prefix; the remaining loose words form one group. Operators have no
    meaning (``AND``, ``NEAR``, ``-`` are words or punctuation): the query is data, never FTS5
    syntax. The cost is bounded whatever is typed: only the first ``MAX_QUERY_CHARS``
    characters are read, a loose term typed twice counts once, identical phrases count once,
    and at most ``MAX_QUERY_TERMS`` terms in ``MAX_QUERY_GROUPS`` groups are kept.
    """
    groups: list[QueryGroup] = []
    loose: dict[QueryTerm, None] = {}  # ordered set: repeated words count once
    order: list[QueryTerm] = []
    budget = MAX_QUERY_TERMS
    for match in _QUERY_RE.finditer(normalize(text[:MAX_QUERY_CHARS])):
        quoted, chunk = match.group(1), match.group(2)
        if quoted is not None:
            terms = _terms_of(quoted, allow_prefix=False)
        else:
            terms = _terms_of(chunk, allow_prefix=True)
            if len(terms) == 1:
                if len(order) < 2 * MAX_QUERY_TERMS and (terms[0] in loose or budget > 0):
                    order.append(terms[0])
                if terms[0] not in loose and budget > 0:
                    loose[terms[0]] = None
                    budget -= 1
                continue
        group = QueryGroup(tuple(terms[:budget]), phrase=True)
        if group.terms and group not in groups and len(groups) < MAX_QUERY_GROUPS - 1:
            groups.append(group)
            budget -= len(group.terms)
    if loose:
        groups.insert(0, QueryGroup(tuple(loose), phrase=False, order=tuple(order)))
    return ParsedQuery(tuple(groups))


def searchable(text: str) -> bool:
    """True when ``text`` holds at least one letter or digit to search for (``"!!! ???"`` does not)."""
    return _TOKEN_RE.search(text) is not None


def legacy_encoding(text: str) -> str | None:
    """Return ``"tcvn3"`` or ``"vni"`` when ``text`` is legacy-encoded mojibake, else None.

    Delegates to ``archive.textenc.detect_legacy_vietnamese`` (imported lazily); looks at the
    first 8 KiB only.
    """
    sample = text[:_LEGACY_SAMPLE]
    if not _MOJIBAKE_HINT.search(sample):
        return None  # no Latin-1 symbol a Vietnamese text never holds: cannot be TCVN3/VNI mojibake
    try:
        from archive.textenc import detect_legacy_vietnamese
    except ImportError:  # archive.textenc not installed in this checkout
        return None
    result = detect_legacy_vietnamese(sample)
    return str(result) if result else None
