"""Scheduled and background jobs (huey): SQLite storage by default, Redis at scale.

``make_huey`` builds the queue and registers every task on it, so nothing happens at import.
"""

from __future__ import annotations

import logging

from huey import Huey, RedisHuey, SqliteHuey, crontab

from archive import events
from archive.catalog import EventType, Outcome
from luutru.config import Settings
from luutru.services import Services

log = logging.getLogger(__name__)


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    if settings.queue_backend == "redis":
        huey: Huey = RedisHuey("luutru", url=settings.redis_url, immediate=immediate)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("luutru", filename=str(settings.queue_path), immediate=immediate)
    register_tasks(huey, settings)
    return huey


def verify_event_chain(services: Services) -> bool:
    """Verify the whole event chain; a broken chain is itself recorded (as a failed check)."""
    with services.session() as s, s.begin():
        report = events.verify_chain(s)
        if not report.ok:
            log.error("event chain broken", extra={"seq": report.broken_seq, "reason": report.reason})
            events.record(
                s,
                EventType.VALIDATION,
                object_type="event_log",
                object_id="chain",
                outcome=Outcome.FAILURE,
                detail=f"event chain broken at seq {report.broken_seq}: {report.reason}",
                data=report.to_json(),
            )
        return report.ok


def register_tasks(huey: Huey, settings: Settings) -> None:
    services: Services | None = None

    def svc() -> Services:
        nonlocal services
        if services is None:
            services = Services.build(settings)
        return services

    @huey.periodic_task(crontab(minute="15", hour="1"), name="events.verify")  # type: ignore[untyped-decorator]
    def nightly_chain_check() -> bool:
        return verify_event_chain(svc())
