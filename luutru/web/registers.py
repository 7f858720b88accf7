"""Registers in the console: mục lục hồ sơ (per agency and year) and mục lục văn bản trong hồ sơ,
downloaded as PDF or XLSX. Built by ``luutru.registers``; every printed register is a
``printing`` event. Only dossiers the actor may see (``policies.access``) are listed.
"""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, abort, render_template, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive import events
from archive.catalog import Agency, Dossier, EventType, Role
from archive.errors import NotFound
from archive.vntime import vn_today
from luutru.registers import Register, document_register, dossier_register, write_register
from luutru.web.auth import current_actor, requires, web_services
from luutru.web.portal import facts
from policies.access import can_see_metadata

bp = Blueprint("registers", __name__, url_prefix="/console/registers")

STAFF = (Role.ARCHIVIST, Role.AUDITOR, Role.ADMINISTRATOR)
MIME = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/")
@requires(*STAFF)
def index() -> ResponseReturnValue:
    with web_services().session() as s:
        agencies = list(s.scalars(select(Agency).order_by(Agency.code)))
    return render_template("registers/index.html", agencies=agencies, year=vn_today().year)


def _send(register: Register, fmt: str, name: str, object_id: str) -> ResponseReturnValue:
    """Write the register to a temporary file, record the printing, stream the file."""
    svc = web_services()
    tmp_dir = svc.settings.data_dir / "cache" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, suffix=f".{fmt}")
    os.close(fd)
    try:
        with open(tmp, "wb") as out:
            write_register(register, fmt, out)
        handle = open(tmp, "rb")  # noqa: SIM115 - closed by the response after streaming
    finally:
        os.unlink(tmp)  # the open handle keeps the bytes until the response closes it
    actor = current_actor()
    with svc.sessions.begin() as s:
        events.record(
            s, EventType.PRINTING, object_type="register", object_id=object_id,
            agent=events.Agent.person(actor.username or "-"),
            detail=f"{register.title} {register.subtitle} ({fmt}, {len(register.rows)} rows)".strip(),
        )  # fmt: skip
    return send_file(handle, mimetype=MIME[fmt], as_attachment=True, download_name=name)


@bp.get("/dossiers.<fmt>")
@requires(*STAFF)
def dossiers(fmt: str) -> ResponseReturnValue:
    agency = request.args.get("agency", "").strip()
    year_text = request.args.get("year", "").strip()
    if fmt not in MIME or not agency or (year_text and not year_text.isdigit()):
        abort(400)
    year = int(year_text) if year_text else None
    actor = current_actor()
    with web_services().session() as s:

        def visible(d: Dossier) -> bool:
            return can_see_metadata(actor, facts(s, d)).allowed

        try:
            register = dossier_register(s, agency, year=year, visible=visible)
        except NotFound:
            abort(404)
    name = f"muc-luc-ho-so-{agency}-{year or 'all'}.{fmt}"
    return _send(register, fmt, name, f"dossiers:{agency}:{year or 'all'}")


@bp.get("/dossiers/<code>/documents.<fmt>")
@requires(*STAFF)
def documents(code: str, fmt: str) -> ResponseReturnValue:
    if fmt not in MIME:
        abort(400)
    actor = current_actor()
    with web_services().session() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == code))
        if dossier is None or not can_see_metadata(actor, facts(s, dossier)).allowed:
            abort(404)
        try:
            register = document_register(s, code)
        except NotFound:
            abort(404)
    return _send(register, fmt, f"muc-luc-van-ban-{code}.{fmt}", f"documents:{code}")


__all__ = ["MIME", "bp"]
