"""What every command shares: settings, services built on first use, JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import click

from luutru.config import Settings
from luutru.services import Services


@dataclass
class CliContext:
    settings: Settings
    _services: Services | None = field(default=None, repr=False)

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = Services.build(self.settings)
        return self._services

    def close(self) -> None:
        """Release the services built so far (pool, index, connections); later use rebuilds them."""
        if self._services is not None:
            self._services.close()
            self._services = None


pass_ctx = click.make_pass_decorator(CliContext)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
