"""A pool worker's lifeline to its parent: the worker exits when the process that started it dies.

Kept apart from ``ingest.validate`` and light on purpose: a spawned worker imports the module
of its initializer before it can run it, and ``ingest.validate`` pulls in pyHanko, lxml and
cryptography — seconds on a busy machine, during which a worker whose parent was killed would
be guarded by nothing. This module imports only the standard library, so the guards are armed
at once; the heavy modules load with the first task.
"""

from __future__ import annotations

import os
import threading
import time

PARENT_POLL_S = 0.5
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make a worker exit when its parent process does, so a crashed (even ``kill -9``) archive
    process leaves no orphan workers holding its files and pipes open.

    ``parent`` is the pid read in the parent: read here, it could already be init's if the
    parent died while this worker was starting. Two guards: the kernel's parent-death signal
    (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, immediate), and a watchdog thread polling the
    parent pid (every platform). The kernel sends the signal when the *thread* that started the
    worker ends; in luutru those are the main thread, gunicorn's request threads and huey's
    worker threads, which live as long as their process. Should one end sooner, its workers are
    killed, the pool reports itself broken and ``ingest.validate._pool`` starts a fresh one."""
    set_pdeathsig()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def set_pdeathsig() -> None:
    """Ask the kernel to SIGKILL this process when its parent (thread) ends; Linux only."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass


__all__ = ["die_with_parent", "set_pdeathsig"]
