"""Snippets and highlights from the original text, with ``<mark>`` around matched tokens.

Matching is done on folded tokens (so ``luat`` marks ``Luật``) but the text shown is the
original. Whole words and phrases are marked, never a syllable of another word: a query of
several loose syllables marks the adjacent pairs it holds (``quyết định`` marks ``quyết định``
but not ``giải quyết`` or ``thẩm định``), a phrase is marked whole, a single word or a prefix
on its own. Everything outside ``<mark>`` is HTML-escaped.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from search.folding import ParsedQuery, QueryTerm, fold_chars, normalize

SNIPPET_CHARS = 240
_SCAN_CHARS = 200_000  # a snippet comes from the first 200,000 characters of a text


_WORD = r"[^\W_]"
_GAP = r"[\W_]+"  # between two syllables of a phrase or code (as for FTS5: anything not a token)
_SPACE = r"\s+"  # between two loose syllables that make a word: spaces only


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    key: str


def _sequence(terms: Sequence[QueryTerm], gap: str = _GAP) -> str:
    parts = [re.escape(t.folded) + (_WORD + "*" if t.prefix else "") for t in terms]
    return gap.join(parts)


def _patterns(query: ParsedQuery) -> list[str]:
    """What to mark: each phrase (quoted text, code) whole; of loose words, the adjacent pairs the
    query holds (Vietnamese words are mostly two syllables: ``quyết định`` marks ``quyết định``,
    not the ``quyết`` of ``giải quyết``); a single loose word or a prefix on its own."""
    out: list[str] = []
    for group in query.groups:
        terms = group.terms
        if not terms:
            continue
        if group.phrase or len(terms) == 1:
            out.append(_sequence(terms))
            continue
        pairs = itertools.pairwise(group.sequence)
        out.extend(_sequence(t, _SPACE) for t in pairs if not any(x.prefix for x in t) and t[0] != t[1])
        out.extend(_sequence((t,)) for t in terms if t.prefix)
    return list(dict.fromkeys(out))


def _matches(text: str, query: ParsedQuery) -> list[_Span]:
    """Spans of ``text`` matching the query's words and phrases (folded), overlaps merged."""
    patterns = _patterns(query)
    if not patterns:
        return []
    alternatives = "|".join(sorted(patterns, key=len, reverse=True))
    # A lookahead finds overlapping matches ("quản lý" and "lý văn" in "quản lý văn bản").
    pattern = re.compile(f"(?<!{_WORD})(?=((?:{alternatives}))(?!{_WORD}))")
    folded = fold_chars(text)
    spans: list[_Span] = []
    for m in pattern.finditer(folded):
        start, end = m.span(1)
        if spans and start < spans[-1].end:
            last = spans[-1]
            if end > last.end:
                spans[-1] = _Span(last.start, end, folded[last.start : end])
            continue
        spans.append(_Span(start, end, folded[start:end]))
    return spans


def _render(text: str, start: int, end: int, marks: Iterable[_Span]) -> str:
    out: list[str] = []
    pos = start
    for span in marks:
        if span.start < start or span.end > end:
            continue
        out.append(html.escape(text[pos : span.start]))
        out.append(f"<mark>{html.escape(text[span.start : span.end])}</mark>")
        pos = span.end
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def highlight(text: str, query: ParsedQuery) -> str:
    """Return all of ``text`` HTML-escaped with every matching token marked (for titles)."""
    text = normalize(text)
    return _render(text, 0, len(text), _matches(text, query))


def snippet(text: str, query: ParsedQuery, max_chars: int = SNIPPET_CHARS) -> str:
    """Return the window of ``text`` (about ``max_chars``) holding the most distinct matches.

    Falls back to the start of the text when nothing matches; ``""`` for empty text.
    """
    text = normalize(text[:_SCAN_CHARS])
    if not text.strip():
        return ""
    hits = _matches(text, query)
    if not hits:
        end = _cut_end(text, min(len(text), max_chars))
        return html.escape(text[:end].strip()) + ("…" if end < len(text) else "")
    best_start, best_score = hits[0].start, -1
    right = 0
    for left, first in enumerate(hits):
        right = max(right, left)
        while right + 1 < len(hits) and hits[right + 1].end - first.start <= max_chars:
            right += 1
        window = hits[left : right + 1]
        score = len({t.key for t in window}) * 1000 + len(window)
        if score > best_score:
            best_start, best_score = first.start, score
    start = _cut_start(text, max(0, best_start - max_chars // 4))
    end = _cut_end(text, min(len(text), start + max_chars))
    body = _render(text, start, end, hits).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def _cut_start(text: str, pos: int) -> int:
    if pos <= 0:
        return 0
    space = text.rfind(" ", 0, pos)
    return space + 1 if space >= 0 and pos - space < 40 else pos


def _cut_end(text: str, pos: int) -> int:
    if pos >= len(text):
        return len(text)
    space = text.find(" ", pos)
    return space if space >= 0 and space - pos < 40 else pos
