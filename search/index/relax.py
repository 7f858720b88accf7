"""Graceful degradation of a long query, and the re-rank of a bounded candidate set.

People type questions, not keywords: "Người nghiện ma túy … có bị đưa vào cơ sở cai nghiện bắt
buộc không, đúng hay sai?". Requiring every syllable empties the result, so the embedded index
answers in two stages (see ``docs/search.md``):

1. **all terms** (the AND), as before;
2. **the best subset**: a minimum-should-match that relaxes. Records holding at least
   :func:`min_should_match` of the loose syllables are candidates, found through a plain OR of
   the *rare* syllables (those in at most ``count_cap`` records: bm25 over them reads at most
   ``terms x count_cap`` postings), or, when every syllable is frequent, through an OR of the
   query's adjacent syllable pairs scanned newest first. The OR is linear in the number of
   terms (≤ ``MAX_QUERY_TERMS``): no enumeration of combinations.

Both stages' best candidates (at most :data:`RERANK_DEPTH` each) are then scored here, in
Python, from their stored text: BM25 with field weights (title > subject > body), plus a boost
for each adjacent pair of query syllables found side by side in the record. Vietnamese words
are mostly two syllables ("cai nghiện", "bắt buộc"), so pairs stand for words and phrases
without a word-segmentation model; a pair is also the tightest proximity match.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from search.folding import MAX_QUERY_TERMS, ParsedQuery, QueryTerm, token_streams

RERANK_DEPTH = 60  # candidates per stage scored from their text (cost: linear)
FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title, subject, body
PAIR_WEIGHT = 1.0  # a syllable pair side by side counts as much as its two syllables' mean idf
EXACT_BONUS = 0.1  # typed with diacritics: a record spelled the same way ranks a little higher
K1, B = 1.2, 0.75


def loose_terms(query: ParsedQuery) -> tuple[QueryTerm, ...]:
    """The loose (unquoted, non-code) syllables of ``query``: what relaxing may drop."""
    for group in query.groups:
        if group.terms and not group.phrase:
            return group.terms
    return ()


def min_should_match(n_terms: int) -> int:
    """How many distinct loose syllables a partial match needs: two, or one if only one was typed."""
    return min(2, n_terms)


def loose_order(query: ParsedQuery) -> tuple[QueryTerm, ...]:
    """The loose syllables as typed (repeats kept): which ones stand side by side."""
    for group in query.groups:
        if group.terms and not group.phrase:
            return group.sequence
    return ()


def pairs(sequence: Sequence[QueryTerm]) -> list[tuple[str, str]]:
    """Adjacent folded syllable pairs of ``sequence``, in order, without repeats (at most
    ``MAX_QUERY_TERMS``)."""
    seen: dict[tuple[str, str], None] = {}
    for a, b in itertools.pairwise(sequence):
        if not a.prefix and not b.prefix and a.folded != b.folded:
            seen[(a.folded, b.folded)] = None
    return list(seen)[:MAX_QUERY_TERMS]


def idf(df: float, n_docs: int) -> float:
    """BM25's inverse document frequency (never negative)."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate's re-rank score and how many distinct query syllables it holds."""

    score: float
    coverage: int


@dataclass(frozen=True, slots=True)
class Analysed:
    """A candidate's fields (title, subject, body) as one padded, field-weighted syllable stream.

    Syllables are separated by two spaces and each field copy is wrapped in `` | `` (no pair
    spans two copies); the title is written three times and the subject twice
    (:data:`FIELD_WEIGHTS`), so one ``str.count(" quyet  dinh ")`` is the field-weighted count
    of a pair and ``str.count(" quyet ")`` of a syllable, in C rather than in Python loops.
    """

    folded: str
    exact: str
    length: int


def _pad(stream: str) -> str:
    return " " + stream.replace(" ", "  ") + " "


def analyse(fields: Sequence[str]) -> Analysed:
    """Tokenise a candidate's title, subject and body (``""`` when its content is hidden)."""
    folded, exact, length = ["|"], ["|"], 0
    for weight, text in zip(FIELD_WEIGHTS, fields, strict=False):
        x, f = token_streams(text)
        if f:
            folded += [_pad(f), "|"] * int(weight)
            exact.append(_pad(x) + "|")
            length += f.count(" ") + 1
    return Analysed("".join(folded), "".join(exact), length)


def _term_hits(term: QueryTerm, stream: str) -> int:
    if term.prefix:
        return len(re.findall(" " + re.escape(term.folded), stream))
    return stream.count(f" {term.folded} ")


def score(
    terms: Sequence[QueryTerm],
    wanted: Sequence[tuple[str, str]],
    doc: Analysed,
    weights: dict[str, float],
    avg_len: float,
) -> Scored:
    """Score one candidate against the loose ``terms`` and their adjacent ``wanted`` pairs;
    ``weights`` maps a folded syllable to its idf.

    BM25 saturation over field-weighted term counts, plus the same for each adjacent query pair
    found side by side (weighted by the mean idf of its two syllables).
    """
    norm = K1 * (1.0 - B + B * doc.length / max(avg_len, 1.0))
    total, coverage = 0.0, 0
    for term in dict.fromkeys(terms):
        tf = _term_hits(term, doc.folded)
        if not tf:
            continue
        coverage += 1
        weight = weights.get(term.folded, 0.0)
        total += weight * tf * (K1 + 1) / (tf + norm)
        if term.accented and not term.prefix and f" {term.exact} " in doc.exact:
            total += EXACT_BONUS * weight
    for a, b in wanted:
        tf = doc.folded.count(f" {a}  {b} ")
        if tf:
            mean = (weights.get(a, 0.0) + weights.get(b, 0.0)) / 2
            total += PAIR_WEIGHT * mean * tf * (K1 + 1) / (tf + norm)
    return Scored(total, coverage)
