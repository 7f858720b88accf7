"""Administration additions: trust anchors, retention schedules, storage replicas, office hours.

Administrator only. Imports go through the services (``ingest.checks.import_certificate``,
``policies.retention.import_schedule``) and leave events. Office hours and holidays are read from
``Settings`` (``luutru.toml``); the page shows the lines to change rather than editing the file.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from archive import events
from archive.catalog import CopyStatus, EventType, FileCopy, RetentionSchedule, Role, StoredFile, User
from archive.vntime import VN_TZ
from ingest.checks import import_certificate
from ingest.checks.trust import CERT_SUFFIXES, fingerprint, read_certificate_file
from ingest.errors import TrustStoreError
from ingest.intake import effective_receipt_time
from luutru.web.auth import requires, web_services
from policies.errors import PolicyError, ScheduleImportError
from policies.retention import import_schedule

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")

MAX_UPLOAD = 5 * 1024 * 1024  # certificates and schedules are small


def _save_upload(upload: FileStorage | None, folder: Path) -> Path | None:
    """Stream an uploaded file to ``folder`` (1 MiB chunks, bounded); None when absent or too large."""
    if upload is None or not upload.filename:
        return None
    suffix = Path(upload.filename).suffix.lower()[:8]
    target = folder / f"upload{suffix}"
    written = 0
    with target.open("wb") as fh:
        while chunk := upload.stream.read(1 << 20):
            written += len(chunk)
            if written > MAX_UPLOAD:
                return None
            fh.write(chunk)
    return target


def _event(detail: str, object_type: str, object_id: str, data: dict[str, Any]) -> None:
    with web_services().sessions.begin() as s:
        events.record(
            s,
            EventType.ADMINISTRATION,
            object_type=object_type,
            object_id=object_id,
            agent=events.Agent.person(current_user.username),
            detail=detail,
            data=data,
        )


# -- trust anchors -------------------------------------------------------------------------------


def trust_anchors(folder: Path) -> list[dict[str, Any]]:
    """Every certificate in the trust store with subject, issuer, validity and SHA-256."""
    rows: list[dict[str, Any]] = []
    if not folder.is_dir():
        return rows
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in CERT_SUFFIXES:
            continue
        try:
            certs: list[x509.Certificate] = read_certificate_file(path)
        except TrustStoreError:
            rows.append({"file": path.name, "error": True})
            continue
        for cert in certs:
            rows.append(
                {
                    "file": path.name,
                    "subject": cert.subject.rfc4514_string(),
                    "issuer": cert.issuer.rfc4514_string(),
                    "not_before": cert.not_valid_before_utc,
                    "not_after": cert.not_valid_after_utc,
                    "sha256": fingerprint(cert),
                    "error": False,
                }
            )
    return rows


@bp.get("/trust")
@requires(Role.ADMINISTRATOR)
def trust() -> ResponseReturnValue:
    return render_template(
        "admin_settings/trust.html", anchors=trust_anchors(web_services().settings.trust_path)
    )


@bp.post("/trust")
@requires(Role.ADMINISTRATOR)
def import_trust() -> ResponseReturnValue:
    store = web_services().settings.trust_path
    with tempfile.TemporaryDirectory() as tmp:
        src = _save_upload(request.files.get("certificate"), Path(tmp))
        if src is None:
            flash(_("Choose a certificate file (PEM or DER, at most 5 MiB)."), "error")
            return redirect(url_for("admin_settings.trust"))
        try:
            store.mkdir(parents=True, exist_ok=True)
            digest = import_certificate(src, store)
        except TrustStoreError as exc:
            flash(f"Từ chối: chứng thư không hợp lệ hoặc không phải CA — Refused: {exc}", "error")
            return redirect(url_for("admin_settings.trust"))
    _event("trust anchor imported", "trust_anchor", digest, {"sha256": digest})
    flash(_("Certificate imported. Restart the app servers so new submissions use it."), "info")
    return redirect(url_for("admin_settings.trust"))


# -- retention schedules -------------------------------------------------------------------------


@bp.get("/schedules")
@requires(Role.ADMINISTRATOR)
def schedules() -> ResponseReturnValue:
    with web_services().session() as s:
        rows = s.scalars(
            select(RetentionSchedule).order_by(RetentionSchedule.code, RetentionSchedule.version.desc())
        )
        return render_template("admin_settings/schedules.html", schedules=list(rows))


@bp.post("/schedules")
@requires(Role.ADMINISTRATOR)
def import_schedule_file() -> ResponseReturnValue:
    code, name = request.form.get("code", "").strip()[:50], request.form.get("name", "").strip()[:300]
    source = request.form.get("source", "").strip()[:300] or None
    upload = request.files.get("schedule")
    if (
        not code
        or not name
        or upload is None
        or Path(upload.filename or "").suffix.lower() not in (".csv", ".xlsx")
    ):
        flash(_("Give the schedule code, its name and a CSV or XLSX file."), "error")
        return redirect(url_for("admin_settings.schedules"))
    with tempfile.TemporaryDirectory() as tmp:
        src = _save_upload(upload, Path(tmp))
        if src is None:
            flash(_("Choose a file of at most 5 MiB."), "error")
            return redirect(url_for("admin_settings.schedules"))
        named = src.with_name(Path(upload.filename or "schedule").name)
        src.rename(named)
        with web_services().session() as s:
            try:
                actor = s.get(User, current_user.user_id)
                assert actor is not None
                result = import_schedule(s, actor, named, code, name, source=source)
                s.commit()
            except ScheduleImportError as exc:
                s.rollback()
                for f in exc.findings[:20]:
                    flash(f"{f.code}: {f.message_vi} — {f.message_en}", "error")
                return redirect(url_for("admin_settings.schedules"))
            except PolicyError as exc:
                s.rollback()
                flash(f"Từ chối — Refused: {exc}", "error")
                return redirect(url_for("admin_settings.schedules"))
            version = result.schedule.version
    if result.created:
        flash(_("Schedule %(code)s imported as version %(version)d.", code=code, version=version), "info")
    else:
        flash(_("The file has the same rules as the current version: nothing changed."), "info")
    return redirect(url_for("admin_settings.schedules"))


# -- storage replicas ------------------------------------------------------------------------------


@bp.get("/replicas")
@requires(Role.ADMINISTRATOR)
def replicas() -> ResponseReturnValue:
    services = web_services()
    with services.session() as s:
        query = (
            select(
                FileCopy.replica,
                func.count(FileCopy.id),
                func.coalesce(func.sum(StoredFile.size), 0),
                func.max(FileCopy.last_checked_at),
            )
            .join(StoredFile, FileCopy.file_id == StoredFile.id)
            .where(FileCopy.status != CopyStatus.DELETED)
            .group_by(FileCopy.replica)
        )
        stats = {name: (count, size, checked) for name, count, size, checked in s.execute(query)}
    rows = [{"describe": r.describe(), "stats": stats.get(r.name, (0, 0, None))} for r in services.replicas]
    return render_template("admin_settings/replicas.html", rows=rows)


# -- office hours ----------------------------------------------------------------------------------


@bp.get("/office-hours")
@requires(Role.ADMINISTRATOR)
def office_hours() -> ResponseReturnValue:
    settings = web_services().settings
    raw = request.args.get("at", "").strip()[:30]
    result: datetime | None = None
    error = False
    if raw:
        try:
            at = datetime.fromisoformat(raw)
            at = at.replace(tzinfo=VN_TZ) if at.tzinfo is None else at
            result = effective_receipt_time(
                at,
                office_hours=settings.office_hours,
                office_days=settings.office_days,
                holidays=frozenset(date.fromisoformat(h) for h in settings.holidays),
            )
        except ValueError:
            error = True
    toml_lines = [
        "office_hours = [" + ", ".join(f'"{p}"' for p in settings.office_hours) + "]",
        "office_days = [" + ", ".join(str(d) for d in settings.office_days) + "]  # Monday = 0",
        "holidays = [" + ", ".join(f'"{h}"' for h in settings.holidays) + "]",
    ]
    return render_template(
        "admin_settings/office_hours.html",
        settings=settings,
        at=raw,
        result=result,
        error=error,
        toml_lines=toml_lines,
    )


__all__ = ["bp", "trust_anchors"]
