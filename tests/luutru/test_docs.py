"""Every command is documented in docs/cli.md, and every document the README links to exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click

from luutru.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_is_in_the_cli_docs() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    names = cli.list_commands(click.Context(cli))
    missing = [name for name in names if f"luutru {name}" not in text]
    assert names and missing == []


def test_the_lazy_command_list_matches_the_commands() -> None:
    """``luutru --help`` lists commands without importing them: its one-liners are the commands' own."""
    ctx = click.Context(cli)
    for name, (_, _, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        first = (command.help or "").strip().splitlines()[0]
        assert first.startswith(short.rstrip(".")), (name, first, short)


def test_help_imports_nothing_of_the_archive() -> None:
    code = (
        "import sys\n"
        "from luutru.cli.main import cli\n"
        "try:\n    cli(['--help'], prog_name='luutru')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'flask', 'pyhanko', 'archive', 'ingest', 'rich') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "Commands:" in out.stdout and "submission" in out.stdout
    assert "HEAVY []" in out.stdout, out.stdout


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    broken = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert targets and broken == []
