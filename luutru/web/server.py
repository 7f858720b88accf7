"""Run the app under gunicorn (production-grade WSGI server), configured from Settings.

One worker *process* per core by default (``web_workers``), each with a few threads for slow
clients and long uploads. The app is built in each worker after the fork (no preload), so
every worker opens its own catalog connections, search index and validation pool. Start-up
recovery of interrupted submissions runs from the master in a process of its own.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from luutru.config import Settings
from luutru.protocol_errors import GUNICORN_LIMITS

THREADS_PER_WORKER = 4
GRACEFUL_TIMEOUT_S = 8  # SIGTERM: in-flight requests get this long, then the worker is killed
RECOVERY_STOP_S = 1  # an interrupted recovery is interrupted work again, resumed at the next start


def worker_count(settings: Settings, requested: int | None = None) -> int:
    """Processes to run: ``--workers``, else ``web_workers``, else one per core."""
    return max(1, requested or settings.web_workers or os.cpu_count() or 1)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings, self.options = settings, options
        self.recovery: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("when_ready", self._when_ready)
        self.cfg.set("worker_exit", _worker_exit)
        self.cfg.set("on_exit", self._on_exit)

    def load(self) -> Any:
        from luutru.web.app import create_app

        return create_app(self.settings)

    def _when_ready(self, _arbiter: Any) -> None:
        from luutru.recovery import start_recovery

        self.recovery = start_recovery(self.settings)

    def _on_exit(self, _arbiter: Any) -> None:
        # A recovery still running is stopped: what it was doing is interrupted work again,
        # taken up at the next start.
        if self.recovery is not None and self.recovery.poll() is None:
            self.recovery.terminate()
            try:
                self.recovery.wait(RECOVERY_STOP_S)
            except subprocess.TimeoutExpired:
                self.recovery.kill()


def _worker_exit(_arbiter: Any, worker: Any) -> None:
    """A worker whose requests are done (or abandoned at the graceful timeout) releases what it
    holds — validation pool, search index, catalog connections — and exits at once: tearing
    down a whole interpreter takes seconds on a busy machine and protects nothing more."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("luutru") if app is not None else None
    try:
        if services is not None:
            services.close()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def run_server(settings: Settings, *, host: str, port: int, workers: int | None = None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": worker_count(settings, workers),
        "threads": THREADS_PER_WORKER,
        "worker_class": "gthread",
        "timeout": 300,  # large uploads stream through a worker
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "accesslog": "-",
    }
    options.update(GUNICORN_LIMITS)  # documented limits; refusals answered as problem+json
    _Gunicorn(settings, options).run()
