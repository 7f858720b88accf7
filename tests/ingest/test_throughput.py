"""The ingest fast paths give exactly what the slow paths gave: FIDO matching, PDF hex strings,
digests carried from intake into the packages, parallel digests, kernel copies to replicas."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError

from archive.fixity.hashing import Digests, forget_digests, known_digests, remember_digests
from archive.storage.local import LocalReplica, copy_file
from ingest.checks import signatures
from ingest.identify import shared_identifier
from ingest.intake.copying import ByteBudget, copy_into
from ingest.intake.submission import IntakeLimits
from ingest.package.bagging import place_file
from ingest.validate import _chunksize

ROOT = Path(__file__).resolve().parents[2]


# -- FIDO: the compiled table returns what Fido.match_formats returns -------------------------
def _buffers(path: Path) -> tuple[bytes, bytes]:
    fido = shared_identifier()._fido
    with path.open("rb") as fh:
        bof, eof, _ = fido.get_buffers(fh, path.stat().st_size, seekable=True)
    return bof, eof


def test_signature_table_matches_fido_on_real_files(tmp_path: Path, fully_signed: Path) -> None:
    ident = shared_identifier()
    zipped = tmp_path / "a.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("x.txt", "Hồ sơ")
    mp4 = tmp_path / "a.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(5000))
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    files = [fully_signed, zipped, mp4, png, *sorted((ROOT / "archive" / "schemas").glob("*.xsd"))]
    files += sorted((ROOT / "archive" / "metadata" / "profiles").glob("*"))[:5]
    matched = 0
    for path in files:
        bof, eof = _buffers(path)
        want = ident._fido.match_formats(bof, eof)
        got = ident._table.match(bof, eof)
        assert [(id(e), n) for e, n in got] == [(id(e), n) for e, n in want], path
        matched += bool(got)
    assert matched >= 3  # the PDF, the ZIP, the XML schemas at least are recognised


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=4096))
def test_signature_table_matches_fido_on_any_bytes(data: bytes) -> None:
    ident = shared_identifier()
    want = ident._fido.match_formats(data, data[-1024:])
    got = ident._table.match(data, data[-1024:])
    assert [(id(e), n) for e, n in got] == [(id(e), n) for e, n in want]


# -- PDF hex strings: the block reader is pyHanko's reader, faster --------------------------------
def _read(reader: object, raw: bytes) -> tuple[str, object, int]:
    stream = io.BytesIO(raw)
    try:
        value = reader(stream)  # type: ignore[operator]
    except (PdfError, ValueError) as exc:
        return ("error", type(exc).__name__, stream.tell())
    return ("ok", (type(value).__name__, bytes(value.original_bytes)), stream.tell())


HEX_PIECES = st.lists(
    st.sampled_from(["0", "a", "F", "9", "c3", " ", "\n", "\r\n", "\t", "\x00", "%c\n", "z", "<", "("]),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(HEX_PIECES, st.sampled_from([">", ">> endobj", "", ">\n/Type"]), st.integers(0, 3))
def test_hex_reader_equals_pyhanko(pieces: list[str], tail: str, repeat: int) -> None:
    body = "".join(pieces) * (repeat or 1)
    raw = ("<" + body + tail).encode("latin-1")
    assert _read(signatures._read_hex_string, raw) == _read(signatures._PDF_HEX_READER, raw)


def test_hex_reader_is_installed_and_reads_long_contents() -> None:
    assert generic.read_hex_string_from_stream is signatures._read_hex_string
    payload = os.urandom(20_000)  # longer than one block
    raw = b"<" + payload.hex().encode() + b"> endobj"
    kind, value, pos = _read(signatures._read_hex_string, raw)
    assert (kind, value, raw[pos:]) == ("ok", ("ByteStringObject", payload), b" endobj")


# -- digests carried from intake ---------------------------------------------------------------
def test_intake_digests_are_carried_to_hard_links_only(tmp_path: Path) -> None:
    forget_digests()
    data = os.urandom(3 * 1024 * 1024 + 5)
    staged = tmp_path / "staged.bin"
    result = copy_into(io.BytesIO(data), staged, "staged.bin", ByteBudget(IntakeLimits()))
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert known_digests(staged, ("sha256", "sha512")) == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }
    read: list[int] = []
    linked = place_file(staged, tmp_path / "sip", "data/a.bin", progress=read.append)
    assert read == [] and linked.sha512 == hashlib.sha512(data).hexdigest()  # not read again
    copied = place_file(staged, tmp_path / "copy", "data/a.bin", link=False, progress=read.append)
    assert sum(read) == len(data) and copied.sha256 == result.sha256  # a copy is always hashed
    assert known_digests(tmp_path / "copy" / "data/a.bin", ("sha256",)) is None


def test_a_rewritten_file_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old bytes")
    remember_digests(path, {"sha256": hashlib.sha256(b"old bytes").hexdigest()})
    path.write_bytes(b"new bytes, longer")  # another size (and mtime): the record no longer applies
    assert known_digests(path, ("sha256",)) is None
    read: list[int] = []
    placed = place_file(path, tmp_path / "bag", "data/f.bin", progress=read.append)
    assert placed.sha256 == hashlib.sha256(b"new bytes, longer").hexdigest() and sum(read) == 17


@pytest.mark.parametrize("size", [0, 1000, 5 * 1024 * 1024 + 3])
def test_parallel_digests_equal_hashlib(size: int) -> None:
    data = os.urandom(size)
    digests = Digests(("sha256", "sha512", "md5"))
    view = memoryview(data)
    for start in range(0, max(size, 1), 1024 * 1024):
        digests.update(view[start : start + 1024 * 1024])
    assert digests.hexdigests() == {a: hashlib.new(a, data).hexdigest() for a in ("sha256", "sha512", "md5")}


def test_parallel_digests_work_in_a_forked_child() -> None:
    big = os.urandom(1024 * 1024)
    Digests(("sha256", "sha512")).update(big)  # the parent's pool is running
    pid = os.fork()
    if pid == 0:  # child: must not wait on threads that were not forked
        d = Digests(("sha256", "sha512"))
        d.update(big)
        os._exit(0 if d.hexdigests()["sha512"] == hashlib.sha512(big).hexdigest() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_large_file_refused_midway_leaves_no_write_running(tmp_path: Path) -> None:
    from archive.storage.directio import DIRECT_MIN, STEP
    from ingest.intake.errors import SubmissionRefused

    limit = DIRECT_MIN + 3 * STEP + 1  # refused well after the writer went direct
    source = io.BytesIO(os.urandom(limit + STEP))
    with pytest.raises(SubmissionRefused) as refused:
        copy_into(source, tmp_path / "big.mp4", "big.mp4", ByteBudget(IntakeLimits(max_file_bytes=limit)))
    assert refused.value.findings[0].code == "intake.too_large"
    assert not [t for t in threading.enumerate() if t.name.startswith("direct-write")]


# -- replicas: kernel copy, then the copy is read back ------------------------------------------
def test_put_package_reports_what_the_replica_holds(tmp_path: Path) -> None:
    src = tmp_path / "pkg"
    (src / "data").mkdir(parents=True)
    big = os.urandom(2 * 1024 * 1024 + 1)
    (src / "data" / "big.bin").write_bytes(big)
    (src / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    replica = LocalReplica(tmp_path / "r1")
    stored = {o.key: o for o in replica.put_package(src, "aip/x/v0001")}
    assert stored["aip/x/v0001/data/big.bin"].sha256 == hashlib.sha256(big).hexdigest()
    assert (tmp_path / "r1" / "aip/x/v0001/data/big.bin").read_bytes() == big
    assert (
        os.stat(tmp_path / "r1" / "aip/x/v0001/data/big.bin").st_ino != os.stat(src / "data/big.bin").st_ino
    )
    assert list((tmp_path / "r1" / ".tmp").iterdir()) == []
    one = replica.put_file(
        src / "data" / "big.bin", "single/big.bin", expected_sha256=hashlib.sha256(big).hexdigest()
    )
    assert one.size == len(big)


def test_a_disposable_source_is_taken_not_copied(tmp_path: Path) -> None:
    src = tmp_path / "pkg"
    (src / "data").mkdir(parents=True)
    big = os.urandom(3 * 1024 * 1024 + 7)
    (src / "data" / "big.bin").write_bytes(big)
    (src / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    first, second = LocalReplica(tmp_path / "r1"), LocalReplica(tmp_path / "r2")
    taken = first.put_package(src, "aip/x/v0001", source_disposable=True)
    copied = second.put_package(src, "aip/x/v0001")
    assert taken == copied  # same keys, sizes and SHA-256 read back from each replica
    held = tmp_path / "r1" / "aip/x/v0001/data/big.bin"
    assert os.stat(held).st_ino == os.stat(src / "data/big.bin").st_ino  # moved, not copied
    assert os.stat(tmp_path / "r2" / "aip/x/v0001/data/big.bin").st_ino != os.stat(held).st_ino
    shutil.rmtree(src)  # what the ingest does after the commit
    assert os.stat(held).st_nlink == 1 and held.read_bytes() == big
    assert first.verify("aip/x/v0001/data/big.bin", hashlib.sha256(big).hexdigest()).ok
    assert list((tmp_path / "r1" / ".tmp").iterdir()) == []


def test_a_disposable_source_on_another_file_system_is_copied(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a file system other than the test's temporary folder")
    src = Path(tempfile.mkdtemp(dir=shm))
    try:
        (src / "doc.pdf").write_bytes(b"%PDF-1.7\n" * 1000)
        stored = LocalReplica(tmp_path / "r1").put_package(src, "aip/y/v0001", source_disposable=True)
        held = tmp_path / "r1" / "aip/y/v0001/doc.pdf"
        assert os.stat(held).st_dev != os.stat(src / "doc.pdf").st_dev
        assert stored[0].sha256 == hashlib.sha256(b"%PDF-1.7\n" * 1000).hexdigest()
    finally:
        shutil.rmtree(src)


def test_copy_file_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "b").write_bytes(b"y")
    with pytest.raises(FileExistsError):
        copy_file(tmp_path / "a", tmp_path / "b")
    copy_file(tmp_path / "a", tmp_path / "c")
    assert (tmp_path / "c").read_bytes() == b"x" * 10


def test_chunksize_batches_small_files_but_keeps_workers_busy() -> None:
    workers = os.cpu_count() or 2
    assert _chunksize(1) == 1
    assert _chunksize(workers * 4 * 3) == 3
    assert _chunksize(100_000) == 16
