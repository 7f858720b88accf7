"""Start-up recovery: submissions a crash or a restart left half-way are taken up again.

The server (``luutru serve`` and ``luutru demo``) and the job worker (``luutru worker``) both run
it when they start; a lock file in the data directory lets one of them do it at a time. The web
server runs it in a process of its own (``python -m luutru.recovery``, the settings on its
stdin), started from the gunicorn master: a fresh interpreter, so nothing of the master (or of
the demo's ingest before it) is inherited, and its validation pool, threads and catalog
connections are its own.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import subprocess
import sys
from datetime import datetime
from pathlib import Path

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


def _recovery_main() -> None:
    """The recovery process: settings (JSON) on stdin, its own services, closed when done."""
    logging.basicConfig(level=logging.INFO)
    data = json.loads(sys.stdin.read())
    started_at = datetime.fromisoformat(data.pop("__started_at"))
    services = Services.build(Settings.from_mapping(data))
    try:
        recover_interrupted(services, received_before=started_at)
    finally:
        services.close()


def start_recovery(settings: Settings) -> subprocess.Popen[bytes]:
    """Start recovery in a fresh process (a new interpreter: nothing of the caller is inherited,
    and nothing of it is registered in the caller, which a gunicorn master is about to fork);
    submissions received from now on are left to the requests that receive them."""
    data = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()}
    data = {k: v for k, v in data.items() if v is not None}
    data["__started_at"] = utcnow().isoformat()
    process = subprocess.Popen([sys.executable, "-m", "luutru.recovery"], stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(json.dumps(data, ensure_ascii=False).encode())
    process.stdin.close()
    return process


if __name__ == "__main__":
    _recovery_main()


__all__ = ["LOCK_NAME", "recover_interrupted", "start_recovery"]
