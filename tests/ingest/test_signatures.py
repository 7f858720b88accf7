"""Signature validation on real PDFs signed by pyHanko with the generated test PKI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.findings import Severity
from ingest.checks.signatures import Modification, SignerKind, check_signatures
from luutru.samples import pdfs
from luutru.samples.pki import TestPki

CopyOf = Callable[[Path], Path]


def codes(report: object) -> set[str]:
    return {f.code for f in report.all_findings}  # type: ignore[attr-defined]


def test_person_then_body_is_valid(fully_signed: Path, pki: TestPki) -> None:
    report = check_signatures(fully_signed, trust_roots=[pki.root])
    assert report.valid
    person, body = report.signatures
    assert (person.field, person.kind, person.signer) == ("NguoiKy", SignerKind.PERSON, "Nguyễn Văn An")
    assert (body.field, body.kind, body.signer) == (
        "CoQuan",
        SignerKind.ORGANISATION,
        "Ủy ban nhân dân tỉnh Thái Bình",
    )
    assert person.intact and person.trusted and person.valid and not person.revoked and not person.expired
    # the body's signature (and a DSS) came after the person's: that is form filling, not tampering
    assert person.modification is Modification.FORM_FILLING
    assert not person.covers_whole_document
    assert body.modification is Modification.NONE
    assert body.valid
    assert body.signed_at is not None and body.signed_at.endswith("+07:00")
    assert not any(f.severity is Severity.ERROR for f in report.all_findings)
    assert {f.code for f in person.findings} == {"pdf.signature.form_filling"}


def test_to_json_has_the_contract_shape(fully_signed: Path, pki: TestPki) -> None:
    data = check_signatures(fully_signed, trust_roots=[pki.root]).to_json()
    assert set(data) == {"path", "valid", "signatures"}
    sig = data["signatures"][1]
    assert set(sig) == {
        "field", "signer", "kind", "signed_at", "intact", "covers_whole_document",
        "modification", "trusted", "valid", "findings",
    }  # fmt: skip
    assert sig["kind"] == "organisation" and sig["modification"] == "none"
    json.dumps(data)  # serialisable as it is


def test_evidence_keeps_the_pyhanko_report(fully_signed: Path, pki: TestPki) -> None:
    evidence = check_signatures(fully_signed, trust_roots=[pki.root]).evidence
    first = evidence["signatures"][0]
    assert "Bottom line" in first["report"]
    assert first["signer_certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert first["validation_path"][0].endswith("TEST Root CA Chính phủ") or any(
        "TEST Root CA Chính phủ" in p for p in first["validation_path"]
    )
    json.dumps(evidence)


def test_altered_after_signing_is_digest_mismatch(person_signed: Path, pki: TestPki, copy_of: CopyOf) -> None:
    pdf = pdfs.tamper_signed_range(copy_of(person_signed))
    report = check_signatures(pdf, trust_roots=[pki.root])
    assert not report.valid
    sig = report.signatures[0]
    assert not sig.intact and not sig.valid
    assert "pdf.signature.digest_mismatch" in {f.code for f in sig.findings}


def test_shadow_attack_is_modification_after_signing(
    person_signed: Path, pki: TestPki, copy_of: CopyOf
) -> None:
    pdf = pdfs.shadow_attack(copy_of(person_signed))
    report = check_signatures(pdf, trust_roots=[pki.root])
    sig = report.signatures[0]
    assert sig.intact  # the signed bytes are untouched: only diff analysis sees the attack
    assert sig.modification is Modification.OTHER
    assert not sig.valid and not report.valid
    found = {f.code: f for f in sig.findings}
    assert found["pdf.signature.modified_after_signing"].severity is Severity.ERROR


def test_form_filling_after_signing_is_allowed(person_signed: Path, pki: TestPki, copy_of: CopyOf) -> None:
    pdf = pdfs.form_fill_after_signing(copy_of(person_signed))
    sig = check_signatures(pdf, trust_roots=[pki.root]).signatures[0]
    assert sig.modification is Modification.FORM_FILLING
    assert sig.valid
    found = {f.code: f for f in sig.findings}
    # no later signature approved the change: the archivist has a look
    assert found["pdf.signature.form_filling"].severity is Severity.WARNING


def test_expired_signer(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    pdf = pdfs.sign_pdf(base_pdf, tmp_path / "expired.pdf", pki.expired_person.signer, field="NguoiKy")
    report = check_signatures(pdf, trust_roots=[pki.root])
    sig = report.signatures[0]
    assert sig.expired and not sig.valid and sig.intact
    assert "pdf.signature.expired" in {f.code for f in sig.findings}
    assert "pdf.signature.untrusted_issuer" not in codes(report)


def test_unknown_root(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    pdf = pdfs.sign_pdf(base_pdf, tmp_path / "stranger.pdf", pki.stranger.signer, field="NguoiKy")
    report = check_signatures(pdf, trust_roots=[pki.root])
    sig = report.signatures[0]
    assert sig.intact and not sig.trusted and not sig.valid
    assert "pdf.signature.untrusted_issuer" in {f.code for f in sig.findings}
    # the same file validates against its own root: the finding is about trust, not the file
    assert check_signatures(pdf, trust_roots=[pki.unknown_root]).signatures[0].trusted


def test_revoked_signer_offline_from_embedded_crl(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    pdf = pdfs.sign_pdf(
        base_pdf, tmp_path / "revoked.pdf", pki.revoked_person.signer, field="NguoiKy", crls=[pki.crl_der]
    )
    report = check_signatures(pdf, trust_roots=[pki.root], allow_fetching=False)
    sig = report.signatures[0]
    assert sig.revoked and not sig.trusted and not sig.valid
    revoked = next(f for f in sig.findings if f.code == "pdf.signature.revoked")
    assert revoked.evidence["reason"] == "key_compromise"
    # without the embedded CRL the same certificate cannot be found revoked offline
    plain = pdfs.sign_pdf(base_pdf, tmp_path / "no-crl.pdf", pki.revoked_person.signer, field="NguoiKy")
    sig2 = check_signatures(plain, trust_roots=[pki.root]).signatures[0]
    assert not sig2.revoked
    assert "pdf.signature.revocation_unchecked" in {f.code for f in sig2.findings}


def test_unsigned_pdf(base_pdf: Path, pki: TestPki) -> None:
    report = check_signatures(base_pdf, trust_roots=[pki.root])
    assert not report.valid and report.signatures == ()
    assert [f.code for f in report.findings] == ["pdf.signature.none"]
    assert report.findings[0].severity is Severity.ERROR
    lenient = check_signatures(base_pdf, trust_roots=[pki.root], required=False)
    assert lenient.findings[0].severity is Severity.INFO


def test_body_before_person_breaks_the_order_rule(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    first = pdfs.sign_pdf(base_pdf, tmp_path / "body-first.pdf", pki.organisation.signer, field="NguoiKy")
    both = pdfs.sign_pdf(first, tmp_path / "then-person.pdf", pki.person.signer, field="CoQuan")
    report = check_signatures(both, trust_roots=[pki.root])
    assert all(s.valid for s in report.signatures)
    assert "pdf.signature.order" in {f.code for f in report.findings}
    assert not report.valid


def test_one_kind_only_is_a_warning(person_signed: Path, pki: TestPki) -> None:
    report = check_signatures(person_signed, trust_roots=[pki.root])
    missing = next(f for f in report.findings if f.code == "pdf.signature.missing_required_kind")
    assert missing.severity is Severity.WARNING
    assert missing.evidence["required"] == "organisation"
    assert report.valid


def test_no_valid_signature_of_either_kind_is_an_error(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    pdf = pdfs.sign_pdf(base_pdf, tmp_path / "stranger.pdf", pki.stranger.signer, field="NguoiKy")
    report = check_signatures(pdf, trust_roots=[pki.root])
    missing = next(f for f in report.findings if f.code == "pdf.signature.missing_required_kind")
    assert missing.severity is Severity.ERROR


def test_digitised_copy_needs_the_body_signature(
    person_signed: Path, fully_signed: Path, pki: TestPki
) -> None:
    report = check_signatures(person_signed, trust_roots=[pki.root], digitised=True)
    assert not report.valid
    missing = next(f for f in report.findings if f.code == "pdf.signature.missing_required_kind")
    assert missing.severity is Severity.ERROR and missing.evidence["required"] == "organisation"
    assert check_signatures(fully_signed, trust_roots=[pki.root], digitised=True).valid


@pytest.mark.parametrize("keep", [0, 300, 2000])
def test_malformed_pdf_gives_findings_not_exceptions(
    person_signed: Path, pki: TestPki, tmp_path: Path, keep: int
) -> None:
    pdf = pdfs.truncated(person_signed, tmp_path / "cut.pdf", keep=keep)
    report = check_signatures(pdf, trust_roots=[pki.root])
    assert not report.valid
    assert codes(report) & {"pdf.malformed", "pdf.signature.none", "pdf.signature.malformed"}


def test_garbage_file(pki: TestPki, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    report = check_signatures(junk, trust_roots=[pki.root])
    assert not report.valid
    assert codes(report) & {"pdf.malformed", "pdf.signature.none"}


def test_trust_roots_accept_bytes_and_certificates(fully_signed: Path, pki: TestPki) -> None:
    as_bytes = check_signatures(fully_signed, trust_roots=[pki.root.read_bytes()])
    as_cert = check_signatures(fully_signed, trust_roots=[pki.root_cert])
    assert as_bytes.valid and as_cert.valid


def test_timestamp_gives_the_signing_time(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    at = datetime(2026, 1, 15, 2, 30, tzinfo=UTC)
    pdf = pdfs.sign_pdf(base_pdf, tmp_path / "ts.pdf", pki.person.signer, "NguoiKy", pki.timestamper(at))
    sig = check_signatures(pdf, trust_roots=[pki.root]).signatures[0]
    assert sig.signed_at == "2026-01-15T09:30:00+07:00"  # the token's time, shown in Vietnam time
    assert sig.valid


def test_certificate_expired_since_a_timestamped_signature(
    base_pdf: Path, pki: TestPki, tmp_path: Path
) -> None:
    """Signed (and time-stamped) while the certificate was valid; it has lapsed since."""
    at = datetime.now(UTC) - timedelta(days=100)
    pdf = pdfs.sign_pdf(
        base_pdf, tmp_path / "lapsed.pdf", pki.lapsed_person.signer, "NguoiKy", pki.timestamper(at)
    )
    sig = check_signatures(pdf, trust_roots=[pki.root]).signatures[0]
    assert not sig.expired and sig.trusted and sig.valid
    found = {f.code: f.severity for f in sig.findings}
    assert found["pdf.signature.cert_expired_since_signing"] is Severity.WARNING
    # without a timestamp the claimed time is "now", when the certificate had already lapsed
    plain = pdfs.sign_pdf(base_pdf, tmp_path / "lapsed-now.pdf", pki.lapsed_person.signer, "NguoiKy")
    sig2 = check_signatures(plain, trust_roots=[pki.root]).signatures[0]
    assert sig2.expired and not sig2.valid


def test_password_protected_pdf(fully_signed: Path, pki: TestPki, tmp_path: Path) -> None:
    locked = pdfs.encrypted(fully_signed, tmp_path / "locked.pdf", user_password="mat-khau")
    report = check_signatures(locked, trust_roots=[pki.root])
    assert not report.valid and report.signatures == ()
    assert [f.code for f in report.findings] == ["pdf.encrypted"]


def test_intermediate_supplied_by_the_archive(base_pdf: Path, pki: TestPki, tmp_path: Path) -> None:
    """A signature that embeds only the leaf validates once the archive supplies the issuing CA."""
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    leaf_only = SimpleSigner(
        signing_cert=pki.person.asn1,
        signing_key=pki.person.key_info,
        cert_registry=SimpleCertificateStore.from_certs([pki.person.asn1]),
    )
    pdf = pdfs.sign_pdf(base_pdf, tmp_path / "leaf-only.pdf", leaf_only, field="NguoiKy")
    alone = check_signatures(pdf, trust_roots=[pki.root]).signatures[0]
    assert "pdf.signature.untrusted_issuer" in {f.code for f in alone.findings}
    helped = check_signatures(pdf, trust_roots=[pki.root], other_certs=[pki.issuing_ca.cert_path])
    assert helped.signatures[0].trusted and helped.signatures[0].valid
