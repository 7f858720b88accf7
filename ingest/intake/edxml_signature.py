"""Verify the XML signature (XML-DSig, ``ds:Signature``) of an edXML envelope.

The exchange signs the whole message (``Reference URI=""`` with the enveloped-signature
transform), attachments included, with the sender's certificate in ``KeyInfo``. The check has
two parts, reported separately: does the signature verify with the certificate it carries
(``edxml.signature_valid`` / ``edxml.signature_invalid``), and does that certificate chain to
a configured trust root, through the other certificates in ``KeyInfo``
(``edxml.signature_untrusted`` when it does not). Several public producers still sign with
RSA-SHA1; it is accepted and said in the evidence.

Verification needs the whole document in memory, so it runs only for messages up to
``SIGNATURE_MAX_BYTES``; a larger signed message is reported as not verified, never as valid.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from lxml import etree

from archive.findings import Finding

from . import edxml_refusals as refuse

__all__ = ["SIGNATURE_MAX_BYTES", "verify_envelope"]

SIGNATURE_MAX_BYTES = 64 * 1024 * 1024
DS_NS = "http://www.w3.org/2000/09/xmldsig#"


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for node in signature.iter(f"{{{DS_NS}}}X509Certificate"):
        text = "".join((node.text or "").split())
        try:
            found.append(x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
        except ValueError:
            continue
    return found


def _chains(
    leaf: x509.Certificate, others: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> str:
    """Return '' when ``leaf`` chains to one of ``roots`` (through ``others``), else why not."""
    current = leaf
    pool = [c for c in others if c != leaf]
    for _ in range(8):
        for root in roots:
            if current.issuer == root.subject:
                try:
                    current.verify_directly_issued_by(root)
                    return ""
                except (InvalidSignature, ValueError, TypeError):
                    continue
        parent = next((c for c in pool if c.subject == current.issuer), None)
        if parent is None:
            return f"no certificate for issuer {current.issuer.rfc4514_string()}"
        try:
            current.verify_directly_issued_by(parent)
        except (InvalidSignature, ValueError, TypeError):
            return f"certificate of {current.subject.rfc4514_string()} not issued by its issuer's key"
        pool.remove(parent)
        current = parent
    return "chain too long"


def verify_envelope(source: Path, message: str, roots: Sequence[x509.Certificate]) -> list[Finding]:
    """Verify the signature of the message file ``source`` (already read once, DOCTYPE-free)."""
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.exceptions import InvalidInput, SignXMLException
    from signxml.verifier import SignatureConfiguration, XMLVerifier  # only for signed messages

    if source.stat().st_size > SIGNATURE_MAX_BYTES:
        return [refuse.signature_not_verified(message, f"message larger than {SIGNATURE_MAX_BYTES} bytes")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.parse(str(source), parser).getroot()
    signature = next(root.iter(f"{{{DS_NS}}}Signature"), None)
    if signature is None:
        return [
            refuse.signature_not_verified(message, "the Signature element is not in the XML-DSig namespace")
        ]
    certs = _certificates(signature)
    if not certs:
        return [refuse.signature_not_verified(message, "no X509Certificate in KeyInfo")]
    config = SignatureConfiguration(
        signature_methods=frozenset(SignatureMethod),
        digest_algorithms=frozenset(DigestAlgorithm),
        expect_references=1,
    )
    last = ""
    for cert in certs:  # KeyInfo may hold the chain: the signer is the one that verifies
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        try:
            XMLVerifier().verify(root, x509_cert=pem, expect_config=config)
        except InvalidInput as exc:
            return [refuse.signature_not_verified(message, str(exc)[:200])]
        except (SignXMLException, InvalidSignature, ValueError) as exc:
            last = str(exc) or type(exc).__name__
            continue
        subject = cert.subject.rfc4514_string()
        method = signature.find(f".//{{{DS_NS}}}SignatureMethod")
        algorithm = method.get("Algorithm", "") if method is not None else ""
        findings = [refuse.signature_valid(message, subject, algorithm)]
        if not roots:
            findings.append(refuse.signature_untrusted(message, subject, "no trust roots configured"))
        elif why := _chains(cert, certs, roots):
            findings.append(refuse.signature_untrusted(message, subject, why))
        return findings
    return [refuse.signature_invalid(message, last)]
