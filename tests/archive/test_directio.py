"""Large files around the page cache: what is written and read back is byte for byte the source,
whatever the size and the chunking, with or without O_DIRECT."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from archive.storage.directio import BLOCK, DIRECT_MIN, O_DIRECT, STEP, DirectWriter, read_chunks
from archive.storage.local import LocalReplica, copy_file, read_back

SIZES = [
    0,
    1,
    BLOCK - 1,
    BLOCK + 1,
    STEP,
    DIRECT_MIN - 1,
    DIRECT_MIN,
    DIRECT_MIN + STEP,  # the first whole buffer past the threshold goes direct
    DIRECT_MIN + 2 * STEP + BLOCK + 3,  # direct blocks, then a padded and truncated tail
]


def _bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _write(path: Path, data: bytes, pieces: list[int], direct_from: int = DIRECT_MIN) -> DirectWriter:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        writer = DirectWriter(fd, direct_from=direct_from)
        view, i, k = memoryview(data), 0, 0
        while i < len(data):
            n = pieces[k % len(pieces)]
            writer.write(view[i : i + n])
            i, k = i + n, k + 1
        writer.finish()
    finally:
        os.close(fd)
    return writer


@pytest.mark.parametrize("size", SIZES)
def test_writer_and_reader_keep_every_byte(tmp_path: Path, size: int) -> None:
    data = _bytes(size, size)
    path = tmp_path / "f.bin"
    writer = _write(path, data, [1 << 20, 4097, 333_333])  # pieces that never line up with blocks
    assert path.stat().st_size == size == writer.size
    assert path.read_bytes() == data  # through the page cache: coherent with the direct writes
    for direct in (None, True, False):
        got = hashlib.sha256()
        for chunk in read_chunks(path, direct=direct):
            assert len(chunk) <= STEP
            got.update(chunk)
        assert got.hexdigest() == hashlib.sha256(data).hexdigest()
    if O_DIRECT and size >= DIRECT_MIN + STEP:
        assert writer.direct, "ext4 and xfs accept O_DIRECT: the large file must have gone around the cache"
    if size < DIRECT_MIN:
        assert not writer.direct


def test_direct_from_the_first_byte(tmp_path: Path) -> None:
    data = _bytes(STEP * 2 + 17, 7)
    writer = _write(tmp_path / "g.bin", data, [STEP], direct_from=0)
    assert (tmp_path / "g.bin").read_bytes() == data
    assert writer.direct == bool(O_DIRECT)


def test_copy_and_read_back_of_a_large_file(tmp_path: Path) -> None:
    data = _bytes(DIRECT_MIN + 3 * STEP + 5, 11)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    copy_file(src, tmp_path / "copy.bin")
    assert read_back(tmp_path / "copy.bin") == (hashlib.sha256(data).hexdigest(), len(data))
    assert (tmp_path / "copy.bin").read_bytes() == data
    with pytest.raises(FileExistsError):  # never over an existing file
        copy_file(src, tmp_path / "copy.bin")
    stored = LocalReplica(tmp_path / "r").put_file(
        src, "x/big.bin", expected_sha256=hashlib.sha256(data).hexdigest()
    )
    assert stored.size == len(data)


def test_a_file_system_without_direct_io_still_gets_every_byte(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm (tmpfs) on this machine")
    where = Path(tempfile.mkdtemp(dir=shm))
    try:
        data = _bytes(DIRECT_MIN + STEP + 99, 3)
        _write(where / "t.bin", data, [1 << 20])  # tmpfs may refuse O_DIRECT: then all buffered
        assert hashlib.sha256(b"".join(bytes(c) for c in read_chunks(where / "t.bin"))).digest() == (
            hashlib.sha256(data).digest()
        )
    finally:
        shutil.rmtree(where)


def test_a_failing_write_is_raised_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "ro.bin"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)  # writes to it fail with EBADF
    try:
        writer = DirectWriter(fd, direct_from=0)
        with pytest.raises(OSError):
            writer.write(b"x" * (STEP + 1))
            writer.finish()
    finally:
        os.close(fd)


def test_an_audit_reads_a_large_copy_from_the_medium_and_sees_a_flipped_byte(tmp_path: Path) -> None:
    from archive.fixity.hashing import IoBudget

    data = _bytes(DIRECT_MIN + STEP + 1234, 5)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    replica = LocalReplica(tmp_path / "r")
    good = hashlib.sha256(data).hexdigest()
    replica.put_file(src, "aip/z/v0001/big.bin", expected_sha256=good)
    now = [0.0]

    def nap(seconds: float) -> None:  # a clock that moves only when the budget sleeps
        now[0] += seconds

    budget = IoBudget(10, clock=lambda: now[0], sleep=nap)  # 10 MB/s, 0.25 s of burst
    assert replica.verify("aip/z/v0001/big.bin", good, budget=budget).ok
    assert budget.slept == pytest.approx(len(data) / 10e6 - 0.25, rel=0.01)  # every byte paid for
    held = tmp_path / "r" / "aip/z/v0001/big.bin"
    with held.open("r+b") as fh:  # one byte changed through the page cache, not yet on disk
        fh.seek(DIRECT_MIN + 17)
        fh.write(bytes([data[DIRECT_MIN + 17] ^ 0x01]))
    result = replica.verify("aip/z/v0001/big.bin", good)
    assert not result.ok and result.size == len(data)


def test_leaving_the_writer_by_an_exception_waits_for_the_write_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with pytest.raises(RuntimeError), DirectWriter(fd, direct_from=0) as writer:
            writer.write(_bytes(3 * STEP, 9))  # two buffers handed to the writing thread
            raise RuntimeError("the source failed midway")
    finally:
        os.close(fd)
    assert not [t for t in threading.enumerate() if t.name.startswith("direct-write")]
    assert path.stat().st_size % BLOCK == 0  # whole blocks written, nothing after the close
