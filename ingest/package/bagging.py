"""Writing BagIt bags: placing payload files with their digests, then the tag files.

Payload files are hard-linked when source and bag share a file system (``link=True``) and
streamed in 1 MiB chunks otherwise; either way SHA-256 and SHA-512 are computed in the same
single read. A hard link to a file whose digests intake recorded (same inode, size and
mtime: ``archive.fixity.hashing.known_digests``) is not read at all. Tag files (``bagit.txt``, ``bag-info.txt``, manifests) follow RFC 8493 1.0.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from archive.bags import CHUNK, digest_file, encode_manifest_path
from archive.fixity.hashing import Digests, known_digests
from archive.vntime import utcnow, vn_iso
from ingest.package.errors import UnsafePath

ALGORITHMS: tuple[str, ...] = ("sha256", "sha512")
SOFTWARE = "luutru"
SOFTWARE_VERSION = "0.1.0"

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class PackageFile:
    """A file placed in a package; ``rel`` is relative to the package root (the bag's ``data/``)."""

    rel: str
    size: int
    sha256: str
    sha512: str
    mimetype: str
    created: datetime  # aware UTC


@dataclass(frozen=True, slots=True)
class FileFormat:
    """A file's format as identified upstream (ingest.identify): PRONOM id, name, version."""

    puid: str | None = None  # e.g. "fmt/354"
    name: str | None = None  # e.g. "Acrobat PDF/A - Portable Document Format"
    version: str | None = None  # e.g. "1b"
    mimetype: str | None = None


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of a bag: ``path`` relative to the bag root (``data/...`` or a tag file)."""

    path: str
    size: int
    sha256: str


def safe_relative(rel: str) -> PurePosixPath:
    """Return ``rel`` as a relative POSIX path, refusing absolute paths and ``..`` (UnsafePath)."""
    pure = PurePosixPath(rel.replace("\\", "/"))
    if not rel or pure.is_absolute() or ".." in pure.parts or rel.startswith("~") or ":" in pure.parts[0]:
        raise UnsafePath(rel)
    return pure


def guess_mimetype(path: Path) -> str:
    """Return the MIME type from libmagic (reads the file head only), falling back to the name."""
    try:
        import magic

        found = str(magic.from_file(str(path), mime=True))
        if found and found != "application/octet-stream":
            return found
    except (ImportError, OSError):
        pass
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def place_file(
    src: Path,
    root: Path,
    rel: str,
    *,
    link: bool = True,
    mimetype: str | None = None,
    progress: Progress | None = None,
) -> PackageFile:
    """Put ``src`` at ``root/rel`` (hard link, else streamed copy) and return its digests.

    Reads the bytes exactly once. Raises UnsafePath for a path that would leave ``root``.
    """
    dst = root / safe_relative(rel)
    dst.parent.mkdir(parents=True, exist_ok=True)
    linked = False
    if link:
        try:
            os.link(src, dst)
            linked = True
        except OSError:
            linked = False
    if linked:
        digests = known_digests(dst, ALGORITHMS) or _digest(dst, progress)
    else:
        digests = _copy_with_digests(src, dst, progress)
    return PackageFile(
        rel=safe_relative(rel).as_posix(),
        size=dst.stat().st_size,
        sha256=digests["sha256"],
        sha512=digests["sha512"],
        mimetype=mimetype or guess_mimetype(dst),
        created=utcnow(),
    )


def write_bytes_file(root: Path, rel: str, content: bytes, mimetype: str) -> PackageFile:
    """Write small generated content (XML, JSON) at ``root/rel`` and describe it."""
    dst = root / safe_relative(rel)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(content)
    return PackageFile(
        rel=safe_relative(rel).as_posix(),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        sha512=hashlib.sha512(content).hexdigest(),
        mimetype=mimetype,
        created=utcnow(),
    )


def _digest(path: Path, progress: Progress | None) -> dict[str, str]:
    digests = Digests(ALGORITHMS)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digests.update(view[:n])
            if progress is not None:
                progress(n)
    return digests.hexdigests()


def _copy_with_digests(src: Path, dst: Path, progress: Progress | None) -> dict[str, str]:
    digests = Digests(ALGORITHMS)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with src.open("rb", buffering=0) as fin, dst.open("wb") as fout:
        while n := fin.readinto(buf):
            chunk = view[:n]
            fout.write(chunk)
            digests.update(chunk)
            if progress is not None:
                progress(n)
    shutil.copystat(src, dst)
    return digests.hexdigests()


def bag_info_lines(info: Mapping[str, str | Sequence[str]]) -> str:
    """Render bag-info.txt; a sequence value repeats the label; newlines become spaces."""
    lines: list[str] = []
    for label, value in info.items():
        values = [value] if isinstance(value, str) else list(value)
        for item in values:
            lines.append(f"{label}: {' '.join(str(item).split())}")
    return "\n".join(lines) + "\n"


def write_bag_tags(
    bag_dir: Path,
    payload: Iterable[PackageFile],
    info: Mapping[str, str | Sequence[str]],
    *,
    extra_tag_files: Iterable[str] = (),
) -> list[ManifestEntry]:
    """Write bagit.txt, bag-info.txt (adds Payload-Oxum, Bagging-Date, Bag-Software-Agent),
    payload and tag manifests for SHA-256 and SHA-512; return every file of the bag.

    ``payload`` must describe every file under ``bag_dir/data`` (paths relative to data/).
    ``extra_tag_files`` are other tag files already written (e.g. ``README.txt``).
    """
    files = sorted(payload, key=lambda f: f.rel)
    info_all: dict[str, str | Sequence[str]] = dict(info)
    info_all["Bagging-Date"] = vn_iso(utcnow())[:10]
    info_all["Payload-Oxum"] = f"{sum(f.size for f in files)}.{len(files)}"
    info_all["Bag-Software-Agent"] = f"{SOFTWARE} {SOFTWARE_VERSION}"
    (bag_dir / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "utf-8")
    (bag_dir / "bag-info.txt").write_text(bag_info_lines(info_all), "utf-8")
    for alg in ALGORITHMS:
        lines = [f"{getattr(f, alg)}  {encode_manifest_path('data/' + f.rel)}\n" for f in files]
        (bag_dir / f"manifest-{alg}.txt").write_text("".join(lines), "utf-8")
    tag_names = ["bagit.txt", "bag-info.txt", *(f"manifest-{a}.txt" for a in ALGORITHMS), *extra_tag_files]
    tag_digests = {name: digest_file(bag_dir / name, ALGORITHMS) for name in tag_names}
    for alg in ALGORITHMS:
        lines = [f"{tag_digests[n][alg]}  {encode_manifest_path(n)}\n" for n in tag_names]
        (bag_dir / f"tagmanifest-{alg}.txt").write_text("".join(lines), "utf-8")
    entries = [ManifestEntry("data/" + f.rel, f.size, f.sha256) for f in files]
    entries += [ManifestEntry(n, (bag_dir / n).stat().st_size, tag_digests[n]["sha256"]) for n in tag_names]
    for alg in ALGORITHMS:
        name = f"tagmanifest-{alg}.txt"
        sha = digest_file(bag_dir / name, ("sha256",))["sha256"]
        entries.append(ManifestEntry(name, (bag_dir / name).stat().st_size, sha))
    return sorted(entries, key=lambda e: e.path)


def read_manifest(bag_dir: Path, alg: str = "sha256") -> dict[str, str]:
    """Read ``manifest-<alg>.txt`` of a bag we wrote: ``{path under data/: checksum}``."""
    from archive.bags import decode_manifest_path

    entries: dict[str, str] = {}
    for line in (bag_dir / f"manifest-{alg}.txt").read_text("utf-8").splitlines():
        if line.strip():
            checksum, rel = line.split(None, 1)
            entries[decode_manifest_path(rel).removeprefix("data/")] = checksum.lower()
    return entries
