"""``luutru transfer import``: a folder of edXML messages exported from a QLVBĐH, into dossiers."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive.errors import ArchiveError
from archive.events import Agent
from ingest.transfer import Grouping, import_edxml_folder
from luutru.cli.context import CliContext, emit_json, pass_ctx


@click.group("transfer")
def transfer_group() -> None:
    """Bulk transfer (chuyển giao hàng loạt) from an agency's document management system."""


@transfer_group.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--agency", "agency_code", required=True, help="Agency code (mã định danh) of the export.")
@click.option("--by", "grouping", type=click.Choice([g.value for g in Grouping]), default=Grouping.MESSAGE.value,
              show_default=True, help="message: one dossier each; list: a dossier file list; mapping: the agency's profile.")  # fmt: skip
@click.option("--list", "dossier_list", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV or XLSX with columns dossier and message (or document_id).")  # fmt: skip
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="State file for resuming; default <folder>.transfer-state.jsonl.")  # fmt: skip
@click.option("--report", "report_prefix", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report path without suffix (.json and .xlsx are written); default <folder>.transfer-report.")  # fmt: skip
@click.option("--as", "actor", default=None, help="Username recorded as the submitter.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def import_cmd(
    ctx: CliContext, folder: Path, agency_code: str, grouping: str, dossier_list: Path | None,
    state: Path | None, report_prefix: Path | None, actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Ingest every edXML message under FOLDER, grouped into dossiers; run again to resume."""
    if grouping == Grouping.LIST.value and dossier_list is None:
        raise click.UsageError("--by list needs --list FILE (CSV or XLSX)")
    state = state or folder.with_name(folder.name + ".transfer-state.jsonl")
    report_prefix = report_prefix or folder.with_name(folder.name + ".transfer-report")
    agent = Agent.person(actor) if actor else Agent.organization(agency_code)
    console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("chuyển giao / transfer"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True, disable=as_json or not console.is_terminal,
        ) as bar:  # fmt: skip
            task = bar.add_task("transfer", total=None)
            report = import_edxml_folder(
                ctx.services.ingest, folder, agency_code, actor=agent, grouping=Grouping(grouping),
                dossier_list=dossier_list, state=state,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    except (ArchiveError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    json_path, xlsx_path = report.write(report_prefix)
    if as_json:
        emit_json(report.to_json())
        return
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(report.counts().items()))
    click.echo(
        f"{len(report.rows)} hồ sơ / dossiers ({counts}); {report.skipped} đã xong trước / done before"
    )
    click.echo(f"báo cáo / report: {json_path} {xlsx_path}")


def register(cli: click.Group) -> None:
    cli.add_command(transfer_group)
