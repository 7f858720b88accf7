"""Snippets and highlights from the original text, with ``<mark>`` around matched tokens.

Matching is done on folded tokens (so ``luat`` marks ``Luật``) but the text shown is the
original. Everything outside ``<mark>`` is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from search.folding import ParsedQuery, Token, iter_tokens, normalize

SNIPPET_CHARS = 240
_SCAN_CHARS = 1_000_000  # a snippet comes from the first million characters of a text


class _Matcher:
    def __init__(self, query: ParsedQuery) -> None:
        self.whole = {t.folded for t in query.terms if not t.prefix}
        self.prefixes = tuple(t.folded for t in query.terms if t.prefix)

    def __call__(self, token: Token) -> bool:
        return token.folded in self.whole or (bool(self.prefixes) and token.folded.startswith(self.prefixes))


def _render(text: str, start: int, end: int, marks: Iterable[Token]) -> str:
    out: list[str] = []
    pos = start
    for token in marks:
        if token.start < start or token.end > end:
            continue
        out.append(html.escape(text[pos : token.start]))
        out.append(f"<mark>{html.escape(text[token.start : token.end])}</mark>")
        pos = token.end
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def highlight(text: str, query: ParsedQuery) -> str:
    """Return all of ``text`` HTML-escaped with every matching token marked (for titles)."""
    text = normalize(text)
    match = _Matcher(query)
    return _render(text, 0, len(text), (t for t in iter_tokens(text) if match(t)))


def snippet(text: str, query: ParsedQuery, max_chars: int = SNIPPET_CHARS) -> str:
    """Return the window of ``text`` (about ``max_chars``) holding the most distinct matches.

    Falls back to the start of the text when nothing matches; ``""`` for empty text.
    """
    text = normalize(text[:_SCAN_CHARS])
    if not text.strip():
        return ""
    match = _Matcher(query)
    hits = [t for t in iter_tokens(text) if match(t)]
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
        score = len({t.folded for t in window}) * 1000 + len(window)
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
