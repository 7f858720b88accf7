"""``luutru`` — the command line of the archive."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from archive.errors import ConfigError
from luutru.cli import admin, audit, checks, disposal, ingest, records, registers, search, transfer
from luutru.cli.context import CliContext
from luutru.config import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML settings file (default: ./luutru.toml or $LUUTRU_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level to stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """luutru — lưu trữ điện tử cho cơ quan nhà nước / an electronic archive for Vietnamese public bodies."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    try:
        settings = Settings.load(toml_path=config_path)
    except ConfigError as exc:
        raise click.ClickException(f"Cấu hình sai / bad configuration: {exc}") from exc
    ctx.obj = CliContext(settings)


for module in (admin, records, checks, ingest, audit, disposal, registers, search, transfer):
    module.register(cli)


def main() -> None:
    cli(prog_name="luutru")


if __name__ == "__main__":  # pragma: no cover
    main()
