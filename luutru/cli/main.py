"""``luutru`` — the command line of the archive.

Commands are loaded when they run: ``luutru --help`` (and a mistyped command) imports click
and nothing of the archive, so the command line starts in a few tens of milliseconds. Each
command's module is imported on demand from ``COMMANDS``; its one-line help is written here so
that the list needs no import (a test holds the two equal).
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import click

# name → (module under luutru.cli, attribute, one-line help), in the order --help lists them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("admin", "init", "Create the data directory and the catalog (apply every migration)."),
    "db": ("admin", "db_group", "Catalog database schema."),
    "demo": ("admin", "demo_cmd", "Set up a demo archive on the embedded defaults (sample dossiers ingested) and start it."),
    "serve": ("admin", "serve", "Run the web console, researcher portal and REST API (gunicorn)."),
    "worker": ("admin", "worker", "Run scheduled and background jobs (huey consumer)."),
    "agency": ("admin", "agency_group", "Agencies (cơ quan) and their identifier codes."),
    "user": ("admin", "user_group", "User accounts and roles."),
    "token": ("admin", "token_group", "Agencies' API tokens."),
    "metadata": ("records", "metadata_group", "Descriptive metadata (dữ liệu đặc tả) against the regulation profiles."),
    "events": ("records", "events_group", "The hash-chained event log."),
    "bag": ("checks", "bag_group", "BagIt bags (RFC 8493; also 0.93–0.97)."),
    "identify": ("checks", "identify_cmd", "Identify file formats: MIME (libmagic) and PRONOM id (fido)."),
    "check": ("checks", "check_group", "Checks of single files."),
    "ingest": ("ingest", "ingest_cmd", "Ingest dossiers (folder, ZIP or BagIt bag), each its own submission."),
    "submission": ("ingest", "submission_group", "Submissions in the review queue: accept, reject, withdraw, show."),
    "dossier": ("ingest", "dossier_group", "Archived dossiers (hồ sơ): correct metadata (writes a new AIP version)."),
    "export": ("ingest", "export_cmd", "Export a dossier's current AIP as a standard package (BagIt + E-ARK CSIP), folder or ZIP."),
    "audit": ("audit", "audit_group", "Fixity audits (kiểm tra tính toàn vẹn) of every stored copy."),
    "backup": ("audit", "backup_cmd", "Back up the catalog and the XML metadata of the AIPs (sao lưu)."),
    "restore": ("audit", "restore_cmd", "Restore the catalog from BACKUP into an empty data directory (phục hồi)."),
    "catalog": ("audit", "catalog_group", "The catalog database."),
    "retention": ("disposal", "retention_group", "Retention schedules (bảng thời hạn bảo quản) and due dates."),
    "disposal": ("disposal", "disposal_group", "Appraisal and lawful disposal: case, council, review, decision, destruction."),
    "hold": ("disposal", "hold_group", "Legal holds: stop appraisal and disposal (inspection, litigation)."),
    "register": ("registers", "register_group", "Registers (mục lục hồ sơ, mục lục văn bản trong hồ sơ)."),
    "search": ("search", "search_group", "Full-text search in Vietnamese, with or without diacritics."),
    "transfer": ("transfer", "transfer_group", "Bulk transfer (chuyển giao hàng loạt) from an agency's document management system."),
    "preservation": ("preservation", "preservation_group", "Preservation actions (bảo quản: chuyển đổi định dạng theo chính sách)."),
}  # fmt: skip


class LazyGroup(click.Group):
    """A group whose sub-commands are imported when one is about to run (or be described)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module, attr, _ = spec
        command = getattr(importlib.import_module(f"luutru.cli.{module}"), attr)
        assert isinstance(command, click.Command) and command.name == cmd_name
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from ``COMMANDS``, without importing them."""
        width = formatter.width - 6 - max(len(n) for n in COMMANDS)
        rows = [(name, _shorten(text, width)) for name, (_, _, text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 1)].rsplit(" ", 1)[0] + "..."


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
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
    from archive.errors import ConfigError
    from luutru.cli.context import CliContext
    from luutru.config import Settings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    try:
        settings = Settings.load(toml_path=config_path)
    except ConfigError as exc:
        raise click.ClickException(f"Cấu hình sai / bad configuration: {exc}") from exc
    ctx.obj = CliContext(settings)


def main() -> None:
    cli(prog_name="luutru")


if __name__ == "__main__":  # pragma: no cover
    main()
