"""Safe staging of submissions: folders, ZIPs, crafted hostile ZIPs, special files."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import unicodedata
import zipfile
from pathlib import Path

import pytest

from archive.findings import Severity
from ingest.intake import IntakeLimits, IntakeRejected, SourceKind, StagedSubmission, stage_submission

LIMITS = IntakeLimits(
    max_files=50, max_bytes=50 * 1024 * 1024, max_file_bytes=20 * 1024 * 1024, zip_max_ratio=100
)

DOCS = {
    "van-ban/01-quyet-dinh.pdf": b"%PDF-1.4\n% Quyet dinh so 15/QD-UBND\n%%EOF\n",
    "van-ban/02-to-trinh.txt": "Tờ trình số 12/TTr-STC về việc phê duyệt kế hoạch.\n".encode(),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(files: dict[str, bytes], **override: str) -> bytes:
    documents = [
        {"file": name, "sha256": override.get(name, sha(data)), "docCode": f"H49.64.33.2024.01.{i:07d}"}
        for i, (name, data) in enumerate(sorted(files.items()), start=1)
    ]
    return json.dumps(
        {
            "profile": "tt05-2025",
            "dossier": {"fileCode": "H49.64.33.2024.01", "title": "Hồ sơ kế hoạch năm 2024"},
            "documents": documents,
        },
        ensure_ascii=False,
    ).encode()


def write_folder(root: Path, files: dict[str, bytes], meta: bytes | None = None) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "metadata.json").write_bytes(meta if meta is not None else metadata(files))
    return root


def write_zip(path: Path, entries: dict[str, bytes], *, folder: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(folder + name, data)
    return path


def codes(result: StagedSubmission | IntakeRejected) -> set[str]:
    return {f.code for f in result.findings}


def rejected(result: StagedSubmission | IntakeRejected, staging: Path, code: str) -> None:
    assert isinstance(result, IntakeRejected), result
    assert code in codes(result), codes(result)
    assert not (staging / result.submission_id).exists()
    finding = next(f for f in result.findings if f.code == code)
    assert finding.severity is Severity.ERROR and finding.message_vi and finding.message_en


def test_folder_is_staged_with_checksums(tmp_path: Path) -> None:
    source = write_folder(tmp_path / "src", DOCS)
    staging = tmp_path / "staging"
    result = stage_submission(source, staging, limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert result.kind is SourceKind.FOLDER
    assert result.root == staging / result.submission_id and result.root.is_dir()
    assert result.profile == "tt05-2025" and len(result.documents) == 2
    by_path = {f.path: f for f in result.files}
    assert set(by_path) == {*DOCS, "metadata.json"}
    for name, data in DOCS.items():
        assert by_path[name].sha256 == sha(data) and by_path[name].size == len(data)
        assert (result.payload_root / name).read_bytes() == data
    assert result.findings == ()


def test_zip_of_a_folder_is_staged_from_its_inner_folder(tmp_path: Path) -> None:
    entries = {**DOCS, "metadata.json": metadata(DOCS)}
    source = write_zip(tmp_path / "ho-so.zip", entries, folder="HS-2024-01/")
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert result.kind is SourceKind.ZIP
    assert result.payload_root.name == "HS-2024-01"
    assert {f.path for f in result.files} == set(entries)


def test_names_are_nfc_in_staging(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Tờ trình.txt")
    files = {nfd: b"noi dung"}
    meta = metadata({unicodedata.normalize("NFC", nfd): b"noi dung"})
    source = write_zip(tmp_path / "s.zip", {**files, "metadata.json": meta})
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    staged_names = os.listdir(result.payload_root)
    assert unicodedata.normalize("NFC", nfd) in staged_names and nfd not in staged_names


def test_checksum_mismatch_rejects(tmp_path: Path) -> None:
    meta = metadata(DOCS, **{"van-ban/02-to-trinh.txt": "0" * 64})
    source = write_folder(tmp_path / "src", DOCS, meta)
    staging = tmp_path / "staging"
    result = stage_submission(source, staging, limits=LIMITS)
    rejected(result, staging, "intake.checksum_mismatch")
    finding = next(f for f in result.findings if f.code == "intake.checksum_mismatch")
    assert finding.path == "van-ban/02-to-trinh.txt"
    assert finding.evidence["declared"] == "0" * 64
    assert finding.evidence["actual"] == sha(DOCS["van-ban/02-to-trinh.txt"])


def test_missing_file_rejects_and_unlisted_file_warns(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    declared = {**DOCS, "van-ban/03-thieu.pdf": b"never sent"}
    source = write_folder(tmp_path / "a", DOCS, metadata(declared))
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.file_missing")

    source = write_folder(tmp_path / "b", {**DOCS, "ghi-chu.txt": b"extra"}, metadata(DOCS))
    result = stage_submission(source, staging, limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    [finding] = result.findings
    assert finding.code == "intake.file_unlisted" and finding.severity is Severity.WARNING
    assert finding.path == "ghi-chu.txt"


def test_metadata_missing_and_invalid_json(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "a.pdf").write_bytes(b"%PDF-1.4")
    rejected(stage_submission(bare, staging, limits=LIMITS), staging, "intake.metadata_missing")

    broken = write_folder(tmp_path / "broken", DOCS, b'{"profile": "tt05-2025", "dossier": {')
    rejected(stage_submission(broken, staging, limits=LIMITS), staging, "intake.metadata_invalid_json")

    dup = write_folder(tmp_path / "dup", DOCS, b'{"profile": "a", "profile": "b"}')
    rejected(stage_submission(dup, staging, limits=LIMITS), staging, "intake.metadata_invalid_json")

    no_sha = json.dumps({"profile": "tt05-2025", "dossier": {}, "documents": [{"file": "x.pdf"}]}).encode()
    shapeless = write_folder(tmp_path / "shape", {"x.pdf": b"%PDF"}, no_sha)
    rejected(stage_submission(shapeless, staging, limits=LIMITS), staging, "intake.metadata_invalid")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../evil.txt", "intake.path_traversal"),
        ("a/../../evil.txt", "intake.path_traversal"),
        ("..\\evil.txt", "intake.path_traversal"),
        ("/etc/x", "intake.absolute_path"),
        ("C:/Windows/x", "intake.absolute_path"),
    ],
)
def test_hostile_zip_names_are_refused(tmp_path: Path, name: str, code: str) -> None:
    staging = tmp_path / "staging"
    source = write_zip(tmp_path / "evil.zip", {**DOCS, "metadata.json": metadata(DOCS), name: b"pwned"})
    rejected(stage_submission(source, staging, limits=LIMITS), staging, code)
    assert not (tmp_path / "evil.txt").exists() and not (staging / "evil.txt").exists()
    assert list(staging.iterdir()) == []


def _add_mode_entry(zf: zipfile.ZipFile, name: str, mode: int, data: bytes) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = mode << 16
    zf.writestr(info, data)


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        (stat.S_IFLNK | 0o777, "intake.symlink"),
        (stat.S_IFIFO | 0o644, "intake.special_file"),
        (stat.S_IFCHR | 0o644, "intake.special_file"),
    ],
)
def test_zip_link_and_device_entries_are_refused(tmp_path: Path, mode: int, code: str) -> None:
    staging = tmp_path / "staging"
    source = tmp_path / "s.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("metadata.json", metadata(DOCS))
        for name, data in DOCS.items():
            zf.writestr(name, data)
        _add_mode_entry(zf, "passwd", mode, b"/etc/passwd")
    rejected(stage_submission(source, staging, limits=LIMITS), staging, code)


def test_zip_bomb_by_ratio_is_refused_quickly(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = tmp_path / "bomb.zip"
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("metadata.json", metadata(DOCS))
        with zf.open("zeros.bin", "w", force_zip64=True) as out:
            for _ in range(200):  # 200 MiB of zeros, about 0.9 MiB compressed
                out.write(chunk)
    assert source.stat().st_size < 2 * 1024 * 1024
    limits = IntakeLimits(max_files=50, max_bytes=10**12, max_file_bytes=10**12, zip_max_ratio=100)
    result = stage_submission(source, staging, limits=limits)
    rejected(result, staging, "intake.zip_bomb")


def test_zip_declared_total_above_limit_is_a_bomb(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_zip(tmp_path / "big.zip", {"metadata.json": metadata(DOCS), "a.bin": os.urandom(300_000)})
    limits = IntakeLimits(max_files=50, max_bytes=200_000, max_file_bytes=10**9, zip_max_ratio=100)
    rejected(stage_submission(source, staging, limits=limits), staging, "intake.zip_bomb")


def _understate_size(path: Path, name: bytes, real: int, claimed: int) -> None:
    """Rewrite the uncompressed size of entry ``name`` in the local and central headers."""
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_len]) == name:
            assert struct.unpack_from("<I", data, local + 22)[0] == real
            struct.pack_into("<I", data, local + 22, claimed)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == name:
            struct.pack_into("<I", data, central + 24, claimed)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_zip_headers_that_lie_about_size_are_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    payload = b"A" * 3_000_000
    source = write_zip(
        tmp_path / "liar.zip", {"metadata.json": metadata({"a.txt": payload}), "a.txt": payload}
    )
    _understate_size(source, b"a.txt", len(payload), 1000)
    with zipfile.ZipFile(source) as zf:
        assert zf.getinfo("a.txt").file_size == 1000
    result = stage_submission(source, staging, limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    assert codes(result) & {"intake.zip_bomb", "intake.zip_corrupt"}
    assert not (staging / result.submission_id).exists()


def test_too_many_files_in_zip_and_folder(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    many = {f"f{i:03}.txt": b"x" for i in range(60)}
    source = write_zip(tmp_path / "many.zip", {**many, "metadata.json": metadata(many)})
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.too_many_files")
    folder = write_folder(tmp_path / "many", many)
    rejected(stage_submission(folder, staging, limits=LIMITS), staging, "intake.too_many_files")


def test_too_large_file_in_folder(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    files = {"scan.pdf": b"%PDF" + bytes(5000)}
    source = write_folder(tmp_path / "src", files)
    limits = IntakeLimits(max_files=10, max_bytes=10**6, max_file_bytes=4096, zip_max_ratio=100)
    rejected(stage_submission(source, staging, limits=limits), staging, "intake.too_large")


def test_nfc_nfd_duplicates_are_refused_but_case_differs_is_fine(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    nfc = unicodedata.normalize("NFC", "Hồ sơ.txt")
    nfd = unicodedata.normalize("NFD", "Hồ sơ.txt")
    assert nfc != nfd
    source = write_zip(tmp_path / "dup.zip", {nfc: b"1", nfd: b"2", "metadata.json": metadata({nfc: b"1"})})
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.unicode_duplicate")

    cased = {"A.txt": b"1", "a.txt": b"2"}
    source = write_zip(tmp_path / "case.zip", {**cased, "metadata.json": metadata(cased)})
    assert isinstance(stage_submission(source, staging, limits=LIMITS), StagedSubmission)


def _zip_with_raw_name(path: Path, raw: bytes, data: bytes, meta: bytes) -> Path:
    """Write a ZIP whose entry name is the bytes ``raw`` with no UTF-8 flag (as old tools do)."""
    placeholder = b"@" * (len(raw) - 4) + b".txt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", meta)
        zf.writestr(placeholder.decode("ascii"), data)
    path.write_bytes(path.read_bytes().replace(placeholder, raw))
    return path


def test_cp437_zip_name_with_invalid_utf8_bytes_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    raw = b"T\xac tr\xdfnh.txt"  # TCVN3 (ABC) bytes for "Tờ trình": not UTF-8
    source = _zip_with_raw_name(tmp_path / "legacy.zip", raw, b"data", metadata(DOCS))
    with zipfile.ZipFile(source) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
        assert raw.decode("cp437") in zf.namelist()
    result = stage_submission(source, staging, limits=LIMITS)
    rejected(result, staging, "intake.invalid_name_encoding")
    finding = next(f for f in result.findings if f.code == "intake.invalid_name_encoding")
    assert finding.evidence["raw_hex"] == raw.hex()


def test_utf8_bytes_without_the_flag_are_accepted(tmp_path: Path) -> None:
    name = "Quyết định.txt"
    meta = metadata({name: b"qd"})
    source = _zip_with_raw_name(tmp_path / "noflag.zip", name.encode("utf-8"), b"qd", meta)
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert name in {f.path for f in result.files}


def test_encrypted_and_corrupt_zips_are_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_zip(tmp_path / "enc.zip", {**DOCS, "metadata.json": metadata(DOCS)})
    data = bytearray(source.read_bytes())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, struct.unpack_from("<H", data, central + 8)[0] | 0x1)
    source.write_bytes(bytes(data))
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.encrypted_zip")

    truncated = tmp_path / "cut.zip"
    good = write_zip(tmp_path / "good.zip", {**DOCS, "metadata.json": metadata(DOCS)}).read_bytes()
    truncated.write_bytes(good[: len(good) // 2])
    rejected(stage_submission(truncated, staging, limits=LIMITS), staging, "intake.zip_corrupt")


def test_symlink_in_folder_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    secret = tmp_path / "secret.txt"
    secret.write_text("mật")
    source = write_folder(tmp_path / "src", DOCS)
    (source / "link.txt").symlink_to(secret)
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.symlink")


def test_fifo_and_socket_in_folder_are_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_folder(tmp_path / "src", DOCS)
    os.mkfifo(source / "pipe")
    result = stage_submission(source, staging, limits=LIMITS)  # must not block on the FIFO
    rejected(result, staging, "intake.special_file")

    source2 = write_folder(tmp_path / "src2", DOCS)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(source2 / "s.sock"))
        rejected(stage_submission(source2, staging, limits=LIMITS), staging, "intake.special_file")
    finally:
        sock.close()


def test_folder_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_folder(tmp_path / "src", DOCS)
    try:
        with open(os.path.join(os.fsencode(source), b"bi\xean-b\xe3n.txt"), "wb") as handle:
            handle.write(b"x")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.invalid_name_encoding")


def test_unreadable_source(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    odd = tmp_path / "note.txt"
    odd.write_text("not a zip")
    rejected(stage_submission(odd, staging, limits=LIMITS), staging, "intake.source_unreadable")
