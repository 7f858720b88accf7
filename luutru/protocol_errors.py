"""Requests gunicorn refuses before the app sees them, answered as problem+json (vi/en), not HTML.

gunicorn parses the request line and headers itself and, on a request line over
``limit_request_line`` bytes, a header over ``limit_request_field_size`` or a malformed line,
writes its own HTML page. The archive's clients (and the OpenAPI contract) expect RFC 9457
problem details with Vietnamese text everywhere, so the worker class below writes those
instead; the limits stay in gunicorn, where nothing is buffered beyond them.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from gunicorn import util
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
)
from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger(__name__)

# The documented limits (docs/api.md, the OpenAPI description): gunicorn's largest settable
# values, so no request the OpenAPI document allows (≤ 500 characters of query, ≤ 300 of file
# path, each up to 12 bytes once percent-encoded) comes near them.
MAX_REQUEST_LINE = 8190  # bytes: method, target (path and query) and HTTP version
MAX_HEADER_FIELD = 8190  # bytes of one header line
MAX_HEADER_FIELDS = 100

PROBLEM_TYPE = "https://luutru.example.vn/problems/"

# exception class → (status, reason, code, detail_en, detail_vi)
_REFUSALS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], int, str, str, str, str], ...] = (
    (
        LimitRequestLine, 414, "URI Too Long", "request.line_too_long",
        f"The request line (method, path and query) is longer than {MAX_REQUEST_LINE} bytes.",
        f"Dòng yêu cầu (phương thức, đường dẫn và tham số) dài quá {MAX_REQUEST_LINE} byte.",
    ),
    (
        LimitRequestHeaders, 431, "Request Header Fields Too Large", "request.headers_too_large",
        f"A header is longer than {MAX_HEADER_FIELD} bytes, or there are more than {MAX_HEADER_FIELDS}.",
        f"Một trường tiêu đề dài quá {MAX_HEADER_FIELD} byte, hoặc có quá {MAX_HEADER_FIELDS} trường.",
    ),
    (
        (InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion, InvalidHeader,
         InvalidHeaderName, ObsoleteFolding),
        400, "Bad Request", "request.malformed",
        "The request is not valid HTTP/1.1 (request line or header).",
        "Yêu cầu không đúng giao thức HTTP/1.1 (dòng yêu cầu hoặc trường tiêu đề).",
    ),
)  # fmt: skip

_TITLES_VI = {400: "Yêu cầu không hợp lệ", 414: "Đường dẫn quá dài", 431: "Tiêu đề quá lớn"}


def problem_bytes(status: int, reason: str, code: str, detail_en: str, detail_vi: str) -> bytes:
    """A whole HTTP/1.1 response (connection closed) carrying an application/problem+json body."""
    body = json.dumps(
        {
            "type": PROBLEM_TYPE + code,
            "title": reason,
            "status": status,
            "detail": detail_en,
            "code": code,
            "title_vi": _TITLES_VI[status],
            "detail_vi": detail_vi,
        },
        ensure_ascii=False,
    ).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def refusal_for(exc: BaseException) -> bytes | None:
    """The problem response for a request gunicorn refused while parsing; None for anything else."""
    for classes, status, reason, code, detail_en, detail_vi in _REFUSALS:
        if isinstance(exc, classes):
            return problem_bytes(status, reason, code, detail_en, detail_vi)
    return None


class ProblemThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, answering its own parse-time refusals with problem+json."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        answer = refusal_for(exc)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        peer = addr[0] if addr else ""
        self.log.warning("Invalid request from ip=%s: %s", peer, type(exc).__name__)
        try:
            util.write_nonblock(client, answer)
        except Exception:  # as gunicorn's own handler: the refusal is best effort
            log.debug("client gone before the refusal was written", extra={"peer": peer})


GUNICORN_LIMITS: dict[str, Any] = {
    "limit_request_line": MAX_REQUEST_LINE,
    "limit_request_field_size": MAX_HEADER_FIELD,
    "limit_request_fields": MAX_HEADER_FIELDS,
    "worker_class": f"{__name__}.ProblemThreadWorker",
}

__all__ = ["GUNICORN_LIMITS", "MAX_REQUEST_LINE", "ProblemThreadWorker", "problem_bytes", "refusal_for"]
