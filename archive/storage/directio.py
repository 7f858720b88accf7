"""Large files around the page cache: written with ``O_DIRECT``, read back from the medium.

Why: writing through the page cache makes the kernel copy every byte into freshly allocated
cache pages and later write them back; on virtual machines that copy costs as much CPU as the
rest of an ingest (about 2.5 s per GB of system time on the project's 2-vCPU machine, where a
direct write of the same bytes takes 0.5 s). Bytes an archive stores are not read again soon,
so caching them buys nothing; and a read-back that bypasses the cache checks what the medium
holds, not the copy still in memory.

Small files keep the page cache (a direct write waits for the device, which is slow for many
small files): a :class:`DirectWriter` writes the first :data:`DIRECT_MIN` bytes through the
cache and switches the descriptor to ``O_DIRECT`` from there on. Where the file system refuses
``O_DIRECT`` (tmpfs on older kernels, some network file systems) everything stays buffered.

``O_DIRECT`` wants aligned buffers, offsets and lengths: buffers come from ``mmap`` (page
aligned), every write but the last is a whole number of :data:`BLOCK` s, and the last block is
padded and the file then truncated to its true size.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

__all__ = ["BLOCK", "DIRECT_MIN", "STEP", "DirectWriter", "read_chunks"]

BLOCK = 4096  # alignment asked of O_DIRECT buffers, offsets and lengths (≥ any logical block size)
DIRECT_MIN = 16 * 1024 * 1024  # smaller files stay in the page cache
STEP = 8 * 1024 * 1024  # bytes per direct read or write
O_DIRECT: int = getattr(os, "O_DIRECT", 0)  # Linux; 0 elsewhere: everything stays buffered
_REFUSED = {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}


class DirectWriter:
    """Write a new file from arbitrary chunks; past ``direct_from`` bytes, around the page cache.

    ``fd`` is an open, writable descriptor of an empty file (the writer does not close it).
    Use it as a context manager around the writes: leaving the block normally finishes the file
    (:meth:`finish`: the tail written, every write waited for); leaving it by an exception waits
    for the write in flight, so the caller may close ``fd`` at once (a write still running on a
    closed, reused descriptor could land in another file). :attr:`direct` tells whether
    ``O_DIRECT`` was used. Two buffers alternate: while one is being written
    (by a helper thread, once the file is large enough to go direct), the caller fills the other,
    so hashing or reading the next piece overlaps the device's write of this one.
    """

    def __init__(self, fd: int, *, direct_from: int = DIRECT_MIN) -> None:
        self.fd = fd
        self.direct_from = direct_from
        self.direct = False
        self.size = 0  # bytes accepted so far
        # the second buffer is made at the first flush: a small file never needs it
        self._bufs: list[memoryview] = [memoryview(mmap.mmap(-1, STEP))]
        self._pending: list[Future[None] | None] = [None, None]
        self._current = 0
        self._fill = 0
        self._flushed = 0  # bytes handed to the file (a multiple of BLOCK until finish)
        self._pool: ThreadPoolExecutor | None = None
        self._finished = False

    def __enter__(self) -> DirectWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self._close_pool()  # wait for the write in flight; its own error, if any, is moot now

    def write(self, data: bytes | bytearray | memoryview) -> None:
        src = memoryview(data).cast("B")
        while src:
            n = min(len(src), STEP - self._fill)
            self._bufs[self._current][self._fill : self._fill + n] = src[:n]
            self._fill += n
            self.size += n
            src = src[n:]
            if self._fill == STEP:
                self._flush()

    def finish(self) -> None:
        """Write what is left; pad the last block when direct, then cut the file to its size."""
        if self._finished:
            return
        self._finished = True
        try:
            tail = self._fill
            view = self._bufs[self._current]
            self._wait(1 - self._current)
            if tail and self.direct:
                padded = -(-tail // BLOCK) * BLOCK
                view[tail:padded] = bytes(padded - tail)
                _write_all(self.fd, view[:padded])
                os.ftruncate(self.fd, self._flushed + tail)
            elif tail:
                _write_all(self.fd, view[:tail])
            self._flushed += tail
            self._fill = 0
        finally:
            self._close_pool()

    def _flush(self) -> None:
        if not self.direct and O_DIRECT and self._flushed >= self.direct_from:
            self.direct = _set_direct(self.fd)
        view = self._bufs[self._current]
        if self.direct:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct-write")
            self._pending[self._current] = self._pool.submit(_write_all, self.fd, view)
        else:
            _write_all(self.fd, view)
        self._flushed += STEP
        self._fill = 0
        if len(self._bufs) == 1:
            self._bufs.append(memoryview(mmap.mmap(-1, STEP)))
        self._current = 1 - self._current
        self._wait(self._current)  # the buffer about to be filled must be written out first

    def _wait(self, index: int) -> None:
        pending, self._pending[index] = self._pending[index], None
        if pending is not None:
            pending.result()

    def _close_pool(self) -> None:
        for index in (0, 1):
            pending, self._pending[index] = self._pending[index], None
            if pending is not None:
                pending.cancel() or pending.exception()  # an error is already being raised
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _write_all(fd: int, chunk: memoryview) -> None:
    while chunk:
        written = os.write(fd, chunk)
        chunk = chunk[written:]


def _set_direct(fd: int) -> bool:
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | O_DIRECT)
    except OSError as exc:
        if exc.errno in _REFUSED:
            return False
        raise
    return True


def _open_read(path: Path | str, direct: bool) -> tuple[int, bool]:
    if direct and O_DIRECT:
        try:
            return os.open(path, os.O_RDONLY | O_DIRECT), True
        except OSError as exc:
            if exc.errno not in _REFUSED:
                raise
    return os.open(path, os.O_RDONLY), False


def read_chunks(path: Path | str, *, direct: bool | None = None) -> Iterator[memoryview]:
    """Yield the bytes of ``path`` in chunks of up to :data:`STEP` (each valid until the next).

    Files of :data:`DIRECT_MIN` bytes or more are read with ``O_DIRECT`` (from the medium, not
    the page cache) unless ``direct`` says otherwise, one chunk ahead by a helper thread so the
    device reads while the caller hashes or writes; smaller ones through the cache.
    """
    size = os.stat(path).st_size
    large = size >= DIRECT_MIN
    fd, _ = _open_read(path, large if direct is None else direct)
    try:
        if large:
            yield from _read_ahead(fd, size)
        else:
            view = memoryview(mmap.mmap(-1, STEP))
            offset = 0
            while n := _read_at(fd, view, offset, size):
                offset += n
                yield view[:n]
                if n < STEP:
                    break
    finally:
        os.close(fd)


def _read_at(fd: int, view: memoryview, offset: int, size: int) -> int:
    """Read at ``offset``: a whole STEP, or what is left rounded up to BLOCK (a short read is the end)."""
    left = size - offset
    want = STEP if left >= STEP else max(BLOCK, -(-left // BLOCK) * BLOCK)
    return os.preadv(fd, [view[:want]], offset)


def _read_ahead(fd: int, size: int) -> Iterator[memoryview]:
    bufs = (memoryview(mmap.mmap(-1, STEP)), memoryview(mmap.mmap(-1, STEP)))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct-read") as pool:
        offset, index = 0, 0
        ahead = pool.submit(_read_at, fd, bufs[0], 0, size)
        while n := ahead.result():
            offset += n
            full = n == STEP
            if full:
                ahead = pool.submit(_read_at, fd, bufs[1 - index], offset, size)
            yield bufs[index][:n]
            if not full:
                break
            index = 1 - index
