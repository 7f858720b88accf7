"""Conformance tests every replica backend must pass: the same functions for local and S3.

S3 runs against the ``s3_url`` store (LUUTRU_S3_URL, ``http://user:pass@127.0.0.1:9000/bucket``,
or else a moto server the suite starts on a loopback port); each test works under a fresh random
prefix of that bucket and removes it afterwards.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.storage import (
    ChecksumMismatch,
    InvalidKey,
    LocalReplica,
    ObjectMissing,
    PackageConflict,
    PackageWriteFailed,
    Replica,
    StoredObject,
    open_replica,
)


def make_s3_replica(s3_url: str) -> Replica:
    """A replica under a fresh prefix of the ``s3_url`` bucket (created when missing)."""
    from archive.storage.s3 import S3Replica, s3_options_from_url

    root, options = s3_options_from_url(s3_url)
    bucket_prefix = root[len("s3://") :]
    bucket, _, base = bucket_prefix.partition("/")
    prefix = "/".join(p for p in (base, f"t-{uuid.uuid4().hex}") if p)
    replica = open_replica(f"s3://{bucket}/{prefix}", region="us-east-1", **options)
    assert isinstance(replica, S3Replica)
    client = replica._client
    try:
        client.head_bucket(Bucket=bucket)
    except Exception:
        client.create_bucket(Bucket=bucket)
    return replica


@pytest.fixture(
    params=[
        "local",
        pytest.param("s3", marks=[pytest.mark.s3]),
    ]
)
def replica(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replica]:
    if request.param == "local":
        yield LocalReplica(tmp_path / "replica-1", name="r1")
        return
    r = make_s3_replica(request.getfixturevalue("s3_url"))
    yield r
    r.recover()
    r.delete_prefix("")


def build_package(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


PACKAGE = {
    "bagit.txt": b"BagIt-Version: 1.0\n",
    "data/METS.xml": "<mets>Công văn số 12/UBND</mets>".encode(),
    "data/representations/rep1/data/doc.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 40,
    "manifest-sha256.txt": b"abc  data/METS.xml\n",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_package_returns_every_object_with_size_and_sha256(replica: Replica, tmp_path: Path) -> None:
    src = build_package(tmp_path / "src", PACKAGE)
    stored = replica.put_package(src, "aip/A1/v0001")
    assert stored == [
        StoredObject(f"aip/A1/v0001/{rel}", len(data), sha(data)) for rel, data in sorted(PACKAGE.items())
    ]
    assert sorted(replica.list("aip/")) == sorted(o.key for o in stored)
    for obj in stored:
        assert replica.exists(obj.key)
        st = replica.stat(obj.key)
        assert st is not None and st.size == obj.size and st.mtime.tzinfo is not None
        assert replica.verify(obj.key, obj.sha256).ok


def test_put_identical_package_twice_is_idempotent(replica: Replica, tmp_path: Path) -> None:
    src = build_package(tmp_path / "src", PACKAGE)
    first = replica.put_package(src, "aip/A1/v0001")
    again = replica.put_package(src, "aip/A1/v0001")
    assert again == first
    assert len(list(replica.list("aip/A1/"))) == len(PACKAGE)


def test_put_different_package_under_same_key_conflicts(replica: Replica, tmp_path: Path) -> None:
    replica.put_package(build_package(tmp_path / "a", PACKAGE), "aip/A1/v0001")
    changed = dict(PACKAGE, **{"data/METS.xml": b"<mets>changed</mets>"})
    with pytest.raises(PackageConflict):
        replica.put_package(build_package(tmp_path / "b", changed), "aip/A1/v0001")
    extra = dict(PACKAGE, **{"data/extra.txt": b"x"})
    with pytest.raises(PackageConflict):
        replica.put_package(build_package(tmp_path / "c", extra), "aip/A1/v0001")
    mets = replica.open("aip/A1/v0001/data/METS.xml")
    with mets:
        assert mets.read() == PACKAGE["data/METS.xml"]


def test_put_that_fails_midway_leaves_nothing(replica: Replica, tmp_path: Path) -> None:
    src = build_package(tmp_path / "src", PACKAGE)
    seen: list[StoredObject] = []

    def explode(obj: StoredObject) -> None:
        seen.append(obj)
        if len(seen) == 2:
            raise OSError("disk full (simulated by the caller's progress hook)")

    with pytest.raises(PackageWriteFailed):
        replica.put_package(src, "aip/A2/v0001", progress=explode)
    assert len(seen) == 2
    assert list(replica.list("")) == []
    assert not replica.exists(seen[0].key)
    assert replica.recover() == 0
    assert len(replica.put_package(src, "aip/A2/v0001")) == len(PACKAGE)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "aip/../../x",
        "/abs/path",
        "aip\\win",
        "aip/a\x00b",
        "aip//double",
        "./aip",
        ".tmp/x",
    ],
)
def test_unsafe_keys_are_rejected(replica: Replica, tmp_path: Path, key: str) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"x")
    with pytest.raises(InvalidKey):
        replica.put_file(src, key)
    with pytest.raises(InvalidKey):
        replica.open(key)
    with pytest.raises(InvalidKey):
        replica.stat(key)


def test_put_file_verifies_before_it_replaces(replica: Replica, tmp_path: Path) -> None:
    good = b"bien ban kiem tra " * 1000
    stored = replica.put_file(io.BytesIO(good), "aip/A3/f.bin", expected_sha256=sha(good))
    assert stored == StoredObject("aip/A3/f.bin", len(good), sha(good))
    with pytest.raises(ChecksumMismatch):
        replica.put_file(io.BytesIO(b"other bytes"), "aip/A3/f.bin", expected_sha256=sha(b"something else"))
    with replica.open("aip/A3/f.bin") as fh:
        assert fh.read() == good
    assert list(replica.list("")) == ["aip/A3/f.bin"]  # no temporary left visible


def test_open_streams_in_chunks(replica: Replica, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(big, "wb") as fh:
        for _ in range(3):
            fh.write(block)
    replica.put_file(big, "aip/A4/big.bin")
    digest = hashlib.sha256()
    reads = 0
    with replica.open("aip/A4/big.bin") as fh:
        while chunk := fh.read(256 * 1024):
            assert len(chunk) <= 256 * 1024
            digest.update(chunk)
            reads += 1
    assert reads >= 12
    assert digest.hexdigest() == hashlib.sha256(block * 3).hexdigest()


def test_missing_object_behaviour(replica: Replica) -> None:
    assert replica.stat("aip/none/x") is None
    assert not replica.exists("aip/none/x")
    with pytest.raises(ObjectMissing):
        replica.open("aip/none/x")
    result = replica.verify("aip/none/x", "0" * 64)
    assert not result.exists and not result.ok
    replica.delete("aip/none/x")  # absent: no error


def test_list_prefix_delete_and_delete_prefix(replica: Replica, tmp_path: Path) -> None:
    replica.put_package(build_package(tmp_path / "a", PACKAGE), "aip/A1/v0001")
    replica.put_package(build_package(tmp_path / "b", PACKAGE), "aip/A10/v0001")
    replica.put_file(io.BytesIO(b"x"), "quarantine/q.bin")
    assert len(list(replica.list("aip/A1/"))) == len(PACKAGE)
    assert len(list(replica.list("aip/A1"))) == 2 * len(PACKAGE)  # a prefix, as on S3
    assert list(replica.list("quarantine/")) == ["quarantine/q.bin"]
    replica.delete("quarantine/q.bin")
    assert not replica.exists("quarantine/q.bin")
    assert replica.delete_prefix("aip/A1/") == len(PACKAGE)
    assert list(replica.list("aip/A1/")) == []
    assert len(list(replica.list("aip/"))) == len(PACKAGE)
    # a destroyed package can be written again (new content) once it is gone
    changed = dict(PACKAGE, **{"data/METS.xml": b"<mets>v2</mets>"})
    assert len(replica.put_package(build_package(tmp_path / "c", changed), "aip/A1/v0001")) == len(PACKAGE)


def test_describe_names_backend_and_location(replica: Replica) -> None:
    facts = replica.describe()
    assert facts["backend"] in {"local", "s3"}
    assert facts["name"] == replica.name and facts["location"]


def test_open_replica_picks_the_backend(tmp_path: Path) -> None:
    local = open_replica(str(tmp_path / "r9"))
    assert isinstance(local, LocalReplica) and local.root == (tmp_path / "r9").resolve()
    from archive.storage.s3 import S3Replica, s3_options_from_url

    s3 = open_replica(
        "s3://my-bucket/luutru/r2", endpoint_url="http://127.0.0.1:1", access_key="a", secret_key="b"
    )
    assert isinstance(s3, S3Replica) and s3.bucket == "my-bucket" and s3.prefix == "luutru/r2/"
    root, options = s3_options_from_url("http://user:p%40ss@127.0.0.1:9000/bucket/pre")
    assert root == "s3://bucket/pre"
    assert options == {"endpoint_url": "http://127.0.0.1:9000", "access_key": "user", "secret_key": "p@ss"}
