"""The README's first command ends with a running archive: `luutru demo` serves /healthz with 200."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_starts_a_healthy_archive(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "LUUTRU_DATA_DIR": str(tmp_path / "data"),
        "LUUTRU_PORT": str(port),
        "LUUTRU_CONFIG": str(tmp_path / "none.toml"),
    }
    luutru = Path(sys.executable).with_name("luutru")
    proc = subprocess.Popen(
        [str(luutru), "demo", "--dossiers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                status = r.status_code
                if status == 200:
                    assert r.json() == {"status": "ok", "catalog": "sqlite"}
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert status == 200, (
            proc.stdout.read().decode() if proc.poll() is not None and proc.stdout else status
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
