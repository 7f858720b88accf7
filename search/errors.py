"""Errors raised on purpose by search/: for when the code cannot go on."""

from __future__ import annotations

from archive.errors import ArchiveError


class SearchError(ArchiveError):
    """Base for errors raised on purpose by search/."""


class IndexUnavailable(SearchError, ConnectionError):
    """The index backend cannot be reached or opened."""


class IndexOutdated(SearchError):
    """The index was built by another analyzer version; rebuild it before writing to it."""

    def __init__(self, found: str, expected: str) -> None:
        super().__init__(f"index built with analyzer {found!r}, this code uses {expected!r}: rebuild it")
        self.found, self.expected = found, expected


class RebuildStateError(SearchError, RuntimeError):
    """begin/commit/abort rebuild called out of order."""


class ExtractionFailed(SearchError):
    """Text could not be extracted from a file (unreadable, encrypted, OCR engine missing)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot extract text from {path}: {reason}")
        self.path, self.reason = path, reason
