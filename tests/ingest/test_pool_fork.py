"""The validation pool belongs to the process that made it: a child forked after it was used (a
gunicorn worker forked after the demo's ingest) starts its own instead of hanging on the
parent's, whose manager thread does not exist in the child."""

from __future__ import annotations

import os
import select
import signal

from ingest import validate


def test_a_forked_child_starts_its_own_pool() -> None:
    parent = os.getpid()
    assert validate._pool().submit(os.getppid).result(timeout=120) == parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's exit handlers
        ok = b"0"
        try:
            if validate._POOL is None:
                mine = validate._pool()
                if mine.submit(os.getppid).result(timeout=120) == os.getpid():
                    ok = b"1"
            validate.shutdown_pool()
        finally:
            os.write(write, ok)
            os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 180)
        answer = os.read(read, 1) if ready else b"timeout"
    finally:
        if not ready:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
    assert answer == b"1"
    # The parent's pool is untouched by the child's fork and exit.
    assert validate._pool().submit(os.getppid).result(timeout=120) == parent
