"""``luutru audit run|report``, ``luutru backup``, ``luutru restore``, ``luutru catalog rebuild``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from archive.audit_service import AuditProgress, AuditSummary, audit_report, run_audit
from archive.backup import BackupError, BackupKind, default_destination, make_backup, restore_backup
from archive.errors import Conflict
from archive.rebuild import rebuild_catalog
from archive.vntime import vn_today
from luutru import evidence
from luutru.cli.context import CliContext, emit_json, pass_ctx
from luutru.config import Settings
from luutru.rebuild import aip_reader
from luutru.services import prepare_data_dir

err = Console(stderr=True)


def out() -> Console:
    """A console for tables on stdout, wide enough for every column when not on a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def cursor_path(settings: Settings, mode: str) -> Path:
    """Where an interrupted audit of ``mode`` leaves its cursor (shared by the CLI and the worker)."""
    return settings.data_dir / f"fixity-cursor-{mode}.json"


@click.group("audit")
def audit_group() -> None:
    """Fixity audits (kiểm tra tính toàn vẹn) of every stored copy."""


@audit_group.command("run")
@click.option(
    "--due", "mode", flag_value="due", default=True, help="Only copies not verified within the interval."
)
@click.option(
    "--all", "mode", flag_value="all", help="Every copy (and look for files the catalog does not know)."
)
@click.option(
    "--replica", "replica_names", multiple=True, help="Audit only this replica (r1, r2, …); repeatable."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
def audit_run(ctx: CliContext, mode: str, replica_names: tuple[str, ...], as_json: bool) -> None:
    """Re-hash the stored copies, repair bad ones from a good replica; exit 1 if any is unrecoverable."""
    svc, st = ctx.services, ctx.settings
    names = replica_names or None
    with Progress(
        TextColumn("[bold]kiểm tra / audit"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(), console=err, transient=True, disable=as_json or not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("audit", total=None)

        def progress(p: AuditProgress) -> None:
            bar.update(task, completed=p.bytes_done, total=p.bytes_total)

        try:
            summary = run_audit(
                svc.sessions, svc.replicas, mode="all" if mode == "all" else "due", replica_names=names,
                interval_days=st.fixity_interval_days, budget_mb_s=st.fixity_io_budget_mb_s,
                progress=progress, cursor_path=cursor_path(st, mode),
            )  # fmt: skip
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    evidence.anchor(svc, "audit")
    if as_json:
        emit_json(summary.to_json())
    else:
        _print_summary(summary)
    sys.exit(0 if summary.healthy else 1)


def _print_summary(summary: AuditSummary) -> None:
    table = Table(title=f"Kiểm tra tính toàn vẹn / fixity audit ({summary.mode})")
    cols = ("files", "bytes", "ok", "damaged", "missing", "truncated", "repaired", "unrecoverable", "unknown")
    table.add_column("replica")
    for col in cols:
        table.add_column(col, justify="right")
    for name, tally in sorted(summary.per_replica.items()):
        table.add_row(name, *(str(getattr(tally, c)) for c in cols))
    table.add_row("[bold]total", *(f"[bold]{summary.total(c)}" for c in cols))
    out().print(table)
    click.echo(
        f"{summary.total('files')} copies, {summary.total('bytes') / 1e6:.1f} MB in {summary.seconds:.1f} s "
        f"({summary.mb_s:.1f} MB/s); event chain {'OK' if summary.chain_ok else 'BROKEN'}"
        f"{'' if summary.complete else '; stopped early, the next run resumes'}"
    )
    if summary.unrecoverable_remaining:
        click.echo(
            f"KHÔNG PHỤC HỒI ĐƯỢC / UNRECOVERABLE: {summary.unrecoverable_remaining} copies "
            "(see `luutru audit report`)",
            err=True,
        )


@audit_group.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def audit_report_cmd(ctx: CliContext, as_json: bool) -> None:
    """Fixity health per replica and per agency; overdue and unrecoverable copies."""
    report = audit_report(ctx.services.sessions, ctx.settings.fixity_interval_days, vn_today())
    if as_json:
        emit_json(report)
        return
    for title, key in (("replica", "replicas"), ("agency", "agencies")):
        table = Table(title=f"Tình trạng / health by {title}")
        cols = ("copies", "bytes", "ok", "damaged", "missing", "unrecoverable", "overdue", "last_checked_at")
        table.add_column(title)
        for col in cols:
            table.add_column(col, justify="right")
        for name, row in sorted(report[key].items()):
            table.add_row(name, *(str(row[c]) for c in cols))
        out().print(table)
    for item in report["unrecoverable"]:
        click.echo(f"UNRECOVERABLE {item['replica']} {item['key']} (dossier {item['dossier']})")
    click.echo(f"overdue copies listed: {len(report['overdue'])}; interval {report['interval_days']} days")


@click.command("backup")
@click.option("--full", "kind", flag_value="full", help="Every AIP (monthly, TT 02/2019 Điều 10).")
@click.option(
    "--incremental", "kind", flag_value="incremental", default=True, help="AIPs since the last backup."
)
@click.option("--dest", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Backup directory (default <data_dir>/backups/<UTC timestamp>-<kind>).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def backup_cmd(ctx: CliContext, kind: str, dest: Path | None, as_json: bool) -> None:
    """Back up the catalog and the XML metadata of the AIPs (sao lưu)."""
    result = run_backup(ctx, "full" if kind == "full" else "incremental", dest)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{result['kind']} backup → {result['path']}: {len(result['aips'])} AIP(s), "
                   f"{result['metadata_files']} metadata files, catalog sha256 {result['catalog']['sha256']}")  # fmt: skip
    sys.exit(0 if result["ok"] else 1)


def run_backup(ctx: CliContext, kind: BackupKind, dest: Path | None = None) -> dict[str, Any]:
    svc, st = ctx.services, ctx.settings
    target = dest or default_destination(st.data_dir / "backups", kind)
    try:
        result = make_backup(
            svc.sessions, st.catalog_url, svc.replicas, target, kind=kind, checkpoints=evidence.writer(svc)
        )
    except (BackupError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    evidence.anchor(svc, "backup")
    return result.to_json()


@click.command("restore")
@click.argument("backup", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def restore_cmd(ctx: CliContext, backup: Path, as_json: bool) -> None:
    """Restore the catalog from BACKUP into an empty data directory (phục hồi)."""
    st = ctx.settings
    st.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = restore_backup(backup, st.catalog_url)
    except Conflict as exc:
        raise click.ClickException(f"Danh mục không trống / catalog not empty: {exc}") from exc
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    prepare_data_dir(st)  # migrations up to date, staging and replica folders present
    # The replicas may hold checkpoints of events after this backup: those events are lost by
    # the restore, on purpose; move their checkpoints aside (recorded) so verification goes on.
    evidence.trust_backup_key(st, backup)
    evidence.retire_after_restore(ctx.services, f"catalog restored from backup {backup.name}")
    evidence.anchor(ctx.services, "restore")
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(f"catalog restored: {result.events} events, chain {'OK' if result.ok else 'MISMATCH'}")
    sys.exit(0 if result.ok else 1)


@click.group("catalog")
def catalog_group() -> None:
    """The catalog database."""


@catalog_group.command("rebuild")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def catalog_rebuild(ctx: CliContext, as_json: bool) -> None:
    """Rebuild an EMPTY catalog from the AIPs on the replicas (when no backup is usable)."""
    prepare_data_dir(ctx.settings)
    svc = ctx.services
    try:
        result = rebuild_catalog(svc.sessions, svc.replicas, aip_reader)
        evidence.retire_after_restore(
            svc, "catalog rebuilt from the AIPs: a new event chain starts", new_chain=True
        )
        evidence.anchor(svc, "rebuild")
    except Conflict as exc:
        raise click.ClickException(f"Danh mục không trống / catalog not empty: {exc}") from exc
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(
            f"rebuilt: {result.packages} package(s), {result.dossiers} dossier(s), {result.files} files"
        )
        for key, why in result.failed.items():
            click.echo(f"FAILED {key}: {why}", err=True)
    sys.exit(0 if result.ok else 1)


def register(cli: click.Group) -> None:
    for cmd in (audit_group, backup_cmd, restore_cmd, catalog_group):
        cli.add_command(cmd)
