"""Who drives a submission now: one process (and one thread in it) at a time.

Taking a submission from *received* to its decision and into the archive reads its staged
files, moves its state and finally removes its staging folder. Two drivers at once — two
identical ``luutru ingest`` runs (the second receipt returns the first submission), an API
finalise racing a CLI recover — would read files the other removes and try transitions the
other already made. So :meth:`IngestService.continue_submission` holds this lock for the whole
drive, and re-reads the state once it holds it: the second driver waits, then finds the
submission decided and only reports its result.

The lock is a POSIX record lock (``fcntl.lockf``) on ``<staging root>/.locks/<id>.lock``:
released by the kernel when the holder exits, even on ``kill -9``, and — unlike ``flock`` —
not inherited by the worker processes the holder forks for file checks. Record locks do not
exclude threads of one process, so a per-submission thread lock is taken first. The staging
root is local to one machine (or on a file system with POSIX locks, such as NFSv4).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["LOCK_DIR", "DrivingLocks"]

LOCK_DIR = ".locks"  # under the staging root; skipped by the staging sweep of recover()


class DrivingLocks:
    """Exclusive, blocking, per-submission locks under ``staging_root``; re-entrant per thread."""

    def __init__(self, staging_root: Path) -> None:
        self.root = staging_root / LOCK_DIR
        self._guard = threading.Lock()
        self._threads: dict[str, threading.Lock] = {}
        self._held = threading.local()

    def _thread_lock(self, submission_id: str) -> threading.Lock:
        with self._guard:
            return self._threads.setdefault(submission_id, threading.Lock())

    @contextmanager
    def hold(self, submission_id: str) -> Iterator[None]:
        """Block until this process is the only driver of ``submission_id``; release on exit."""
        held: set[str] = self._held.__dict__.setdefault("ids", set())
        if submission_id in held:  # already ours, further up this thread's stack
            yield
            return
        with self._thread_lock(submission_id):
            fd = self._open(submission_id)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX)
                held.add(submission_id)
                try:
                    yield
                finally:
                    held.discard(submission_id)
            finally:
                os.close(fd)  # closing releases the record lock

    def _open(self, submission_id: str) -> int:
        path = self.root / f"{submission_id}.lock"
        for _ in range(10):  # the folder may be removed by forget() in another process meanwhile
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
            except FileNotFoundError:
                continue
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def forget(self, submission_id: str) -> None:
        """Remove the lock file of a submission decided for good; call it while holding the lock.

        A driver waiting on the removed file then gets its lock, re-reads the state, finds the
        submission finished and does nothing; so does one that creates a new file. The lock
        folder goes too once empty, so a quiet staging area holds nothing.
        """
        (self.root / f"{submission_id}.lock").unlink(missing_ok=True)
        with suppress(OSError):  # not empty (another submission is being driven) or already gone
            self.root.rmdir()

    def prune(self, finished: Iterable[str]) -> None:
        """Remove the lock files of submissions that are decided for good.

        A driver still waiting on a removed file gets its lock, re-reads the state, finds the
        submission finished and does nothing, so removing them cannot let two drivers in.
        """
        for submission_id in finished:
            (self.root / f"{submission_id}.lock").unlink(missing_ok=True)
