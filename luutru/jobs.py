"""Scheduled and background jobs (huey): SQLite storage by default, Redis at scale.

``make_huey`` builds the queue and registers every task on it, so nothing happens at import.
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

from archive import events
from archive.audit_service import run_audit
from archive.backup import BackupKind, default_destination, make_backup
from archive.catalog import EventType, Outcome
from archive.vntime import utcnow, vn_today
from luutru import evidence
from luutru.config import Settings
from luutru.services import Services

log = logging.getLogger(__name__)


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    if settings.queue_backend == "redis":
        huey: Huey = RedisHuey(settings.queue_name, url=settings.redis_url, immediate=immediate)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(settings.queue_name, filename=str(settings.queue_path), immediate=immediate)
    register_tasks(huey, settings)
    return huey


def verify_event_chain(services: Services) -> bool:
    """Verify the chain's links and compare it with the signed checkpoints (replicas, backups).

    A broken chain is itself recorded, as a failed check naming the first bad event.
    """
    report = evidence.verify(services)
    if not report.ok:
        data = report.to_json()
        broken = data["broken"] or {}
        log.error("event chain broken", extra={"seq": broken.get("seq"), "reason": broken.get("reason")})
        with services.session() as s, s.begin():
            events.record(
                s,
                EventType.VALIDATION,
                object_type="event_log",
                object_id="chain",
                outcome=Outcome.FAILURE,
                detail=f"event chain broken at seq {broken.get('seq')}: {broken.get('reason')}",
                data=data,
            )
    return report.ok


FIXITY_TIME_LIMIT_S = 50 * 60  # an hourly sweep never runs into the next one


def fixity_sweep(services: Services, *, time_limit_s: float = FIXITY_TIME_LIMIT_S) -> dict[str, Any]:
    """One bounded sweep of the copies due for a check (oldest first), under the I/O budget.

    Stops after ``time_limit_s``; the next sweep resumes from the saved cursor. The budget
    (``fixity_io_budget_mb_s``) keeps reads from starving ingest.
    """
    st = services.settings
    summary = run_audit(
        services.sessions,
        services.replicas,
        mode="due",
        interval_days=st.fixity_interval_days,
        budget_mb_s=st.fixity_io_budget_mb_s,
        time_limit_s=time_limit_s,
        cursor_path=st.data_dir / "fixity-cursor-due.json",
    )
    evidence.anchor(services, "audit")
    data = summary.to_json()
    if not summary.healthy:
        log.error(
            "fixity sweep: unrecoverable copies remain",
            extra={"unrecoverable": data["unrecoverable_remaining"]},
        )
    else:
        log.info("fixity sweep done", extra={"files": data["files"], "repaired": data["repaired"]})
    return data


def purge_sessions(services: Services) -> int:
    """Delete web-session rows that ended (or lapsed) more than 30 days ago."""
    from datetime import timedelta

    from archive.vntime import utcnow
    from luutru import web_sessions

    st = services.settings
    policy = web_sessions.SessionPolicy(
        idle=timedelta(minutes=st.session_minutes), absolute=timedelta(hours=st.session_max_hours)
    )
    with services.session() as s, s.begin():
        return web_sessions.purge(s, policy, utcnow())


def backup_kind(today: date) -> BackupKind:
    """Full on the 1st of the month, incremental on other days (TT 02/2019 Điều 10)."""
    return "full" if today.day == 1 else "incremental"


def nightly_backup(
    services: Services, today: date | None = None, dest_root: Path | None = None
) -> dict[str, Any]:
    """Take tonight's backup: full on the 1st of the month (Vietnam time), else incremental."""
    kind = backup_kind(today or vn_today())
    root = dest_root or services.settings.data_dir / "backups"
    result = make_backup(
        services.sessions,
        services.settings.catalog_url,
        services.replicas,
        default_destination(root, kind),
        kind=kind,
        checkpoints=evidence.writer(services),
    )
    evidence.anchor(services, "backup")
    if not result.ok:
        log.error(
            "backup: metadata without a verifying copy", extra={"missing": result.missing_metadata[:20]}
        )
    return result.to_json()


def on_worker_start(services: Services) -> None:
    """Finish what a crash interrupted: leftovers on each replica, then interrupted ingests
    (those received before now: a server running beside this worker owns newer ones)."""
    from luutru.recovery import recover_interrupted

    recover_interrupted(services, received_before=utcnow())


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

    started = threading.Lock()
    recovered = False

    @huey.on_startup()  # type: ignore[untyped-decorator]
    def recover_on_start() -> None:
        # huey runs start-up hooks in every worker thread: recover once per process.
        nonlocal recovered
        with started:
            if not recovered:
                recovered = True
                on_worker_start(svc())

    @huey.periodic_task(crontab(minute="5"), name="fixity.sweep")  # type: ignore[untyped-decorator]
    def hourly_fixity_sweep() -> dict[str, Any]:
        return fixity_sweep(svc())

    # 19:30 UTC = 02:30 Vietnam time; the task picks full (1st of the month) or incremental.
    @huey.periodic_task(crontab(minute="30", hour="19"), name="backup.nightly")  # type: ignore[untyped-decorator]
    def nightly_backup_task() -> dict[str, Any]:
        return nightly_backup(svc())

    @huey.periodic_task(crontab(), name="search.drain")  # type: ignore[untyped-decorator]
    @huey.lock_task("search-drain")  # type: ignore[untyped-decorator]
    def index_drain() -> int:
        """Every minute: apply queued index updates (text extraction and OCR happen here)."""
        return svc().search.drain(limit=200)

    @huey.periodic_task(crontab(minute="45", hour="18"), name="sessions.purge")  # type: ignore[untyped-decorator]
    def daily_session_purge() -> int:
        """01:45 Vietnam time: drop web-session rows ended more than 30 days ago."""
        return purge_sessions(svc())

    @huey.periodic_task(crontab(minute="5", hour="18"), name="retention.mark_due")  # type: ignore[untyped-decorator]
    def daily_retention() -> dict[str, Any]:
        """01:05 Vietnam time: mark dossiers whose retention ended "Xem xét hủy" (TT 05/2025 Điều 48)."""
        from archive.vntime import vn_today
        from policies.retention import mark_due

        with svc().session() as s, s.begin():
            report = mark_due(s, vn_today())
            return report.to_json()
