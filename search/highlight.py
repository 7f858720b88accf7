"""Snippets and highlights from the original text, with ``<mark>`` around matched tokens.

Matching is done on folded tokens (so ``luat`` marks ``Luật``) but the text shown is the
original. Everything outside ``<mark>`` is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from search.folding import ParsedQuery, fold_chars, normalize

SNIPPET_CHARS = 240
_SCAN_CHARS = 200_000  # a snippet comes from the first 200,000 characters of a text


_WORD = r"[^\W_]"


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    key: str


def _matches(text: str, query: ParsedQuery) -> list[_Span]:
    """Spans of tokens in ``text`` whose folded form is a query term (or starts with a prefix)."""
    whole = sorted({t.folded for t in query.terms if not t.prefix}, key=len, reverse=True)
    prefixes = sorted({t.folded for t in query.terms if t.prefix}, key=len, reverse=True)
    alternatives = [re.escape(w) for w in whole] + [re.escape(p) + _WORD + "*" for p in prefixes]
    if not alternatives:
        return []
    pattern = re.compile(f"(?<!{_WORD})(?:{'|'.join(alternatives)})(?!{_WORD})")
    return [_Span(m.start(), m.end(), m.group(0)) for m in pattern.finditer(fold_chars(text))]


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
