"""The researcher portal's record pages and the reading room (bản đọc) for open records.

* ``/portal/records/<id>`` — the record page: metadata when ``policies.access`` lets the actor see
  it (404 otherwise), the documents and their readable files only when the content is readable,
  else the access-request link; a destroyed dossier shows its tombstone.
* ``/portal/records/<id>/documents/<doc>`` — reading a document page by page in the browser.
* ``/portal/records/<id>/files/<file>/pages/<n>.png`` — one page image, access-checked on every
  request and rendered by ``luutru.pages`` (streamed from a replica, cached in the one page cache
  that destruction clears). The archive's name — the ``archive_name`` setting, else the top
  agency's name — is drawn in the bottom margin of every page (REGULATIONS §10, bản đọc). There
  is no download link here: a reading copy is read, not downloaded.

Reading a restricted record under an approved access request is a DISSEMINATION event.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import (
    Agency,
    Document,
    Dossier,
    Package,
    PackageState,
    Role,
    StoredFile,
    Tombstone,
)
from luutru import pages
from luutru.config import Settings
from luutru.web.auth import current_actor, web_services
from luutru.web.portal import MODE_LABELS, read_under_request, visible_dossier
from policies.access import Actor, Decision, RecordFacts, can_read_content, can_see_metadata

bp = Blueprint("reading", __name__, url_prefix="/portal/records")

SIZE = pages.Size(scale=1.5)  # 108 dpi: legible on screen, small enough to stream quickly


def _readable(
    s: Session, actor: Actor, dossier_id: int, document_id: int
) -> tuple[Dossier, Document, Decision]:
    """The dossier and document when ``actor`` may read the content; 404 / 403 otherwise."""
    dossier, record = visible_dossier(s, actor, s.get(Dossier, dossier_id))
    document = s.get(Document, document_id)
    if document is None or document.dossier_id != dossier.id:
        abort(404)
    content = can_read_content(actor, record)
    doc_record = RecordFacts(record.agency_code, document.access_mode, document.state, dossier.id)
    if not content.allowed or not can_read_content(actor, doc_record).allowed:
        abort(403)
    return dossier, document, content


def _readable_files(s: Session, document: Document) -> list[StoredFile]:
    """The PDF files of the document in the current (stored) package version."""
    query = (
        select(StoredFile)
        .join(Package, StoredFile.package_id == Package.id)
        .where(StoredFile.document_id == document.id, Package.state == PackageState.STORED)
        .order_by(StoredFile.path)
    )
    return [f for f in s.scalars(query) if f.path.lower().endswith(".pdf") or f.mime == "application/pdf"]


def archive_name(s: Session, settings: Settings) -> str:
    """The archive's own name (tên cơ quan lưu trữ): the ``archive_name`` setting, else the top agency's."""
    if settings.archive_name.strip():
        return settings.archive_name.strip()
    name = s.scalar(select(Agency.name).where(Agency.parent_id.is_(None)).order_by(Agency.id).limit(1))
    return name or "luutru"


def reading_label(name: str) -> str:
    """The text in the margin of every reading-room page."""
    return f"{name} — Bản đọc / reading copy"


@bp.get("/<int:dossier_id>")
def record(dossier_id: int) -> ResponseReturnValue:
    actor = current_actor()
    with web_services().session() as s:
        dossier, facts_ = visible_dossier(s, actor, s.get(Dossier, dossier_id))
        metadata = can_see_metadata(actor, facts_)
        content = can_read_content(actor, facts_)
        tombstone = None
        if metadata.reason_code == "access.allowed.tombstone":
            tombstone = s.scalar(select(Tombstone).where(Tombstone.dossier_id == dossier.id))
        documents: list[tuple[Document, int]] = []
        if content.allowed:
            for doc in sorted(dossier.documents, key=lambda d: d.ordinal):
                documents.append((doc, len(_readable_files(s, doc))))
        return render_template(
            "reading/record.html",
            dossier=dossier,
            agency_code=facts_.agency_code,
            mode_label=MODE_LABELS[dossier.access_mode],
            content=content,
            documents=documents,
            tombstone=tombstone,
            can_request=actor.has(Role.RESEARCHER) and not content.allowed and tombstone is None,
        )


@bp.get("/<int:dossier_id>/documents/<int:document_id>")
def document(dossier_id: int, document_id: int) -> ResponseReturnValue:
    actor = current_actor()
    services = web_services()
    spool = pages.cache_root(services.settings.data_dir) / ".spool"
    with services.session() as s:
        dossier, doc, content = _readable(s, actor, dossier_id, document_id)
        files: list[tuple[StoredFile, int]] = []
        for f in _readable_files(s, doc):
            try:
                count = pages.page_count(
                    f.sha256, pages.replica_openers(services.replicas, f), spool_dir=spool
                )
            except pages.NoReadableCopy:
                abort(404)
            files.append((f, count))
        read_under_request(s, actor, dossier, content, f"document {doc.doc_code}")
        s.commit()
        return render_template("reading/document.html", dossier=dossier, document=doc, files=files)


@bp.get("/<int:dossier_id>/files/<int:file_id>/pages/<int:page>.png")
def page_image(dossier_id: int, file_id: int, page: int) -> ResponseReturnValue:
    actor = current_actor()
    services = web_services()
    with services.session() as s:
        stored = s.get(StoredFile, file_id)
        if stored is None or stored.document_id is None:
            abort(404)
        _readable(s, actor, dossier_id, stored.document_id)
        if stored.package.state is not PackageState.STORED or page < 1 or page > pages.MAX_PAGES:
            abort(404)
        sha, copies = stored.sha256, pages.replica_openers(services.replicas, stored)
        label = reading_label(archive_name(s, services.settings))
    root = pages.cache_root(services.settings.data_dir)
    try:
        cached = pages.page_image(root, sha, page, copies, SIZE, label=label)
    except (pages.NoSuchPage, pages.NoReadableCopy):
        abort(404)
    response = send_file(cached, mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


__all__ = ["archive_name", "bp", "reading_label"]
