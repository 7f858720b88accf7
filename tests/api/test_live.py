"""Against a live server in its own process: a 64 MiB upload interrupted and resumed in flat memory,
and the example client (docs/examples/submit_dossier.py) submitting a real signed dossier."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from luutru.config import Settings
from luutru.samples.pki import TestPki
from tests.api.harness import Api, build_api

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20
BIG = 64 * MiB
CHUNK = 24 * MiB  # larger than the allowed growth: buffering one chunk would fail the test


def _block(i: int) -> bytes:
    """1 MiB number ``i`` of the big file: deterministic, incompressible enough, made on the fly."""
    seed = hashlib.sha256(i.to_bytes(4, "big")).digest()
    return seed * (MiB // len(seed))


def _big_sha256() -> str:
    h = hashlib.sha256()
    for i in range(BIG // MiB):
        h.update(_block(i))
    return h.hexdigest()


def _range(start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of the big file, 1 MiB at a time (never the whole file in memory)."""
    pos = start
    while pos < end:
        i, off = divmod(pos, MiB)
        piece = _block(i)[off : off + min(MiB - off, end - pos)]
        yield piece
        pos += len(piece)


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[tuple[Api, str, int]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("live") / "data")
    api = build_api(settings, pki)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.api.live_server", str(settings.data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    yield api, f"http://127.0.0.1:{port}", proc.pid
    proc.terminate()
    proc.wait(timeout=10)
    api.services.close()


def _interrupted_put(base: str, path: str, token: str, start: int, sent: int, claimed: int) -> None:
    """Send a chunk header claiming ``claimed`` bytes, send only ``sent``, and hang up."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port)) as sock:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {claimed}\r\n"
            f"Content-Range: bytes {start}-{start + claimed - 1}/{BIG}\r\n\r\n"
        )
        sock.sendall(head.encode())
        for piece in _range(start, start + sent):
            sock.sendall(piece)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        while sock.recv(65536):
            pass


def test_large_upload_resumes_after_an_interruption_in_flat_memory(live: tuple[Api, str, int]) -> None:
    api, base, pid = live
    digest = _big_sha256()
    auth = {"Authorization": f"Bearer {api.tokens['a']}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        meta = {"documents": [{"file": "ban-do/anh-quet.tif", "sha256": digest, "size": BIG}]}
        plan = client.post("/api/v1/submissions", json={"metadata": meta}).json()
        url = plan["files"][0]["upload_url"]
        client.head(url)  # warm every code path before measuring
        before = _peak_rss_kib(pid)
        for start in (0, CHUNK):  # two whole chunks
            r = client.put(url, content=_range(start, start + CHUNK),
                           headers={"Content-Range": f"bytes {start}-{start + CHUNK - 1}/{BIG}",
                                    "Content-Length": str(CHUNK)})  # fmt: skip
            assert r.status_code == 200, r.text
        _interrupted_put(base, url, api.tokens["a"], 2 * CHUNK, 3 * MiB + 12345, BIG - 2 * CHUNK)  # dropped
        offset = int(client.head(url).headers["Upload-Offset"])
        assert 2 * CHUNK < offset <= 2 * CHUNK + 3 * MiB + 12345  # what arrived is kept
        while offset < BIG:
            end = min(offset + CHUNK, BIG)
            r = client.put(url, content=_range(offset, end),
                           headers={"Content-Range": f"bytes {offset}-{end - 1}/{BIG}",
                                    "Content-Length": str(end - offset)})  # fmt: skip
            assert r.status_code == 200, r.text
            offset = r.json()["received_bytes"]
        assert r.json()["complete"] is True  # the SHA-256 of all 64 MiB matched the declaration
        growth_mib = (_peak_rss_kib(pid) - before) / 1024
        assert growth_mib < 16, f"server peak RSS grew {growth_mib:.1f} MiB for a 64 MiB upload"


def test_example_client_submits_a_signed_dossier(live: tuple[Api, str, int], dossier_src: Path) -> None:
    api, base, _ = live
    script = ROOT / "docs" / "examples" / "submit_dossier.py"
    args = [sys.executable, str(script), str(dossier_src), "--url", base, "--token", api.tokens["a"],
            "--chunk-size", "20000", "--key", "H54.2024.05.CCHC"]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["state"] == "archived" and out["dossier"] == "H54.2024.05.CCHC"
    again = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=120).stdout)
    assert again["submission_id"] == out["submission_id"]  # same Idempotency-Key: same submission
