"""``luutru preservation``: what the format policy would change in the holdings."""

from __future__ import annotations

import click

from luutru.cli.context import CliContext, pass_ctx
from policies.format_policy import preservation_plan


@click.group("preservation")
def preservation_group() -> None:
    """Preservation actions (bảo quản: chuyển đổi định dạng theo chính sách)."""


@preservation_group.command("plan")
@click.option("--format", "puid", default=None, help="Only this PRONOM id, e.g. fmt/412.")
@click.option("--agency", default=None, help="Only this agency code (mã định danh).")
@pass_ctx
def plan(ctx: CliContext, puid: str | None, agency: str | None) -> None:
    """List the files the current format policy would copy (nothing is changed)."""
    with ctx.services.sessions.begin() as s:
        rows = preservation_plan(s, puid=puid, agency=agency)
    todo = [r for r in rows if r.skipped is None]
    for r in rows:
        what = f"{r.action.value} → {r.target} ({r.tool})"
        if r.skipped:
            what = "giữ nguyên: PDF có chữ ký số / kept: signed PDF"
        click.echo(f"{r.dossier}\t{r.path}\t{r.puid}\t{what}")
    click.echo(f"{len(todo)} tệp cần bản bảo quản / files to copy; {len(rows) - len(todo)} giữ nguyên / kept")


def register(cli: click.Group) -> None:
    cli.add_command(preservation_group)
