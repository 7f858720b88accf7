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
