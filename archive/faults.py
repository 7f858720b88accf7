"""Crash points for recovery tests: the process kills itself (SIGKILL) at a named point.

Off unless ``configure`` names points (luutru passes ``Settings.fault_points``). A SIGKILL is
what a power cut or an OOM kill looks like to the archive: no cleanup handler runs, so a test
that restarts after it proves the on-disk and catalog state are recoverable.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterable

log = logging.getLogger(__name__)
_armed: frozenset[str] = frozenset()


def configure(points: Iterable[str]) -> None:
    global _armed
    _armed = frozenset(p for p in points if p)


def checkpoint(name: str) -> None:
    """Kill this process now if ``name`` is armed; otherwise do nothing."""
    if name in _armed:
        log.warning("fault point reached: killing the process", extra={"point": name})
        os.kill(os.getpid(), signal.SIGKILL)
