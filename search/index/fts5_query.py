"""FTS5 MATCH expressions and SQL conditions for the embedded index.

Columns hold pre-analysed token streams (see :mod:`search.folding`): ``*_x`` exact forms,
``*_f`` folded forms. A query matches on folded columns; an accented query term also scores
on exact columns (an OR that cannot widen the match, since an exact hit is also a folded
hit), so documents spelled as the query rank first. Loose words match as an AND, with their
phrase OR-ed in as a boost. Visibility is expressed as column sets: a record whose content is
hidden is matched only against its metadata columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive.visibility import Visibility
from search.folding import ParsedQuery, QueryGroup, QueryTerm, fold
from search.index.base import SearchQuery

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


def _in(column: str, values: frozenset[str] | tuple[str, ...], params: list[Any]) -> str:
    if not values:
        return "0"
    params.extend(sorted(values))
    return f"{column} IN ({','.join('?' * len(values))})"


def metadata_condition(vis: Visibility, params: list[Any], alias: str = "d") -> str:
    parts = ["1"]
    if vis.agencies is not None:
        parts.append(_in(f"{alias}.agency_code", vis.agencies, params))
    if vis.metadata_modes is not None:
        parts.append(_in(f"{alias}.access_mode", vis.metadata_modes, params))
    return " AND ".join(parts)


def content_condition(vis: Visibility, params: list[Any], alias: str = "d") -> str:
    """Condition for 'content visible' (which implies metadata visible)."""
    cond = metadata_condition(vis, params, alias)
    if vis.content_modes is not None:
        cond += " AND " + _in(f"{alias}.access_mode", vis.content_modes, params)
    return cond


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
