"""Console: the format policy (chính sách định dạng bảo quản) — list, holdings by risk, edit.

Administrators edit; archivists see it. Each view parses input, calls one service of
``policies.format_policy`` and renders.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from archive.catalog import FormatAction, FormatRisk, Role, User
from luutru.web.auth import requires, web_services
from policies.errors import FormatPolicyError, PolicyError
from policies.format_policy import TARGETS, TOOLS, policy_overview, save_policy_rows

bp = Blueprint("preservation", __name__, url_prefix="/console/preservation")

FIELDS = ("puid", "format_name", "risk", "action", "target", "tool", "copy_signed")
MAX_ROWS = 500


@bp.get("/policy")
@requires(Role.ADMINISTRATOR, Role.ARCHIVIST)
def policy() -> ResponseReturnValue:
    with web_services().sessions.begin() as s:
        overview = policy_overview(s)
        return render_template(
            "preservation/policy.html",
            overview=overview,
            risks=list(FormatRisk),
            actions=list(FormatAction),
            targets=TARGETS,
            tools=TOOLS,
            can_edit=current_user.has(Role.ADMINISTRATOR),
        )


@bp.post("/policy")
@requires(Role.ADMINISTRATOR)
def save() -> ResponseReturnValue:
    columns = {f: request.form.getlist(f) for f in FIELDS if f != "copy_signed"}
    signed = set(request.form.getlist("copy_signed"))
    count = min(len(columns["puid"]), MAX_ROWS)
    rows: list[dict[str, str | None]] = []
    for i in range(count):
        row: dict[str, str | None] = {f: (columns[f][i] if i < len(columns[f]) else "") for f in columns}
        row["copy_signed"] = "1" if columns["puid"][i].strip() in signed else ""
        rows.append(row)
    note = request.form.get("note", "").strip()[:500] or None
    with web_services().session() as s:
        try:
            actor = s.get(User, current_user.user_id)
            assert actor is not None
            result = save_policy_rows(s, actor, rows, note)
            s.commit()
        except FormatPolicyError as exc:
            s.rollback()
            for f in exc.findings[:20]:
                flash(f"{f.message_vi} — {f.message_en}", "error")
            return redirect(url_for("preservation.policy"))
        except PolicyError as exc:
            s.rollback()
            flash(f"Từ chối — Refused: {exc}", "error")
            return redirect(url_for("preservation.policy"))
        if not result.created:
            flash(_("The policy is the same as the current version: nothing changed."), "info")
        else:
            flash(_("Format policy saved as version %(version)d.", version=result.policy.version), "info")
            if result.affected_dossiers:
                flash(
                    _("Dossiers affected: %(codes)s", codes=", ".join(result.affected_dossiers[:50])),
                    "info",
                )
    return redirect(url_for("preservation.policy"))
