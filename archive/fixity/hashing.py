"""Streamed SHA-256 and the shared I/O budget (token bucket) for fixity audits.

Files are read in 1 MiB chunks into one preallocated buffer (``readinto`` + ``memoryview``),
so memory stays flat whatever the file size. ``hashlib`` releases the GIL for updates larger
than 2 KiB, so two audit threads on two replicas use two cores.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024  # 1 MiB
MB = 1_000_000


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class IoBudget:
    """A token bucket limiting read throughput, shared by every thread that holds it.

    ``mb_per_s`` is in megabytes (10^6 bytes) per second. ``burst_s`` seconds' worth of
    tokens may be spent at once after an idle spell. A caller that overdraws goes into debt and
    sleeps until the debt is repaid, so concurrent threads share the rate fairly. ``clock`` and
    ``sleep`` are injectable so tests can check throttling without timing anything.
    """

    def __init__(
        self,
        mb_per_s: float,
        *,
        burst_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if mb_per_s <= 0:
            raise ValueError("mb_per_s must be > 0")
        self.rate = float(mb_per_s) * MB  # bytes per second
        self.capacity = self.rate * burst_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._last = clock()
        self.slept = 0.0  # total seconds this budget made callers wait

    def consume(self, nbytes: int) -> float:
        """Take ``nbytes`` from the bucket, sleeping when it is empty; return the seconds slept."""
        if nbytes <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= nbytes
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.slept += wait
        if wait > 0:
            self._sleep(wait)
        return wait


_local = threading.local()


def _buffer(size: int) -> memoryview:
    """Return this thread's reusable read buffer of ``size`` bytes (no 1 MiB allocation per file)."""
    view: memoryview | None = getattr(_local, "view", None)
    if view is None or len(view) != size:
        view = memoryview(bytearray(size))
        _local.view = view
    return view


def _read_chunk(fh: BinaryIO | _Reader, view: memoryview) -> int:
    """Fill ``view`` from ``fh`` (``readinto`` when the stream has it); return bytes read."""
    readinto = getattr(fh, "readinto", None)
    if readinto is not None:
        try:
            return int(readinto(view) or 0)
        except (io.UnsupportedOperation, NotImplementedError):
            pass
    data = fh.read(len(view))
    n = len(data)
    view[:n] = data
    return n


def sha256_stream(
    fh: BinaryIO | _Reader, *, budget: IoBudget | None = None, chunk: int = CHUNK
) -> tuple[str, int]:
    """Hash ``fh`` to the end in ``chunk``-byte reads; return ``(hex digest, bytes read)``."""
    digest = hashlib.sha256()
    view = _buffer(chunk)
    total = 0
    while True:
        n = _read_chunk(fh, view)
        if n == 0:
            break
        digest.update(view[:n])
        total += n
        if budget is not None:
            budget.consume(n)
    return digest.hexdigest(), total


def sha256_file(path: str | os.PathLike[str], *, budget: IoBudget | None = None) -> tuple[str, int]:
    """Hash a file on disk (unbuffered, 1 MiB reads); return ``(hex digest, size)``."""
    with open(path, "rb", buffering=0) as fh:
        return sha256_stream(fh, budget=budget)


def copy_hashed(src: BinaryIO | _Reader, dst: BinaryIO, *, budget: IoBudget | None = None) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` in 1 MiB chunks while hashing; return ``(hex digest, size)``."""
    digest = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    while True:
        n = _read_chunk(src, view)
        if n == 0:
            break
        part = view[:n]
        digest.update(part)
        dst.write(part)
        total += n
        if budget is not None:
            budget.consume(n)
    return digest.hexdigest(), total


class HashingReader:
    """A read-only file-like wrapper that hashes what passes through (for boto3 uploads)."""

    def __init__(self, fh: BinaryIO | _Reader) -> None:
        self._fh = fh
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._fh.read(CHUNK if size is None or size < 0 else size)
        if size is None or size < 0:
            # boto3 may ask for "everything"; stay streamed by looping in chunks.
            parts = [data]
            while data:
                data = self._fh.read(CHUNK)
                parts.append(data)
            data = b"".join(parts)
        self._digest.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
