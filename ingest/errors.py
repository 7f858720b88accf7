"""Errors raised on purpose by ingest/: for when the code cannot go on.

Problems found in a submission (a tampered signature, a PDF that is not PDF/A) are findings
(``archive.findings``), not exceptions. These are for misconfiguration and broken tools.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base for errors raised on purpose by ingest/."""


class TrustStoreError(IngestError, ValueError):
    """A certificate offered as a trust anchor is unreadable or is not a CA certificate."""


class ValidatorError(IngestError, RuntimeError):
    """An external validator (veraPDF) could not be run or produced an unreadable report."""


class UploadError(IngestError):
    """A chunked API upload cannot go on as asked; ``code`` is stable, messages are vi/en."""

    code = "upload.refused"

    def __init__(self, message_vi: str, message_en: str, **evidence: object) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en, self.evidence = message_vi, message_en, evidence


class UploadPlanInvalid(UploadError, ValueError):
    """The declared metadata cannot make an upload plan (no documents, bad checksum, duplicates)."""

    code = "upload.plan_invalid"


class UploadPathInvalid(UploadError, ValueError):
    """A file path is absolute, escapes the submission, or holds a backslash or a control character."""

    code = "upload.path_invalid"


class UploadRangeInvalid(UploadError, ValueError):
    """A Content-Range header is malformed or disagrees with the body or the declared size."""

    code = "upload.range_invalid"


class UploadOffsetMismatch(UploadError):
    """A chunk does not start where the file stands now; ``offset`` is where it does."""

    code = "upload.offset_mismatch"

    def __init__(self, offset: int) -> None:
        super().__init__(
            f"Phần dữ liệu phải bắt đầu tại byte {offset}.",
            f"The chunk must start at byte {offset}.",
            offset=offset,
        )
        self.offset = offset


class UploadBusy(UploadError):
    """Another request is writing the same file right now."""

    code = "upload.busy"


class UploadTooLarge(UploadError):
    """A file is larger than declared or than the archive accepts."""

    code = "upload.too_large"


class UploadFormatRefused(UploadError):
    """A file's extension is not among the accepted formats."""

    code = "format.not_accepted"


class UploadChecksumMismatch(UploadError):
    """A whole file's SHA-256 differs from the declared one; the file was reset and must be re-sent."""

    code = "intake.checksum_mismatch"


class UploadIncomplete(UploadError):
    """Finalising before every declared file arrived whole."""

    code = "upload.incomplete"


class UploadInterrupted(UploadError, OSError):
    """The client stopped sending mid-chunk; what arrived is kept and the offset says where to resume."""

    code = "upload.interrupted"
