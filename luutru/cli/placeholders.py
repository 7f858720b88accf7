"""Commands whose capability is not built yet: each says which, and exits 2. Never pretends."""

from __future__ import annotations

import click

from luutru.cli.context import not_built

# (group or None, name, capability, issue)
PLANNED: tuple[tuple[str | None, str, str, int], ...] = ()


def _placeholder(name: str, capability: str, issue: int) -> click.Command:
    @click.command(
        name,
        help=f"[not built yet: issue #{issue}] {capability}.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def command() -> None:
        not_built(capability, issue)

    return command


def register(cli: click.Group) -> None:
    groups: dict[str, click.Group] = {}
    for group, name, capability, issue in PLANNED:
        target: click.Group = cli
        if group is not None:
            existing = cli.commands.get(group)
            if isinstance(existing, click.Group):
                target = existing
            else:
                target = groups.setdefault(group, click.Group(group, help=f"[partly not built] {group}"))
                cli.add_command(target)
        if name not in target.commands:
            target.add_command(_placeholder(name, capability, issue))
