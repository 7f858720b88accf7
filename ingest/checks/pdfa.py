"""Built-in PDF/A checks with pikepdf: the ISO 19005 rule classes real files fail most.

These run always; veraPDF (``ingest.checks.verapdf``), when installed, adds the full ISO 19005
profile. For a file whose XMP claims ``pdfaid:part``/``pdfaid:conformance`` the claim is read
into a ``Profile`` (part 1–3, level a/b/u; part 4 is checked as part 2/3 are) and each rule
class runs in its own module:

=====================  =========================================================
``pdfa_file``          header, trailer ID, trailing data, xref, encryption, LZW,
                       external streams, image keys, PostScript, reference XObjects
``pdfa_xmp``           XMP present/well-formed/unfiltered, pdfaid, extension
                       schemas, Info ↔ XMP
``pdfa_colour``        OutputIntent and ICC profiles, device colour vs OutputIntent,
                       ICCBased spaces, rendering intents, transfer functions,
                       blend modes, transparency (PDF/A-1)
``pdfa_fonts``         embedding, program type, widths, TrueType encodings,
                       CIDToGIDMap, subset CharSet/CIDSet (PDF/A-1), ToUnicode (a/u)
``pdfa_interactive``   actions, additional actions, JavaScript, annotations (types,
                       flags, appearances), forms, embedded files by part,
                       optional content, tagged structure (level a)
=====================  =========================================================

The table of codes, clauses and what is not checked is in docs/pdfa.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pikepdf

from archive.findings import Finding
from ingest.checks.pdfa_colour import check_colour_spaces, check_graphics_state, check_output_intent
from ingest.checks.pdfa_file import check_file, check_objects
from ingest.checks.pdfa_fonts import check_fonts
from ingest.checks.pdfa_interactive import (
    check_actions,
    check_annotations,
    check_embedded_files,
    check_optional_content,
    check_structure,
)
from ingest.checks.pdfa_walk import Profile, rule_finding, scan_content
from ingest.checks.pdfa_xmp import check_info, check_xmp

KNOWN_CLAIMS = {"1a", "1b", "2a", "2b", "2u", "3a", "3b", "3u", "4", "4e", "4f"}


def pdfa_claim(pdf: pikepdf.Pdf) -> str | None:
    """Return the PDF/A claim in the XMP metadata, lowercased (``"2b"``), or None."""
    try:
        meta = pdf.open_metadata()
    except (pikepdf.PdfError, ValueError):
        return None
    part = str(meta.get("pdfaid:part", "") or "").strip()
    conformance = str(meta.get("pdfaid:conformance", "") or "").strip().lower()
    return f"{part}{conformance}" if part else None


def check_pdfa(
    pdf: pikepdf.Pdf,
    claim: str,
    path: str,
    *,
    has_javascript: bool,
    file: Path | None = None,
    warnings: Sequence[str] | None = None,
) -> list[Finding]:
    """Run the built-in PDF/A rules for ``claim`` (e.g. "2b") on an open file.

    ``file`` is the file on disk, for the byte-level rules (header, data after %%EOF); without
    it those two rules are skipped. ``warnings`` are qpdf's warnings on opening the file
    (``pdf.get_warnings()`` returns them once, so a caller that read them passes them on).
    """
    found: list[Finding] = []
    if claim not in KNOWN_CLAIMS:
        found.append(
            rule_finding(
                "claim_unknown",
                f"Khai báo PDF/A không hợp lệ: {claim}.",
                f"Unknown PDF/A claim: {claim}.",
                path,
                "6.7.11" if claim.startswith("1") else "6.6.4",
                claim=claim,
            )
        )
    profile = Profile.parse(claim)
    usage = scan_content(pdf)
    qpdf_warnings = [str(w) for w in pdf.get_warnings()] if warnings is None else list(warnings)
    found += check_file(pdf, profile, path, file, qpdf_warnings)
    found += check_objects(pdf, usage, profile, path)
    found += check_xmp(pdf, profile, path)
    found += check_info(pdf, profile, path)
    found += check_output_intent(pdf, profile, path)
    found += check_colour_spaces(pdf, usage, profile, path)
    found += check_graphics_state(pdf, profile, path)
    found += check_fonts(usage, profile, path)
    found += check_actions(pdf, profile, path, has_javascript=has_javascript)
    found += check_annotations(pdf, profile, path)
    found += check_embedded_files(pdf, profile, path)
    found += check_optional_content(pdf, profile, path)
    found += check_structure(pdf, profile, path)
    return found
