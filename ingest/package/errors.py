"""Errors raised on purpose by ingest.package: for when a package cannot be built."""

from __future__ import annotations

from archive.errors import ArchiveError, IntegrityError


class PackageError(ArchiveError):
    """Base for errors raised while building or reading a SIP/AIP."""


class UnsafePath(PackageError, ValueError):
    """A file path would leave the package (absolute, ``..``, drive letter)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"unsafe path in package: {path!r}")
        self.path = path


class ChecksumMismatch(PackageError, IntegrityError):
    """A file's bytes differ from the checksum declared for it (nothing is packaged)."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        super().__init__(f"{path}: sha256 is {actual}, declared {expected}")
        self.path, self.expected, self.actual = path, expected, actual


class InvalidPackage(PackageError):
    """A package on disk is not a valid bag or lacks its METS/PREMIS/EAD files."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(f"invalid package {path}: " + "; ".join(problems[:5]))
        self.path, self.problems = path, problems
