"""Intake (tiếp nhận): stage a submission safely, verify its checksums, issue a receipt.

    result = stage_submission(Path("upload.zip"), Path("/var/luutru/staging"), limits=IntakeLimits())
    if isinstance(result, IntakeRejected):
        ...  # result.findings say why; nothing is left in staging
    else:
        receipt = make_receipt(result, holidays=holidays)

The submission format is described in docs/submission-format.md.
"""

from __future__ import annotations

from .errors import IntakeError, StagingError
from .office_hours import effective_receipt_time, is_office_time
from .receipt import Receipt, make_receipt
from .submission import IntakeLimits, IntakeRejected, SourceKind, StagedFile, StagedSubmission
from .unpack import stage_submission

__all__ = [
    "IntakeError",
    "IntakeLimits",
    "IntakeRejected",
    "Receipt",
    "SourceKind",
    "StagedFile",
    "StagedSubmission",
    "StagingError",
    "effective_receipt_time",
    "is_office_time",
    "make_receipt",
    "stage_submission",
]
