"""File checks run by the validate stage: PDF structure, PDF/A, digital signatures.

Each check takes a path and returns a frozen report whose findings are data
(``archive.findings.Finding``); none of them raises on a malformed input file.
"""

from __future__ import annotations

from ingest.checks.pdf import PdfaResult, PdfReport, check_digitised, check_pdf
from ingest.checks.signatures import (
    Modification,
    SignatureReport,
    SignatureResult,
    SignerKind,
    check_signatures,
    classify_signer,
)
from ingest.checks.trust import import_certificate, load_trust_roots
from ingest.checks.verapdf import VeraResult, find_verapdf, parse_mrr, run_verapdf

__all__ = [
    "Modification",
    "PdfReport",
    "PdfaResult",
    "SignatureReport",
    "SignatureResult",
    "SignerKind",
    "VeraResult",
    "check_digitised",
    "check_pdf",
    "check_signatures",
    "classify_signer",
    "find_verapdf",
    "import_certificate",
    "load_trust_roots",
    "parse_mrr",
    "run_verapdf",
]
