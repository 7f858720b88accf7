"""Errors raised on purpose by ingest.intake.

Problems with a submission are findings; :class:`SubmissionRefused` only carries them
from the copying code back to :func:`ingest.intake.stage_submission`, which turns them into
an :class:`~ingest.intake.submission.IntakeRejected`. Callers never see it.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.errors import ArchiveError
from archive.findings import Finding

__all__ = ["IntakeError", "StagingError", "SubmissionRefused"]


class IntakeError(ArchiveError):
    """Base for errors raised on purpose by ingest.intake."""


class StagingError(IntakeError, OSError):
    """The staging area cannot be used (not creatable, not writable)."""


class SubmissionRefused(IntakeError):
    """Copying stopped because the submission breaks a rule; ``findings`` says which."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("; ".join(f.code for f in self.findings))
