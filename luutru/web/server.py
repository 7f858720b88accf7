"""Run the app under gunicorn (production-grade WSGI server), configured from Settings."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from luutru.config import Settings
from luutru.protocol_errors import GUNICORN_LIMITS


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings, self.options = settings, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from luutru.web.app import create_app

        return create_app(self.settings)


def run_server(settings: Settings, *, host: str, port: int, workers: int = 2) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "threads": max(2, workers * 2),
        "worker_class": "gthread",
        "timeout": 300,  # large uploads stream through a worker
        "accesslog": "-",
    }
    options.update(GUNICORN_LIMITS)  # documented limits; refusals answered as problem+json
    _Gunicorn(settings, options).run()
