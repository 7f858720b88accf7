"""Checks that tools and tests drive on single files and bags (filled in as ingest lands)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    del cli
