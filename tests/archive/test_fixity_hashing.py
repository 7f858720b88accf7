"""Streamed hashing and the I/O budget (checked with an injected clock, never timed)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from archive.fixity.hashing import CHUNK, HashingReader, IoBudget, copy_hashed, sha256_file, sha256_stream


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class CountingReader(io.RawIOBase):
    """A raw stream that records the size of every read it serves."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.sizes: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        self.sizes.append(len(buf))
        return self._inner.readinto(buf)


def test_sha256_stream_matches_hashlib_and_reads_1_mib_chunks() -> None:
    data = os.urandom(3 * CHUNK + 12345)
    reader = CountingReader(data)
    digest, size = sha256_stream(reader)
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert set(reader.sizes) == {CHUNK}  # one preallocated 1 MiB buffer, reused
    assert len(reader.sizes) == 5  # 4 reads with data + the empty read at the end


def test_sha256_stream_works_on_read_only_streams() -> None:
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self._b = io.BytesIO(data)

        def read(self, n: int = -1, /) -> bytes:
            return self._b.read(n)

    data = "Hồ sơ lưu trữ".encode() * 100_000
    assert sha256_stream(ReadOnly(data)) == (hashlib.sha256(data).hexdigest(), len(data))


def test_sha256_file_and_copy_hashed(tmp_path: Path) -> None:
    data = os.urandom(CHUNK + 7)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    assert sha256_file(src) == (hashlib.sha256(data).hexdigest(), len(data))
    out = io.BytesIO()
    with open(src, "rb") as fh:
        assert copy_hashed(fh, out) == (hashlib.sha256(data).hexdigest(), len(data))
    assert out.getvalue() == data
    wrapped = HashingReader(io.BytesIO(data))
    while wrapped.read(1000):
        pass
    assert wrapped.hexdigest() == hashlib.sha256(data).hexdigest() and wrapped.size == len(data)


def test_budget_sleeps_to_hold_the_rate() -> None:
    clock = FakeClock()
    budget = IoBudget(5, burst_s=0.0, clock=clock, sleep=clock.sleep)  # 5 MB/s, no burst
    for _ in range(10):
        budget.consume(1_000_000)  # 10 MB in total
    # 10 MB at 5 MB/s takes 2 s of (fake) time, all of it spent sleeping.
    assert clock.now - 100.0 == pytest.approx(2.0)
    assert sum(clock.sleeps) == pytest.approx(2.0)
    assert budget.slept == pytest.approx(2.0)


def test_budget_allows_a_burst_after_idle_then_throttles() -> None:
    clock = FakeClock()
    budget = IoBudget(10, burst_s=1.0, clock=clock, sleep=clock.sleep)  # 10 MB/s, 10 MB burst
    assert budget.consume(10_000_000) == 0.0  # the full bucket pays for it
    assert budget.consume(5_000_000) == pytest.approx(0.5)
    clock.now += 60  # a long idle spell refills only up to the burst size
    assert budget.consume(10_000_000) == 0.0
    assert budget.consume(1_000_000) == pytest.approx(0.1)


def test_budget_throttles_hashing_through_the_stream() -> None:
    clock = FakeClock()
    budget = IoBudget(1, burst_s=0.0, clock=clock, sleep=clock.sleep)  # 1 MB/s
    data = os.urandom(4_000_000)
    sha256_stream(io.BytesIO(data), budget=budget)
    assert clock.now - 100.0 == pytest.approx(4.0)
    assert len(clock.sleeps) == 4  # one wait per 1 MiB chunk read


def test_budget_is_shared_between_threads() -> None:
    clock = FakeClock()
    budget = IoBudget(2, burst_s=0.0, clock=clock, sleep=clock.sleep)

    def worker() -> None:
        for _ in range(4):
            budget.consume(500_000)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Both threads together read 4 MB at 2 MB/s: 2 s of debt was paid in sleeps.
    assert budget.slept >= 2.0 - 1e-9


def test_budget_rejects_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        IoBudget(0)
