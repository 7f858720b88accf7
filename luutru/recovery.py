"""Start-up recovery: submissions a crash or a restart left half-way are taken up again.

The server (``luutru serve`` and ``luutru demo``) and the job worker (``luutru worker``) both run
it when they start; a lock file in the data directory lets one of them do it at a time. The web
server runs it in a process of its own, started from the gunicorn master with ``spawn`` — a
fresh interpreter, so nothing of the master (or of the demo's ingest before it) is inherited,
and its validation pool, threads and catalog connections are its own.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
from datetime import datetime
from multiprocessing.process import BaseProcess

from archive.vntime import utcnow
from luutru.config import Settings
from luutru.services import Services

log = logging.getLogger(__name__)

LOCK_NAME = "recovery.lock"


def recover_interrupted(services: Services, *, received_before: datetime | None = None) -> list[str] | None:
    """Resume every interrupted submission received before ``received_before``.

    Returns the submissions taken up, or None when another process is recovering this archive.
    """
    lock_path = services.settings.data_dir / LOCK_NAME
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("recovery: another process is recovering this archive")
            return None
        for replica in services.replicas:
            replica.recover()
        resumed = services.ingest.recover(received_before=received_before)
        if resumed:
            log.warning("interrupted submissions resumed: %s", ", ".join(resumed))
        return resumed


def _recovery_main(settings: Settings, started_at: datetime) -> None:
    """The recovery process: its own services, closed when done."""
    logging.basicConfig(level=logging.INFO)
    services = Services.build(settings)
    try:
        recover_interrupted(services, received_before=started_at)
    finally:
        services.close()


def start_recovery(settings: Settings) -> BaseProcess:
    """Start recovery in a fresh (spawned) process; submissions received from now on are left
    to the requests that receive them."""
    process = multiprocessing.get_context("spawn").Process(
        target=_recovery_main, args=(settings, utcnow()), name="luutru-recovery", daemon=False
    )
    process.start()
    return process


__all__ = ["LOCK_NAME", "recover_interrupted", "start_recovery"]
