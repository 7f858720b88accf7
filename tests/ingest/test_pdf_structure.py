"""PDF structure checks on real files: version, encryption, active content, malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.findings import Severity
from ingest.checks.pdf import check_pdf
from luutru.samples import pdfs
from luutru.samples.pki import TestPki


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pdfs.make_pdf(tmp_path_factory.mktemp("plain") / "plain.pdf", pages=2)


def codes(path: Path) -> dict[str, Severity]:
    return {f.code: f.severity for f in check_pdf(path).findings}


def test_clean_pdf_has_no_findings(plain: Path) -> None:
    report = check_pdf(plain)
    assert report.findings == ()
    assert report.pdf_version is not None and report.pdf_version >= "1.4"
    assert report.page_count == 2 and report.text_layer and not report.encrypted
    assert report.pdfa.claimed is None and report.pdfa.compliant is None


def test_to_json_has_the_contract_shape(plain: Path, tmp_path: Path) -> None:
    data = check_pdf(pdfs.with_javascript(plain, tmp_path / "js.pdf")).to_json()
    assert set(data) == {"path", "pdf_version", "encrypted", "pdfa", "findings"}
    assert data["pdfa"] == {"claimed": None, "compliant": None, "validator": "builtin"}
    assert data["findings"][0]["code"] == "pdf.javascript"
    json.dumps(data)


def test_version_13_is_too_old(plain: Path, tmp_path: Path) -> None:
    old = pdfs.with_version(plain, tmp_path / "v13.pdf", "1.3")
    assert old.read_bytes().startswith(b"%PDF-1.3")
    report = check_pdf(old)
    assert report.pdf_version == "1.3"
    assert codes(old)["pdf.version_too_old"] is Severity.ERROR


def test_encrypted_with_empty_user_password(plain: Path, tmp_path: Path) -> None:
    report = check_pdf(pdfs.encrypted(plain, tmp_path / "enc.pdf"))
    assert report.encrypted
    assert "pdf.encrypted" in {f.code for f in report.findings}


def test_encrypted_with_password_cannot_be_opened(plain: Path, tmp_path: Path) -> None:
    report = check_pdf(pdfs.encrypted(plain, tmp_path / "locked.pdf", user_password="mat-khau"))
    assert report.encrypted and report.pdf_version is None
    assert [f.code for f in report.findings] == ["pdf.encrypted"]


def test_javascript_in_names_tree_and_open_action(plain: Path, tmp_path: Path) -> None:
    report = check_pdf(pdfs.with_javascript(plain, tmp_path / "js.pdf"))
    js = next(f for f in report.findings if f.code == "pdf.javascript")
    assert js.severity is Severity.ERROR
    assert set(js.evidence["where"]) == {"Names.JavaScript", "OpenAction"}


def test_embedded_file(plain: Path, tmp_path: Path) -> None:
    report = check_pdf(pdfs.with_embedded_file(plain, tmp_path / "att.pdf"))
    found = next(f for f in report.findings if f.code == "pdf.embedded_file")
    assert found.evidence["names"] == ["phu-luc.txt"]


def test_launch_action(plain: Path, tmp_path: Path) -> None:
    found = codes(pdfs.with_launch_action(plain, tmp_path / "launch.pdf"))
    assert found["pdf.launch_action"] is Severity.ERROR


@pytest.mark.parametrize("keep", [0, 10, 400, 1500])
def test_truncated_pdf_is_malformed_not_an_exception(plain: Path, tmp_path: Path, keep: int) -> None:
    report = check_pdf(pdfs.truncated(plain, tmp_path / "cut.pdf", keep=keep))
    assert "pdf.malformed" in {f.code for f in report.findings} or "pdf.repaired" in {
        f.code for f in report.findings
    }
    assert any(f.severity is not Severity.INFO for f in report.findings)


def test_not_a_pdf_at_all(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is a Word file, renamed\n" * 100)
    report = check_pdf(junk)
    assert [f.code for f in report.findings] == ["pdf.malformed"]
    assert report.pdf_version is None


def test_missing_file_is_malformed(tmp_path: Path) -> None:
    report = check_pdf(tmp_path / "absent.pdf")
    assert [f.code for f in report.findings] == ["pdf.malformed"]


def test_signed_and_form_filled_file_is_not_reported_damaged(tmp_path: Path, pki: TestPki) -> None:
    """Incremental updates by signing tools leave a harmless trailer /Size quirk; no finding."""
    src = pdfs.make_pdf(tmp_path / "a.pdf", text_field="ghi_chu", signature_fields=("NguoiKy",))
    signed = pdfs.sign_pdf(src, tmp_path / "s.pdf", pki.person.signer, field="NguoiKy")
    pdfs.form_fill_after_signing(signed)
    assert check_pdf(signed).findings == ()
