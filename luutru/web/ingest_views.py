"""The ingest queue of the console: submissions by state, one submission's findings, signatures
and page previews, the archivist's decision, and a dossier uploaded from the browser.

Decisions call ``IngestService`` (the same calls as the API and the CLI):

* accept → ``accept`` (the submission is archived at once);
* reject → ``reject`` with the archivist's reasons, which the agency reads through the API;
* ask for a correction → ``reject`` with a reason starting ``review.correction_requested:``
  followed by the archivist's text: the submission ends (rejected) and the agency submits a
  corrected dossier as a new submission — there is no "reopen" state in the workflow.

Previews are rendered from the STAGED file (a submission in review is still in staging), after
checking its bytes still hash to what was received, and cached by SHA-256 like page images.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from archive import events
from archive.catalog import Agency, Role, Submission, SubmissionFile, SubmissionState
from archive.errors import Conflict, NotFound
from archive.findings import Finding
from ingest.service import INTERRUPTED_STATES
from luutru import pages
from luutru.web.auth import current_actor, requires, web_services
from luutru.web.console import SUBMISSION_LABELS
from luutru.web.records import CHUNK, THUMB_WIDTH

bp = Blueprint("ingest_views", __name__, url_prefix="/console/ingest")

CORRECTION_CODE = "review.correction_requested"
VIEWERS = (Role.ARCHIVIST, Role.AUDITOR, Role.ADMINISTRATOR)
PAGE_SIZE = 200


def counts(findings: list[dict[str, Any]]) -> Counter[str]:
    """How many findings of each severity (error, warning, info)."""
    return Counter(str(f.get("severity")) for f in findings)


@bp.get("/")
@requires(*VIEWERS)
def queue() -> ResponseReturnValue:
    state = request.args.get("state", "")
    agency = request.args.get("agency", "").strip()
    text = request.args.get("q", "").strip()[:200]
    query = select(Submission, Agency.code).join(Agency, Agency.id == Submission.agency_id)
    if state in {s.value for s in SubmissionState}:
        query = query.where(Submission.state == SubmissionState(state))
    if agency:
        query = query.where(Agency.code == agency)
    if text:
        like = f"%{text}%"
        query = query.where(Submission.dossier_code.ilike(like) | Submission.title.ilike(like))
    with web_services().session() as s:
        rows = s.execute(query.order_by(Submission.received_at.desc()).limit(PAGE_SIZE)).all()
        agencies = list(s.scalars(select(Agency.code).order_by(Agency.code)))
        items = [(sub, code, counts(sub.findings)) for sub, code in rows]
    return render_template(
        "ingest/queue.html", items=items, agencies=agencies, labels=SUBMISSION_LABELS,
        states=list(SubmissionState), state=state, agency=agency, q=text,
    )  # fmt: skip


def _file_rows(sub: Submission) -> list[dict[str, Any]]:
    by_path: dict[str | None, list[Finding]] = {}
    for f in sub.findings:
        finding = Finding.from_json(f)
        by_path.setdefault(finding.path, []).append(finding)
    rows = []
    for sf in sub.files:
        report = sf.report or {}
        rows.append(
            {
                "file": sf,
                "identity": report.get("identity") or {},
                "pdf": report.get("pdf") or {},
                "signatures": (report.get("signatures") or {}).get("signatures") or [],
                "findings": by_path.pop(sf.path, []),
                "preview": sf.mime == "application/pdf" and sub.staging_path is not None,
            }
        )
    general = by_path.pop(None, []) + [f for rest in by_path.values() for f in rest]
    rows.insert(0, {"file": None, "findings": general, "signatures": [], "preview": False})
    return rows


@bp.get("/<sid>")
@requires(*VIEWERS)
def submission(sid: str) -> ResponseReturnValue:
    with web_services().session() as s:
        sub = s.get(Submission, sid)
        if sub is None:
            abort(404)
        agency = s.get(Agency, sub.agency_id)
        return render_template(
            "ingest/submission.html", sub=sub, agency=agency, rows=_file_rows(sub),
            counts=counts(sub.findings), label=_(SUBMISSION_LABELS[sub.state]),
            in_review=sub.state is SubmissionState.IN_REVIEW, correction_code=CORRECTION_CODE,
            retryable=sub.state in INTERRUPTED_STATES,
        )  # fmt: skip


@bp.get("/<sid>/files/<int:file_id>/preview.png")
@requires(*VIEWERS)
def preview(sid: str, file_id: int) -> ResponseReturnValue:
    """Thumbnail of page 1 (``?page=N`` for another) of a staged PDF."""
    svc = web_services()
    page = request.args.get("page", "0")
    if not page.isdigit():
        abort(400)
    with svc.session() as s:
        sf = s.get(SubmissionFile, file_id)
        if sf is None or sf.submission_id != sid or sf.mime != "application/pdf" or not sf.sha256:
            abort(404)
        sub = sf.submission
        if not sub.staging_path:
            abort(404)  # no longer staged: the archived copy is on the document page
        root = Path((sub.metadata_doc.get("_staging") or {}).get("payload_root") or sub.staging_path)
        staged, sha = (root / sf.path).resolve(), sf.sha256
    if not staged.is_relative_to(Path(sub.staging_path).resolve()) or not staged.is_file():
        abort(404)

    root, size = pages.cache_root(svc.settings.data_dir), pages.Size(width=THUMB_WIDTH)
    try:  # verify: the staged bytes must still hash to what was received
        png = pages.page_image(root, sha, int(page) + 1, [lambda: staged.open("rb")], size, verify=True)
    except pages.NoSuchPage:
        abort(404)
    except pages.NoReadableCopy:
        abort(409)  # the staged bytes changed since receipt: show nothing
    return send_file(png, mimetype="image/png", max_age=3600)


def _agent() -> events.Agent:
    return events.Agent.person(current_actor().username or "-")


@bp.post("/<sid>/decision")
@requires(Role.ARCHIVIST)
def decide(sid: str) -> ResponseReturnValue:
    action = request.form.get("action")
    text = request.form.get("reason", "").strip()[:4000]
    ingest = web_services().ingest
    try:
        if action == "accept":
            result = ingest.accept(sid, actor=_agent(), reason=text)
            flash(_("Accepted and archived."), "info")
        elif action in ("reject", "correct"):
            if not text:
                flash(_("Write the reasons: the agency reads them."), "error")
                return redirect(url_for("ingest_views.submission", sid=sid))
            reason = f"{CORRECTION_CODE}: {text}" if action == "correct" else text
            result = ingest.reject(sid, actor=_agent(), reason=reason)
            flash(_("Returned to the agency with your reasons."), "info")
        else:
            abort(400)
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(_("The submission cannot take this decision now: %(why)s", why=str(exc)), "error")
        return redirect(url_for("ingest_views.submission", sid=sid))
    return redirect(url_for("ingest_views.submission", sid=result.submission_id))


@bp.post("/<sid>/retry")
@requires(Role.ARCHIVIST)
def retry(sid: str) -> ResponseReturnValue:
    """Take a submission a crash or restart left half-way (received, validating) as far as it goes."""
    try:
        result = web_services().ingest.retry(sid, actor=_agent())
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(_("The submission cannot take this decision now: %(why)s", why=str(exc)), "error")
        return redirect(url_for("ingest_views.submission", sid=sid))
    flash(_("Checked again: %(state)s.", state=_(SUBMISSION_LABELS[result.state])), "info")
    return redirect(url_for("ingest_views.submission", sid=sid))


# -- upload from the browser ---------------------------------------------------------------------
def _save(storage: FileStorage, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        shutil.copyfileobj(storage.stream, out, CHUNK)


def _as_zip(files: list[FileStorage], metadata: FileStorage | None, work: Path) -> Path:
    """One uploaded ZIP as is, or several files + metadata.json packed into a ZIP on disk."""
    if len(files) == 1 and metadata is None and (files[0].filename or "").lower().endswith(".zip"):
        target = work / "upload.zip"
        _save(files[0], target)
        return target
    if metadata is None or not metadata.filename:
        raise ValueError(_("Add the metadata.json that describes the files."))
    folder = work / "dossier"
    _save(metadata, folder / "metadata.json")
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(_("metadata.json is not valid JSON.")) from exc
    declared = {
        Path(str(d.get("file", ""))).name: str(d.get("file"))
        for d in meta.get("documents", [])
        if isinstance(d, dict)
    }
    for storage in files:
        name = Path(storage.filename or "").name
        if not name:
            continue
        rel = Path(declared.get(name, name))
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(_("A file name in metadata.json is not a relative path."))
        _save(storage, folder / rel)
    target = work / "upload.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path("dossier") / path.relative_to(folder))
    return target


@bp.route("/upload", methods=["GET", "POST"])
@requires(Role.ARCHIVIST)
def upload() -> ResponseReturnValue:
    svc = web_services()
    with svc.session() as s:
        agencies = list(s.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)))
        codes = {a.code for a in agencies}
    if request.method == "GET":
        return render_template("ingest/upload.html", agencies=agencies, agency="")
    agency = request.form.get("agency", "")
    files = [f for f in request.files.getlist("files") if f.filename]
    metadata = request.files.get("metadata")
    if agency not in codes or not files:
        flash(_("Choose the agency and at least one file."), "error")
        return render_template("ingest/upload.html", agencies=agencies, agency=agency), 400
    tmp_root = svc.settings.data_dir / "cache" / "uploads"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_root))
    try:
        try:
            archive = _as_zip(files, metadata if metadata and metadata.filename else None, work)
        except ValueError as exc:
            flash(str(exc), "error")
            return render_template("ingest/upload.html", agencies=agencies, agency=agency), 400
        result = svc.ingest.ingest(archive, agency, actor=_agent(), source_kind="web")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    flash(_("Dossier received; the checks have run."), "info")
    return redirect(url_for("ingest_views.submission", sid=result.submission_id))


__all__ = ["CORRECTION_CODE", "bp", "counts"]
