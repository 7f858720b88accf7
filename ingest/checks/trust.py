"""Trust anchors for signature validation: the archive's store of CA certificates.

An administrator imports the roots (and, if wished, intermediates) of the government PKI,
e.g. "Vietnam Government System Certification Authority" and "CA phục vụ các cơ quan Nhà nước
G2", into one directory; each is kept as ``<sha256 of DER>.pem`` so an import is idempotent
and the file name is the fingerprint shown in the console.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from ingest.errors import TrustStoreError

log = logging.getLogger(__name__)

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
MAX_CERT_FILE = 1024 * 1024  # a certificate file larger than this is not a certificate


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """Parse PEM (one or more certificates) or DER bytes; raise TrustStoreError if neither."""
    try:
        if b"-----BEGIN" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise TrustStoreError(f"not a PEM or DER certificate: {exc}") from exc


def read_certificate_file(path: Path) -> list[x509.Certificate]:
    """Read the certificates in one PEM or DER file."""
    if path.stat().st_size > MAX_CERT_FILE:
        raise TrustStoreError(f"{path.name}: too large for a certificate file")
    return parse_certificates(path.read_bytes())


def load_trust_roots(dir: Path) -> list[x509.Certificate]:
    """Load every PEM or DER certificate file in ``dir`` (sorted by name; others skipped).

    A file that does not parse is logged and skipped so one bad file does not disable
    validation; a missing directory gives an empty list.
    """
    if not dir.is_dir():
        return []
    certs: list[x509.Certificate] = []
    for path in sorted(dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in CERT_SUFFIXES:
            continue
        try:
            certs.extend(read_certificate_file(path))
        except TrustStoreError:
            log.warning("skipping unreadable trust anchor file", extra={"file": path.name})
    return certs


def fingerprint(cert: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint of the DER encoding, lowercase hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def is_ca(cert: x509.Certificate) -> bool:
    """True if basicConstraints says CA and key usage (if present) allows certificate signing."""
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not bc.ca:
        return False
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(ku.key_cert_sign)


def import_certificate(src: Path, dir: Path) -> str:
    """Import the CA certificate in ``src`` into the trust store ``dir``; return its fingerprint.

    The certificate is stored as ``<sha256>.pem`` (written atomically). Raises
    TrustStoreError when ``src`` holds no certificate, more than one, or a non-CA certificate.
    """
    certs = read_certificate_file(src)
    if len(certs) != 1:
        raise TrustStoreError(f"{src.name}: expected one certificate, found {len(certs)}")
    cert = certs[0]
    if not is_ca(cert):
        raise TrustStoreError(f"{src.name}: not a CA certificate (basicConstraints CA=false)")
    fp = fingerprint(cert)
    dir.mkdir(parents=True, exist_ok=True)
    target = dir / f"{fp}.pem"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(cert.public_bytes(Encoding.PEM))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    log.info("trust anchor imported", extra={"fingerprint": fp})
    return fp
