"""The trust store: loading anchors and importing CA certificates by fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from ingest.checks.signatures import SignerKind, check_signatures, classify_signer
from ingest.checks.trust import import_certificate, load_trust_roots
from ingest.errors import TrustStoreError
from luutru.samples.pki import TestPki


def test_import_stores_by_fingerprint_and_is_idempotent(pki: TestPki, tmp_path: Path) -> None:
    store = tmp_path / "trust"
    fp = import_certificate(pki.root, store)
    assert len(fp) == 64 and (store / f"{fp}.pem").is_file()
    assert import_certificate(pki.root, store) == fp
    assert [p.name for p in store.iterdir()] == [f"{fp}.pem"]


def test_import_accepts_der(pki: TestPki, tmp_path: Path) -> None:
    der = tmp_path / "ca.cer"
    der.write_bytes(pki.issuing_ca.cert.public_bytes(Encoding.DER))
    fp = import_certificate(der, tmp_path / "trust")
    loaded = load_trust_roots(tmp_path / "trust")
    assert [c.subject for c in loaded] == [pki.issuing_ca.cert.subject]
    assert fp == loaded[0].fingerprint(hashes.SHA256()).hex()


def test_import_refuses_a_signer_certificate(pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="not a CA"):
        import_certificate(pki.person.cert_path, tmp_path / "trust")
    assert not (tmp_path / "trust").exists() or not any((tmp_path / "trust").iterdir())


def test_import_refuses_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(TrustStoreError):
        import_certificate(junk, tmp_path / "trust")


def test_loaded_store_validates_signatures(pki: TestPki, fully_signed: Path, tmp_path: Path) -> None:
    store = tmp_path / "trust"
    import_certificate(pki.root, store)
    (store / "README.txt").write_text("not a certificate")
    (store / "broken.pem").write_bytes(b"garbage")
    roots = load_trust_roots(store)
    assert len(roots) == 1
    assert check_signatures(fully_signed, trust_roots=roots).valid
    assert load_trust_roots(tmp_path / "absent") == []


def test_signer_classification(pki: TestPki) -> None:
    assert classify_signer(pki.person.cert.subject) is SignerKind.PERSON
    assert classify_signer(pki.expired_person.cert.subject) is SignerKind.PERSON
    assert classify_signer(pki.organisation.cert.subject) is SignerKind.ORGANISATION
    assert classify_signer(pki.issuing_ca.cert.subject) is SignerKind.UNKNOWN
