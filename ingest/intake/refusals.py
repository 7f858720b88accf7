"""Findings raised at intake, each with a stable code and Vietnamese and English wording.

One function per code so the wording lives in one place; the unpacker, the checksum
comparison and the metadata reader only decide *when* a finding applies.
"""

from __future__ import annotations

from typing import Any

from archive.boundedjson import JsonRefused
from archive.findings import Finding, error, warning

__all__ = [
    "absolute_path",
    "bag_invalid",
    "bag_invalid_finding",
    "checksum_mismatch",
    "duplicate_name",
    "empty_file",
    "encrypted_zip",
    "file_missing",
    "file_unlisted",
    "invalid_name",
    "invalid_name_encoding",
    "metadata_invalid",
    "metadata_invalid_json",
    "metadata_missing",
    "metadata_refused",
    "path_conflict",
    "path_traversal",
    "source_unreadable",
    "special_file",
    "symlink",
    "too_large",
    "too_many_files",
    "unicode_duplicate",
    "zip_bomb",
    "zip_corrupt",
]


def path_traversal(path: str) -> Finding:
    return error(
        "intake.path_traversal",
        f"Tên tệp chứa thành phần '..' trỏ ra ngoài thư mục hồ sơ: {path}",
        f"File name contains a '..' component that escapes the submission folder: {path}",
        path=path,
    )


def absolute_path(path: str) -> Finding:
    return error(
        "intake.absolute_path",
        f"Tên tệp là đường dẫn tuyệt đối, không được chấp nhận: {path}",
        f"File name is an absolute path, which is not accepted: {path}",
        path=path,
    )


def invalid_name(path: str, reason: str) -> Finding:
    return error(
        "intake.invalid_name",
        f"Tên tệp không hợp lệ ({reason}): {path}",
        f"Invalid file name ({reason}): {path}",
        path=path,
        evidence={"reason": reason},
    )


def symlink(path: str) -> Finding:
    return error(
        "intake.symlink",
        f"Gói nộp lưu chứa liên kết tượng trưng (symlink), không được chấp nhận: {path}",
        f"The submission contains a symbolic link, which is not accepted: {path}",
        path=path,
    )


def special_file(path: str, kind: str) -> Finding:
    return error(
        "intake.special_file",
        f"Gói nộp lưu chứa tệp đặc biệt ({kind}), chỉ chấp nhận tệp thường: {path}",
        f"The submission contains a special file ({kind}); only regular files are accepted: {path}",
        path=path,
        evidence={"kind": kind},
    )


def zip_bomb(path: str | None, reason: str, **evidence: Any) -> Finding:
    return error(
        "intake.zip_bomb",
        f"Tệp ZIP có dấu hiệu 'bom nén' ({reason}); đã dừng giải nén",
        f"The ZIP file looks like a decompression bomb ({reason}); extraction stopped",
        path=path,
        evidence={"reason": reason, **evidence},
    )


def too_many_files(count: int, limit: int) -> Finding:
    return error(
        "intake.too_many_files",
        f"Gói nộp lưu có quá nhiều tệp (từ {count} tệp, giới hạn {limit})",
        f"The submission has too many files (at least {count}, limit {limit})",
        evidence={"count": count, "limit": limit},
    )


def too_large(path: str | None, size: int, limit: int) -> Finding:
    what_vi = f"Tệp {path}" if path else "Tổng dung lượng gói nộp lưu"
    what_en = f"File {path}" if path else "The submission's total size"
    return error(
        "intake.too_large",
        f"{what_vi} vượt giới hạn ({size} byte, giới hạn {limit} byte)",
        f"{what_en} exceeds the limit ({size} bytes, limit {limit} bytes)",
        path=path,
        evidence={"size": size, "limit": limit},
    )


def unicode_duplicate(first: str, second: str) -> Finding:
    return error(
        "intake.unicode_duplicate",
        f"Hai tên tệp trùng nhau sau khi chuẩn hóa Unicode (NFC/NFD): {first!r} và {second!r}",
        f"Two file names are equal after Unicode normalisation (NFC/NFD): {first!r} and {second!r}",
        path=first,
        evidence={"names": [first, second]},
    )


def duplicate_name(path: str) -> Finding:
    return error(
        "intake.duplicate_name",
        f"Tệp ZIP chứa hai mục cùng tên: {path}",
        f"The ZIP file holds two entries with the same name: {path}",
        path=path,
    )


def path_conflict(path: str) -> Finding:
    return error(
        "intake.path_conflict",
        f"Tên '{path}' vừa là tệp vừa là thư mục trong gói nộp lưu",
        f"The name '{path}' is both a file and a folder in the submission",
        path=path,
    )


def invalid_name_encoding(shown: str, raw: bytes) -> Finding:
    return error(
        "intake.invalid_name_encoding",
        f"Tên tệp không phải UTF-8 hợp lệ (cần mã Unicode TCVN 6909:2001): {shown}",
        f"File name is not valid UTF-8 (Unicode, TCVN 6909:2001, is required): {shown}",
        path=shown,
        evidence={"raw_hex": raw.hex()},
    )


def zip_corrupt(detail: str) -> Finding:
    return error(
        "intake.zip_corrupt",
        "Tệp ZIP bị hỏng hoặc không đọc được",
        "The ZIP file is corrupt or unreadable",
        evidence={"detail": detail[:300]},
    )


def encrypted_zip(path: str) -> Finding:
    return error(
        "intake.encrypted_zip",
        f"Tệp ZIP có mục được mã hóa bằng mật khẩu, không được chấp nhận: {path}",
        f"The ZIP file has a password-encrypted entry, which is not accepted: {path}",
        path=path,
    )


def source_unreadable(source: str, detail: str) -> Finding:
    return error(
        "intake.source_unreadable",
        f"Không đọc được nguồn nộp lưu (không phải thư mục, ZIP hay túi BagIt): {source}",
        f"Cannot read the submission source (not a folder, a ZIP or a BagIt bag): {source}",
        evidence={"detail": detail[:300]},
    )


def metadata_missing() -> Finding:
    return error(
        "intake.metadata_missing",
        "Thiếu tệp đặc tả metadata.json (hoặc metadata.xlsx) trong gói nộp lưu",
        "The submission has no metadata.json (or metadata.xlsx)",
    )


def metadata_invalid_json(name: str, detail: str) -> Finding:
    return error(
        "intake.metadata_invalid_json",
        f"Tệp {name} không phải JSON hợp lệ (UTF-8): {detail}",
        f"{name} is not valid JSON (UTF-8): {detail}",
        path=name,
        evidence={"detail": detail[:300]},
    )


def metadata_refused(name: str, exc: JsonRefused) -> Finding:
    """The metadata file refused by the bounded JSON reader: too deep, too large or not JSON."""
    if exc.code == "json.invalid":
        return metadata_invalid_json(name, exc.message_en)
    code = {"json.too_deep": "intake.metadata_too_deep", "json.too_large": "intake.metadata_too_large"}
    return error(
        code.get(exc.code, "intake.metadata_invalid_json"),
        f"Tệp {name} bị từ chối: {exc.message_vi}",
        f"{name} is refused: {exc.message_en}",
        path=name,
        evidence={k: v for k, v in exc.evidence.items() if isinstance(v, int)},
    )


def metadata_invalid(name: str, detail: str, field: str | None = None) -> Finding:
    return error(
        "intake.metadata_invalid",
        f"Cấu trúc tệp {name} không đúng quy định nộp lưu: {detail}",
        f"{name} does not have the submission structure: {detail}",
        path=name,
        field=field,
        evidence={"detail": detail[:300]},
    )


def bag_invalid(detail: str) -> Finding:
    return error(
        "intake.bag_invalid",
        f"Túi BagIt không hợp lệ: {detail}",
        f"The BagIt bag is not valid: {detail}",
        evidence={"detail": detail[:300]},
    )


def bag_invalid_finding(found: Finding) -> Finding:
    """A bag error found by :func:`archive.bags.validate_bag`, as an intake refusal (its code kept)."""
    return error(
        "intake.bag_invalid",
        f"Túi BagIt không hợp lệ: {found.message_vi}",
        f"The BagIt bag is not valid: {found.message_en}",
        path=found.path,
        evidence={"bag_code": found.code, "detail": found.message_en[:300]},
    )


def checksum_mismatch(path: str, algorithm: str, declared: str, actual: str) -> Finding:
    return error(
        "intake.checksum_mismatch",
        f"Mã băm {algorithm} của tệp {path} không khớp với giá trị khai báo "
        f"(khai báo {declared}, thực tế {actual})",
        f"The {algorithm} of {path} does not match the declared value (declared {declared}, actual {actual})",
        path=path,
        evidence={"algorithm": algorithm, "declared": declared, "actual": actual},
    )


def file_missing(path: str) -> Finding:
    return error(
        "intake.file_missing",
        f"Tệp được khai báo trong đặc tả nhưng không có trong gói nộp lưu: {path}",
        f"A file declared in the metadata is missing from the submission: {path}",
        path=path,
    )


def empty_file(path: str) -> Finding:
    return warning(
        "intake.empty_file",
        f"Tệp {path} rỗng (0 byte): cần người làm lưu trữ xem xét trước khi lưu.",
        f"{path} is empty (0 bytes): an archivist must review it before it is archived.",
        path=path,
    )


def file_unlisted(path: str) -> Finding:
    return warning(
        "intake.file_unlisted",
        f"Tệp có trong gói nộp lưu nhưng không được khai báo trong đặc tả: {path}",
        f"A file in the submission is not declared in the metadata: {path}",
        path=path,
    )
