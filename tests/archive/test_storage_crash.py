"""Invariant 2 at the storage level: a put killed at any point leaves the package absent,
and ``recover()`` on restart removes what the dead writer left behind.

A child Python process starts a real package put and is SIGKILLed in the middle of it (after
it reports, from the put's progress hook, that some files are written). No timing involved:
the child blocks on its stdin after reporting, the parent kills it there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from archive.storage import LocalReplica, open_replica

CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from archive.storage import open_replica

    spec = json.loads(sys.argv[1])
    replica = open_replica(spec["root"], **spec["options"])
    written = []

    def hook(obj):
        written.append(obj.key)
        if len(written) == spec["kill_after"]:
            print(json.dumps(written), flush=True)
            sys.stdin.readline()  # wait here to be killed

    replica.put_package(Path(spec["src"]), spec["key"], progress=hook)
    print("FINISHED", flush=True)
    """
)


def make_big_package(root: Path, files: int, size: int) -> Path:
    block = bytes(range(256)) * (size // 256)
    for i in range(files):
        path = root / "data" / f"part-{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(block)
            fh.write(i.to_bytes(4, "big"))  # every file differs
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\n")
    return root


def replica_spec(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    if backend == "local":
        return str(tmp_path / "replica"), {}
    from archive.storage.s3 import s3_options_from_url

    root, options = s3_options_from_url(request.getfixturevalue("s3_url"))
    return f"{root.rstrip('/')}/crash-{uuid.uuid4().hex}", {**options, "region": "us-east-1"}


@pytest.mark.parametrize(
    "backend",
    [
        "local",
        pytest.param("s3", marks=[pytest.mark.s3]),
    ],
)
def test_killed_put_leaves_package_absent_and_recover_cleans(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = make_big_package(tmp_path / "src", files=12, size=512 * 1024)
    root, options = replica_spec(backend, tmp_path, request)
    replica = open_replica(root, **options)
    if backend == "s3":
        from archive.storage.s3 import S3Replica

        assert isinstance(replica, S3Replica)
        try:
            replica._client.head_bucket(Bucket=replica.bucket)
        except Exception:
            replica._client.create_bucket(Bucket=replica.bucket)
    key = "aip/AIP-CRASH/v0001"
    spec = {"root": root, "options": options, "src": str(src), "key": key, "kill_after": 5}
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        written = json.loads(line)
        assert len(written) == 5
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    # After the crash: nothing of the package is visible.
    replica = open_replica(root, **options)
    assert list(replica.list("")) == []
    for k in written:
        assert not replica.exists(k)
        assert replica.stat(k) is None
    if isinstance(replica, LocalReplica):
        assert any((replica.root / ".tmp").iterdir())  # the dead writer's temp dir is there

    # Restart: recover() removes the leftovers, and the put can be done again whole.
    assert replica.recover() >= 1
    if isinstance(replica, LocalReplica):
        assert list((replica.root / ".tmp").iterdir()) == []
        assert not (replica.root / "aip").exists() or not any((replica.root / "aip").rglob("*.bin"))
    assert replica.recover() == 0
    stored = replica.put_package(src, key)
    assert len(stored) == 13
    assert sorted(replica.list("aip/")) == sorted(o.key for o in stored)
    if backend == "s3":
        replica.delete_prefix("")
