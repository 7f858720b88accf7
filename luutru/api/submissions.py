"""Submission endpoints: open an upload, send files in chunks, finalise, follow, withdraw.

Views are thin: they parse the request, call ``ingest.uploads.UploadService`` or
``IngestService``, and render JSON. ``{id}`` is the upload id returned by ``POST /submissions``;
a submission received another way (CLI, folder) is addressed by its submission id.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import IO, Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import ClientDisconnected

from archive import boundedjson
from archive.catalog import Submission, SubmissionState, TokenScope
from archive.catalog.upload import ApiUpload, UploadState
from archive.errors import NotFound
from archive.findings import Severity
from archive.vntime import as_utc, vn_iso
from ingest.errors import UploadInterrupted, UploadRangeInvalid
from ingest.service import OUTCOME, IngestResult
from ingest.uploads import FileStatus, UploadStatus
from luutru.api.auth import authenticate, require, services, uploads
from luutru.api.problems import Problem

UPLOADING = "uploading"  # the API's state before finalising; then the submission's own state
_RANGE = re.compile(r"^bytes ([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19}|\*)$")
MAX_PER_PAGE = 100
MAX_SMALL_BODY = 64 * 1024  # a withdrawal's {"reason": …}
MAX_PAGE = 1000  # deeper pages: narrow the list with 'state' or 'since' (declared in the OpenAPI)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def register(bp: Blueprint) -> None:
    """Add the submission routes to ``bp``."""
    bp.add_url_rule("/submissions", view_func=create, methods=["POST"])
    bp.add_url_rule("/submissions", view_func=list_submissions, methods=["GET"])
    bp.add_url_rule("/submissions/<sid>", view_func=show, methods=["GET"])
    bp.add_url_rule("/submissions/<sid>/files/<path:path>", view_func=put_file, methods=["PUT"])
    bp.add_url_rule("/submissions/<sid>/files/<path:path>", view_func=file_offset, methods=["GET"])
    bp.add_url_rule("/submissions/<sid>/finalise", view_func=finalise, methods=["POST"])
    bp.add_url_rule("/submissions/<sid>/withdraw", view_func=withdraw, methods=["POST"])
    bp.add_url_rule("/edxml-messages", view_func=submit_edxml, methods=["POST"])
    bp.add_url_rule("/submissions/<sid>/edxml-status", view_func=edxml_status, methods=["GET"])


# -- rendering -------------------------------------------------------------------------------------
def _file_json(sid: str, f: FileStatus) -> dict[str, Any]:
    return {
        "path": f.path,
        "sha256": f.sha256,
        "size": f.declared_size,
        "expected_size": f.expected_size,
        "received_bytes": f.received_bytes,
        "complete": f.complete,
        "upload_url": url_for("api.put_file", sid=sid, path=f.path),
    }


def _reasons(findings: list[dict[str, Any]], decision: str | None) -> list[dict[str, str]]:
    out = [
        {"code": f["code"], "message_vi": f["message_vi"], "message_en": f["message_en"]}
        for f in findings
        if f.get("severity") == Severity.ERROR.value
    ]
    if decision and not out:
        out.append({"code": "decision", "message_vi": decision, "message_en": decision})
    return out


def _iso(value: datetime | None) -> str | None:
    return vn_iso(value) if value is not None else None


def _view(sid: str, upload: UploadStatus | None, sub: Submission | None) -> dict[str, Any]:
    findings = list(sub.findings) if sub is not None else []
    state = sub.state.value if sub is not None else UPLOADING
    if sub is None and upload is not None and upload.state is UploadState.ABANDONED:
        state = SubmissionState.WITHDRAWN.value
    return {
        "id": sid,
        "submission_id": sub.id if sub is not None else None,
        "state": state,
        "status": OUTCOME[SubmissionState(state)] if state != UPLOADING else UPLOADING,
        "dossier": sub.dossier_code if sub is not None else None,
        "title": sub.title if sub is not None else None,
        "received_at": _iso(sub.received_at) if sub is not None else None,
        "decided_at": _iso(sub.decided_at) if sub is not None else None,
        "decision_reason": sub.decision_reason if sub is not None else None,
        "reasons": _reasons(findings, sub.decision_reason if sub is not None else None),
        "findings": findings,
        "files": [_file_json(sid, f) for f in upload.files] if upload is not None else [],
        "links": {
            "self": url_for("api.show", sid=sid),
            "finalise": url_for("api.finalise", sid=sid),
            "withdraw": url_for("api.withdraw", sid=sid),
        },
    }


def _load(sid: str, agency_id: int) -> tuple[UploadStatus | None, Submission | None]:
    """The upload and/or submission named ``sid``, if the agency owns it; NotFound otherwise."""
    upload: UploadStatus | None = None
    with services().session() as s:
        row = s.get(ApiUpload, sid)
        if row is not None and row.agency_id == agency_id:
            upload = UploadStatus.of(row)
            sub = s.get(Submission, row.submission_id) if row.submission_id else None
            return upload, sub
        sub = s.get(Submission, sid)
        if sub is None or sub.agency_id != agency_id:
            raise NotFound("submission", sid)
        return None, sub


def _render(sid: str, status: int = 200, **extra: Any) -> Response:
    caller = authenticate()
    upload, sub = _load(sid, caller.agency_id)
    response = jsonify({**_view(sid, upload, sub), **extra})
    response.status_code = status
    return response


def json_body(max_bytes: int) -> Any:
    """The request's JSON body (None when it is not ``application/json``), within the limits of
    :mod:`archive.boundedjson`: 413 over ``max_bytes``, 400 when too deep or not JSON. The body is
    read at most ``max_bytes + 1`` bytes far, whatever Content-Length says."""
    if not request.is_json:
        return None
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _refused(boundedjson.too_large(declared, max_bytes))
    data = request.stream.read(max_bytes + 1)
    try:
        return boundedjson.loads(data, max_bytes=max_bytes)
    except boundedjson.JsonRefused as exc:
        raise _refused(exc) from None


def _refused(exc: boundedjson.JsonRefused) -> Problem:
    status = 413 if exc.code == "json.too_large" else 400
    code = {"json.too_large": "request.too_large", "json.too_deep": "request.too_deep"}
    problem = Problem(status, code.get(exc.code, "request.invalid_json"), exc.message_en, exc.message_vi)
    if "limit" in exc.evidence:
        problem.extra["limit"] = exc.evidence["limit"]
    return problem


# -- upload --------------------------------------------------------------------------------------
@require(TokenScope.SUBMIT)
def create() -> Response:
    """Open an upload session; the same Idempotency-Key with the same body returns the same one."""
    caller = authenticate()
    body = json_body(uploads().limits.max_plan_bytes)
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        raise Problem(
            400,
            "request.invalid_json",
            "The body must be a JSON object with a 'metadata' object.",
            "Nội dung phải là một đối tượng JSON có trường 'metadata'.",
        )
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise Problem(
            400, "request.idempotency_key",
            "Idempotency-Key must be 1–200 characters among A–Z, a–z, 0–9, '_', '.', ':' and '-'.",
            "Idempotency-Key phải dài từ 1 đến 200 ký tự, chỉ gồm A–Z, a–z, 0–9, '_', '.', ':' và '-'.",
        )  # fmt: skip
    status, created = uploads().open(
        caller.agency_id, body["metadata"], actor=caller.agent, token_id=caller.token_id, idempotency_key=key
    )
    response = _render(status.id, 201 if created else 200, chunk_size=uploads().limits.chunk_size)
    response.headers["Location"] = url_for("api.show", sid=status.id)
    return response


class _Body:
    """``request.stream`` whose early end raises UploadInterrupted (werkzeug's error is HTTP-only)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self.stream.read(n)
        except ClientDisconnected:
            raise UploadInterrupted(
                "Kết nối bị ngắt giữa chừng; hãy gửi tiếp từ vị trí hiện tại.",
                "The client disconnected mid-chunk; resume from the current offset.",
            ) from None


def _content_range() -> tuple[int | None, int | None, int | None]:
    """(start, length, total) from Content-Range and Content-Length; start None = whole file."""
    length = request.content_length
    header = request.headers.get("Content-Range")
    if header is None:
        return None, length, None
    match = _RANGE.match(header.strip())
    if match is None:
        raise UploadRangeInvalid(
            "Content-Range phải có dạng 'bytes đầu-cuối/tổng'.",
            "Content-Range must be 'bytes start-end/total'.",
        )
    start, end = int(match[1]), int(match[2])
    total = None if match[3] == "*" else int(match[3])
    if end < start or (total is not None and end >= total):
        raise UploadRangeInvalid("Content-Range không hợp lệ.", "Content-Range is not a valid range.")
    if length is not None and length != end - start + 1:
        raise UploadRangeInvalid(
            "Content-Length khác độ dài trong Content-Range.",
            "Content-Length differs from the Content-Range length.",
        )
    return start, end - start + 1, total


def _file_response(sid: str, f: FileStatus, status: int = 200) -> Response:
    response = jsonify(_file_json(sid, f))
    response.status_code = status
    response.headers["Upload-Offset"] = str(f.received_bytes)
    if f.expected_size is not None:
        response.headers["Upload-Length"] = str(f.expected_size)
    response.headers["Cache-Control"] = "no-store"
    return response


@require(TokenScope.SUBMIT)
def put_file(sid: str, path: str) -> Response:
    """Receive a file or one chunk of it, streamed to disk 1 MiB at a time."""
    caller = authenticate()
    start, length, total = _content_range()
    status = uploads().write(
        sid, caller.agency_id, path, _Body(request.stream), start=start, length=length, total=total
    )
    return _file_response(sid, status)


@require(TokenScope.SUBMIT)
def file_offset(sid: str, path: str) -> Response:
    """How much of a file has arrived (``Upload-Offset``): where to resume. Also answers HEAD."""
    caller = authenticate()
    return _file_response(sid, uploads().file_status(sid, caller.agency_id, path))


@require(TokenScope.SUBMIT)
def finalise(sid: str) -> Response:
    """Hand the upload to intake and validate it now (synchronously); idempotent."""
    caller = authenticate()
    result: IngestResult = uploads().finalise(sid, caller.agency_id, actor=caller.agent)
    return _render(sid, 200, receipt=result.receipt)


@require(TokenScope.SUBMIT)
def withdraw(sid: str) -> Response:
    """Withdraw (thu hồi) before acceptance; 409 once accepted, archived or rejected."""
    caller = authenticate()
    body = json_body(MAX_SMALL_BODY)
    reason = str(body.get("reason") or "")[:500] if isinstance(body, dict) else ""
    upload, sub = _load(sid, caller.agency_id)
    if upload is not None:
        uploads().withdraw(sid, caller.agency_id, actor=caller.agent, reason=reason)
    elif sub is not None and sub.state is not SubmissionState.WITHDRAWN:
        services().ingest.withdraw(sub.id, actor=caller.agent, reason=reason)
    return _render(sid)


# -- reading -------------------------------------------------------------------------------------
@require(TokenScope.READ_OWN)
def show(sid: str) -> Response:
    """State, findings (vi/en) and reasons of one of the agency's submissions."""
    return _render(sid)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not (low <= int(raw) <= high):
        raise Problem(
            400, "request.invalid_parameter", f"'{name}' must be an integer from {low} to {high}.",
            f"'{name}' phải là số nguyên từ {low} đến {high}.", parameter=name,
        )  # fmt: skip
    return int(raw)


@require(TokenScope.READ_OWN)
def list_submissions() -> Response:
    """The agency's own submissions, newest first: ``state``, ``since`` (ISO 8601), pages."""
    caller = authenticate()
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", 20, 1, MAX_PER_PAGE)
    q = select(Submission).where(Submission.agency_id == caller.agency_id)
    state = request.args.get("state")
    if state is not None:
        if state not in {s.value for s in SubmissionState}:
            raise Problem(
                400, "request.invalid_parameter", f"Unknown state {state!r}.",
                f"Trạng thái {state!r} không tồn tại.", parameter="state",
            )  # fmt: skip
        q = q.where(Submission.state == SubmissionState(state))
    since = request.args.get("since")
    if since is not None:
        try:
            q = q.where(Submission.received_at >= as_utc(datetime.fromisoformat(since)))
        except ValueError:
            raise Problem(
                400, "request.invalid_parameter", "'since' must be an ISO 8601 date or time.",
                "'since' phải là ngày giờ theo ISO 8601.", parameter="since",
            ) from None  # fmt: skip
    with services().session() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = s.scalars(
            q.order_by(Submission.received_at.desc(), Submission.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        uploads_of = dict(
            s.execute(
                select(ApiUpload.submission_id, ApiUpload.id).where(
                    ApiUpload.submission_id.in_([r.id for r in rows])
                )
            ).all()
        )
        items = [_view(uploads_of.get(r.id, r.id), None, r) for r in rows]
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    links: dict[str, str | None] = {
        "self": url_for("api.list_submissions", page=page, per_page=per_page, **args),
        "next": url_for("api.list_submissions", page=page + 1, per_page=per_page, **args)
        if page * per_page < total
        else None,
        "prev": url_for("api.list_submissions", page=page - 1, per_page=per_page, **args)
        if page > 1
        else None,
    }
    return jsonify(total=total, page=page, per_page=per_page, items=items, links=links)


__all__ = ["IDEMPOTENCY_KEY", "MAX_PAGE", "MAX_PER_PAGE", "UPLOADING", "register"]


# -- edXML (QCVN 102:2016) -----------------------------------------------------------------------
EDXML_TYPES = frozenset({"application/xml", "text/xml", "application/octet-stream"})


class _Prefetched:
    """A body whose first chunk is read ahead (to refuse an empty one before anything is staged)."""

    def __init__(self, body: _Body) -> None:
        self.body = body
        self.first = body.read(1 << 20)

    def read(self, n: int = -1, /) -> bytes:
        if self.first:
            out, self.first = self.first, b""
            return out
        return self.body.read(n)


@require(TokenScope.SUBMIT)
def submit_edxml() -> Response:
    """One edXML message as the request body: received, checked and answered in one call."""
    caller = authenticate()
    if request.mimetype not in EDXML_TYPES:
        raise Problem(
            415, "request.media_type", "Send the edXML message as application/xml (or text/xml, application/octet-stream).",
            "Gửi thông điệp edXML với kiểu application/xml (hoặc text/xml, application/octet-stream).",
        )  # fmt: skip
    body = _Prefetched(_Body(request.stream))
    if not body.first:
        raise Problem(
            400, "request.empty_body", "The request body must be one edXML message.",
            "Thân yêu cầu phải là một thông điệp edXML.",
        )  # fmt: skip
    result = services().ingest.ingest_edxml_stream(body, caller.agency_code, actor=caller.agent)
    response = _render(result.submission_id, 201, receipt=result.receipt)
    response.headers["Location"] = url_for("api.edxml_status", sid=result.submission_id)
    return response


@require(TokenScope.READ_OWN)
def edxml_status(sid: str) -> Response:
    """The edXML status message answering message ``?message=N`` (from 0) of a submission."""
    caller = authenticate()
    _load(sid, caller.agency_id)  # the agency's own submission, or 404
    answers = services().ingest.result(sid).edxml_status
    index = _int_arg("message", 0, 0, 10_000)
    if index >= len(answers):
        raise Problem(
            404, "edxml.no_status", "This submission has no edXML message with that number.",
            "Lần nộp này không có thông điệp edXML với số thứ tự đó.",
        )  # fmt: skip
    return Response(answers[index].xml, mimetype="application/xml")
