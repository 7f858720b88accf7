"""The embedded search index: SQLite FTS5 in its own database file (WAL).

Layout, per generation ``g`` (a rebuild writes generation g+1, then one transaction points
``meta.generation`` at it and drops g):

* ``attrs_g`` — one small row per record (same rowid as the text): the fields visibility,
  filters, facets and date sorting need, so a scan never reads the large rows;
* ``docs_g``  — id and the original title/subject/body (body zlib-compressed) for snippets,
  indexed by dossier id so a granted dossier's records are found inside the query;
* ``fts_g``   — a contentless FTS5 table over pre-analysed token streams (exact and folded),
  tokenised by ``unicode61 remove_diacritics 0`` (we fold in Python: FTS5 tokenizers cannot
  be written in Python). Deletes re-derive the streams from ``docs_g``, so the analyzer
  version is stored and a different one requires a rebuild.

Visibility is applied in SQL: records whose content is visible (by mode, or because their
dossier is granted to the user) match on every column, records whose metadata only is visible
match on metadata columns only. How a query stays fast
on a million records (capped counts, bm25 only when cheap, ranking tiers) is described in
:class:`search.index.fts5_query.Searcher` and ``docs/search.md``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from archive.visibility import Visibility
from search.errors import IndexOutdated, RebuildStateError
from search.folding import ANALYZER_VERSION, ParsedQuery, legacy_encoding, token_streams
from search.highlight import highlight, snippet
from search.index import fts5_query as q
from search.index.base import Hit, IndexDoc, Progress, SearchQuery, SearchResult, rebuild_with
from search.index.fts5_plan import TIME_BUDGET_S, Row, Searcher

log = logging.getLogger(__name__)

LAYOUT = "fts5-2"  # attrs table, prefix index of 4 characters: older files are rebuilt from scratch
COUNT_CAP = 2_000  # totals and facets are exact up to this many matches
RANK_WINDOW = 1_000  # above the cap, tiers rank the newest matches of this window
SCAN_SPAN = 100_000  # an AND of frequent words is evaluated over the newest records only

_ATTR_COLUMNS = (
    "access_mode", "agency_code", "year", "doc_type", "issued_date", "retention", "file_format",
    "notation_key", "notation_only_key",
)  # fmt: skip
_DOC_COLUMNS = (
    "id", "dossier_id", "dossier_code", "code_number", "notation", "agency_name", "language",
    "legacy_encoding", "title", "subject", "body",
)  # fmt: skip


def _other_text(doc: IndexDoc) -> str:
    return " ".join(filter(None, (doc.number_notation, doc.dossier_code, doc.agency_name)))


def _streams(title: str, subject: str, other: str, body: str) -> tuple[str, ...]:
    out: list[str] = []
    for text in (title, subject, other, body):
        out.extend(token_streams(text))
    return tuple(out)


class Fts5Index:
    """SQLite FTS5 index in the file ``path``; safe to share between threads of one process.

    ``count_cap``: totals and facets are exact up to this many matches; above it the result
    says ``total_is_exact=False`` and counts the first ``count_cap`` (newest) matches.
    ``rank_window``: how many of the newest matches the ranking tiers order when bm25 would
    have to read more than ``count_cap`` postings of a term. ``scan_span``: such a query is
    evaluated over the newest ``scan_span`` records (totals are then lower bounds).
    ``time_budget_s``: SQL time one search may take; past it the search stops and returns the
    best results found so far with ``SearchResult.partial`` set.
    """

    def __init__(
        self,
        path: Path,
        *,
        batch_size: int = 500,
        count_cap: int = COUNT_CAP,
        rank_window: int = RANK_WINDOW,
        scan_span: int = SCAN_SPAN,
        time_budget_s: float = TIME_BUDGET_S,
    ) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.count_cap, self.rank_window = count_cap, min(rank_window, count_cap)
        self.scan_span = scan_span
        self._limits = (count_cap, self.rank_window, scan_span)
        self.time_budget_s = time_budget_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        self._db.execute("PRAGMA mmap_size=4294967296")  # reads map the file: no copies
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._building: int | None = None
        if self._meta("layout") != LAYOUT:
            self._start_over()
        self._index_dossiers()

    # -- plumbing -------------------------------------------------------------------------

    def _start_over(self) -> None:
        """A new file, or one written by an older layout: begin with an empty generation."""
        with self._tx():
            if self._meta("layout") == LAYOUT:  # another connection got there first
                return
            old = self._meta("generation")
            g = int(self._meta("max_generation") or old or "0") + 1
            if old is not None:
                log.warning(
                    "search index layout changed: starting empty, rebuild it", extra={"path": str(self.path)}
                )
                for name in (f"fts_{old}", f"docs_{old}", f"attrs_{old}"):
                    self._db.execute(f"DROP TABLE IF EXISTS {name}")
            self._create_generation(g)
            for key, value in (("generation", g), ("max_generation", g), ("layout", LAYOUT)):
                self._set_meta(key, str(value))
            self._set_meta("analyzer", ANALYZER_VERSION)

    def _index_dossiers(self) -> None:
        """Give a generation written before grants were searchable its ``docs_g(dossier_id)``
        index (one pass over the table, once; newer generations are created with it)."""
        g = self.generation
        name = f"docs_{g}_dossier"
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone():
            return
        log.info("indexing dossier ids of the search index", extra={"generation": g})
        with self._tx():
            self._db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON docs_{g}(dossier_id)")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or "1")

    @property
    def needs_rebuild(self) -> bool:
        return self._meta("analyzer") != ANALYZER_VERSION

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _create_generation(self, g: int) -> None:
        cols = ", ".join(q.COLUMNS)
        script = f"""
            CREATE TABLE attrs_{g} (
              rowid INTEGER PRIMARY KEY, access_mode TEXT, agency_code TEXT, year INTEGER,
              doc_type TEXT, issued_date TEXT, retention TEXT, file_format TEXT,
              notation_key TEXT, notation_only_key TEXT);
            CREATE INDEX attrs_{g}_date ON attrs_{g}(issued_date);
            CREATE TABLE docs_{g} (
              rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, dossier_id INTEGER,
              dossier_code TEXT, code_number TEXT, notation TEXT, agency_name TEXT, language TEXT,
              legacy_encoding TEXT, title TEXT, subject TEXT, body BLOB);
            CREATE INDEX docs_{g}_dossier ON docs_{g}(dossier_id);
            CREATE VIRTUAL TABLE fts_{g} USING fts5({cols}, content='',
              tokenize='unicode61 remove_diacritics 0', prefix='4')
            """
        for statement in script.split(";"):  # not executescript: it would commit our transaction
            self._db.execute(statement)

    def _drop_generation(self, g: int) -> None:
        for name in (f"fts_{g}", f"docs_{g}", f"attrs_{g}"):
            self._db.execute(f"DROP TABLE IF EXISTS {name}")

    def _write_generation(self) -> int:
        if self._building is not None:
            return self._building
        if self.needs_rebuild:
            raise IndexOutdated(self._meta("analyzer") or "?", ANALYZER_VERSION)
        return self.generation

    # -- writing --------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace ``docs``; commits every ``batch_size`` records. Returns the count."""
        written = 0
        batch: list[IndexDoc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                written += self._upsert_batch(batch)
                batch = []
        if batch:
            written += self._upsert_batch(batch)
        return written

    def _upsert_batch(self, docs: list[IndexDoc]) -> int:
        unique = list({doc.id: doc for doc in docs}.values())  # the last version of an id wins
        with self._tx() as db:
            g = self._write_generation()
            for doc_id in self._existing(db, g, [d.id for d in unique]):
                self._remove(db, g, doc_id)
            start = int(db.execute(f"SELECT coalesce(max(rowid), 0) FROM docs_{g}").fetchone()[0]) + 1
            attrs, rows, texts = [], [], []
            for rowid, doc in enumerate(unique, start):
                legacy = legacy_encoding(doc.body) if doc.body else None
                if legacy:
                    log.warning(
                        "legacy-encoded body not indexed", extra={"doc_id": doc.id, "encoding": legacy}
                    )
                body = "" if legacy else doc.body
                attrs.append((
                    rowid, doc.access_mode, doc.agency_code, doc.effective_year, doc.doc_type,
                    doc.issued_date.isoformat() if doc.issued_date else None, doc.retention,
                    doc.file_format, q.notation_key(doc.number_notation), q.notation_key(doc.notation),
                ))  # fmt: skip
                rows.append((
                    rowid, doc.id, doc.dossier_id, doc.dossier_code, doc.code_number, doc.notation,
                    doc.agency_name, doc.language, legacy, doc.title, doc.subject,
                    zlib.compress(body.encode("utf-8"), 1),
                ))  # fmt: skip
                texts.append((rowid, *_streams(doc.title, doc.subject, _other_text(doc), body)))
            marks = ", ".join("?" * (len(_ATTR_COLUMNS) + 1))
            db.executemany(
                f"INSERT INTO attrs_{g}(rowid, {', '.join(_ATTR_COLUMNS)}) VALUES ({marks})", attrs
            )
            marks = ", ".join("?" * (len(_DOC_COLUMNS) + 1))
            db.executemany(f"INSERT INTO docs_{g}(rowid, {', '.join(_DOC_COLUMNS)}) VALUES ({marks})", rows)
            marks = ", ".join("?" * (len(q.COLUMNS) + 1))
            db.executemany(f"INSERT INTO fts_{g}(rowid, {', '.join(q.COLUMNS)}) VALUES ({marks})", texts)
        return len(docs)

    @staticmethod
    def _existing(db: sqlite3.Connection, g: int, ids: list[str]) -> list[str]:
        found: list[str] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT id FROM docs_{g} WHERE id IN ({','.join('?' * len(chunk))})"
            found.extend(str(row[0]) for row in db.execute(sql, chunk))
        return found

    def _remove(self, db: sqlite3.Connection, g: int, doc_id: str) -> bool:
        row = db.execute(
            f"SELECT rowid, title, subject, code_number, notation, dossier_code, agency_name, body "
            f"FROM docs_{g} WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return False
        rowid, title, subject, number, notation, dossier_code, agency_name, body = row
        stub = IndexDoc(id=doc_id, title="", code_number=number or "", notation=notation or "",
                        dossier_code=dossier_code or "", agency_name=agency_name or "")  # fmt: skip
        streams = _streams(
            title or "", subject or "", _other_text(stub), zlib.decompress(body).decode("utf-8")
        )
        db.execute(
            f"INSERT INTO fts_{g}(fts_{g}, rowid, {', '.join(q.COLUMNS)}) VALUES ('delete', ?{', ?' * len(streams)})",
            (rowid, *streams),
        )
        db.execute(f"DELETE FROM docs_{g} WHERE rowid = ?", (rowid,))
        db.execute(f"DELETE FROM attrs_{g} WHERE rowid = ?", (rowid,))
        return True

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove records by id (from the index being rebuilt too, if any); return how many existed."""
        ids = list(doc_ids)
        removed = 0
        with self._tx() as db:
            g = self._write_generation()
            targets = {g, self.generation} if not self.needs_rebuild else {g}
            for target in targets:
                hits = sum(self._remove(db, target, doc_id) for doc_id in ids)
                removed = max(removed, hits)
        return removed

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM attrs_{self.generation}").fetchone()[0])

    def clear(self) -> None:
        """Remove every record (a fresh, empty generation replaces the current one)."""
        self.begin_rebuild()
        self.commit_rebuild()

    def begin_rebuild(self) -> None:
        """Start a new generation; until commit or abort, writes skip fsync (a crash loses only it)."""
        with self._tx():
            if self._building is not None:
                raise RebuildStateError("a rebuild is already in progress")
            g = int(self._meta("max_generation") or self.generation) + 1
            self._drop_generation(g)
            self._create_generation(g)
            self._set_meta("max_generation", str(g))
            # Bulk load: no merging while writing; commit_rebuild merges once (optimize).
            self._db.execute(f"INSERT INTO fts_{g}(fts_{g}, rank) VALUES ('automerge', 0)")
            self._building = g
        with self._lock:
            self._db.execute("PRAGMA synchronous=OFF")

    def commit_rebuild(self) -> None:
        """Merge the rebuilt generation, make it current in one transaction, drop the old one."""
        with self._tx() as db:
            if self._building is None:
                raise RebuildStateError("no rebuild in progress")
            g = self._building
            db.execute(f"INSERT INTO fts_{g}(fts_{g}, rank) VALUES ('automerge', 4)")
            db.execute(f"INSERT INTO fts_{g}(fts_{g}) VALUES ('optimize')")
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
        with self._tx():
            if self._building is None:
                raise RebuildStateError("no rebuild in progress")
            old = self.generation
            self._set_meta("generation", str(self._building))
            self._set_meta("analyzer", ANALYZER_VERSION)
            self._drop_generation(old)
            self._building = None
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def abort_rebuild(self) -> None:
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
        with self._tx():
            if self._building is not None:
                self._drop_generation(self._building)
            self._building = None

    def rebuild(self, docs: Iterable[IndexDoc], progress: Progress | None = None) -> int:
        return rebuild_with(self, docs, progress, self.batch_size)

    def optimize(self) -> None:
        """Merge FTS5 segments (after a large load)."""
        with self._lock:
            g = self.generation
            self._db.execute(f"INSERT INTO fts_{g}(fts_{g}) VALUES ('optimize')")

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading --------------------------------------------------------------------------

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        """Run ``query`` as ``visibility`` allows; see ``docs/search.md`` for the rules."""
        with self._lock:
            searcher = Searcher(self._db, self.generation, self._limits, _hit, self.time_budget_s)
            return searcher.run(query, visibility)

    def explain(self, query: SearchQuery, visibility: Visibility) -> dict[str, Any]:
        """How ``search`` would answer (for benchmarks and debugging): the ranking path taken."""
        with self._lock:
            searcher = Searcher(self._db, self.generation, self._limits, _hit, self.time_budget_s)
            searcher.run(query, visibility)
            return dict(searcher.trace)


def _hit(row: Row, doc: tuple[Any, ...], parsed: ParsedQuery) -> Hit:
    """A result: snippet from the body when its content is visible, else from the subject."""
    _rowid, content, agency, _year, doc_type, mode, issued, score = row
    _, doc_id, dossier_id, dossier_code, title, subject, body = doc
    text = ""
    if content and parsed:
        text = snippet(zlib.decompress(body).decode("utf-8"), parsed)
        if "<mark>" not in text and subject:
            text = snippet(subject, parsed)
    elif subject:
        text = snippet(subject, parsed)
    if not text and content:
        text = snippet(zlib.decompress(body).decode("utf-8"), parsed)
    return Hit(
        id=doc_id, dossier_id=dossier_id, dossier_code=dossier_code or "", title=title or "",
        score=-float(score or 0.0), snippet=text,
        title_html=highlight(title or "", parsed), issued_date=date.fromisoformat(issued) if issued else None,
        agency_code=agency or "", doc_type=doc_type or "", access_mode=mode or "", content_visible=bool(content),
    )  # fmt: skip
