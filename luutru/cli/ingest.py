"""Ingest from the command line: `luutru ingest PATH`, and the review decisions on submissions."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import closing
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from archive import boundedjson
from archive.errors import ArchiveError, Conflict, NotFound
from archive.events import Agent
from ingest.errors import IngestError
from ingest.intake.edxml import is_edxml, peek_header
from ingest.service import BatchItem, BatchSource, IngestResult
from luutru.cli.context import CliContext, emit_json, pass_ctx
from luutru.cli.records import print_findings

log = logging.getLogger(__name__)

EXIT = {"accepted": 0, "review": 0, "rejected": 1, "withdrawn": 1, "received": 0, "validating": 0}


def _report(result: IngestResult, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_json())
    else:
        print_findings(list(result.findings))
        click.echo(f"submission {result.submission_id}: {result.status} ({result.state.value})")
    sys.exit(EXIT[result.status])


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--agency", "agency_code", default=None, help="Submitting agency code; default: each dossier's own."
)
@click.option("--as", "actor", default=None, help="Username recorded as the submitter.")
@click.option("--json", "as_json", is_flag=True, help="JSON; with several paths one object per line.")
@pass_ctx
def ingest_cmd(
    ctx: CliContext, paths: tuple[Path, ...], agency_code: str | None, actor: str | None, as_json: bool
) -> None:
    """Ingest dossiers (folder, ZIP or BagIt bag), each its own submission — exit 0 when every one is
    accepted or in review, 1 otherwise."""
    if len(paths) > 1:
        _ingest_batch(ctx, paths, agency_code, actor, as_json)
        return
    path = paths[0]
    svc = ctx.services
    code = agency_code or _agency_from(path)
    if code is None:
        _agency_missing([(path, None)], as_json)
    agent = Agent.person(actor) if actor else Agent.organization(code)
    console = Console(stderr=True)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=console, transient=True, disable=as_json or not console.is_terminal,
        ) as bar:  # fmt: skip
            task = bar.add_task("tiếp nhận / receiving", total=None)
            result = svc.ingest.ingest(
                path, code, actor=agent, progress=lambda label: bar.update(task, description=label)
            )
    except Exception as exc:  # the CLI boundary: every failure still gets its documented line
        _report_error(path, None, exc, as_json)
        sys.exit(1)
    _report(result, as_json)


def _ingest_batch(
    ctx: CliContext, paths: tuple[Path, ...], agency_code: str | None, actor: str | None, as_json: bool
) -> None:
    """Several paths: one line per path in the order given (a JSON object with ``--json``).

    The dossiers go through ``IngestService.ingest_many``, which checks the next dossier's files
    while it packages this one; a dossier that fails is reported on its line and the batch goes on."""
    codes = [(path, agency_code or _agency_from(path)) for path in paths]
    if any(code is None for _, code in codes):  # refused before anything is received
        _agency_missing(codes, as_json)
    sources = [
        BatchSource(path, code, Agent.person(actor) if actor else Agent.organization(code))
        for path, code in codes
        if code is not None
    ]
    console = Console(stderr=True)
    all_ok = True
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True, disable=as_json or not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("tiếp nhận / receiving", total=len(sources))

        def show(index: int, label: str) -> None:
            bar.update(task, description=f"{index + 1}/{len(sources)} {sources[index].path.name}: {label}")

        done = 0
        try:
            with closing(ctx.services.ingest.ingest_many(sources, progress=show)) as items:
                for item in items:
                    all_ok = _report_item(item, as_json) and all_ok
                    done += 1
                    bar.advance(task)
        except Exception as exc:  # the CLI boundary: the batch ends, every path left gets its line
            for source in sources[done:]:
                _report_error(source.path, None, exc, as_json)
            all_ok = False
    sys.exit(0 if all_ok else 1)


def _agency_missing(codes: list[tuple[Path, str | None]], as_json: bool) -> NoReturn:
    """Refuse the whole run before anything is received (exit 2): some path names no agency and
    none was given. With ``--json`` every path still gets its line (``ingest.agency_missing`` for
    a path naming no agency, ``ingest.not_received`` for the others), so a script reading stdout
    always learns what happened to each path."""
    unnamed = [str(p) for p, code in codes if code is None]
    message = "--agency CODE is required: the dossier does not name a registered agency"
    if as_json:
        for path, code in codes:
            line = {"source": str(path), "submission": None, "status": "error"}
            if code is None:
                line |= {
                    "code": "ingest.agency_missing",
                    "error": ("hồ sơ không ghi cơ quan nộp đã đăng ký, hãy dùng --agency / " + message),
                }
            else:
                line |= {
                    "code": "ingest.not_received",
                    "error": (
                        "chưa tiếp nhận: một hồ sơ khác trong lần chạy không ghi cơ quan nộp / "
                        "not received: another path of this run names no agency"
                    ),
                }
            click.echo(json.dumps(line, ensure_ascii=False))
        click.echo(f"Error: {message}: {', '.join(unnamed)}", err=True)
        sys.exit(2)
    raise click.UsageError(message + (": " + ", ".join(unnamed) if len(codes) > 1 else ""))


def _report_item(item: BatchItem, as_json: bool) -> bool:
    """Print one source's line; True when it was accepted or is in review."""
    if item.result is not None:
        result = item.result
        if as_json:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False, default=str))
        else:
            print_findings(list(result.findings))
            click.echo(
                f"{item.source}: submission {result.submission_id}: {result.status} ({result.state.value})"
            )
        return result.status in ("accepted", "review")
    _report_error(item.source, item.submission_id, item.error, as_json)
    return False


def _report_error(source: Path, submission_id: str | None, exc: BaseException | None, as_json: bool) -> None:
    """Print the error line of one path (documented in docs/cli.md)."""
    code, message = _error_line(exc)
    if as_json:
        line = {"source": str(source), "submission": submission_id, "status": "error",
                "error": message, "code": code}  # fmt: skip
        click.echo(json.dumps(line, ensure_ascii=False))
    else:
        where = f" (submission {submission_id})" if submission_id else ""
        click.echo(f"{source}: error{where}: {message}")


def _error_line(exc: BaseException | None) -> tuple[str, str]:
    """The stable ``code`` and the message of an error line; an unexpected error is logged here.

    Errors raised on purpose (``ArchiveError``, ``IngestError``) carry their own message; any
    other exception is a bug or a broken environment: its traceback goes to the log (stderr,
    shown with ``-v``), never to stdout, and the line says only what failed.
    """
    if isinstance(exc, NotFound):
        return "ingest.not_found", str(exc)
    if isinstance(exc, Conflict):
        return "ingest.conflict", str(exc)
    if isinstance(exc, ArchiveError | IngestError):
        return "ingest.failed", str(exc)
    log.error("ingest failed unexpectedly: %s", type(exc).__name__)
    log.info("traceback of the failed ingest", exc_info=exc)
    name = type(exc).__name__ if exc is not None else "unknown"
    return "ingest.unexpected_error", (
        f"lỗi không mong đợi ({name}), đã ghi nhật ký / unexpected error ({name}), logged"
    )


def _agency_from(path: Path) -> str | None:
    """The agency code (organId / OrganId) a submission's metadata.json names: folder, bag or ZIP;
    for one edXML message, its sender."""
    import zipfile

    raw: bytes | None = None
    if path.is_file() and is_edxml(path):  # one edXML message: its sender (From/OrganId)
        sender = (peek_header(path) or {}).get("From")
        return str(sender.get("OrganId") or "") or None if isinstance(sender, dict) else None
    if path.is_dir():
        for candidate in (path / "metadata.json", path / "data" / "metadata.json"):
            if candidate.is_file() and candidate.stat().st_size < 16 << 20:
                raw = candidate.read_bytes()
                break
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [i for i in zf.infolist() if i.filename.rsplit("/", 1)[-1] == "metadata.json"]
            names.sort(key=lambda i: i.filename.count("/"))
            if names and names[0].file_size < 16 << 20:
                raw = zf.read(names[0])
    if raw is None:
        return None
    try:
        dossier = boundedjson.loads(raw).get("dossier") or {}
    except (ValueError, AttributeError):  # refused (too deep, not JSON…): intake will say why
        return None
    code = dossier.get("organId") or dossier.get("OrganId")
    return str(code) if code else None


@click.group("submission")
def submission_group() -> None:
    """Submissions in the review queue: accept, reject, withdraw, show."""


@submission_group.command("show")
@click.argument("submission_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def submission_show(ctx: CliContext, submission_id: str, as_json: bool) -> None:
    """Show a submission's state and findings (vi/en)."""
    try:
        result = ctx.services.ingest.result(submission_id)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(result, as_json)


def _decision(name: str, reason_help: str, reason_required: bool) -> None:
    """Register `luutru submission NAME ID --as USER --reason …`, calling IngestService.NAME."""

    @submission_group.command(name, help=f"{name.capitalize()} a submission (the agency sees the reason).")
    @click.argument("submission_id")
    @click.option("--as", "actor", required=True, help="Username of the person deciding.")
    @click.option(
        "--reason", required=reason_required, default=None if reason_required else "", help=reason_help
    )
    @click.option("--json", "as_json", is_flag=True)
    @pass_ctx
    def decide(ctx: CliContext, submission_id: str, actor: str, reason: str, as_json: bool) -> None:
        act = getattr(ctx.services.ingest, name)
        try:
            result = act(submission_id, actor=Agent.person(actor), reason=reason)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
        _report(result, as_json)


_decision("accept", "Why (optional).", reason_required=False)
_decision("reject", "Sent back to the agency.", reason_required=True)
_decision("withdraw", "Why the agency withdraws (thu hồi).", reason_required=False)


@submission_group.command("retry")
@click.argument("submission_id")
@click.option("--as", "actor", required=True, help="Username of the archivist.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def submission_retry(ctx: CliContext, submission_id: str, actor: str, as_json: bool) -> None:
    """Take a stuck submission (received, validating, accepted not archived) as far as it goes now."""
    try:
        result = ctx.services.ingest.retry(submission_id, actor=Agent.person(actor))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(result, as_json)


@submission_group.command("recover")
@pass_ctx
def submission_recover(ctx: CliContext) -> None:
    """Finish submissions a crash interrupted (also run by the server and the worker at start)."""
    from luutru.recovery import recover_interrupted

    done = recover_interrupted(ctx.services)
    if done is None:
        click.echo("another process is recovering this archive")
    else:
        click.echo(f"recovered {len(done)} submission(s)")


@click.group("dossier")
def dossier_group() -> None:
    """Archived dossiers (hồ sơ): correct metadata (writes a new AIP version)."""


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected FIELD=VALUE")
        out[key.strip()] = value
    return out


@dossier_group.command("correct")
@click.argument("code")
@click.option("--set", "sets", multiple=True, help="Dossier field: FIELD=VALUE (TT 05/2025 names).")
@click.option("--doc", "docs", multiple=True, help="Document field: ORDINAL:FIELD=VALUE.")
@click.option("--reason", required=True)
@click.option("--as", "actor", required=True)
@pass_ctx
def dossier_correct(
    ctx: CliContext, code: str, sets: tuple[str, ...], docs: tuple[str, ...], reason: str, actor: str
) -> None:
    """Correct a dossier's metadata: writes a new AIP version, keeps the old one."""
    from ingest.revision import InvalidCorrection, revise_dossier

    document_changes: dict[int, dict[str, str]] = {}
    for item in docs:
        ordinal, sep, rest = item.partition(":")
        if not sep or not ordinal.isdigit():
            raise click.BadParameter(f"{item!r}: expected ORDINAL:FIELD=VALUE")
        document_changes.setdefault(int(ordinal), {}).update(_pairs((rest,)))
    svc = ctx.services
    try:
        package_id = revise_dossier(
            svc.sessions, svc.replicas, svc.settings.staging_path, code,
            changes=_pairs(sets), document_changes=document_changes,
            actor=Agent.person(actor), reason=reason, profile_overrides=svc.settings.profile_overrides,
        )  # fmt: skip
    except InvalidCorrection as exc:
        print_findings([f for f in exc.findings])
        raise click.ClickException("Sửa đổi không hợp lệ / correction refused") from exc
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    from luutru import evidence

    evidence.anchor(svc, "accession")  # a new AIP version is an accession too
    click.echo(f"dossier {code}: new AIP version stored (package {package_id})")


@click.command("export")
@click.argument("code")
@click.option("--as", "kind", type=click.Choice(["aip"]), default="aip", show_default=True)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder, or a .zip file.")
@pass_ctx
def export_cmd(ctx: CliContext, code: str, kind: str, out: Path) -> None:
    """Export a dossier's current AIP as a standard package (BagIt + E-ARK CSIP), folder or ZIP."""
    from archive.export import export_aip

    svc = ctx.services
    try:
        result = export_aip(svc.sessions, svc.replicas, code, out)
    except ArchiveError as exc:
        raise click.ClickException(f"Không xuất được / export failed: {exc}") from exc
    click.echo(
        f"{result.path}: AIP {result.aip_uuid} v{result.version}, {result.files} tệp / files, "
        f"{result.bytes} bytes (bản sao / replica {result.replica})"
    )


@submission_group.command("complete")
@click.argument("submission_id")
@click.option("--set", "sets", multiple=True, help="Dossier field: FIELD=VALUE (TT 05/2025 names).")
@click.option("--doc", "docs", multiple=True, help="Document field: ORDINAL:FIELD=VALUE.")
@click.option("--as", "actor", required=True, help="The archivist's username.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def submission_complete(
    ctx: CliContext,
    submission_id: str,
    sets: tuple[str, ...],
    docs: tuple[str, ...],
    actor: str,
    as_json: bool,
) -> None:
    """Complete fields a submission in review lacks (edXML, SIPs); it is validated again."""
    document_changes: dict[int, dict[str, str]] = {}
    for item in docs:
        ordinal, sep, rest = item.partition(":")
        if not sep or not ordinal.isdigit():
            raise click.BadParameter(f"{item!r}: expected ORDINAL:FIELD=VALUE")
        document_changes.setdefault(int(ordinal), {}).update(_pairs((rest,)))
    try:
        result = ctx.services.ingest.complete(
            submission_id, dossier=_pairs(sets), documents=document_changes, actor=Agent.person(actor)
        )
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(result, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(export_cmd)
    cli.add_command(ingest_cmd)
    cli.add_command(submission_group)
    cli.add_command(dossier_group)
