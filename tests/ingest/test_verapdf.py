"""veraPDF adapter: the MRR report parser against a report written from the documented
format, and the real executable when it is installed (marker ``verapdf``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archive.findings import Severity
from ingest.checks.pdf import check_pdf
from ingest.checks.verapdf import find_verapdf, parse_mrr, run_verapdf
from ingest.errors import ValidatorError
from luutru.samples import pdfs

# FIXTURE OF THE REPORT FORMAT, not output captured from a real run: a veraPDF 1.26-style
# machine-readable report (--format mrr) with one failed and one passed rule, written from
# the format documented at https://docs.verapdf.org/cli/ (validationReport/details/rule).
MRR_FAILED = b"""<?xml version="1.0" encoding="utf-8"?>
<report>
  <buildInformation>
    <releaseDetails id="core" version="1.26.2" buildDate="2024-09-02T12:00:00+02:00"/>
  </buildInformation>
  <jobs>
    <job>
      <item size="18211"><name>/data/cong-van.pdf</name></item>
      <validationReport jobEndStatus="normal" profileName="PDF/A-2B validation profile"
          statement="PDF file is not compliant with Validation Profile requirements." isCompliant="false">
        <details passedRules="143" failedRules="1" passedChecks="1024" failedChecks="2">
          <rule specification="ISO 19005-2:2011" clause="6.2.11.4.1" testNumber="1" status="failed"
              failedChecks="2" tags="font">
            <description>The font programs for all fonts used for rendering within a conforming
              file shall be embedded within that file, as defined in ISO 32000-1:2008, 9.9</description>
            <object>PDFont</object>
            <test>Subtype == "Type3" || Subtype == "Type0" || renderingMode == 3 || containsFontFile == true</test>
            <check status="failed">
              <context>root/document[0]/pages[0](3 0 obj PDPage)/contentStream[0]/operators[12]/font[0](Helvetica)</context>
              <errorMessage>The font program is not embedded</errorMessage>
            </check>
            <check status="failed">
              <context>root/document[0]/pages[1](9 0 obj PDPage)/contentStream[0]/operators[12]/font[0](Helvetica)</context>
              <errorMessage>The font program is not embedded</errorMessage>
            </check>
          </rule>
          <rule specification="ISO 19005-2:2011" clause="6.1.2" testNumber="1" status="passed" passedChecks="1">
            <description>The file header shall begin at byte zero</description>
          </rule>
        </details>
      </validationReport>
      <duration start="1725271200000" finish="1725271200450">00:00:00.450</duration>
    </job>
  </jobs>
  <batchSummary totalJobs="1" failedToParse="0" encrypted="0" outOfMemory="0" veraExceptions="0">
    <validationReports compliant="0" nonCompliant="1" failedJobs="0">1</validationReports>
  </batchSummary>
</report>
"""

MRR_COMPLIANT = b"""<?xml version="1.0" encoding="utf-8"?>
<report><jobs><job><item size="1"><name>a.pdf</name></item>
  <validationReport jobEndStatus="normal" profileName="PDF/A-2B validation profile"
      statement="PDF file is compliant with Validation Profile requirements." isCompliant="true">
    <details passedRules="144" failedRules="0" passedChecks="1026" failedChecks="0"/>
  </validationReport></job></jobs></report>
"""

MRR_EXCEPTION = b"""<?xml version="1.0" encoding="utf-8"?>
<report><jobs><job><item size="5"><name>broken.pdf</name></item>
  <taskException type="PARSE" isExecuted="true" isSuccess="false">
    <exceptionMessage>Couldn't parse stream</exceptionMessage>
  </taskException></job></jobs></report>
"""


def test_failed_rule_becomes_a_finding_per_clause_and_test() -> None:
    result = parse_mrr(MRR_FAILED, "cong-van.pdf")
    assert result.compliant is False
    assert result.profile == "PDF/A-2B validation profile"
    assert (result.passed_rules, result.failed_rules) == (143, 1)
    (finding,) = result.findings
    assert finding.code == "pdfa.verapdf.6.2.11.4.1-1"
    assert finding.severity is Severity.ERROR
    assert finding.evidence["failed_checks"] == 2
    assert finding.evidence["specification"] == "ISO 19005-2:2011"
    assert "font programs" in finding.message_en and len(finding.evidence["contexts"]) == 2
    assert "6.2.11.4.1" in finding.message_vi


def test_compliant_report() -> None:
    result = parse_mrr(MRR_COMPLIANT)
    assert result.compliant is True and result.findings == () and result.passed_rules == 144


@pytest.mark.parametrize("xml", [MRR_EXCEPTION, b"<not-xml", b""])
def test_unusable_report_raises(xml: bytes) -> None:
    with pytest.raises(ValidatorError):
        parse_mrr(xml)


def test_find_verapdf_prefers_the_configured_path(tmp_path: Path) -> None:
    tool = tmp_path / "verapdf"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    assert find_verapdf(str(tool)) == str(tool)
    assert find_verapdf(str(tmp_path / "absent")) is None


def test_a_tool_that_cannot_run_falls_back_to_builtin(tmp_path: Path) -> None:
    pdf = pdfs.make_pdf(tmp_path / "a.pdf", pdfa="2b")
    broken = tmp_path / "not-verapdf"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 7\n")
    broken.chmod(0o755)
    with pytest.raises(ValidatorError):
        run_verapdf(pdf, str(broken))
    report = check_pdf(pdf, verapdf=str(broken))
    assert report.pdfa.validator == "builtin" and report.pdfa.compliant is True
    assert "pdfa.verapdf.failed" in {f.code for f in report.findings}


VERAPDF = find_verapdf(os.environ.get("LUUTRU_VERAPDF"))


@pytest.mark.verapdf
@pytest.mark.skipif(VERAPDF is None, reason="the verapdf executable is not on PATH (install veraPDF to run)")
def test_real_verapdf_on_generated_files(tmp_path: Path) -> None:
    assert VERAPDF is not None
    bad = pdfs.make_pdf(tmp_path / "helv.pdf", pdfa="2b", embed_fonts=False)
    report = check_pdf(bad, verapdf=VERAPDF)
    assert report.pdfa.validator == "verapdf" and report.pdfa.compliant is False
    assert any(f.code.startswith("pdfa.verapdf.6.2.11.4") for f in report.findings)
