"""The search service: keeps the index in step with the catalog and answers queries.

* **Outbox**: catalog changes queue ``IndexOutbox`` rows in their own transaction; ``drain``
  applies them to the index and only then deletes them, so a crash between the catalog commit
  and the indexing loses nothing (the rows are still there) and re-applying is harmless.
* **Text**: a document's text is extracted once (text layer, office formats, OCR of scanned
  pages) from a replica copy and kept in the catalog (``Document.text_content``), so
  re-indexing never re-OCRs.
* **Queries**: visibility is applied inside the index query; on top, hits whose record was
  destroyed or withdrawn after it was indexed are dropped here, before the outbox catches up.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from archive.catalog import (
    Document,
    Dossier,
    FileRole,
    IndexOutbox,
    Package,
    PackageState,
    RecordState,
    StoredFile,
)
from archive.storage import Replica
from archive.visibility import Visibility
from search.errors import SearchError
from search.extract import extract_text, has_text
from search.index.base import IndexDoc, SearchIndex, SearchQuery, SearchResult

log = logging.getLogger(__name__)
Progress = Callable[[int], None]
LIVE = (RecordState.ACTIVE, RecordState.UNDER_REVIEW, RecordState.DAMAGED)


def document_doc(doc: Document, dossier: Dossier, file_format: str = "") -> IndexDoc:
    number = doc.code_number or ""
    notation = doc.code_notation or ""
    label = f"{number}/{notation}" if number and notation else number or notation
    title = doc.subject or label or doc.doc_code
    return IndexDoc(
        id=f"doc:{doc.id}",
        title=title,
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        subject=doc.subject or "",
        body=doc.text_content or "",
        agency_code=dossier.agency.code,
        agency_name=dossier.agency.name,
        doc_type=doc.type_code or "",
        code_number=number,
        notation=notation,
        issued_date=doc.issued_date,
        year=doc.issued_date.year if doc.issued_date else None,
        retention=dossier.maintenance or "",
        access_mode=doc.access_mode.value,
        file_format=file_format,
    )


def dossier_doc(dossier: Dossier) -> IndexDoc:
    d = dossier.descriptive or {}
    subject = " ".join(str(d.get(k) or "") for k in ("keyword", "description")).strip()
    return IndexDoc(
        id=f"dossier:{dossier.id}",
        title=dossier.title,
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        subject=subject,
        agency_code=dossier.agency.code,
        agency_name=dossier.agency.name,
        issued_date=dossier.end_date,
        year=dossier.end_date.year if dossier.end_date else None,
        retention=dossier.maintenance or "",
        access_mode=dossier.access_mode.value,
    )


class SearchService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        index: SearchIndex,
        replicas: Sequence[Replica] = (),
        *,
        ocr_languages: str = "vie+eng",
        work_dir: Path | None = None,
    ) -> None:
        self.sessions, self.index, self.replicas = sessions, index, replicas
        self.ocr_languages, self.work_dir = ocr_languages, work_dir

    # -- queries ----------------------------------------------------------------------------
    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        """Search under ``visibility``; hits of records destroyed since indexing are dropped."""
        result = self.index.search(query, visibility)
        ids = {h.dossier_id for h in result.hits if h.dossier_id is not None}
        if not ids:
            return result
        with self.sessions() as s:
            live = set(s.scalars(select(Dossier.id).where(Dossier.id.in_(ids), Dossier.state.in_(LIVE))))
        kept = tuple(h for h in result.hits if h.dossier_id is None or h.dossier_id in live)
        if len(kept) == len(result.hits):
            return result
        return replace(result, hits=kept, total=max(0, result.total - (len(result.hits) - len(kept))))

    # -- keeping the index in step ----------------------------------------------------------
    def drain(self, limit: int = 500, progress: Progress | None = None) -> int:
        """Apply up to ``limit`` queued changes; return how many were applied."""
        with self.sessions() as s:
            rows = s.scalars(select(IndexOutbox).order_by(IndexOutbox.id).limit(limit)).all()
            work = [(r.id, r.entity, r.entity_id, r.op) for r in rows]
        done = 0
        for row_id, entity, entity_id, op in work:
            try:
                self._apply(entity, entity_id, op)
            except Exception as exc:  # one bad record must not stop the queue: keep it, note why
                log.exception("index update failed", extra={"entity": entity, "entity_id": entity_id})
                with self.sessions() as s, s.begin():
                    row = s.get(IndexOutbox, row_id)
                    if row is not None:
                        row.attempts += 1
                        row.last_error = str(exc)[:500]
                continue
            with self.sessions() as s, s.begin():
                s.execute(delete(IndexOutbox).where(IndexOutbox.id == row_id))
            done += 1
            if progress:
                progress(1)
        return done

    def drain_all(self, progress: Progress | None = None) -> int:
        total = 0
        while True:
            n = self.drain(progress=progress)
            total += n
            if n == 0:
                return total

    def pending(self) -> int:
        with self.sessions() as s:
            return len(s.scalars(select(IndexOutbox.id).where(IndexOutbox.attempts < 5)).all())

    def _apply(self, entity: str, entity_id: int, op: str) -> None:
        """Apply one queued change. Sessions are short and never nested (SQLite takes the write
        lock at BEGIN), and no session is open while text is extracted."""
        key = f"{'doc' if entity == 'document' else 'dossier'}:{entity_id}"
        if entity == "document":
            with self.sessions() as s:
                doc = s.get(Document, entity_id)
                live = doc is not None and doc.state in LIVE and doc.dossier.state in LIVE
                source = (
                    self._text_source(s, doc)
                    if live and doc is not None and doc.text_content is None
                    else None
                )
            if op == "delete" or not live:
                self.index.delete([key])
                return
            if source is not None:
                self._extract_and_store(entity_id, *source)
            with self.sessions() as s:
                doc = s.get(Document, entity_id)
                assert doc is not None
                self.index.upsert([document_doc(doc, doc.dossier, self._format(s, doc))])
            return
        with self.sessions() as s:
            dossier = s.get(Dossier, entity_id)
            if op == "delete" or dossier is None or dossier.state not in LIVE:
                ids = [key] + ([f"doc:{d.id}" for d in dossier.documents] if dossier is not None else [])
                self.index.delete(ids)
                return
            self.index.upsert([dossier_doc(dossier)])

    def _original(self, s: Session, doc: Document) -> StoredFile | None:
        return s.scalar(
            select(StoredFile)
            .join(StoredFile.package)
            .where(
                StoredFile.document_id == doc.id,
                StoredFile.role == FileRole.ORIGINAL,
                Package.state == PackageState.STORED,
            )
            .order_by(Package.version.desc())
        )

    def _format(self, s: Session, doc: Document) -> str:
        f = self._original(s, doc)
        return (f.mime or "") if f else ""

    def _text_source(self, s: Session, doc: Document | None) -> tuple[str, str, str | None] | None:
        """(object key, file name, mime) of the document's original, if text must be extracted."""
        if doc is None or not self.replicas:
            return None
        stored = self._original(s, doc)
        if stored is None:
            return None
        return f"{stored.package.storage_key}/{stored.path}", Path(stored.path).name, stored.mime

    def _extract_and_store(self, doc_id: int, key: str, name: str, mime: str | None) -> None:
        """Extract the text once (OCR included) from a replica copy and keep it in the catalog."""
        tmp = Path(tempfile.mkdtemp(prefix="luutru-text-", dir=self.work_dir))
        try:
            local = tmp / name
            for replica in self.replicas:
                try:
                    with replica.open(key) as src, local.open("wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    break
                except OSError:
                    continue
            else:
                return
            try:
                text = extract_text(local, mime, ocr=True, ocr_languages=self.ocr_languages)
            except SearchError as exc:
                # audio and video hold no text to index: expected, not worth a warning
                level = logging.WARNING if has_text(mime) else logging.INFO
                log.log(level, "no text extracted from document %s: %s", doc_id, exc)
                value, method = "", "none"
            else:
                value = "" if text.legacy_encoding else text.text
                method = f"legacy-{text.legacy_encoding}" if text.legacy_encoding else text.method
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with self.sessions() as w, w.begin():
            target = w.get(Document, doc_id)
            if target is not None:
                target.text_content = value
                target.text_method = method[:20]

    # -- full rebuild -----------------------------------------------------------------------
    def iter_docs(self) -> Iterator[IndexDoc]:
        """Every live dossier and document, from the catalog (stored text, never re-extracted)."""
        with self.sessions() as s:
            q = (
                select(Dossier)
                .where(Dossier.state.in_(LIVE))
                .options(selectinload(Dossier.documents), selectinload(Dossier.agency))
                .order_by(Dossier.id)
            )
            for dossier in s.scalars(q):
                yield dossier_doc(dossier)
                for doc in dossier.documents:
                    if doc.state in LIVE:
                        yield document_doc(doc, dossier, self._format(s, doc))

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index from the catalog; searches keep working until the swap."""
        written = self.index.rebuild(self.iter_docs(), progress)
        with self.sessions() as s, s.begin():  # everything queued is in the new index now
            s.execute(delete(IndexOutbox))
        return written


def open_index(
    backend: str,
    *,
    fts5_path: Path,
    es_url: str = "",
    es_index: str = "luutru",
    time_budget_s: float | None = None,
) -> SearchIndex:
    """The configured index backend (``time_budget_s``: per-search SQL budget of the embedded one)."""
    if backend == "elasticsearch":
        from elasticsearch import Elasticsearch

        from search.index.elastic import ElasticIndex

        return ElasticIndex(Elasticsearch(es_url), alias=es_index)
    from search.index.fts5 import Fts5Index

    if time_budget_s is None:
        return Fts5Index(fts5_path)
    return Fts5Index(fts5_path, time_budget_s=time_budget_s)
