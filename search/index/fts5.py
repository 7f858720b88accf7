"""The embedded search index: SQLite FTS5 in its own database file (WAL).

Layout, per generation ``g`` (a rebuild writes generation g+1, then one transaction points
``meta.generation`` at it and drops g):

* ``docs_g``  — one row per record: fields for filters, facets and visibility, and the
  original title/subject/body (body zlib-compressed) for snippets;
* ``fts_g``   — a contentless FTS5 table over pre-analysed token streams (exact and folded),
  tokenised by ``unicode61 remove_diacritics 0`` (we fold in Python: FTS5 tokenizers cannot
  be written in Python). Deletes re-derive the streams from ``docs_g``, so the analyzer
  version is stored and a different one requires a rebuild.

Visibility is applied in SQL: records whose content is visible match on every column,
records whose metadata only is visible match on metadata columns only.
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
from search.folding import ANALYZER_VERSION, ParsedQuery, legacy_encoding, parse_query, token_streams
from search.highlight import highlight, snippet
from search.index import fts5_query as q
from search.index.base import Hit, IndexDoc, Progress, SearchQuery, SearchResult, rebuild_with

log = logging.getLogger(__name__)

_DOC_COLUMNS = (
    "id", "dossier_id", "dossier_code", "title", "subject", "body", "agency_code", "agency_name",
    "doc_type", "code_number", "notation", "notation_key", "notation_only_key", "issued_date",
    "year", "retention", "access_mode", "file_format", "language", "legacy_encoding",
)  # fmt: skip
_FACET_COLUMNS = {
    "agency": "agency_code",
    "year": "year",
    "doc_type": "doc_type",
    "access_mode": "access_mode",
}
_ORDER = {
    "relevance": "h.score, h.issued_date DESC, h.rowid",
    "date_desc": "h.issued_date IS NULL, h.issued_date DESC, h.rowid",
    "date_asc": "h.issued_date IS NULL, h.issued_date ASC, h.rowid",
}
# Columns copied into the temporary hit set, so facets and sorting never go back to docs.
_CARRY = "d.agency_code, d.year, d.doc_type, d.access_mode, d.issued_date"


def _other_text(doc: IndexDoc) -> str:
    return " ".join(filter(None, (doc.number_notation, doc.dossier_code, doc.agency_name)))


def _streams(title: str, subject: str, other: str, body: str) -> tuple[str, ...]:
    out: list[str] = []
    for text in (title, subject, other, body):
        out.extend(token_streams(text))
    return tuple(out)


class Fts5Index:
    """SQLite FTS5 index in the file ``path``; safe to share between threads of one process."""

    def __init__(self, path: Path, *, batch_size: int = 500) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._building: int | None = None
        if self._meta("generation") is None:
            with self._tx():
                self._create_generation(1)
                self._set_meta("generation", "1")
                self._set_meta("analyzer", ANALYZER_VERSION)

    # -- plumbing -------------------------------------------------------------------------

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
        # body comes last: reading the columns before it never touches its overflow pages.
        cols = ", ".join(q.COLUMNS)
        script = f"""
            CREATE TABLE docs_{g} (
              rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, access_mode TEXT,
              agency_code TEXT, year INTEGER, doc_type TEXT, issued_date TEXT, retention TEXT,
              file_format TEXT, language TEXT, legacy_encoding TEXT, notation_key TEXT,
              notation_only_key TEXT, dossier_id INTEGER, dossier_code TEXT, code_number TEXT,
              notation TEXT, agency_name TEXT, title TEXT, subject TEXT,
              body BLOB);
            CREATE INDEX docs_{g}_mode ON docs_{g}(access_mode, agency_code);
            CREATE INDEX docs_{g}_date ON docs_{g}(issued_date);
            CREATE INDEX docs_{g}_notation ON docs_{g}(notation_key);
            CREATE VIRTUAL TABLE fts_{g} USING fts5({cols}, content='',
              tokenize='unicode61 remove_diacritics 0', prefix='3')
            """
        for statement in script.split(";"):  # not executescript: it would commit our transaction
            self._db.execute(statement)

    def _drop_generation(self, g: int) -> None:
        self._db.execute(f"DROP TABLE IF EXISTS fts_{g}")
        self._db.execute(f"DROP TABLE IF EXISTS docs_{g}")

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
        with self._tx() as db:
            g = self._write_generation()
            for doc in docs:
                self._remove(db, g, doc.id)
                legacy = legacy_encoding(doc.body) if doc.body else None
                if legacy:
                    log.warning(
                        "legacy-encoded body not indexed", extra={"doc_id": doc.id, "encoding": legacy}
                    )
                body = "" if legacy else doc.body
                other = _other_text(doc)
                values = (
                    doc.id, doc.dossier_id, doc.dossier_code, doc.title, doc.subject,
                    zlib.compress(body.encode("utf-8"), 1), doc.agency_code, doc.agency_name,
                    doc.doc_type, doc.code_number, doc.notation, q.notation_key(doc.number_notation),
                    q.notation_key(doc.notation), doc.issued_date.isoformat() if doc.issued_date else None,
                    doc.effective_year, doc.retention, doc.access_mode, doc.file_format, doc.language, legacy,
                )  # fmt: skip
                cur = db.execute(
                    f"INSERT INTO docs_{g}({', '.join(_DOC_COLUMNS)}) VALUES ({', '.join('?' * len(values))})",
                    values,
                )
                streams = _streams(doc.title, doc.subject, other, body)
                db.execute(
                    f"INSERT INTO fts_{g}(rowid, {', '.join(q.COLUMNS)}) VALUES (?{', ?' * len(streams)})",
                    (cur.lastrowid, *streams),
                )
        return len(docs)

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
            return int(self._db.execute(f"SELECT count(*) FROM docs_{self.generation}").fetchone()[0])

    def clear(self) -> None:
        """Remove every record (a fresh, empty generation replaces the current one)."""
        self.begin_rebuild()
        self.commit_rebuild()

    def begin_rebuild(self) -> None:
        with self._tx():
            if self._building is not None:
                raise RebuildStateError("a rebuild is already in progress")
            g = int(self._meta("max_generation") or self.generation) + 1
            self._drop_generation(g)
            self._create_generation(g)
            self._set_meta("max_generation", str(g))
            self._building = g

    def commit_rebuild(self) -> None:
        """Make the rebuilt generation current in one transaction and drop the old one."""
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
        """Run ``query`` as ``visibility`` allows; see the module docstring for the rules."""
        parsed = parse_query(query.text)
        with self._lock:
            g = self.generation
            self._db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS hits (rowid INTEGER PRIMARY KEY, score REAL, content INT,"
                " agency_code TEXT, year INT, doc_type TEXT, access_mode TEXT, issued_date TEXT)"
            )
            self._db.execute("DELETE FROM temp.hits")
            self._collect(g, parsed, query, visibility)
            total = int(self._db.execute("SELECT count(*) FROM temp.hits").fetchone()[0])
            facets = {name: self._facet(_FACET_COLUMNS[name]) for name in query.facets}
            rows = self._db.execute(
                f"WITH page AS (SELECT * FROM temp.hits h ORDER BY {_ORDER[query.sort]} LIMIT ? OFFSET ?)"
                f" SELECT h.score, h.content, d.id, d.dossier_id, d.dossier_code, d.title, d.subject, d.body,"
                f" d.issued_date, d.agency_code, d.doc_type, d.access_mode"
                f" FROM page h JOIN docs_{g} d ON d.rowid = h.rowid ORDER BY {_ORDER[query.sort]}",
                (query.per_page, query.offset),
            ).fetchall()
            self._db.execute("DELETE FROM temp.hits")
        hits = tuple(self._hit(row, parsed) for row in rows)
        return SearchResult(total=total, hits=hits, facets=facets, page=query.page, per_page=query.per_page)

    def _collect(self, g: int, parsed: ParsedQuery, query: SearchQuery, vis: Visibility) -> None:
        fparams: list[Any] = []
        filters = q.filter_condition(query, fparams)
        if not parsed:
            params: list[Any] = []
            meta_cond = q.metadata_condition(vis, params)
            cparams: list[Any] = []
            content_cond = q.content_condition(vis, cparams)
            self._db.execute(
                f"INSERT INTO temp.hits SELECT d.rowid, 0, ({content_cond}), {_CARRY}"
                f" FROM docs_{g} d WHERE {meta_cond} AND {filters}",
                [*cparams, *params, *fparams],
            )
            return
        weights = ", ".join(str(w) for w in q.WEIGHTS)
        branches: list[tuple[q.ColumnSet, str, list[Any], int]] = []
        cparams = []
        content_cond = q.content_condition(vis, cparams)
        branches.append((q.ALL_COLUMNS, content_cond, cparams, 1))
        mparams: list[Any] = []
        meta_cond = q.metadata_condition(vis, mparams)
        nparams: list[Any] = []
        not_content = q.content_condition(vis, nparams)
        branches.append((q.META_COLUMNS, f"{meta_cond} AND NOT ({not_content})", [*mparams, *nparams], 0))
        for cols, cond, cond_params, content in branches:
            if vis.unrestricted and content == 0:
                continue
            expr = q.match_expression(parsed, cols)
            self._db.execute(
                f"WITH m AS MATERIALIZED"
                f" (SELECT rowid, bm25(fts_{g}, {weights}) AS score FROM fts_{g} WHERE fts_{g} MATCH ?)"
                f" INSERT INTO temp.hits SELECT m.rowid, m.score, {content}, {_CARRY}"
                f" FROM m CROSS JOIN docs_{g} d ON d.rowid = m.rowid WHERE {cond} AND {filters}",
                [expr, *cond_params, *fparams],
            )

    def _facet(self, column: str) -> dict[str, int]:
        rows = self._db.execute(
            f"SELECT {column}, count(*) FROM temp.hits"
            f" WHERE {column} IS NOT NULL AND {column} != '' GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        return {str(value): int(n) for value, n in rows}

    @staticmethod
    def _hit(row: tuple[Any, ...], parsed: ParsedQuery) -> Hit:
        (
            score,
            content,
            doc_id,
            dossier_id,
            dossier_code,
            title,
            subject,
            body,
            issued,
            agency,
            doc_type,
            mode,
        ) = row
        text = ""
        if content and parsed:
            body_text = zlib.decompress(body).decode("utf-8")
            text = snippet(body_text, parsed)
            if "<mark>" not in text and subject:
                text = snippet(subject, parsed)
        elif subject:
            text = snippet(subject, parsed)
        if not text and content:
            text = snippet(zlib.decompress(body).decode("utf-8"), parsed)
        return Hit(
            id=doc_id,
            dossier_id=dossier_id,
            dossier_code=dossier_code or "",
            title=title or "",
            score=-float(score or 0.0),
            snippet=text,
            title_html=highlight(title or "", parsed),
            issued_date=date.fromisoformat(issued) if issued else None,
            agency_code=agency or "",
            doc_type=doc_type or "",
            access_mode=mode or "",
            content_visible=bool(content),
        )
