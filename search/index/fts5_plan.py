"""The query plan of the embedded index: what SQL a search runs, in what order, within what budget.

* A term found in at most ``cap`` records is *cheap*: when every term is, the whole match set
  is scored with bm25 (whose IDF step reads every posting of every term).
* Otherwise the newest ``cap + 1`` visible matches among the newest ``span`` records are
  scanned without scoring: totals and facets are exact below the cap when the index holds no
  more than ``span`` records, else lower bounds counted over those; ranking puts the newest
  ``window`` matches into tiers (phrase in title/subject, all words there, phrase anywhere, the
  rest) and a date sort walks the date index checking each record against the query.
* When the AND finds fewer than a page (relevance sort), the best subset follows: records
  holding some of the loose syllables (:mod:`search.index.relax`), re-ranked from their text.
* Every statement runs under a **time budget** (a SQLite progress handler that interrupts the
  statement once the deadline has passed): a search that runs out of it returns what the
  stages before found, with ``SearchResult.partial`` set, and never holds the worker longer.
"""

from __future__ import annotations

import math
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from archive.visibility import Visibility
from search.folding import ParsedQuery, parse_query
from search.index import relax
from search.index.base import Hit, SearchQuery, SearchResult
from search.index.fts5_query import (
    ALL_COLUMNS,
    META_COLUMNS,
    WEIGHTS,
    ColumnSet,
    content_condition,
    filter_condition,
    leaf_expressions,
    lean_expression,
    match_expression,
    metadata_condition,
    relaxed_expression,
    tier_expressions,
)

# A candidate row: (rowid, content visible, agency, year, doc_type, mode, issued_date, score).
Row = tuple[int, int, str | None, int | None, str | None, str | None, str | None, float]
_CARRY = "a.agency_code, a.year, a.doc_type, a.access_mode, a.issued_date"
# Builds a Hit from a candidate row and its docs row (rowid, id, dossier_id, dossier_code,
# title, subject, compressed body).
HitMaker = Callable[[Row, tuple[Any, ...], ParsedQuery], Hit]
T = TypeVar("T")


def _no_rows() -> list[Row]:
    return []


TIME_BUDGET_S = 0.8  # default per-query budget for SQL work
PROGRESS_STEPS = 1000  # SQLite virtual-machine steps between two looks at the clock
AND_SHARE = 0.125  # share of the budget the AND of a long question's frequent syllables may use
LONG_QUESTION = 6  # loose syllables from which a query counts as a question
RERANK_CHARS = 8_000  # a candidate's body is re-ranked on its first characters only


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
    """One search over generation ``g`` of an open index (the caller holds its lock)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        g: int,
        limits: tuple[int, int, int],
        hit: HitMaker,
        budget_s: float = TIME_BUDGET_S,
    ) -> None:
        self.db, self.g, self.hit = db, g, hit
        self.cap, self.window, self.span = limits
        self.budget_s = budget_s
        self.trace: dict[str, Any] = {}
        self.partial = False
        self.deadline = 0.0
        self.stage_deadline = math.inf
        self._coverage: dict[int, int] = {}  # rowid → distinct loose syllables, set by _rerank

    # -- the budget ---------------------------------------------------------------------------

    def _late(self) -> int:
        return int(time.monotonic() > min(self.deadline, self.stage_deadline))

    def _within(self, share: float, default: T, stage: Callable[..., T], *args: Any) -> tuple[T, bool]:
        """Run one SQL stage within ``share`` of the budget; ``(default, True)`` when it needed
        more (the search goes on: this is not the whole budget running out)."""
        if self.partial:
            return default, False
        self.stage_deadline = time.monotonic() + share * self.budget_s
        try:
            return stage(*args), False
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc) or time.monotonic() > self.deadline:
                if "interrupt" not in str(exc):
                    raise
                self.partial = True
                self.trace["interrupted"] = stage.__name__
            return default, True
        finally:
            self.stage_deadline = math.inf

    def _try(self, default: T, stage: Callable[..., T], *args: Any) -> T:
        """Run one SQL stage; once the budget is spent (now or before), ``default`` instead."""
        if self.partial:
            return default
        try:
            return stage(*args)
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc):
                raise
            self.partial = True
            self.trace["interrupted"] = stage.__name__
            return default

    # -- statements ---------------------------------------------------------------------------

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
        self,
        expr: str,
        cond: str,
        params: list[Any],
        content: int,
        scored: bool,
        limit: int,
        floor: int = 0,
        best: bool = False,
    ) -> list[Row]:
        """Matches of ``expr`` newest first, or (``best``) the ``limit`` best by bm25."""
        g = self.g
        score = f"bm25(fts_{g}, {', '.join(str(w) for w in WEIGHTS)})" if scored else "0.0"
        order = "8" if best and scored else f"fts_{g}.rowid DESC"
        sql = (
            f"SELECT fts_{g}.rowid, {content}, {_CARRY}, {score} FROM fts_{g}"
            f" CROSS JOIN attrs_{g} a ON a.rowid = fts_{g}.rowid WHERE fts_{g} MATCH ? AND fts_{g}.rowid > ?"
            f" AND {cond} ORDER BY {order} LIMIT ?"
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

    def _browse(self, cond: str, params: list[Any], content: int) -> list[Row]:
        """No words: the newest visible records."""
        sql = f"SELECT a.rowid, {content}, {_CARRY}, 0.0 FROM attrs_{self.g} a WHERE {cond} ORDER BY a.rowid DESC LIMIT ?"
        return [tuple(r) for r in self.db.execute(sql, [*params, self.cap + 1])]

    def _frequencies(
        self, parsed: ParsedQuery, top: int, out: dict[tuple[str, bool], float], until_frequent: bool
    ) -> bool:
        """Fill ``out`` with the records holding each distinct term: exact up to ``cap``; above
        it, estimated from how far back the newest ``cap + 1`` matches reach (reads at most
        ``cap + 1`` postings a term). ``until_frequent``: stop at the first frequent term (the
        AND then takes the capped scan, and may need no other count). True: every term is rare."""
        sql = (
            f"SELECT count(*), min(rowid) FROM (SELECT rowid FROM fts_{self.g} WHERE fts_{self.g} MATCH ?"
            f" ORDER BY rowid DESC LIMIT ?)"
        )
        rare = True
        for key, leaf in leaf_expressions(parsed):
            if key in out:
                rare = rare and out[key] <= self.cap
                continue
            count, low = self.db.execute(sql, (leaf, self.cap + 1)).fetchone()
            out[key] = float(count) if count <= self.cap else count * top / max(1, top - int(low) + 1)
            rare = rare and count <= self.cap
            if until_frequent and not rare:
                return False
        return rare

    # -- the plan -----------------------------------------------------------------------------

    def run(self, query: SearchQuery, vis: Visibility) -> SearchResult:
        parsed = parse_query(query.text)
        self.partial, self.deadline = False, time.monotonic() + self.budget_s
        self.db.set_progress_handler(self._late, PROGRESS_STEPS)
        try:
            rows, ordered, capped = self._plan(parsed, query, vis)
        finally:
            self.db.set_progress_handler(None, 0)
        facets = {name: _facet(rows, _FACET_INDEX[name]) for name in query.facets}
        hits = self._hits(ordered[query.offset : query.offset + query.per_page], parsed)
        self.trace["partial"] = self.partial
        return SearchResult(total=len(rows), hits=hits, facets=facets, page=query.page,
                            per_page=query.per_page, total_is_exact=not capped and not self.partial,
                            partial=self.partial)  # fmt: skip

    def _plan(
        self, parsed: ParsedQuery, query: SearchQuery, vis: Visibility
    ) -> tuple[list[Row], list[Row], bool]:
        fparams: list[Any] = []
        filters = filter_condition(query, fparams, "a")
        branches = [
            (c, f"{cond} AND {filters}", [*p, *fparams], flag) for c, cond, p, flag in self._branches(vis)
        ]
        top = int(self.db.execute(f"SELECT coalesce(max(rowid), 0) FROM attrs_{self.g}").fetchone()[0])
        dfs: dict[tuple[str, bool], float] = {}
        cheap = (
            bool(parsed) and self._try(False, self._frequencies, parsed, top, dfs, True) and not self.partial
        )
        floor = max(0, top - self.span) if parsed and not cheap else 0  # frequent words: newest records
        rows: list[Row] = []
        for cols, cond, params, flag in branches if cheap or not parsed else ():
            if not parsed:
                rows += self._try(_no_rows(), self._browse, cond, params, flag)
            else:
                expr = match_expression(parsed, cols)
                rows += self._try(_no_rows(), self._scan, expr, cond, params, flag, True, self.cap + 1)
        full = False
        if parsed and not cheap:
            # A long question of frequent syllables rarely has a record holding them all, and
            # intersecting their postings is the costliest statement there is: it gets a share
            # of the budget, then the best-subset stage answers (``and_cut`` in the trace).
            share = AND_SHARE if len(relax.loose_terms(parsed)) >= LONG_QUESTION else 1.0
            (rows, full), cut = self._within(
                share, (_no_rows(), False), self._scan_frequent, parsed, vis, filters, fparams, floor
            )
            if cut and not self.partial:
                self.trace["and_cut"] = True
        rows.sort(key=lambda r: -r[0])
        dense = len(rows) > self.cap or full  # more matches than the cap: walking dates finds them fast
        capped = dense or floor > 0
        rows = rows[: self.cap]
        need = query.offset + query.per_page
        self.trace.update(cheap=cheap, capped=capped, matches=len(rows), floor=floor)
        if parsed and query.sort == "relevance":
            if cheap:
                ordered = self._rerank(parsed, _sorted(rows, "relevance", True), dfs, top)
            else:
                rest = _sorted(rows[self.window :], "relevance", False)  # pages past the window
                ordered = self._try(_no_rows(), self._tiers, parsed, rows[: self.window]) + rest
            if len(rows) < need and not dense and len(relax.loose_terms(parsed)) >= 2:
                extra = self._relaxed(parsed, branches, {r[0] for r in rows}, dfs, top, floor)
                rows, ordered = rows + extra, ordered + extra
                capped = capped or len(extra) >= relax.RERANK_DEPTH
        elif dense:
            ordered = self._try(_no_rows(), self._date_walk, parsed, branches, query.sort, need)
        else:
            ordered = _sorted(rows, query.sort, cheap)
        return rows, ordered, capped

    def _relaxed(
        self,
        parsed: ParsedQuery,
        branches: list[Any],
        seen: set[int],
        dfs: dict[tuple[str, bool], float],
        top: int,
        floor: int,
    ) -> list[Row]:
        """The best subset: records holding at least two loose syllables, best first. Rare
        syllables are looked up in the whole index (bm25); when all are frequent, syllable pairs
        are scanned over the newest records only, like the AND (above ``floor``)."""
        self._try(False, self._frequencies, parsed, top, dfs, False)  # the counts the AND did not need
        rare = {key for key, df in dfs.items() if df <= self.cap}
        found: list[Row] = []
        for cols, cond, params, flag in branches:
            plan = relaxed_expression(parsed, cols, rare)
            if plan is None:
                continue
            expr, scored = plan
            low = 0 if scored else floor
            got = self._try(
                _no_rows(), self._scan, expr, cond, params, flag, scored, relax.RERANK_DEPTH, low, True
            )
            found += [r for r in got if r[0] not in seen]
        found = _sorted(found, "relevance", True)[: relax.RERANK_DEPTH]
        ranked = self._rerank(parsed, found, dfs, top, whole=True)
        least = relax.min_should_match(len(relax.loose_terms(parsed)))
        kept = [r for r in ranked if self._coverage.get(r[0], least) >= least]
        self.trace["relaxed"] = len(kept)
        return kept

    def _rerank(
        self,
        parsed: ParsedQuery,
        rows: list[Row],
        dfs: dict[tuple[str, bool], float],
        top: int,
        whole: bool = False,
    ) -> list[Row]:
        """Order the best :data:`relax.RERANK_DEPTH` rows by their text (BM25 + syllable pairs)."""
        terms = relax.loose_terms(parsed)
        head, tail = rows[: relax.RERANK_DEPTH], rows[relax.RERANK_DEPTH :]
        self._coverage = {}
        if not terms or not head or (len(terms) < 2 and not whole):
            return rows
        if self._late():  # the budget is spent: keep the engine's order
            self.partial = True
            return rows
        sql = f"SELECT rowid, title, subject, body FROM docs_{self.g} WHERE rowid IN ({','.join('?' * len(head))})"
        texts = {r[0]: r[1:] for r in self.db.execute(sql, [r[0] for r in head])}
        content = {r[0]: r[1] for r in head}
        docs = {}
        for rowid, (title, subject, body) in texts.items():
            text = ""
            if content[rowid]:  # a hidden body never counts
                head_bytes = zlib.decompressobj().decompress(body, RERANK_CHARS * 4)
                text = head_bytes.decode("utf-8", "ignore")[:RERANK_CHARS]
            docs[rowid] = relax.analyse((title or "", subject or "", text))
        avg = sum(d.length for d in docs.values()) / max(1, len(docs))
        weights = {t.folded: relax.idf(dfs.get((t.folded, t.prefix), 0.0), max(top, 1)) for t in terms}
        wanted = relax.pairs(relax.loose_order(parsed))
        scored = {rowid: relax.score(terms, wanted, doc, weights, avg) for rowid, doc in docs.items()}
        self._coverage = {rowid: s.coverage for rowid, s in scored.items()}
        order = {r[0]: i for i, r in enumerate(head)}
        head = sorted((r for r in head if r[0] in scored), key=lambda r: (-scored[r[0]].score, order[r[0]]))
        return [(*r[:7], -scored[r[0]].score) for r in head] + tail

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
