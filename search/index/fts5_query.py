"""FTS5 MATCH expressions and SQL conditions for the embedded index.

Columns hold pre-analysed token streams (see :mod:`search.folding`): ``*_x`` exact forms,
``*_f`` folded forms. A query matches on folded columns; an accented query term also scores
on exact columns (an OR that cannot widen the match, since an exact hit is also a folded
hit), so documents spelled as the query rank first. Loose words match as an AND, with their
phrase OR-ed in as a boost. Visibility is expressed as column sets: a record whose content is
hidden is matched only against its metadata columns; a granted dossier's records count as
content-visible (an ``OR rowid IN (…docs_g by dossier_id…)`` in the same SQL).

:class:`Searcher` is the query plan: bm25 over the whole match set when every term is rare
enough, else a capped newest-first scan with ranking tiers (see ``docs/search.md``).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from archive.visibility import Visibility
from search.folding import ParsedQuery, QueryGroup, QueryTerm, fold, parse_query
from search.index.base import Hit, SearchQuery, SearchResult

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


def leaf_expressions(query: ParsedQuery) -> list[str]:
    """One expression per distinct folded term: what bm25 has to count documents for."""
    leaves = {(t.folded, t.prefix) for t in query.terms}
    return [f"{_cols(ALL_COLUMNS.folded)} : {_phrase([f], p)}" for f, p in sorted(leaves)]


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


def fallback_expression(query: ParsedQuery, cols: ColumnSet) -> str | None:
    """Records holding half (at least two) of three or more loose syllables in title, subject or body.

    Used to widen a short AND result: such records are listed after every full match. Codes
    and agency names (``other_*``) do not count: every record carries an agency name.
    """
    loose = [g for g in query.groups if g.terms and not g.phrase]
    if not loose or len(loose[0].terms) < 3 or len(query.groups) > 1:
        return None
    terms = loose[0].terms
    narrow = ColumnSet(
        tuple(c for c in cols.exact if not c.startswith("other")),
        tuple(c for c in cols.folded if not c.startswith("other")),
    )
    options = []
    for kept in combinations(terms, max(2, (len(terms) + 1) // 2)):
        options.append("(" + _group(QueryGroup(kept, phrase=False), narrow) + ")")
    return " OR ".join(options)


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


# -- the query plan ----------------------------------------------------------------------------

# A candidate row: (rowid, content visible, agency, year, doc_type, mode, issued_date, score).
Row = tuple[int, int, str | None, int | None, str | None, str | None, str | None, float]
_CARRY = "a.agency_code, a.year, a.doc_type, a.access_mode, a.issued_date"
# Builds a Hit from a candidate row and its docs row (rowid, id, dossier_id, dossier_code,
# title, subject, compressed body).
HitMaker = Callable[[Row, tuple[Any, ...], ParsedQuery], Hit]


def _sorted(rows: list[Row], sort: str, by_score: bool) -> list[Row]:
    out = sorted(rows, key=lambda r: r[0])
    if sort == "date_asc":
        out.sort(key=lambda r: (r[6] is None, r[6] or ""))
    else:
        out.sort(key=lambda r: (r[6] is not None, r[6] or ""), reverse=True)
    if by_score and sort == "relevance":
        out.sort(key=lambda r: r[7])
    return out


class Searcher:
    """One search over generation ``g`` of an open index (the caller holds its lock).

    * A term found in at most ``cap`` records is *cheap*: when every term is, the whole match
      set is scored with bm25 (whose IDF step reads every posting of every term).
    * Otherwise the newest ``cap + 1`` visible matches among the newest ``span`` records are
      scanned without scoring: totals and facets are exact below the cap when the index holds
      no more than ``span`` records, else lower bounds counted over those; ranking puts the newest
      ``window`` matches into tiers (phrase in title/subject, all words there, phrase anywhere,
      the rest) and a date sort walks the date index checking each record against the query.
    """

    def __init__(self, db: sqlite3.Connection, g: int, limits: tuple[int, int, int], hit: HitMaker) -> None:
        self.db, self.g, self.hit = db, g, hit
        self.cap, self.window, self.span = limits
        self.trace: dict[str, Any] = {}

    def _branches(self, vis: Visibility) -> list[tuple[ColumnSet, str, list[Any], int]]:
        cparams: list[Any] = []
        out = [(ALL_COLUMNS, content_condition(vis, cparams, "a", g=self.g), cparams, 1)]
        if vis.content_modes is not None:  # some records may show their metadata only
            mparams: list[Any] = []
            meta = metadata_condition(vis, mparams, "a", g=self.g)
            meta += " AND NOT (" + content_condition(vis, mparams, "a", g=self.g) + ")"
            out.append((META_COLUMNS, meta, mparams, 0))
        return out

    def _scan(
        self, expr: str, cond: str, params: list[Any], content: int, scored: bool, limit: int, floor: int = 0
    ) -> list[Row]:
        g = self.g
        score = f"bm25(fts_{g}, {', '.join(str(w) for w in WEIGHTS)})" if scored else "0.0"
        sql = (
            f"SELECT fts_{g}.rowid, {content}, {_CARRY}, {score} FROM fts_{g}"
            f" CROSS JOIN attrs_{g} a ON a.rowid = fts_{g}.rowid WHERE fts_{g} MATCH ? AND fts_{g}.rowid > ?"
            f" AND {cond} ORDER BY fts_{g}.rowid DESC LIMIT ?"
        )
        return [tuple(r) for r in self.db.execute(sql, [expr, floor, *params, limit])]

    def _scan_frequent(
        self, parsed: ParsedQuery, vis: Visibility, filters: str, fparams: list[Any], floor: int
    ) -> tuple[list[Row], bool]:
        """One newest-first scan over records whose metadata is visible (all columns); records
        showing metadata only are then checked against the metadata columns, over their range."""
        g, cparams, mparams = self.g, list[Any](), list[Any]()
        content = content_condition(vis, cparams, "a", g=g)
        cond = metadata_condition(vis, mparams, "a", g=g)
        sql = (
            f"SELECT fts_{g}.rowid, ({content}), {_CARRY}, 0.0 FROM fts_{g} CROSS JOIN attrs_{g} a"
            f" ON a.rowid = fts_{g}.rowid WHERE fts_{g} MATCH ? AND fts_{g}.rowid > ? AND {cond} AND {filters}"
            f" ORDER BY fts_{g}.rowid DESC LIMIT ?"
        )
        expr = lean_expression(parsed, ALL_COLUMNS)
        rows = [
            tuple(r) for r in self.db.execute(sql, [*cparams, expr, floor, *mparams, *fparams, self.cap + 1])
        ]
        hidden = [r[0] for r in rows if not r[1]]
        if hidden:
            check = f"SELECT rowid FROM fts_{g} WHERE fts_{g} MATCH ? AND rowid BETWEEN ? AND ?"
            meta = lean_expression(parsed, META_COLUMNS)
            ok = {rowid for (rowid,) in self.db.execute(check, (meta, min(hidden), max(hidden)))}
            return [r for r in rows if r[1] or r[0] in ok], len(rows) > self.cap
        return rows, len(rows) > self.cap

    def _cheap(self, parsed: ParsedQuery) -> bool:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM fts_{self.g} WHERE fts_{self.g} MATCH ? LIMIT ?)"
        return all(self.db.execute(sql, (leaf, self.cap + 1)).fetchone()[0] <= self.cap
                   for leaf in leaf_expressions(parsed))  # fmt: skip

    def run(self, query: SearchQuery, vis: Visibility) -> SearchResult:
        parsed = parse_query(query.text)
        fparams: list[Any] = []
        filters = filter_condition(query, fparams, "a")
        branches = [
            (c, f"{cond} AND {filters}", [*p, *fparams], flag) for c, cond, p, flag in self._branches(vis)
        ]
        cheap = bool(parsed) and self._cheap(parsed)
        floor = 0
        if parsed and not cheap:  # an AND of frequent words: look at the newest ``span`` records only
            floor = max(
                0,
                int(self.db.execute(f"SELECT max(rowid) FROM attrs_{self.g}").fetchone()[0] or 0) - self.span,
            )
        rows: list[Row] = []
        for cols, cond, params, flag in branches if cheap or not parsed else ():
            if not parsed:
                sql = (f"SELECT a.rowid, {flag}, {_CARRY}, 0.0 FROM attrs_{self.g} a WHERE {cond}"
                       f" ORDER BY a.rowid DESC LIMIT ?")  # fmt: skip
                rows += [tuple(r) for r in self.db.execute(sql, [*params, self.cap + 1])]
            else:
                rows += self._scan(match_expression(parsed, cols), cond, params, flag, True, self.cap + 1)
        full = False
        if parsed and not cheap:
            rows, full = self._scan_frequent(parsed, vis, filters, fparams, floor)
        rows.sort(key=lambda r: -r[0])
        dense = len(rows) > self.cap or full  # more matches than the cap: walking dates finds them fast
        capped = dense or floor > 0
        rows = rows[: self.cap]
        need = query.offset + query.per_page
        self.trace = {"cheap": cheap, "capped": capped, "matches": len(rows), "floor": floor}
        if cheap and query.sort == "relevance" and 0 < len(rows) < need:
            rows = _sorted(rows, "relevance", True) + self._fallback(parsed, branches, {r[0] for r in rows})
            ordered, capped = rows, len(rows) > self.cap
        elif parsed and query.sort == "relevance" and not cheap:
            rest = _sorted(rows[self.window :], "relevance", False)  # pages past the window
            ordered = self._tiers(parsed, rows[: self.window]) + rest
        elif dense:
            ordered = self._date_walk(parsed, branches, query.sort, need)
        else:
            ordered = _sorted(rows, query.sort, cheap)
        facets = {name: _facet(rows, _FACET_INDEX[name]) for name in query.facets}
        hits = self._hits(ordered[query.offset : need], parsed)
        return SearchResult(total=len(rows), hits=hits, facets=facets, page=query.page,
                            per_page=query.per_page, total_is_exact=not capped)  # fmt: skip

    def _fallback(self, parsed: ParsedQuery, branches: list[Any], seen: set[int]) -> list[Row]:
        extra: list[Row] = []
        for cols, cond, params, flag in branches:
            expr = fallback_expression(parsed, cols)
            if expr:
                extra += [r for r in self._scan(expr, cond, params, flag, True, self.cap) if r[0] not in seen]
        self.trace["fallback"] = len(extra)
        return _sorted(extra, "relevance", True)

    def _tiers(self, parsed: ParsedQuery, window: list[Row]) -> list[Row]:
        if not window:
            return []
        low = min(r[0] for r in window)
        tiers = tier_expressions(parsed)
        rank = {r[0]: len(tiers) for r in window}
        sql = f"SELECT rowid FROM fts_{self.g} WHERE fts_{self.g} MATCH ? AND rowid >= ?"
        for level in range(len(tiers) - 1, -1, -1):
            expr, _body = tiers[level]
            for (rowid,) in self.db.execute(sql, (expr, low)):
                if rowid in rank:
                    rank[rowid] = level
        content = {r[0]: r[1] for r in window}
        for rowid, level in rank.items():  # metadata-only records cannot rank by their body
            if not content[rowid] and tiers[min(level, len(tiers) - 1)][1]:
                rank[rowid] = len(tiers)
        ordered = _sorted(window, "relevance", False)
        ordered.sort(key=lambda r: rank[r[0]])
        self.trace["tiers"] = [sum(1 for v in rank.values() if v == t) for t in range(len(tiers) + 1)]
        return [(*r[:7], -float(len(tiers) - rank[r[0]])) for r in ordered]

    def _date_walk(self, parsed: ParsedQuery, branches: list[Any], sort: str, need: int) -> list[Row]:
        """Sorted by date over a large match set: walk the date index, test each record."""
        g, conds, args = self.g, [], []
        for cols, cond, params, _flag in branches:
            if parsed:
                cond += (
                    f" AND EXISTS (SELECT 1 FROM fts_{g} WHERE fts_{g} MATCH ? AND fts_{g}.rowid = a.rowid)"
                )
                params = [*params, lean_expression(parsed, cols)]
            conds.append(f"({cond})")
            args.append(params)
        content = f"CASE WHEN {conds[0]} THEN 1 ELSE 0 END"
        where = " OR ".join(conds)
        direction = "ASC" if sort == "date_asc" else "DESC"
        select = f"SELECT a.rowid, {content}, {_CARRY}, 0.0 FROM attrs_{g} a WHERE a.issued_date"
        sql = (
            f"SELECT * FROM ({select} IS NOT NULL AND ({where}) ORDER BY a.issued_date {direction}, a.rowid"
            f" LIMIT ?) UNION ALL SELECT * FROM ({select} IS NULL AND ({where}) ORDER BY a.rowid LIMIT ?)"
        )
        one = [*args[0], *(p for a in args for p in a), need]
        self.trace["date_walk"] = True
        return [tuple(r) for r in self.db.execute(sql, [*one, *one])][:need]

    def _hits(self, rows: list[Row], parsed: ParsedQuery) -> tuple[Hit, ...]:
        if not rows:
            return ()
        sql = (f"SELECT rowid, id, dossier_id, dossier_code, title, subject, body FROM docs_{self.g}"
               f" WHERE rowid IN ({','.join('?' * len(rows))})")  # fmt: skip
        docs = {r[0]: r for r in self.db.execute(sql, [r[0] for r in rows])}
        return tuple(self.hit(row, docs[row[0]], parsed) for row in rows if row[0] in docs)


_FACET_INDEX = {"agency": 2, "year": 3, "doc_type": 4, "access_mode": 5}


def _facet(rows: list[Row], index: int) -> dict[str, int]:
    counts = Counter(str(r[index]) for r in rows if r[index] is not None and r[index] != "")
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
