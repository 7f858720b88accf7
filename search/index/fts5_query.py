"""FTS5 MATCH expressions and SQL conditions for the embedded index.

Columns hold pre-analysed token streams (see :mod:`search.folding`): ``*_x`` exact forms,
``*_f`` folded forms. A query matches on folded columns; an accented query term also scores
on exact columns (an OR that cannot widen the match, since an exact hit is also a folded
hit), so documents spelled as the query rank first. Loose words match as an AND, with their
phrase OR-ed in as a boost. Visibility is expressed as column sets: a record whose content is
hidden is matched only against its metadata columns; a granted dossier's records count as
content-visible (an ``OR rowid IN (…docs_g by dossier_id…)`` in the same SQL).

:class:`search.index.fts5_plan.Searcher` runs them: bm25 over the whole match set when every
term is rare enough, else a capped newest-first scan with ranking tiers, then the best subset
of a long query (see ``docs/search.md``). Every expression is linear in the number of terms,
which :func:`search.folding.parse_query` caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive.visibility import Visibility
from search.folding import ParsedQuery, QueryGroup, QueryTerm, fold
from search.index.base import SearchQuery
from search.index.relax import loose_order, loose_terms, pairs

META_EXACT = ("title_x", "subject_x", "other_x")
META_FOLDED = ("title_f", "subject_f", "other_f")
BODY_EXACT = ("body_x",)
BODY_FOLDED = ("body_f",)
COLUMNS = ("title_x", "title_f", "subject_x", "subject_f", "other_x", "other_f", "body_x", "body_f")
# bm25 column weights, in COLUMNS order: title > subject > codes/agency > body; exact > folded.
WEIGHTS = (12.0, 8.0, 6.0, 4.0, 4.0, 3.0, 1.5, 1.0)


@dataclass(frozen=True, slots=True)
class ColumnSet:
    exact: tuple[str, ...]
    folded: tuple[str, ...]


ALL_COLUMNS = ColumnSet(META_EXACT + BODY_EXACT, META_FOLDED + BODY_FOLDED)
META_COLUMNS = ColumnSet(META_EXACT, META_FOLDED)


def _cols(names: Sequence[str]) -> str:
    return "{" + " ".join(names) + "}"


def _phrase(tokens: Sequence[str], prefix: bool = False) -> str:
    return '"' + " ".join(tokens) + '"' + ("*" if prefix else "")


def _term(term: QueryTerm, cols: ColumnSet) -> str:
    folded = f"{_cols(cols.folded)} : {_phrase([term.folded], term.prefix)}"
    if not term.accented:
        return folded
    exact = f"{_cols(cols.exact)} : {_phrase([term.exact], term.prefix)}"
    return f"({folded} OR {exact})"


def _group(group: QueryGroup, cols: ColumnSet) -> str:
    terms = group.terms
    if group.phrase and len(terms) > 1:
        prefix = terms[-1].prefix
        folded = f"{_cols(cols.folded)} : {_phrase([t.folded for t in terms], prefix)}"
        if not any(t.accented for t in terms):
            return folded
        exact = f"{_cols(cols.exact)} : {_phrase([t.exact for t in terms], prefix)}"
        return f"({folded} OR {exact})"
    anded = " AND ".join(_term(t, cols) for t in terms)
    if len(terms) == 1 or any(t.prefix for t in terms):
        return f"({anded})"
    boost = f"{_cols(cols.folded)} : {_phrase([t.folded for t in terms])}"
    if any(t.accented for t in terms):
        boost += f" OR {_cols(cols.exact)} : {_phrase([t.exact for t in terms])}"
    return f"(({anded}) OR {boost})"


def match_expression(query: ParsedQuery, cols: ColumnSet) -> str:
    """Return the FTS5 MATCH string for ``query`` restricted to ``cols``."""
    return " AND ".join(_group(g, cols) for g in query.groups if g.terms)


# -- cheap expressions: counting, cost estimates, ranking tiers, the OR fallback ----------------


def _lean_group(group: QueryGroup, cols: ColumnSet) -> str:
    terms = group.terms
    if group.phrase and len(terms) > 1:
        return f"{_cols(cols.folded)} : {_phrase([t.folded for t in terms], terms[-1].prefix)}"
    return "(" + " AND ".join(f"{_cols(cols.folded)} : {_phrase([t.folded], t.prefix)}" for t in terms) + ")"


def lean_expression(query: ParsedQuery, cols: ColumnSet) -> str:
    """The same match set as :func:`match_expression`, without the scoring-only OR branches."""
    return " AND ".join(_lean_group(g, cols) for g in query.groups if g.terms)


def leaf_expressions(query: ParsedQuery) -> list[tuple[tuple[str, bool], str]]:
    """One expression per distinct folded term (keyed ``(folded, prefix)``): what bm25 has to
    count documents for."""
    leaves = {(t.folded, t.prefix) for t in query.terms}
    return [((f, p), f"{_cols(ALL_COLUMNS.folded)} : {_phrase([f], p)}") for f, p in sorted(leaves)]


def tier_expressions(query: ParsedQuery) -> list[tuple[str, bool]]:
    """Expressions for ranking tiers, best first: phrase in metadata, all terms in metadata,
    phrase anywhere; ``True`` marks a tier that reads the body (content-visible records only)."""
    loose = [g for g in query.groups if g.terms and not g.phrase]
    tiers: list[tuple[str, bool]] = []
    if loose and len(loose[0].terms) > 1 and not any(t.prefix for t in loose[0].terms):
        phrase = QueryGroup(loose[0].terms, phrase=True)
        rest = [g for g in query.groups if g.terms and g is not loose[0]]
        tiers.append((lean_expression(ParsedQuery((phrase, *rest)), META_COLUMNS), False))
        tiers.append((lean_expression(query, META_COLUMNS), False))
        tiers.append((lean_expression(ParsedQuery((phrase, *rest)), ALL_COLUMNS), True))
    else:
        tiers.append((lean_expression(query, META_COLUMNS), False))
    return tiers


def relaxed_expression(
    query: ParsedQuery, cols: ColumnSet, rare: set[tuple[str, bool]]
) -> tuple[str, bool] | None:
    """Candidates holding some of the loose syllables: ``(expression, scored)``, or None.

    An OR of the *rare* loose terms (``(folded, prefix)`` in ``rare``: bm25 over them is cheap),
    or, when every loose term is frequent, an OR of the query's adjacent syllable pairs, to be
    scanned newest first without bm25 (``scored`` False). Quoted phrases and codes stay
    required. Linear in the number of terms: nothing is enumerated. Codes and agency names
    (``other_*``) do not count: every record carries an agency name.
    """
    terms = loose_terms(query)
    if len(terms) < 2:
        return None
    narrow = ColumnSet(
        tuple(c for c in cols.exact if not c.startswith("other")),
        tuple(c for c in cols.folded if not c.startswith("other")),
    )
    picked = [t for t in terms if (t.folded, t.prefix) in rare]
    if picked:
        expr, scored = "(" + " OR ".join(_term(t, narrow) for t in picked) + ")", True
    else:
        both = pairs(loose_order(query))
        if not both:
            return None
        expr = "(" + " OR ".join(f"{_cols(narrow.folded)} : {_phrase(p)}" for p in both) + ")"
        scored = False
    rest = [_lean_group(g, cols) for g in query.groups if g.terms and g.phrase]
    return " AND ".join([expr, *rest]), scored


def _in(column: str, values: frozenset[str] | tuple[str, ...], params: list[Any]) -> str:
    if not values:
        return "0"
    params.extend(sorted(values))
    return f"{column} IN ({','.join('?' * len(values))})"


def _base_condition(vis: Visibility, params: list[Any], alias: str, content: bool) -> str:
    parts = ["1"]
    if vis.agencies is not None:
        parts.append(_in(f"{alias}.agency_code", vis.agencies, params))
    if vis.metadata_modes is not None:
        parts.append(_in(f"{alias}.access_mode", vis.metadata_modes, params))
    if content and vis.content_modes is not None:
        parts.append(_in(f"{alias}.access_mode", vis.content_modes, params))
    return " AND ".join(parts)


def _or_granted(cond: str, vis: Visibility, params: list[Any], alias: str, g: int) -> str:
    """``cond`` widened by the granted dossiers' records (visibility rule 3).

    ``attrs_g`` holds no dossier id; the records of a dossier are found through the side
    table's ``docs_g(dossier_id)`` index, in a subquery SQLite evaluates once per statement.
    Without grants the condition is left as it was, so the usual query plans are unchanged.
    """
    if not vis.granted_dossiers or vis.unrestricted:
        return cond
    ids = sorted(vis.granted_dossiers)
    params.extend(ids)
    granted = (
        f"{alias}.rowid IN (SELECT rowid FROM docs_{g} WHERE dossier_id IN ({','.join('?' * len(ids))}))"
    )
    return f"(({cond}) OR {granted})"


def metadata_condition(vis: Visibility, params: list[Any], alias: str = "d", *, g: int) -> str:
    """Condition for 'metadata visible' over ``attrs_g`` aliased ``alias`` (grants included)."""
    return _or_granted(_base_condition(vis, params, alias, False), vis, params, alias, g)


def content_condition(vis: Visibility, params: list[Any], alias: str = "d", *, g: int) -> str:
    """Condition for 'content visible' (which implies metadata visible; grants included)."""
    return _or_granted(_base_condition(vis, params, alias, True), vis, params, alias, g)


def notation_key(text: str) -> str:
    """Comparable form of a số/ký hiệu: folded, spaces removed (``"15/QD-BNV"`` → ``"15/qd-bnv"``)."""
    return "".join(fold(text).split())


def filter_condition(query: SearchQuery, params: list[Any], alias: str = "d") -> str:
    parts = ["1"]
    for column, values in (
        ("agency_code", query.agency),
        ("doc_type", query.doc_type),
        ("retention", query.retention),
        ("file_format", query.file_format),
        ("access_mode", query.access_mode),
    ):
        if values:
            parts.append(_in(f"{alias}.{column}", tuple(values), params))
    if query.notation:
        key = notation_key(query.notation)
        parts.append(f"({alias}.notation_key = ? OR {alias}.notation_only_key = ?)")
        params.extend([key, key])
    if query.date_from is not None:
        parts.append(f"{alias}.issued_date >= ?")
        params.append(query.date_from.isoformat())
    if query.date_to is not None:
        parts.append(f"{alias}.issued_date <= ?")
        params.append(query.date_to.isoformat())
    return " AND ".join(parts)
