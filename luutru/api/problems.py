"""RFC 9457 problem details (``application/problem+json``) for every API error, in Vietnamese and English.

Services raise their own errors (``archive.errors``, ``ingest.errors``) and know nothing of
HTTP; this module is the one place that maps them to statuses. No stack trace ever leaves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from archive.errors import ArchiveError, Conflict, NotFound, PermissionDenied
from ingest.errors import (
    UploadBusy,
    UploadChecksumMismatch,
    UploadError,
    UploadFormatRefused,
    UploadIncomplete,
    UploadInterrupted,
    UploadOffsetMismatch,
    UploadPathInvalid,
    UploadPlanInvalid,
    UploadRangeInvalid,
    UploadTooLarge,
)

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://luutru.example.vn/problems/"  # + code; documented in docs/api.md
MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/v1"

# status → (title_en, title_vi)
TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "Yêu cầu không hợp lệ"),
    401: ("Unauthorized", "Chưa xác thực"),
    403: ("Forbidden", "Không có quyền"),
    404: ("Not found", "Không tìm thấy"),
    405: ("Method not allowed", "Phương thức không được hỗ trợ"),
    409: ("Conflict", "Xung đột trạng thái"),
    413: ("Content too large", "Dữ liệu quá lớn"),
    415: ("Unsupported media type", "Định dạng không được chấp nhận"),
    422: ("Unprocessable content", "Nội dung không xử lý được"),
    429: ("Too many requests", "Quá nhiều yêu cầu"),
    500: ("Internal server error", "Lỗi máy chủ"),
    501: ("Not implemented", "Chưa hỗ trợ"),
    503: ("Service unavailable", "Dịch vụ tạm thời không sẵn sàng"),
}

# Most specific first: the first class the error is an instance of wins.
UPLOAD_STATUS: tuple[tuple[type[UploadError], int], ...] = (
    (UploadPathInvalid, 400),
    (UploadRangeInvalid, 400),
    (UploadInterrupted, 400),
    (UploadOffsetMismatch, 409),
    (UploadBusy, 409),
    (UploadIncomplete, 409),
    (UploadTooLarge, 413),
    (UploadFormatRefused, 415),
    (UploadChecksumMismatch, 422),
    (UploadPlanInvalid, 422),
    (UploadError, 400),
)


class Problem(Exception):
    """Raise to answer with a problem document; ``extra`` members are added to the body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail_en: str,
        detail_vi: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail_en)
        self.status, self.code, self.detail_en, self.detail_vi = status, code, detail_en, detail_vi
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(problem: Problem) -> Response:
    title_en, title_vi = TITLES.get(problem.status, TITLES[500] if problem.status >= 500 else TITLES[400])
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.code,
        "title": title_en,
        "status": problem.status,
        "detail": problem.detail_en,
        "code": problem.code,
        "title_vi": title_vi,
        "detail_vi": problem.detail_vi,
        "instance": request.path,
        **problem.extra,
    }
    response = Response(
        json.dumps(body, ensure_ascii=False, default=str), status=problem.status, mimetype=MEDIA_TYPE
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _upload_error(exc: UploadError) -> Response:
    status = next(code for cls, code in UPLOAD_STATUS if isinstance(exc, cls))
    reserved = {"type", "title", "status", "detail", "code", "headers"}
    extra: dict[str, Any] = {k: v for k, v in exc.evidence.items() if k not in reserved}
    return problem_response(Problem(status, exc.code, exc.message_en, exc.message_vi, **extra))


def _archive_error(exc: ArchiveError) -> Response:
    if isinstance(exc, NotFound):
        return problem_response(
            Problem(404, "not_found", f"No {exc.kind} with this identifier.", f"Không tìm thấy {exc.kind}.")
        )
    if isinstance(exc, PermissionDenied):
        return problem_response(Problem(403, "forbidden", str(exc), "Không có quyền thực hiện."))
    if isinstance(exc, Conflict):
        return problem_response(
            Problem(409, "conflict", str(exc), "Yêu cầu xung đột với trạng thái hiện tại: " + str(exc))
        )
    return _server_error(exc)


def _server_error(exc: Exception) -> Response:
    log.exception("API request failed", extra={"path": request.path, "method": request.method})
    return problem_response(
        Problem(
            500,
            "server_error",
            "The archive could not complete the request; it has been logged.",
            "Kho lưu trữ không hoàn thành được yêu cầu; lỗi đã được ghi nhận.",
        )
    )


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return _server_error(exc)
    title_en, title_vi = TITLES.get(status, TITLES[400])
    headers = {}
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    return problem_response(
        Problem(status, f"http.{status}", title_en + ".", title_vi + ".", headers=headers)
    )


def attach_problem_handlers(bp: Blueprint) -> None:
    """Answer every error raised inside the blueprint's views with problem+json (at import time)."""
    bp.register_error_handler(Problem, problem_response)
    bp.register_error_handler(UploadError, _upload_error)
    bp.register_error_handler(ArchiveError, _archive_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _server_error)


def route_app_errors(app: Flask) -> None:
    """Answer routing errors under /api/v1 with problem+json; leave the web pages' handler alone.

    Routing errors (an unknown path under /api/v1, a wrong method) happen before a blueprint
    is known, so the app-wide HTTPException handler is wrapped: under /api/v1 it answers
    problem+json, elsewhere it calls the handler the web app registered before.
    """
    previous: Callable[[HTTPException], Any] | None = (
        app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
    )

    def routed(exc: HTTPException) -> Any:
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            return _http_error(exc)
        return previous(exc) if previous is not None else exc

    app.register_error_handler(HTTPException, routed)


__all__ = [
    "MEDIA_TYPE",
    "PROBLEM_TYPE",
    "Problem",
    "attach_problem_handlers",
    "problem_response",
    "route_app_errors",
]
