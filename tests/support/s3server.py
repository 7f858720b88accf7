"""An S3-compatible server on a loopback port for the S3 replica tests (moto's standalone server).

``LUUTRU_S3_URL`` (``http://user:pass@host:port/bucket``) names a server the operator runs
(MinIO, Ceph RGW...); without it the tests start ``python -m moto.server`` themselves, once
per pytest process, and stop it at the end. moto answers the S3 REST protocol over real HTTP,
so boto3 — and the crash test's child process — talk to it exactly as to a deployed store.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

START_TIMEOUT_S = 30.0
BUCKET = "luutru-test"


def moto_available() -> bool:
    return find_spec("moto") is not None and find_spec("flask_cors") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(log_path: str = os.devnull) -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1; yield ``http://key:secret@127.0.0.1:PORT/luutru-test``.

    Raises RuntimeError when it does not answer within START_TIMEOUT_S. The process is
    terminated (then killed) on exit, whatever happened in between.
    """
    port = _free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode} (port {port})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server not answering on 127.0.0.1:{port}") from None
                time.sleep(0.2)
        yield f"http://luutru:luutru-secret@127.0.0.1:{port}/{BUCKET}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
