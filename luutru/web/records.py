"""Record pages of the console: a dossier (hồ sơ), its correction form, a document (văn bản),
its page images and the download of its original.

Every URL asks ``policies.access``: a record whose metadata the actor may not see answers 404
(existence not disclosed); content (page images) needs ``can_read_content`` and the original
``can_download_original`` (403 when the metadata is visible but the rest is not). Anyone may
open these pages — the access decision, not a role list, says what they see; correcting
metadata is for archivists only.

Files are never served straight from a replica: a copy is first hashed while it is copied to
a temporary file, and only a copy whose SHA-256 matches the catalog is sent (bytes already sent
cannot be taken back). Page images and thumbnails come from ``luutru.pages``: streamed from a
replica copy, cached in the one page cache that destruction clears.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive import events
from archive.catalog import (
    AccessMode,
    Document,
    Dossier,
    Event,
    EventType,
    FileCopy,
    FileRole,
    Package,
    PackageState,
    RecordState,
    Role,
    StoredFile,
    Submission,
)
from archive.errors import IntegrityError
from archive.metadata import load_profile
from archive.metadata.profile import FieldSpec
from archive.storage import Replica
from archive.storage.errors import StorageError
from ingest.revision import InvalidCorrection, revise_dossier
from luutru import evidence, pages
from luutru.web.auth import current_actor, requires, web_services
from luutru.web.portal import MODE_LABELS, facts, visible_dossier
from policies.access import Actor, RecordFacts, can_download_original, can_read_content, can_see_metadata

bp = Blueprint("records", __name__, url_prefix="/records")

CHUNK = 1 << 20
THUMB_WIDTH = 240  # px, submission previews
PAGE_WIDTH = 1000  # px, document page images
MAX_PAGES_SHOWN = 30
# Document fields offered in the correction form (the rest stay as submitted).
DOCUMENT_FORM_FIELDS = (
    "typeName",
    "codeNumber",
    "codeNotation",
    "issuedDate",
    "organName",
    "subject",
    "numberOfPage",
    "mode",
)


# -- page images -------------------------------------------------------------------------------
def copy_verified(source: Callable[[], Any], sha256: str, dest: Path) -> bool:
    """Copy the stream ``source()`` opens to ``dest`` in 1 MiB chunks; True if it hashes to ``sha256``."""
    h = hashlib.sha256()
    try:
        with source() as src, dest.open("wb") as out:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
    except (OSError, StorageError):
        return False
    return h.hexdigest() == sha256


def verified_replica_copy(replicas: Sequence[Replica], key: str, sha256: str, dest: Path) -> str:
    """Write to ``dest`` the first replica copy of ``key`` that verifies; return the replica's name."""
    for replica in replicas:
        if copy_verified(lambda r=replica: r.open(key), sha256, dest):  # type: ignore[misc]
            return replica.name
    dest.unlink(missing_ok=True)
    raise IntegrityError(f"no replica holds a verifying copy of {key}")


# -- access --------------------------------------------------------------------------------------
def document_facts(s: Session, doc: Document) -> RecordFacts:
    """A document is as restricted as the stricter of its own mode and its dossier's."""
    record = facts(s, doc.dossier)
    mode = max(doc.access_mode, doc.dossier.access_mode, key=lambda m: m.value)
    state = doc.state if doc.state is RecordState.DESTROYED else record.state
    return RecordFacts(record.agency_code, mode, state, record.dossier_id)


def _visible_dossier(s: Session, actor: Actor, code: str) -> tuple[Dossier, RecordFacts]:
    loaded = s.scalar(select(Dossier).where(Dossier.code == code).options(selectinload(Dossier.documents)))
    return visible_dossier(s, actor, loaded)


def _visible_document(s: Session, actor: Actor, doc_id: int) -> tuple[Document, RecordFacts]:
    doc = s.get(Document, doc_id)
    if doc is None:
        abort(404)
    record = document_facts(s, doc)
    if not can_see_metadata(actor, record).allowed:
        abort(404)
    return doc, record


def _dissemination(
    s: Session, actor: Actor, object_type: str, object_id: str, detail: str, **data: Any
) -> None:
    events.record(
        s,
        EventType.DISSEMINATION,
        object_type=object_type,
        object_id=object_id,
        agent=events.Agent.person(actor.username or "anonymous"),
        detail=detail,
        data=data,
    )


def current_files(doc: Document) -> list[StoredFile]:
    """The document's original files in its current (stored) AIP version."""
    return [f for f in doc.files if f.role is FileRole.ORIGINAL and f.package.state is PackageState.STORED]


# -- dossier -------------------------------------------------------------------------------------
def _dossier_events(s: Session, dossier: Dossier) -> list[Event]:
    keys = [p.storage_key for p in dossier.packages]
    subs = list(s.scalars(select(Submission.id).where(Submission.dossier_id == dossier.id)))
    return list(
        s.scalars(
            select(Event)
            .where(
                or_(
                    (Event.object_type == "dossier") & (Event.object_id == dossier.code),
                    (Event.object_type == "package") & Event.object_id.in_(keys),
                    (Event.object_type == "submission") & Event.object_id.in_(subs),
                )
            )
            .order_by(Event.seq.desc())
            .limit(300)
        )
    )


def _fixity(s: Session, dossier: Dossier) -> list[tuple[int, str, str, int, Any]]:
    rows = s.execute(
        select(
            Package.version,
            FileCopy.replica,
            FileCopy.status,
            func.count(),
            func.min(FileCopy.last_verified_at),
        )
        .join(StoredFile, StoredFile.package_id == Package.id)
        .join(FileCopy, FileCopy.file_id == StoredFile.id)
        .where(Package.dossier_id == dossier.id, Package.state == PackageState.STORED)
        .group_by(Package.version, FileCopy.replica, FileCopy.status)
        .order_by(FileCopy.replica)
    ).all()
    return [(v, r, st.value, n, oldest) for v, r, st, n, oldest in rows]


def _profile_fields(kind: str) -> tuple[FieldSpec, ...]:
    profile = load_profile("tt05-2025", web_services().settings.profile_overrides)
    name = profile.dossier_kind if kind == "dossier" else profile.document_kind
    return profile.kind(name).fields


@bp.get("/dossiers/<code>")
def dossier(code: str) -> ResponseReturnValue:
    actor = current_actor()
    with web_services().sessions.begin() as s:
        found, record = _visible_dossier(s, actor, code)
        content = can_read_content(actor, record)
        if content.allowed and found.access_mode is not AccessMode.OPEN:
            _dissemination(
                s, actor, "dossier", found.code, "restricted dossier page read", mode=found.access_mode.value
            )
        return render_template(
            "records/dossier.html",
            dossier=found,
            agency=found.agency,
            mode_label=MODE_LABELS[found.access_mode],
            fields=_profile_fields("dossier"),
            content=content,
            documents=list(found.documents) if content.allowed else [],
            packages=list(reversed(found.packages)),
            history=_dossier_events(s, found) if actor.is_staff else [],
            fixity=_fixity(s, found) if actor.is_staff else [],
            can_edit=actor.has(Role.ARCHIVIST) and found.state.value != "destroyed",
        )


def _form_changes(current: dict[str, Any], names: Iterable[str], prefix: str) -> dict[str, Any]:
    """Fields whose submitted text differs from the stored value (blank = remove the field)."""
    out: dict[str, Any] = {}
    for name in names:
        key = prefix + name
        if key not in request.form:
            continue
        text = request.form[key].strip()
        old = current.get(name)
        if text == ("" if old is None else str(old)):
            continue
        out[name] = text or None
    return out


@bp.route("/dossiers/<code>/edit", methods=["GET", "POST"])
@requires(Role.ARCHIVIST)
def edit_dossier(code: str) -> ResponseReturnValue:
    svc = web_services()
    actor = current_actor()
    dossier_fields = [f for f in _profile_fields("dossier") if f.derive is None and f.type != "group"]
    doc_fields = [f for f in _profile_fields("document") if f.name in DOCUMENT_FORM_FIELDS]
    with svc.session() as s:
        found, _record = _visible_dossier(s, actor, code)
        head = dict(found.descriptive)
        docs = [(d.ordinal, dict(d.descriptive)) for d in found.documents]
        s.expunge_all()
    errors: dict[str, list[Any]] = {}
    reason = ""
    if request.method == "POST":
        reason = request.form.get("reason", "").strip()[:1000]
        changes = _form_changes(head, (f.name for f in dossier_fields), "d-")
        doc_changes = {
            n: c for n, data in docs if (c := _form_changes(data, (f.name for f in doc_fields), f"doc-{n}-"))
        }
        if not reason:
            errors["reason"] = [_("Give the reason for the correction.")]
        elif not changes and not doc_changes:
            errors["_"] = [_("Nothing was changed.")]
        else:
            try:
                revise_dossier(
                    svc.sessions, svc.replicas, svc.settings.staging_path, code,
                    changes=changes, document_changes=doc_changes,
                    actor=events.Agent.person(actor.username or "-"), reason=reason,
                    profile_overrides=svc.settings.profile_overrides,
                )  # fmt: skip
            except InvalidCorrection as exc:
                by_file = {str(data.get("file")): n for n, data in docs}
                for f in exc.findings:
                    if f.severity.value != "error":
                        continue
                    key = f"doc-{by_file[f.path]}-{f.field}" if f.path in by_file else f"d-{f.field}"
                    errors.setdefault(key, []).append(f)
            else:
                evidence.anchor(svc, "accession")  # a new AIP version is an accession too
                flash(_("The correction was saved as a new AIP version."), "info")
                return redirect(url_for("records.dossier", code=code))
        head.update({k[2:]: v for k, v in request.form.items() if k.startswith("d-")})
        for n, data in docs:
            data.update({k.split("-", 2)[2]: v for k, v in request.form.items() if k.startswith(f"doc-{n}-")})
    status = 400 if errors else 200
    return render_template(
        "records/edit.html", code=code, head=head, docs=docs, dossier_fields=dossier_fields,
        doc_fields=doc_fields, errors=errors, reason=reason,
    ), status  # fmt: skip


# -- document ------------------------------------------------------------------------------------
@bp.get("/documents/<int:doc_id>")
def document(doc_id: int) -> ResponseReturnValue:
    actor = current_actor()
    with web_services().sessions.begin() as s:
        doc, record = _visible_document(s, actor, doc_id)
        content = can_read_content(actor, record)
        original = can_download_original(actor, record)
        if content.allowed and record.access_mode is not AccessMode.OPEN:
            _dissemination(
                s, actor, "document", doc.doc_code, "restricted document read", mode=record.access_mode.value
            )
        files = current_files(doc) if content.allowed else []
        pages = 0
        for f in files:
            if f.mime == "application/pdf":
                pages = int((f.properties.get("pdf") or {}).get("pages") or doc.page_count or 1)
                break
        return render_template(
            "records/document.html",
            doc=doc,
            dossier=doc.dossier,
            fields=_profile_fields("document"),
            mode_label=MODE_LABELS[record.access_mode],
            content=content,
            original=original,
            files=files,
            pages=range(min(pages, MAX_PAGES_SHOWN)),
        )


def _pdf_of(doc: Document) -> StoredFile:
    pdf = next((f for f in current_files(doc) if f.mime == "application/pdf"), None)
    if pdf is None:
        abort(404)
    return pdf


@bp.get("/documents/<int:doc_id>/pages/<int:page>.png")
def page_image(doc_id: int, page: int) -> ResponseReturnValue:
    svc = web_services()
    actor = current_actor()
    with svc.session() as s:
        doc, record = _visible_document(s, actor, doc_id)
        if not can_read_content(actor, record).allowed:
            abort(403)
        pdf = _pdf_of(doc)
        sha, copies = pdf.sha256, pages.replica_openers(svc.replicas, pdf)
    size = pages.Size(width=THUMB_WIDTH if request.args.get("size") == "thumb" else PAGE_WIDTH)
    try:  # console URLs count pages from 0, luutru.pages from 1
        png = pages.page_image(pages.cache_root(svc.settings.data_dir), sha, page + 1, copies, size)
    except pages.NoSuchPage:
        abort(404)
    return send_file(png, mimetype="image/png", max_age=3600)


def open_verified(replicas: Sequence[Replica], key: str, sha256: str, tmp_dir: Path) -> Any:
    """An open handle on a replica copy of ``key`` that verified (copied and hashed first).

    The temporary file is unlinked at once: the handle keeps the bytes until it is closed.
    Raises IntegrityError when no replica holds a verifying copy.
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, suffix=".download")
    os.close(fd)
    try:
        verified_replica_copy(replicas, key, sha256, Path(tmp))
        return open(tmp, "rb")
    finally:
        Path(tmp).unlink(missing_ok=True)


@bp.get("/documents/<int:doc_id>/original/<int:file_id>")
def download_original(doc_id: int, file_id: int) -> ResponseReturnValue:
    svc = web_services()
    actor = current_actor()
    with svc.session() as s:
        doc, record = _visible_document(s, actor, doc_id)
        if not can_download_original(actor, record).allowed:
            abort(403)
        stored = next((f for f in current_files(doc) if f.id == file_id), None)
        if stored is None:
            abort(404)
        key, sha, mime = f"{stored.package.storage_key}/{stored.path}", stored.sha256, stored.mime
        name, doc_code, path = stored.path.rsplit("/", 1)[-1], doc.doc_code, stored.path
    handle = open_verified(svc.replicas, key, sha, svc.settings.data_dir / "cache" / "tmp")
    with svc.sessions.begin() as s:  # only once the bytes are known good
        _dissemination(
            s, actor, "document", doc_code, "original downloaded",
            file=path, sha256=sha, mode=record.access_mode.value,
        )  # fmt: skip
    return send_file(
        handle, mimetype=mime or "application/octet-stream", as_attachment=True, download_name=name
    )


__all__ = [
    "bp",
    "copy_verified",
    "current_files",
    "document_facts",
    "open_verified",
    "verified_replica_copy",
]
