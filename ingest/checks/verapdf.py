"""veraPDF adapter: run the external validator and turn its MRR report into findings.

veraPDF (https://verapdf.org) implements the full ISO 19005 profiles; the archive uses it when
it is installed and configured, on top of the built-in checks. It is run as
``verapdf --format mrr <file>`` and its machine-readable report is parsed:

    <report><jobs><job>
      <validationReport profileName="PDF/A-2B validation profile" isCompliant="false">
        <details failedRules="1" …>
          <rule specification="ISO 19005-2:2011" clause="6.2.11.4.1" testNumber="1"
                status="failed" failedChecks="2">
            <description>The font programs for all fonts … shall be embedded …</description>
            <check status="failed"><context>…</context></check>
          </rule>
    …

Each failed rule becomes an ERROR finding ``pdfa.verapdf.<clause>-<testNumber>``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from archive.findings import Finding, error
from ingest.errors import ValidatorError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 600.0
MAX_CONTEXTS = 5  # failed-check contexts kept per rule as evidence


@dataclass(frozen=True, slots=True)
class VeraResult:
    """One veraPDF run: ``compliant`` is None when the report has no verdict."""

    compliant: bool | None
    profile: str | None
    findings: tuple[Finding, ...]
    passed_rules: int = 0
    failed_rules: int = 0


def find_verapdf(configured: str | None = None) -> str | None:
    """Return the veraPDF executable: ``configured`` if it resolves, else ``verapdf`` on PATH."""
    if configured:
        found = shutil.which(configured)
        if found:
            return found
        return configured if Path(configured).is_file() else None
    return shutil.which("verapdf")


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def parse_mrr(xml: bytes, path: str | None = None) -> VeraResult:
    """Parse a veraPDF MRR report (bytes) into a VeraResult; raise ValidatorError if unusable."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValidatorError(f"veraPDF report is not XML: {exc}") from exc
    report = root.find(".//validationReport")
    if report is None:
        problem = root.findtext(".//taskException/exceptionMessage") or root.findtext(".//exceptionMessage")
        raise ValidatorError(f"veraPDF produced no validation report: {problem or 'unknown reason'}")
    compliant_attr = report.get("isCompliant")
    compliant = None if compliant_attr is None else compliant_attr.strip().lower() == "true"
    details = report.find("details")
    findings: list[Finding] = []
    for rule in report.iter("rule"):
        if rule.get("status", "").lower() != "failed":
            continue
        clause = rule.get("clause", "?")
        test = rule.get("testNumber", "?")
        description = " ".join((rule.findtext("description") or "").split())
        contexts = [
            (c.findtext("context") or "").strip()
            for c in rule.findall("check")
            if c.get("status") == "failed"
        ][:MAX_CONTEXTS]
        findings.append(
            error(
                f"pdfa.verapdf.{clause}-{test}",
                f"veraPDF: vi phạm điều {clause} (kiểm tra {test}) của {rule.get('specification', 'ISO 19005')}.",
                f"veraPDF: {description or f'rule {clause}-{test} failed'}",
                path=path,
                evidence={
                    "specification": rule.get("specification"),
                    "clause": clause,
                    "test_number": test,
                    "failed_checks": _int(rule.get("failedChecks")),
                    "description": description,
                    "contexts": contexts,
                },
            )
        )
    return VeraResult(
        compliant=compliant,
        profile=report.get("profileName"),
        findings=tuple(findings),
        passed_rules=_int(details.get("passedRules")) if details is not None else 0,
        failed_rules=_int(details.get("failedRules")) if details is not None else len(findings),
    )


def run_verapdf(path: Path, executable: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> VeraResult:
    """Run veraPDF on ``path`` and parse its report; raise ValidatorError when it cannot run.

    veraPDF's exit status says "not compliant" as well as "crashed", so the report, not the
    status, decides; an empty or unparseable report is an error.
    """
    cmd = [executable, "--format", "mrr", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ValidatorError(f"veraPDF not found: {executable}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ValidatorError(f"veraPDF timed out after {timeout:.0f} s") from exc
    if not proc.stdout.strip():
        stderr = proc.stderr.decode("utf-8", "replace")[-500:]
        raise ValidatorError(f"veraPDF exited {proc.returncode} without a report: {stderr}")
    log.info("veraPDF finished", extra={"returncode": proc.returncode})
    return parse_mrr(proc.stdout, str(path))
