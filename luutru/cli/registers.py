"""``luutru register``: print the registers (mục lục) of NĐ 30/2020 Phụ lục V as PDF or XLSX."""

from __future__ import annotations

from pathlib import Path

import click

from archive import events
from archive.catalog import EventType
from archive.errors import NotFound
from luutru.cli.context import CliContext, pass_ctx
from luutru.registers import Register, document_register, dossier_register, write_register

FORMAT = click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf", show_default=True)
OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)


@click.group("register")
def register_group() -> None:
    """Registers (mục lục hồ sơ, mục lục văn bản trong hồ sơ)."""


def _write(ctx: CliContext, register: Register, fmt: str, output: Path, object_id: str) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    write_register(register, fmt, output)
    with ctx.services.sessions.begin() as s:
        events.record(
            s, EventType.PRINTING, object_type="register", object_id=object_id, agent=events.SYSTEM,
            detail=f"{register.title} {register.subtitle} ({fmt}, {len(register.rows)} rows) via CLI".strip(),
        )  # fmt: skip
    click.echo(f"{output} ({len(register.rows)} dòng / rows)")


@register_group.command("dossiers")
@click.option("--agency", required=True, help="Agency code (mã định danh), e.g. 000.00.07.H54.")
@click.option("--year", type=int, default=None, help="Year of the dossiers (default: every year).")
@FORMAT
@OUTPUT
@pass_ctx
def dossiers(ctx: CliContext, agency: str, year: int | None, fmt: str, output: Path) -> None:
    """Mục lục hồ sơ of an agency (for one year)."""
    try:
        with ctx.services.session() as s:
            register = dossier_register(s, agency, year=year)
    except NotFound as exc:
        raise click.ClickException(f"Không tìm thấy / not found: {exc}") from exc
    _write(ctx, register, fmt, output, f"dossiers:{agency}:{year or 'all'}")


@register_group.command("documents")
@click.argument("dossier_code")
@FORMAT
@OUTPUT
@pass_ctx
def documents(ctx: CliContext, dossier_code: str, fmt: str, output: Path) -> None:
    """Mục lục văn bản trong hồ sơ DOSSIER_CODE."""
    try:
        with ctx.services.session() as s:
            register = document_register(s, dossier_code)
    except NotFound as exc:
        raise click.ClickException(f"Không tìm thấy / not found: {exc}") from exc
    _write(ctx, register, fmt, output, f"documents:{dossier_code}")


def register(cli: click.Group) -> None:
    cli.add_command(register_group)
