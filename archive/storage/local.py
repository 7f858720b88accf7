"""A replica in a local directory (one disk, one mount or one NAS share per root).

Layout: ``<root>/<key>`` for every object; ``<root>/.tmp/<uuid>`` for writes in progress.
Atomicity: a package is written whole under ``.tmp/<uuid>``, made durable (one ``syncfs`` of
the replica's file system where Linux offers it, else an fsync of every file and directory),
then a single ``os.rename`` moves it to ``<root>/<key>`` and the parent directory is fsynced.
A crash leaves only a ``.tmp`` entry, which readers never see and ``recover()`` removes.

Bytes are copied by the kernel (``copy_file_range``: no trip through Python buffers), then the
written copy is read back once and hashed: the SHA-256 returned is that of the bytes in the
replica, not of the source as it was read.

A caller whose source tree is disposable (the AIP an ingest just built, which it deletes once
the catalog commits) may let the replica *take* the files: on the same file system they are
hard-linked into ``.tmp/<uuid>`` instead of copied — a move, not a second copy — and read back
and hashed like copies. Only one replica may take a given tree (``archive.accession`` gives the
first replica that right), so two replicas never share an inode.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from archive.fixity.hashing import IoBudget, copy_hashed, sha256_file
from archive.storage.base import (
    ObjectStat,
    PutProgress,
    StoredObject,
    VerifyResult,
    check_key,
    package_key,
    walk_files,
)
from archive.storage.directio import DIRECT_MIN, O_DIRECT, DirectWriter, read_chunks
from archive.storage.errors import ChecksumMismatch, ObjectMissing, PackageConflict, PackageWriteFailed

log = logging.getLogger(__name__)

TMP = ".tmp"
COPY_STEP = 1 << 30  # bytes asked of copy_file_range per call
# copy_file_range refuses these for some file-system pairs; the copy then goes through Python.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.ETXTBSY}


def _load_syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        func = ctypes.CDLL(name, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func


_SYNCFS = _load_syncfs() if hasattr(os, "copy_file_range") else None  # Linux only


def sync_tree(top: Path, files: list[Path]) -> None:
    """Make ``files`` and every directory under ``top`` durable.

    One ``syncfs`` (Linux ≥ 5.8 reports write-back errors through it) commits them all with a
    single journal flush; elsewhere, or when it fails, each file and directory is fsynced.
    """
    if _SYNCFS is not None:
        fd = os.open(top, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for dirpath, _dirs, _files in os.walk(top, topdown=False):
        fsync_dir(Path(dirpath))


def copy_file(src: Path, dest: Path) -> None:
    """Copy ``src`` to the new file ``dest``.

    Large files go around the page cache (``directio``: direct reads and writes); smaller ones
    are copied by the kernel (``copy_file_range``), else in 1 MiB chunks through Python.
    """
    if O_DIRECT and os.stat(src).st_size >= DIRECT_MIN:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            with DirectWriter(fd, direct_from=0) as writer:
                for chunk in read_chunks(src):
                    writer.write(chunk)
        finally:
            os.close(fd)
        return
    with open(src, "rb", buffering=0) as fin, open(dest, "xb", buffering=0) as fout:
        if hasattr(os, "copy_file_range"):
            try:
                while os.copy_file_range(fin.fileno(), fout.fileno(), COPY_STEP):
                    pass
                return
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                fin.seek(0)
                fout.seek(0)
                fout.truncate()
        copy_hashed(fin, fout)


def read_back(path: Path | str, *, budget: IoBudget | None = None) -> tuple[str, int]:
    """SHA-256 and size of what ``path`` holds.

    A large file is read from the medium with direct I/O (``directio``), not from the page
    cache: a check right after a write, or an audit of a file that was served recently, would
    otherwise hash the copy in memory; and an audit sweep of terabytes does not evict what the
    web pages use. Small files are read through the cache (1 MiB reads, one reused buffer).
    """
    if os.stat(path).st_size < DIRECT_MIN:
        return sha256_file(path, budget=budget)
    digest = hashlib.sha256()
    size = 0
    for chunk in read_chunks(path, direct=True):
        digest.update(chunk)
        size += len(chunk)
        if budget is not None:
            budget.consume(len(chunk))
    return digest.hexdigest(), size


def _take_file(src: Path, dest: Path) -> bool:
    """Hard-link ``src`` at ``dest`` (same file system); False when the link cannot be made."""
    try:
        os.link(src, dest, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            return False
        raise
    return True


def fsync_dir(path: Path) -> None:
    """Make a directory entry (a create, rename or delete inside ``path``) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs_durable(path: Path) -> None:
    """Create ``path`` and missing parents, fsyncing each parent whose listing changed."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        fsync_dir(d.parent)


class LocalReplica:
    """A :class:`~archive.storage.base.Replica` kept in a directory on a local file system."""

    def __init__(self, root: Path | str, *, name: str | None = None) -> None:
        self.root = Path(root).resolve()
        self._root_s = str(self.root)
        self.name = name or self.root.name
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / TMP).mkdir(exist_ok=True)

    # -- paths -------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _fspath(self, key: str) -> str:
        """The object's path as a string (hot path of audits: no pathlib objects)."""
        return os.path.join(self._root_s, check_key(key))

    def _tmp_path(self) -> Path:
        return self.root / TMP / uuid.uuid4().hex

    # -- writes ------------------------------------------------------------------------------

    def put_file(self, src: Path | BinaryIO, key: str, *, expected_sha256: str | None = None) -> StoredObject:
        final = self._path(key)
        tmp = self._tmp_path()
        try:
            if isinstance(src, Path):
                copy_file(src, tmp)
                sha, size = read_back(tmp)  # what the replica holds
                with open(tmp, "rb") as out:
                    os.fsync(out.fileno())
            else:
                with open(tmp, "xb") as out:
                    sha, size = copy_hashed(src, out)
                    out.flush()
                    os.fsync(out.fileno())
            if expected_sha256 is not None and sha != expected_sha256.lower():
                raise ChecksumMismatch(self.name, key, expected_sha256, sha)
            if final.is_dir():
                raise PackageConflict(self.name, key)
            _makedirs_durable(final.parent)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredObject(key, size, sha)

    def put_package(
        self,
        src_dir: Path,
        key: str,
        *,
        progress: PutProgress | None = None,
        source_disposable: bool = False,
    ) -> list[StoredObject]:
        key = package_key(key)
        final = self.root / key
        files = walk_files(Path(src_dir))
        if final.exists():
            return self._same_package(files, key)
        tmp = self._tmp_path()
        stored: list[StoredObject] = []
        written: list[Path] = []
        try:
            tmp.mkdir()
            take = source_disposable and os.stat(src_dir).st_dev == os.stat(tmp).st_dev
            for rel, path in files:
                dest = tmp / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not (take and _take_file(path, dest)):
                    copy_file(path, dest)
                written.append(dest)
                sha, size = read_back(dest)  # what this replica holds
                obj = StoredObject(f"{key}/{rel}", size, sha)
                stored.append(obj)
                if progress is not None:
                    progress(obj)
            sync_tree(tmp, written)
            _makedirs_durable(final.parent)
            try:
                os.rename(tmp, final)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                    # Another writer won the race: identical content is fine, else conflict.
                    return self._same_package(files, key)
                raise
            fsync_dir(final.parent)
            fsync_dir(self.root / TMP)
        except (PackageConflict, ChecksumMismatch):
            raise
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise PackageWriteFailed(self.name, key, exc) from exc
            raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        log.info("package written", extra={"key": key, "replica": self.name, "files": len(stored)})
        return stored

    def _same_package(self, files: list[tuple[str, Path]], key: str) -> list[StoredObject]:
        """Return the stored objects when ``key`` holds exactly ``files``; else PackageConflict."""
        final = self.root / key
        if not final.is_dir():
            raise PackageConflict(self.name, key)
        present = walk_files(final)
        if [rel for rel, _ in present] != [rel for rel, _ in files]:
            raise PackageConflict(self.name, key)
        stored: list[StoredObject] = []
        for (rel, src), (_, have) in zip(files, present, strict=True):
            if src.stat().st_size != have.stat().st_size:
                raise PackageConflict(self.name, key)
            src_sha, _ = sha256_file(src)
            have_sha, size = sha256_file(have)
            if src_sha != have_sha:
                raise PackageConflict(self.name, key)
            stored.append(StoredObject(f"{key}/{rel}", size, have_sha))
        return stored

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except IsADirectoryError:
            raise PackageConflict(self.name, key) from None
        fsync_dir(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        check_key(prefix, allow_empty=True)
        count = 0
        parents: set[Path] = set()
        for key in list(self.list(prefix)):
            path = self.root / key
            path.unlink(missing_ok=True)
            parents.add(path.parent)
            count += 1
        # Remove directories left empty, deepest first, never the root itself.
        for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            probe = directory
            while probe != self.root:
                try:
                    probe.rmdir()
                except FileNotFoundError:
                    pass  # already pruned via a deeper sibling
                except OSError:
                    break
                probe = probe.parent
            if probe.exists():
                fsync_dir(probe)
        return count

    def recover(self) -> int:
        tmp_root = self.root / TMP
        count = 0
        for entry in tmp_root.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            count += 1
        if count:
            fsync_dir(tmp_root)
            log.warning("removed unfinished writes", extra={"replica": self.name, "count": count})
        return count

    # -- reads -------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(self.name, key) from None

    def stat(self, key: str) -> ObjectStat | None:
        try:
            st = os.stat(self._fspath(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not S_ISREG(st.st_mode):
            return None
        return ObjectStat(st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        check_key(prefix, allow_empty=True)
        head, _, _ = prefix.rpartition("/")
        start = self.root / head if head else self.root
        if not start.is_dir():
            return
        yield from self._walk(start, prefix)

    def _walk(self, directory: Path, prefix: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            if directory == self.root and entry.name == TMP:
                continue
            key = Path(entry.path).relative_to(self.root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if key.startswith(prefix) or prefix.startswith(key + "/"):
                    yield from self._walk(Path(entry.path), prefix)
            elif entry.is_file(follow_symlinks=False) and key.startswith(prefix):
                yield key

    def verify(self, key: str, sha256: str, *, budget: IoBudget | None = None) -> VerifyResult:
        try:
            sha, size = read_back(self._fspath(key), budget=budget)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return VerifyResult(key, sha256, False, None, 0)
        return VerifyResult(key, sha256, True, sha, size)

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "backend": "local", "location": str(self.root)}
