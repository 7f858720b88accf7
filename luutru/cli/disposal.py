"""Retention, appraisal, disposal and legal holds on the command line.

``luutru retention import|due``, ``luutru disposal appraise|open|submit|vote|close|review|decide|
execute|papers|show`` and ``luutru hold place|release|list``. Each acting command takes
``--as USERNAME``; the services check that person's roles, holds and four eyes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import (
    AppraisalDecision,
    CouncilVote,
    DisposalCase,
    Dossier,
    HoldScope,
    Tombstone,
    User,
    Vote,
)
from archive.errors import ArchiveError
from archive.vntime import vn_iso, vn_today
from luutru.cli.context import CliContext, emit_json, pass_ctx
from luutru.disposal_wiring import (
    archive_papers,
    cache_purger,
    documents_by_dossier,
    hashes_by_dossier,
    index_purger,
)
from luutru.disposal_wiring import papers_dir as default_papers_dir
from policies import disposal as svc
from policies import holds
from policies.destruction import execute
from policies.disposal_documents import disposal_file_bundle
from policies.retention import import_schedule, list_due, mark_due

as_option = click.option("--as", "username", required=True, help="Username of the person acting.")
today_option = click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Date to act as of (default: today, +07:00).",
)


@contextmanager
def unit_of_work(ctx: CliContext) -> Iterator[Session]:
    """One transaction; a refused or failed step becomes a clear message and exit status 1."""
    with ctx.services.session() as s:
        try:
            yield s
            s.commit()
        except ArchiveError as exc:
            s.rollback()
            raise click.ClickException(f"Từ chối / refused: {exc}") from exc


def _user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"Không có người dùng / no such user: {username}")
    return user


def _dossier(s: Session, code: str) -> Dossier:
    d = s.scalar(select(Dossier).where(Dossier.code == code))
    if d is None:
        raise click.ClickException(f"Không có hồ sơ / no such dossier: {code}")
    return d


def _case(s: Session, code: str) -> DisposalCase:
    case = s.scalar(select(DisposalCase).where(DisposalCase.code == code))
    if case is None:
        raise click.ClickException(f"Không có hồ sơ hủy / no such disposal case: {code}")
    return case


def _day(value: Any) -> date:
    return value.date() if value is not None else vn_today()


# -- retention --------------------------------------------------------------------------------


@click.group("retention")
def retention_group() -> None:
    """Retention schedules (bảng thời hạn bảo quản) and due dates."""


@retention_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", required=True, help="Schedule code, e.g. TT10-2022.")
@click.option("--name", required=True, help="Schedule name.")
@click.option("--source", default=None, help="Legal basis, e.g. 'TT 10/2022/TT-BNV'.")
@as_option
@pass_ctx
def retention_import(
    ctx: CliContext, file: Path, code: str, name: str, source: str | None, username: str
) -> None:
    """Import a schedule from CSV or XLSX; an unchanged file makes no new version."""
    from policies.errors import ScheduleImportError

    with ctx.services.session() as s:
        try:
            result = import_schedule(s, _user(s, username), file, code, name, source=source)
        except ScheduleImportError as exc:
            for f in exc.findings:
                click.echo(f"error {f.code}\n        {f.message_vi}\n        {f.message_en}", err=True)
            raise click.ClickException(str(exc)) from exc
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
        s.commit()
        sch = result.schedule
        verb = "Đã nhập / imported" if result.created else "Không đổi / unchanged"
        click.echo(
            f"{verb}: {sch.code} version {sch.version}, {len(sch.rules)} rules, sha256 {sch.content_sha256}"
        )


@retention_group.command("due")
@click.option("--json", "as_json", is_flag=True)
@click.option("--mark", is_flag=True, help='Mark due dossiers "Xem xét hủy" (the daily job).')
@today_option
@pass_ctx
def retention_due(ctx: CliContext, as_json: bool, mark: bool, today: Any) -> None:
    """List dossiers whose retention period has ended (and those held or without an end date)."""
    with unit_of_work(ctx) as s:
        report = mark_due(s, _day(today)) if mark else list_due(s, _day(today))
    if as_json:
        emit_json(report.to_json())
        return
    for e in report.due:
        click.echo(f"due      {e.code}  {e.due_date}  [{e.maintenance}]  {e.title}")
    for e in report.held:
        click.echo(f"held     {e.code}  hold #{e.hold_id}  {e.title}")
    for e in report.missing_end_date:
        click.echo(f"no date  {e.code}  {e.title}")
    click.echo(
        f"{len(report.due)} due, {len(report.held)} held, {len(report.missing_end_date)} without end date"
        + (f", {report.marked} marked" if mark else "")
    )


# -- disposal ---------------------------------------------------------------------------------


@click.group("disposal")
def disposal_group() -> None:
    """Appraisal and lawful disposal: case, council, review, decision, destruction."""


@disposal_group.command("appraise")
@click.argument("dossier_code")
@click.option("--decision", type=click.Choice([d.value for d in AppraisalDecision]), required=True)
@click.option("--reason", required=True)
@click.option("--years", "new_years", type=int, default=None, help="New period (keep, extend).")
@as_option
@today_option
@pass_ctx
def disposal_appraise(
    ctx: CliContext,
    dossier_code: str,
    decision: str,
    reason: str,
    new_years: int | None,
    username: str,
    today: Any,
) -> None:
    """Appraise a dossier: keep (with a new period), extend, or propose for disposal."""
    with unit_of_work(ctx) as s:
        a = svc.appraise(
            s, _dossier(s, dossier_code), _user(s, username), decision, reason, new_years, today=_day(today)
        )
        click.echo(f"appraisal #{a.id}: {dossier_code} → {a.decision.value}")


@disposal_group.command("open")
@click.argument("dossier_codes", nargs=-1, required=True)
@click.option("--title", required=True)
@click.option("--note", "explanatory_note", required=True, help="Bản thuyết minh.")
@as_option
@pass_ctx
def disposal_open(
    ctx: CliContext, dossier_codes: Sequence[str], title: str, explanatory_note: str, username: str
) -> None:
    """Open a disposal case listing the proposed dossiers (danh mục tài liệu hết giá trị)."""
    with unit_of_work(ctx) as s:
        dossiers = [_dossier(s, c) for c in dossier_codes]
        case = svc.open_case(s, _user(s, username), title, dossiers, explanatory_note)
        click.echo(case.code)


def _case_step(name: str, helptext: str, step: Callable[[Session, DisposalCase, User], object]) -> None:
    @disposal_group.command(name, help=helptext)
    @click.argument("case_code")
    @as_option
    @pass_ctx
    def command(ctx: CliContext, case_code: str, username: str) -> None:
        with unit_of_work(ctx) as s:
            case = _case(s, case_code)
            step(s, case, _user(s, username))
            click.echo(f"{case.code}: {case.state.value}")


_case_step("submit", "Submit a case to the council (DRAFT → COUNCIL).", svc.submit_to_council)
_case_step(
    "close", "Conclude the council with the votes cast (majority of those who voted).", svc.close_council
)


@disposal_group.command("vote")
@click.argument("case_code")
@click.option("--vote", "ballot", type=click.Choice([v.value for v in Vote]), required=True)
@click.option("--opinion", default=None, help="Kept word for word (dissent goes into the biên bản).")
@as_option
@pass_ctx
def disposal_vote(ctx: CliContext, case_code: str, ballot: str, opinion: str | None, username: str) -> None:
    """Cast one council member's vote."""
    with unit_of_work(ctx) as s:
        case = _case(s, case_code)
        svc.vote(s, case, _user(s, username), ballot, opinion)
        click.echo(f"{case.code}: {case.state.value}")


@disposal_group.command("review")
@click.argument("case_code")
@click.option("--reference", required=True, help="Số, ký hiệu of the văn bản thẩm định.")
@click.option("--opinion", required=True)
@click.option("--approved/--rejected", required=True)
@as_option
@pass_ctx
def disposal_review(
    ctx: CliContext, case_code: str, reference: str, opinion: str, approved: bool, username: str
) -> None:
    """Record the thẩm định of the competent body."""
    with unit_of_work(ctx) as s:
        case = _case(s, case_code)
        svc.record_review(s, case, _user(s, username), reference, opinion, approved)
        click.echo(f"{case.code}: {case.state.value}")


@disposal_group.command("decide")
@click.argument("case_code")
@click.option("--reference", required=True, help="Số, ký hiệu of the quyết định hủy.")
@click.option("--reject", is_flag=True, help="Decide not to destroy.")
@as_option
@today_option
@pass_ctx
def disposal_decide(
    ctx: CliContext, case_code: str, reference: str, reject: bool, username: str, today: Any
) -> None:
    """Record the decision; the decider needs the decider role and must not be the proposer."""
    with unit_of_work(ctx) as s:
        case = _case(s, case_code)
        svc.decide(
            s,
            case,
            _user(s, username),
            reference,
            deadline_days=ctx.settings.disposal_deadline_days,
            approve=not reject,
            today=_day(today),
        )
        click.echo(f"{case.code}: {case.state.value}, deadline {case.deadline}")


@disposal_group.command("execute")
@click.argument("case_code")
@click.option(
    "--papers",
    "papers_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the biên bản, danh mục and quyết định here (default: <data_dir>/disposal/<case>).",
)
@as_option
@today_option
@pass_ctx
def disposal_execute(
    ctx: CliContext, case_code: str, papers_dir: Path | None, username: str, today: Any
) -> None:
    """Destroy the case's dossiers on every replica and index; resumable; then write the papers."""
    with ctx.services.session() as s:
        case, actor = _case(s, case_code), _user(s, username)
        purge_index = index_purger(ctx.settings, documents_by_dossier(s, case))
        purge_cache = cache_purger(ctx.settings, hashes_by_dossier(s, case))
    try:
        report = execute(
            ctx.services.sessions,
            case,
            actor,
            ctx.services.replicas,
            purge_index,
            _day(today),
            purge_derivatives=purge_cache,
        )
    except ArchiveError as exc:
        raise click.ClickException(f"Từ chối / refused: {exc}") from exc
    with unit_of_work(ctx) as s:
        out = papers_dir or default_papers_dir(ctx.settings, case_code)
        paths = disposal_file_bundle(s, _case(s, case_code), out)
        case_id = _case(s, case_code).id
    click.echo(
        f"{case_code}: destroyed {', '.join(report.destroyed) or '—'}" + (" (LATE)" if report.late else "")
    )
    for p in paths:
        click.echo(f"  {p}")
    kept = archive_papers(ctx.services, case_id, paths, actor_name=username)
    click.echo(f"papers archived as dossier {kept.dossier_code}: {kept.status}")


@disposal_group.command("papers")
@click.argument("case_code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@pass_ctx
def disposal_papers(ctx: CliContext, case_code: str, out_dir: Path) -> None:
    """Write the case's papers (PDF, XLSX) at its current stage."""
    with unit_of_work(ctx) as s:
        for p in disposal_file_bundle(s, _case(s, case_code), out_dir):
            click.echo(str(p))


@disposal_group.command("show")
@click.argument("case_code")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def disposal_show(ctx: CliContext, case_code: str, as_json: bool) -> None:
    """Show a case: state, dossiers, votes (with opinions), review, decision, tombstones."""
    with ctx.services.session() as s:
        case = _case(s, case_code)
        names = {u.id: u.username for u in s.scalars(select(User))}
        votes = s.scalars(select(CouncilVote).where(CouncilVote.case_id == case.id).order_by(CouncilVote.id))
        tombs = {
            t.dossier_id for t in s.scalars(select(Tombstone).where(Tombstone.disposal_case_id == case.id))
        }
        data = {
            "code": case.code,
            "title": case.title,
            "state": case.state.value,
            "proposed_by": names.get(case.proposed_by),
            "explanatory_note": case.explanatory_note,
            "dossiers": [
                {"code": d.code, "title": d.title, "state": d.state.value, "tombstone": d.id in tombs}
                for d in svc.case_dossiers(s, case)
            ],
            "votes": [
                {"member": names.get(v.user_id), "vote": v.vote.value, "opinion": v.opinion} for v in votes
            ],
            "council_outcome": case.council_outcome,
            "review": {"reference": case.review_reference, "opinion": case.review_opinion},
            "decision": {
                "reference": case.decision_reference,
                "by": names.get(case.decided_by or 0),
                "at": vn_iso(case.decided_at) or None,
                "deadline": case.deadline,
            },
            "executed_at": vn_iso(case.executed_at) or None,
            "documents": case.documents,
        }
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:17} {value}")


# -- legal holds ------------------------------------------------------------------------------


@click.group("hold")
def hold_group() -> None:
    """Legal holds: stop appraisal and disposal (inspection, litigation)."""


@hold_group.command("place")
@click.option("--scope", type=click.Choice([h.value for h in HoldScope]), required=True)
@click.option(
    "--id", "scope_id", type=int, default=None, help="Id of the agency, fonds, dossier or document."
)
@click.option("--dossier", "dossier_code", default=None, help="Dossier code (for --scope dossier).")
@click.option("--kind", required=True, help="inspection, litigation, …")
@click.option("--reason", required=True)
@click.option("--reference", default=None, help="The document ordering the hold.")
@as_option
@pass_ctx
def hold_place(
    ctx: CliContext,
    scope: str,
    scope_id: int | None,
    dossier_code: str | None,
    kind: str,
    reason: str,
    reference: str | None,
    username: str,
) -> None:
    """Place a legal hold."""
    with unit_of_work(ctx) as s:
        if dossier_code is not None:
            scope_id = _dossier(s, dossier_code).id
        if scope_id is None:
            raise click.UsageError("give --id or --dossier")
        hold = holds.place_hold(s, _user(s, username), scope, scope_id, kind, reason, reference)
        click.echo(f"hold #{hold.id} on {scope} {scope_id}")


@hold_group.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True)
@as_option
@pass_ctx
def hold_release(ctx: CliContext, hold_id: int, reason: str, username: str) -> None:
    """Release a legal hold."""
    with unit_of_work(ctx) as s:
        holds.release_hold(s, _user(s, username), hold_id, reason)
        click.echo(f"hold #{hold_id} released")


@hold_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def hold_list(ctx: CliContext, as_json: bool) -> None:
    """List active holds."""
    with ctx.services.session() as s:
        rows = [
            {
                "id": h.id,
                "scope": h.scope.value,
                "scope_id": h.scope_id,
                "kind": h.kind,
                "reason": h.reason,
                "reference": h.reference,
                "placed_at": vn_iso(h.created_at),
            }
            for h in holds.active_holds(s)
        ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"#{r['id']} {r['scope']} {r['scope_id']} {r['kind']}: {r['reason']} ({r['reference'] or '—'})"
        )


def register(cli: click.Group) -> None:
    for group in (retention_group, disposal_group, hold_group):
        cli.add_command(group)
