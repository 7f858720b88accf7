"""The API as deployed: `luutru serve` (gunicorn) in its own process, probed over real sockets.

* What gunicorn refuses before the app (a request line or a header line over its limit) is
  answered as problem+json in Vietnamese and English, with the documented status.
* ``schemathesis run --checks all`` (every check, a few hundred generated requests, the API's
  rate limit respected, a real API token) finds no server error and no conformance failure.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from luutru.config import Settings
from luutru.protocol_errors import MAX_HEADER_FIELD, MAX_REQUEST_LINE
from luutru.samples.pki import TestPki
from tests.api.harness import build_api

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 12  # per operation and phase: ~500 requests, ~90 s under the rate limit below
RATE_LIMIT = "500/m"  # the API allows 600 a minute per token (luutru.api.auth.RateLimiter)


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("served")
    api = build_api(Settings(data_dir=tmp / "data"), pki)
    token = api.tokens["a"]
    api.services.close()
    port = _free_port()
    env = {
        **os.environ,
        "LUUTRU_DATA_DIR": str(tmp / "data"),
        "LUUTRU_CONFIG": str(tmp / "none.toml"),
    }
    log = tmp / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("luutru")), "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Served(url, token, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _raw(url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes as they are (no client-side limits) and read the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_request_line_over_the_limit_is_answered_as_problem_json(served: Served) -> None:
    target = "/api/v1/search?q=" + "a" * MAX_REQUEST_LINE
    status, headers, body = _raw(
        served.url,
        f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n\r\n".encode(),
    )
    assert status.startswith("HTTP/1.1 414")
    assert headers["content-type"] == "application/problem+json"
    problem = httpx.Response(414, content=body).json()
    assert problem["status"] == 414 and problem["code"] == "request.line_too_long"
    assert str(MAX_REQUEST_LINE) in problem["detail"] and problem["detail_vi"].startswith("Dòng yêu cầu")
    assert problem["title_vi"]
    # just under the limit the app answers itself (here: the query is longer than q's 500 characters)
    near = "/api/v1/search?q=" + "a" * (MAX_REQUEST_LINE - 200)
    r = httpx.get(served.url + near, headers={"Authorization": f"Bearer {served.token}"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_header_over_the_limit_is_answered_as_problem_json(served: Served) -> None:
    status, headers, body = _raw(
        served.url,
        f"GET /api/v1/submissions HTTP/1.1\r\nHost: x\r\nX-Long: {'b' * (MAX_HEADER_FIELD + 10)}\r\n\r\n".encode(),
    )
    assert status.startswith("HTTP/1.1 431")
    assert headers["content-type"] == "application/problem+json"
    problem = httpx.Response(431, content=body).json()
    assert problem["code"] == "request.headers_too_large" and problem["detail_vi"]


def test_page_beyond_the_declared_maximum_is_refused(served: Served) -> None:
    auth = {"Authorization": f"Bearer {served.token}"}
    declared = httpx.get(f"{served.url}/api/v1/openapi.json").json()
    (page,) = [p for p in declared["paths"]["/submissions"]["get"]["parameters"] if p["name"] == "page"]
    top = page["schema"]["maximum"]
    assert httpx.get(f"{served.url}/api/v1/submissions?page={top}", headers=auth).status_code == 200
    r = httpx.get(f"{served.url}/api/v1/submissions?page={top + 1}", headers=auth)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request.invalid_parameter" and r.json()["detail_vi"]


def test_schemathesis_finds_no_server_error_and_no_contract_failure(served: Served, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    junit = tmp_path / "schemathesis.xml"
    command = [
        str(schemathesis), "--config-file", str(SCHEMATHESIS_CONFIG), "run",
        f"{served.url}/api/v1/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {served.token}",
        "--rate-limit", RATE_LIMIT,
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--request-timeout", "30",
        "--no-color",
        "--report", "junit", "--report-junit-path", str(junit),
    ]  # fmt: skip
    run = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, output[-3000:]
    generated, passed = int(counts[1]), int(counts[2])
    assert generated == passed >= 300, output[-3000:]
    assert "failures" not in output.split("SUMMARY")[-1].lower(), output[-3000:]
    assert junit.exists()
