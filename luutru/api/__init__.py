"""The REST API for agencies, mounted at ``/api/v1``: token auth, problem+json errors, OpenAPI 3.1.

``init_api(app)`` is the one call the app factory makes. Tokens, not cookies, authenticate the
API, so it is exempt from CSRF.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from luutru.api import records, submissions
from luutru.api.auth import ApiState, RateLimiter, log_call, services
from luutru.api.docs_page import render_docs
from luutru.api.openapi import openapi_document
from luutru.api.problems import attach_problem_handlers, route_app_errors
from luutru.ratelimit import TokenBucket

bp = Blueprint("api", __name__, url_prefix="/api/v1")
submissions.register(bp)
records.register(bp)
attach_problem_handlers(bp)
bp.after_request(log_call)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document (public: it holds no data)."""
    return jsonify(_document(request.script_root + bp.url_prefix if bp.url_prefix else "/api/v1"))


@bp.get("/docs")
def docs_page() -> Response:
    """A browsable page of the API, rendered on the server from the document."""
    return Response(render_docs(_document()), mimetype="text/html")


def _document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The document with this archive's limits (accepted formats, files per submission)."""
    settings = services().settings
    return openapi_document(server_url, formats=settings.accepted_formats, max_files=settings.max_files)


def init_api(app: Flask, limiter: TokenBucket | None = None) -> None:
    """Mount the API on ``app`` (after the web app's error handlers are registered)."""
    app.extensions["luutru.api"] = ApiState(limiter=limiter or RateLimiter())
    csrf: Any = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    app.register_blueprint(bp)
    route_app_errors(app)


__all__ = ["ApiState", "RateLimiter", "bp", "init_api"]
