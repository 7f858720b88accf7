"""Every command is documented in docs/cli.md, and every document the README links to exists."""

from __future__ import annotations

import re
from pathlib import Path

from luutru.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_is_in_the_cli_docs() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"luutru {name}" not in text]
    assert missing == []


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    broken = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert targets and broken == []
