"""Flask app factory. Importing this module opens no database and starts no thread."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from luutru.config import Settings
from luutru.services import Services, secret_key


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or Settings.load()
    services = services or Services.build(settings)
    app = Flask("luutru", template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=None,
    )
    app.extensions["luutru"] = services

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and readiness: the catalog answers."""
        svc: Services = current_app.extensions["luutru"]
        with svc.session() as s:
            s.execute(text("SELECT 1"))
        return jsonify(status="ok", catalog=svc.engine.dialect.name)

    return app


def services() -> Services:
    svc: Services = current_app.extensions["luutru"]
    return svc
