"""kill -9 of a `luutru ingest` leaves no validation pool process behind (issue 13).

The pool's workers are spawned children of the ingest process; each arms the kernel's
parent-death signal and a watchdog with the parent pid read in the parent, first thing
(``ingest.lifeline``, which imports nothing heavy). The kill lands while
the workers start or check files, the moment the pool first shows up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki

LUUTRU = Path(sys.executable).with_name("luutru")
SUBJECTS = tuple(f"Công văn số {i} về cải cách hành chính" for i in range(1, 25))


@pytest.mark.parametrize("wait_s", [0.0, 1.5])  # while the workers start; while they check files
def test_kill_9_of_an_ingest_leaves_no_pool_worker(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str], wait_s: float
) -> None:
    src = make_dossier(tmp_path / "ho-so", pki, subjects=SUBJECTS)
    proc = subprocess.Popen(
        [str(LUUTRU), "ingest", str(src), "--agency", AGENCY, "--json"],
        env={**os.environ, **archive_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    workers: list[psutil.Process] = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not workers and proc.poll() is None:
            workers = parent.children(recursive=True)
            time.sleep(0.02)
        assert workers, "the ingest ended before its pool started: give it more files"
        time.sleep(wait_s)
        later = parent.children(recursive=True)  # and those started since
        assert proc.poll() is None, "the ingest ended before the kill: give it more files"
        workers = list({p.pid: p for p in workers + later}.values())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # A worker still starting (its interpreter coming up: seconds on a loaded machine) arms
        # its guards as it gets to the initializer, and finds its parent gone then.
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], [p.cmdline() for p in alive if p.is_running()]
        assert len(gone) == len(workers) >= 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for p in workers:  # never leave one behind, pass or fail
            if p.is_running():
                p.kill()
