"""Error pages in both languages, and the map from archive errors to HTTP statuses.

Errors raised by the services know nothing of HTTP; this module decides what the browser sees.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from archive.errors import ArchiveError, Conflict, NotFound, PermissionDenied

log = logging.getLogger(__name__)

# Most specific first: the first base class the error is an instance of wins.
STATUS_FOR: tuple[tuple[type[ArchiveError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (ArchiveError, 500),
)


def _page(status: int, title: str, message: str) -> ResponseReturnValue:
    return render_template("error.html", status=status, title=title, message=message), status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if status == 403:
        return _page(403, _("Access denied"), _("You do not have permission to open this page."))
    if status == 404:
        return _page(404, _("Not found"), _("The page or record you asked for does not exist."))
    if status == 405:
        return _page(405, _("Method not allowed"), _("This address does not accept that request."))
    if status == 429:
        return _page(429, _("Too many requests"), _("Wait a minute and try again."))
    return _page(status, _("Request refused"), _("The request could not be handled."))


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    log.info("CSRF check failed", extra={"reason": exc.description})
    return _page(
        400,
        _("The form has expired"),
        _("The security token of the form is missing or invalid. Go back, reload the page and try again."),
    )


def _archive_error(exc: ArchiveError) -> ResponseReturnValue:
    status = next(code for cls, code in STATUS_FOR if isinstance(exc, cls))
    if status >= 500:
        log.exception("archive error at the request boundary")
        return _page(status, _("Something went wrong"), _("The archive could not complete the request."))
    if status == 404:
        return _http_error_status(404)
    if status == 403:
        return _http_error_status(403)
    return _page(409, _("Conflict"), str(exc))


def _http_error_status(status: int) -> ResponseReturnValue:
    exc = HTTPException()
    exc.code = status
    return _http_error(exc)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ArchiveError, _archive_error)


__all__ = ["STATUS_FOR", "register_error_handlers"]
