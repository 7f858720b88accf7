"""Flask app factory. Importing this module opens no database and starts no thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, jsonify, redirect, url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from luutru.api import init_api
from luutru.config import Settings
from luutru.services import Services, secret_key
from luutru.web import (
    admin,
    admin_settings,
    console,
    disposal_views,
    ingest_views,
    portal,
    preservation_views,
    reading,
    records,
    registers,
    search_views,
)
from luutru.web.auth import TokenBucket, init_auth
from luutru.web.errors import register_error_handlers
from luutru.web.i18n import init_i18n

HERE = Path(__file__).resolve().parent

# No inline script or style anywhere: htmx's indicator styles are switched off in base.html.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    login_limiter: TokenBucket | None = None,
) -> Flask:
    """Build the web app: console, portal, sign-in, error pages, security headers, languages."""
    settings = settings or Settings.load()
    services = services or Services.build(settings)
    app = Flask(
        "luutru",
        root_path=str(HERE),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="luutru_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=None,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which expires itself
        WTF_CSRF_HEADERS=["X-CSRFToken"],
    )
    app.extensions["luutru"] = services
    CSRFProtect(app)
    init_i18n(app, settings.data_dir)
    init_auth(
        app,
        settings.session_minutes,
        login_limiter
        or TokenBucket(
            capacity=settings.login_attempts_per_minute, per_minute=settings.login_attempts_per_minute
        ),
        session_max_hours=settings.session_max_hours,
    )
    app.register_blueprint(console.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(disposal_views.bp)
    app.register_blueprint(reading.bp)
    app.register_blueprint(admin_settings.bp)
    app.register_blueprint(ingest_views.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(registers.bp)
    app.register_blueprint(search_views.bp)
    app.register_blueprint(preservation_views.bp)
    register_error_handlers(app)
    init_api(app)  # REST API at /api/v1: token auth, CSRF-exempt, problem+json errors
    app.after_request(_security_headers)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and readiness: the catalog answers."""
        svc: Services = current_app.extensions["luutru"]
        with svc.session() as s:
            s.execute(text("SELECT 1"))
        return jsonify(status="ok", catalog=svc.engine.dialect.name)

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("portal.home"))

    return app


def services() -> Services:
    svc: Services = current_app.extensions["luutru"]
    return svc


__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "create_app", "services"]
