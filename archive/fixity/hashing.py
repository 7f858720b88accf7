"""Streamed SHA-256, several digests in one read, digests carried from intake, and the shared
I/O budget (token bucket) for fixity audits.

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
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024  # 1 MiB
MB = 1_000_000
PARALLEL_MIN = 256 * 1024  # below this a second thread costs more than it saves


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


class Digests:
    """Several digests of one stream at once; large chunks are hashed in parallel threads.

    ``hashlib`` releases the GIL for updates above 2 KiB, so SHA-256 (SHA-NI) and SHA-512 of
    a 1 MiB chunk run on two cores: the slower one sets the pace instead of their sum.
    """

    _pool: ThreadPoolExecutor | None = None
    _pool_lock = threading.Lock()

    def __init__(self, algorithms: Sequence[str]) -> None:
        self.hashers = {name: hashlib.new(name) for name in algorithms}
        self._first, *self._rest = self.hashers.values()

    @classmethod
    def _executor(cls) -> ThreadPoolExecutor:
        with cls._pool_lock:
            if cls._pool is None:
                cls._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="digest")
            return cls._pool

    def update(self, chunk: bytes | memoryview) -> None:
        """Feed ``chunk`` to every hasher; returns when all are done (the buffer may be reused)."""
        if not self._rest or len(chunk) < PARALLEL_MIN:
            for h in self.hashers.values():
                h.update(chunk)
            return
        pool = self._executor()
        futures = [pool.submit(h.update, chunk) for h in self._rest]
        self._first.update(chunk)
        for future in futures:
            future.result()

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self.hashers.items()}

    @classmethod
    def _forget_pool(cls) -> None:
        """A forked child has none of its parent's threads: it starts its own pool when needed."""
        cls._pool = None
        cls._pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=Digests._forget_pool)


# -- digests carried from intake ---------------------------------------------------------------
# Intake hashes every received file as it writes it. Packaging hard-links those files (same
# inode), so it may take the digests from here instead of reading the bytes again. An entry is
# keyed by the file's identity and state (device, inode, size, mtime): a rewrite of the file
# changes its mtime, and a copy is another inode, so either misses and is hashed afresh.
_KNOWN: OrderedDict[tuple[int, int, int, int], dict[str, str]] = OrderedDict()
_KNOWN_LOCK = threading.Lock()
KNOWN_MAX = 100_000


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def remember_digests(path: str | os.PathLike[str], digests: Mapping[str, str]) -> None:
    """Record the digests of the file at ``path`` as it is now (called by whoever just wrote it)."""
    key = _identity(os.stat(path))
    with _KNOWN_LOCK:
        _KNOWN[key] = dict(digests)
        _KNOWN.move_to_end(key)
        while len(_KNOWN) > KNOWN_MAX:
            _KNOWN.popitem(last=False)


def known_digests(path: str | os.PathLike[str], algorithms: Sequence[str]) -> dict[str, str] | None:
    """Digests recorded for this very file (same inode, size and mtime), or None."""
    key = _identity(os.stat(path))
    with _KNOWN_LOCK:
        found = _KNOWN.get(key)
    if found is None or any(a not in found for a in algorithms):
        return None
    return {a: found[a] for a in algorithms}


def forget_digests() -> None:
    """Drop every recorded digest (tests; a long-running process never needs to)."""
    with _KNOWN_LOCK:
        _KNOWN.clear()
