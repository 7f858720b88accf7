"""A real, generated test PKI mirroring the Vietnamese government CA hierarchy.

Every name says TEST: nothing here is a real certificate. The shape follows the government
hierarchy (Root CA Chính phủ → "CA phục vụ các cơ quan Nhà nước G2" → signers), with EC P-256
keys so a whole hierarchy is generated in milliseconds.

    root ─ issuing CA ─┬ person      (CN "Nguyễn Văn An", title "Chủ tịch", UID "CCCD:…")
                       ├ organisation (CN = O = "Ủy ban nhân dân tỉnh Thái Bình")
                       ├ expired person (valid 2019–2020)
                       ├ lapsed person (valid until 10 days ago: expired since signing)
                       ├ revoked person (listed on the issuing CA's CRL)
                       └ time-stamping authority (for ``timestamper()``)
    unknown root ─ stranger signer
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

AGENCY = "Ủy ban nhân dân tỉnh Thái Bình"  # cơ quan (test)
CRL_URL = "http://ca.test.invalid/crl/test-ca-g2.crl"
NOW = datetime.now(UTC).replace(microsecond=0)


def _name(**attrs: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "T": NameOID.TITLE,
        "UID": NameOID.USER_ID,
        "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


@dataclass
class Identity:
    """One certificate with its key, PEM files on disk and a pyHanko signer."""

    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert_path: Path
    key_path: Path
    chain: list[x509.Certificate] = field(default_factory=list)  # issuing CAs, leaf excluded

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def key_info(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    @property
    def signer(self) -> SimpleSigner:
        """Return a pyHanko signer carrying the chain (leaf + issuing CA)."""
        chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in self.chain]
        return SimpleSigner(
            signing_cert=self.asn1,
            signing_key=self.key_info,
            cert_registry=SimpleCertificateStore.from_certs([self.asn1, *chain]),  # type: ignore[no-untyped-call]
        )


def _write(
    dir: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
) -> tuple[Path, Path]:
    cert_path = dir / f"{name}.pem"
    key_path = dir / f"{name}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _ca_cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    path_len: int | None,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2015, 1, 1, tzinfo=UTC))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _leaf_cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
    serial: int,
    tsa: bool = False,
) -> x509.Certificate:
    eku = (
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
        if tsa
        else x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH])
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature + nonRepudiation (contentCommitment): document signing
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(eku, critical=tsa)  # RFC 3161: timeStamping EKU is critical
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass
class TestPki:
    """The generated hierarchy; see the module docstring."""

    __test__ = False  # not a pytest test class

    dir: Path
    root: Path  # PEM of the trusted test root
    issuing_ca: Identity
    person: Identity
    organisation: Identity
    expired_person: Identity
    lapsed_person: Identity
    revoked_person: Identity
    tsa: Identity
    unknown_root: Path
    stranger: Identity
    crl_path: Path  # DER CRL issued by the issuing CA, listing ``revoked_person``
    crl_der: bytes
    revoked_at: datetime

    @property
    def root_cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root.read_bytes())

    @property
    def crl(self) -> asn1_crl.CertificateList:
        return asn1_crl.CertificateList.load(self.crl_der)

    def timestamper(self, at: datetime | None = None) -> DummyTimeStamper:
        """Return an RFC 3161 time-stamping authority run in-process (``at`` fixes its clock)."""
        chain = SimpleCertificateStore.from_certs([self.issuing_ca.asn1])  # type: ignore[no-untyped-call]
        return DummyTimeStamper(
            tsa_cert=self.tsa.asn1, tsa_key=self.tsa.key_info, certs_to_embed=chain, fixed_dt=at
        )

    @classmethod
    def create(cls, dir: Path) -> TestPki:
        """Generate the whole hierarchy under ``dir`` (PEM certificates, PEM keys, a DER CRL)."""
        dir.mkdir(parents=True, exist_ok=True)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(C="VN", O="TEST Ban Cơ yếu Chính phủ", CN="TEST Root CA Chính phủ")
        root_cert = _ca_cert(root_name, root_key, root_name, root_key, path_len=1)
        root_path, _ = _write(dir, "root", root_cert, root_key)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name(C="VN", O="TEST Ban Cơ yếu Chính phủ", CN="TEST CA phục vụ các cơ quan Nhà nước G2")
        ca_cert = _ca_cert(ca_name, ca_key, root_name, root_key, path_len=0)
        ca_paths = _write(dir, "issuing-ca", ca_cert, ca_key)
        issuing = Identity("issuing-ca", ca_cert, ca_key, *ca_paths, chain=[])

        def leaf(
            name: str,
            subject: x509.Name,
            issuer: x509.Certificate = ca_cert,
            issuer_key: ec.EllipticCurvePrivateKey = ca_key,
            not_before: datetime = NOW - timedelta(days=365),
            not_after: datetime = NOW + timedelta(days=3 * 365),
            tsa: bool = False,
        ) -> Identity:
            # pyHanko's in-process TSA signs with RSA only; everything else uses fast EC keys
            key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
                rsa.generate_private_key(65537, 2048) if tsa else ec.generate_private_key(ec.SECP256R1())
            )
            serial = x509.random_serial_number()
            cert = _leaf_cert(subject, key, issuer, issuer_key, not_before, not_after, serial, tsa)
            paths = _write(dir, name, cert, key)
            return Identity(name, cert, key, *paths, chain=[issuer])

        person = leaf(
            "person",
            _name(
                C="VN", ST="Thái Bình", O=AGENCY, T="Chủ tịch", UID="CCCD:034080001234", CN="Nguyễn Văn An"
            ),
        )
        organisation = leaf("organisation", _name(C="VN", ST="Thái Bình", O=AGENCY, CN=AGENCY))
        expired = leaf(
            "expired-person",
            _name(C="VN", O=AGENCY, T="Phó Chủ tịch", UID="CMND:151234567", CN="Trần Thị Bình"),
            not_before=datetime(2019, 1, 1, tzinfo=UTC),
            not_after=datetime(2020, 12, 31, tzinfo=UTC),
        )
        lapsed = leaf(
            "lapsed-person",
            _name(C="VN", O=AGENCY, T="Phó Chủ tịch", UID="CCCD:034070009999", CN="Đỗ Thị Hoa"),
            not_before=NOW - timedelta(days=300),
            not_after=NOW - timedelta(days=10),
        )
        tsa = leaf(
            "tsa", _name(C="VN", O="TEST Ban Cơ yếu Chính phủ", CN="TEST Time-Stamping Authority"), tsa=True
        )
        revoked = leaf(
            "revoked-person",
            _name(C="VN", O=AGENCY, T="Chánh Văn phòng", UID="CCCD:034085005678", CN="Lê Văn Cường"),
        )

        revoked_at = NOW - timedelta(days=30)
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_name)
            .last_update(NOW - timedelta(hours=1))
            .next_update(NOW + timedelta(days=7))
            .add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(revoked.cert.serial_number)
                .revocation_date(revoked_at)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        crl_der = crl.public_bytes(serialization.Encoding.DER)
        crl_path = dir / "test-ca-g2.crl"
        crl_path.write_bytes(crl_der)

        other_key = ec.generate_private_key(ec.SECP256R1())
        other_name = _name(C="VN", O="TEST Tổ chức không rõ", CN="TEST Unknown Root CA")
        other_cert = _ca_cert(other_name, other_key, other_name, other_key, path_len=1)
        other_path, _ = _write(dir, "unknown-root", other_cert, other_key)
        stranger = leaf(
            "stranger",
            _name(C="VN", O="TEST Công ty lạ", T="Giám đốc", CN="Phạm Văn Lạ"),
            issuer=other_cert,
            issuer_key=other_key,
        )
        return cls(
            dir=dir,
            root=root_path,
            issuing_ca=issuing,
            person=person,
            organisation=organisation,
            expired_person=expired,
            lapsed_person=lapsed,
            revoked_person=revoked,
            tsa=tsa,
            unknown_root=other_path,
            stranger=stranger,
            crl_path=crl_path,
            crl_der=crl_der,
            revoked_at=revoked_at,
        )
