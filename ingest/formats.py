"""Accepted-format policy (định dạng văn bản điện tử được chấp nhận).

Default list: the formats the regulations name (Đắk Lắk and Lạng Sơn Quy chế Điều 4,
TT 05/2025 formats and digitisation Điều 8): text, spreadsheets, slides, PDF, images,
audio and video, plus XML and JSON for structured data. It is configuration, not law:
``FormatPolicy.from_config`` builds another list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.findings import Finding, error

if TYPE_CHECKING:
    from .identify import FileIdentity

__all__ = ["DEFAULT_ACCEPTED_EXTENSIONS", "EXECUTABLE_MIMES", "EXTENSIONS_BY_MIME", "FormatPolicy"]

DEFAULT_ACCEPTED_EXTENSIONS = frozenset(
    {
        "txt", "rtf", "doc", "docx", "odt",  # văn bản
        "csv", "xls", "xlsx", "ods",  # bảng tính
        "ppt", "pptx", "odp",  # trình chiếu
        "pdf",  # văn bản ký số, tài liệu chỉ đọc
        "jpg", "jpeg", "png", "tif", "tiff", "gif",  # ảnh
        "mp3", "mp4", "avi", "wav", "wma",  # ghi âm, ghi hình
        "xml", "json",  # dữ liệu có cấu trúc
        "edxml",  # thông điệp edXML (QCVN 102:2016), kept as received
    }
)  # fmt: skip

# Content that is a program, whatever its name says.
EXECUTABLE_MIMES = frozenset(
    {
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "application/vnd.microsoft.portable-executable",
        "application/x-msdownload",
        "text/x-shellscript",
        "text/x-msdos-batch",
    }
)

# What libmagic reports for a format and the extensions such a file may carry; used for
# the extension check when PRONOM has no signature match.
EXTENSIONS_BY_MIME: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"pdf"}),
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    "image/tiff": frozenset({"tif", "tiff"}),
    "image/gif": frozenset({"gif"}),
    "application/msword": frozenset({"doc", "dot"}),
    "application/vnd.ms-excel": frozenset({"xls", "xlt"}),
    "application/vnd.ms-powerpoint": frozenset({"ppt", "pot", "pps"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({"docx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({"xlsx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({"pptx"}),
    "application/vnd.oasis.opendocument.text": frozenset({"odt"}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({"ods"}),
    "application/vnd.oasis.opendocument.presentation": frozenset({"odp"}),
    "text/rtf": frozenset({"rtf"}),
    "audio/mpeg": frozenset({"mp3"}),
    "video/mp4": frozenset({"mp4", "m4v"}),
    "video/x-msvideo": frozenset({"avi"}),
    "audio/x-wav": frozenset({"wav"}),
    "application/x-dosexec": frozenset({"exe", "dll", "sys"}),
}


def _normalise(extension: str) -> str:
    return extension.strip().lower().lstrip(".")


@dataclass(frozen=True, slots=True)
class FormatPolicy:
    """Which file extensions the archive accepts; anything else is ``format.not_accepted``."""

    accepted_extensions: frozenset[str] = DEFAULT_ACCEPTED_EXTENSIONS

    @classmethod
    def default(cls) -> FormatPolicy:
        return cls(DEFAULT_ACCEPTED_EXTENSIONS)

    @classmethod
    def from_config(cls, extensions: Iterable[str]) -> FormatPolicy:
        """Build a policy from configured extensions (``".PDF"``, ``"pdf"`` both mean pdf).

        Raises ValueError when the list is empty or holds a blank entry.
        """
        normalised = frozenset(_normalise(e) for e in extensions)
        if not normalised or "" in normalised:
            raise ValueError("the accepted-format list needs at least one non-empty extension")
        return cls(normalised)

    def accepts(self, extension: str) -> bool:
        return _normalise(extension) in self.accepted_extensions

    def check(self, identity: FileIdentity) -> list[Finding]:
        """Return ``format.not_accepted`` for a refused extension and
        ``format.executable_content`` for a program, whatever its extension."""
        findings: list[Finding] = []
        shown = identity.path.name
        if not self.accepts(identity.extension):
            ext = identity.extension or "(không có)"
            findings.append(
                error(
                    "format.not_accepted",
                    f"Định dạng .{ext} không thuộc danh mục định dạng được tiếp nhận: {shown}",
                    f"The .{identity.extension or '(none)'} format is not on the accepted-format list: {shown}",
                    path=str(identity.path),
                    evidence={"extension": identity.extension, "mime": identity.mime, "puid": identity.puid},
                )
            )
        if identity.mime in EXECUTABLE_MIMES and self.accepts(identity.extension):
            findings.append(
                error(
                    "format.executable_content",
                    f"Tệp {shown} thực chất là chương trình chạy được ({identity.mime}), không được tiếp nhận",
                    f"{shown} is really an executable program ({identity.mime}) and is not accepted",
                    path=str(identity.path),
                    evidence={"mime": identity.mime, "puid": identity.puid},
                )
            )
        return findings
