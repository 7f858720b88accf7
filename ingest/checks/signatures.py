"""Digital-signature validation of PDFs (PAdES / adbe.pkcs7) with pyHanko, offline.

NĐ 30/2020 Điều 5: an electronic document has the legal value of an original when it carries
the digital signature of the competent person (người có thẩm quyền) AND of the body (cơ quan,
tổ chức), the body signing after the person. Điều 25.1.c: a digitised copy carries the
body's signature. This module validates every signature, classifies each signer as a person or
an organisation, and turns what it finds into findings with stable codes (docs/signatures.md).

Validation never fetches anything (``allow_fetching=False`` by default): revocation data comes
from the file itself (DSS or the signer's adbe-revocationInfoArchival attribute).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic as pdf_generic
from pyhanko.pdf_utils.crypt.api import AuthStatus
from pyhanko.pdf_utils.misc import PDF_WHITESPACE, PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from archive.findings import Finding, Severity, error
from archive.vntime import as_utc, vn_iso
from ingest.checks.trust import parse_certificates

log = logging.getLogger(__name__)
# pyHanko logs every failed path validation (expired, untrusted, revoked) at WARNING with a full
# traceback. Here each failure is a finding with Vietnamese and English text, and the whole
# report is kept in the AIP, so that log is noise on an operator's console: keep its errors only.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.ERROR)

CertSource = Path | bytes


class SignerKind(StrEnum):
    """Who a certificate speaks for (see ``classify_signer``)."""

    PERSON = "person"  # người có thẩm quyền
    ORGANISATION = "organisation"  # cơ quan, tổ chức
    UNKNOWN = "unknown"


PERSON_ID_PREFIXES = ("CMND:", "CCCD:", "HC:", "CMT:")  # identity card / citizen id / passport
ORG_ID_PREFIXES = ("MST:", "MNS:", "MDV:")  # tax code, budget code, unit code
ORG_NAME_PREFIXES = (
    "ủy ban",
    "uỷ ban",
    "ubnd",
    "bộ ",
    "sở ",
    "cục ",
    "tổng cục",
    "văn phòng",
    "ban ",
    "công ty",
    "trường ",
    "bệnh viện",
    "viện ",
    "hội đồng",
    "tòa án",
    "viện kiểm sát",
    "kho bạc",
    "chi cục",
)


def classify_signer(subject: cx509.Name) -> SignerKind:
    """Classify a certificate subject as a person or an organisation.

    Person: a title, given name, surname or pseudonym attribute, or a UID carrying a personal
    identity number (``CMND:``/``CCCD:``/``HC:``), as the government CA issues them.
    Organisation: no personal attribute and either CN equal to O, a UID carrying a tax or
    budget code (``MST:``/``MNS:``), or a CN that begins like the name of a body
    ("Ủy ban nhân dân …", "Sở …", "Bộ …"). Anything else is unknown.
    """

    def values(oid: cx509.ObjectIdentifier) -> list[str]:
        return [str(a.value).strip() for a in subject.get_attributes_for_oid(oid)]

    oid = cx509.oid.NameOID
    uids = [u.upper() for u in values(oid.USER_ID)]
    personal = (
        values(oid.TITLE)
        or values(oid.GIVEN_NAME)
        or values(oid.SURNAME)
        or values(oid.PSEUDONYM)
        or any(u.startswith(PERSON_ID_PREFIXES) for u in uids)
    )
    if personal:
        return SignerKind.PERSON
    cns = [c.casefold() for c in values(oid.COMMON_NAME)]
    orgs = {o.casefold() for o in values(oid.ORGANIZATION_NAME)}
    if cns and (
        cns[0] in orgs
        or any(u.startswith(ORG_ID_PREFIXES) for u in uids)
        or cns[0].startswith(ORG_NAME_PREFIXES)
    ):
        return SignerKind.ORGANISATION
    return SignerKind.UNKNOWN


class Modification(StrEnum):
    """What changed in the file after this signature (from pyHanko's difference analysis)."""

    NONE = "none"  # untouched, or only validation data (DSS) added
    FORM_FILLING = "form_filling"  # fields filled, further signatures
    OTHER = "other"  # anything else: content replaced, annotations, shadow attacks


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """The verdict on one signature field.

    ``signed_at`` is ISO 8601 +07:00 (timestamp token time when present, else the signer's
    claimed signing time). ``intact``: the signed bytes hash to the signed digest.
    ``trusted``: the chain reaches a configured anchor and was valid at validation time.
    ``valid``: intact, trusted, not revoked, not expired and not modified beyond form filling.
    """

    field: str
    signer: str
    kind: SignerKind
    signed_at: str | None
    intact: bool
    covers_whole_document: bool
    modification: Modification
    trusted: bool
    valid: bool
    revoked: bool
    expired: bool
    findings: tuple[Finding, ...]
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "signer": self.signer,
            "kind": self.kind.value,
            "signed_at": self.signed_at,
            "intact": self.intact,
            "covers_whole_document": self.covers_whole_document,
            "modification": self.modification.value,
            "trusted": self.trusted,
            "valid": self.valid,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """All signatures of one PDF plus document-level findings (none, order, required kinds).

    ``evidence`` keeps pyHanko's full per-signature report text and the signer certificates,
    for the AIP. ``findings`` holds the document-level findings only; ``all_findings``
    adds those of every signature.
    """

    path: str
    valid: bool
    signatures: tuple[SignatureResult, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        return self.findings + tuple(f for s in self.signatures for f in s.findings)

    @property
    def evidence(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "validator": "pyHanko",
            "signatures": [dict(s.evidence) for s in self.signatures],
            "document_findings": [f.to_json() for f in self.findings],
        }

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "valid": self.valid, "signatures": [s.to_json() for s in self.signatures]}


# pyHanko reads a PDF hex string (a signature's /Contents, several times per signature: once per
# revision it looks at) one byte per Python call. This reader takes the common case — hex
# digits and whitespace up to ``>`` — in blocks, and hands anything else (a comment, a stray
# character, the end of the file) back to pyHanko's own reader, so results and errors are
# pyHanko's. Installed once, when this module is imported.
_PDF_HEX_READER = pdf_generic.read_hex_string_from_stream
HEX_BLOCK = 8192


def _read_hex_string(stream: BinaryIO) -> Any:
    start = stream.tell()
    stream.read(1)  # the opening "<"
    parts: list[bytes] = []
    while True:
        block = stream.read(HEX_BLOCK)
        end = block.find(b">")
        if end >= 0 or not block:
            break
        parts.append(block)
    body = b"".join(parts) + block[: max(end, 0)]
    digits = body.translate(None, PDF_WHITESPACE)
    if end < 0 or digits.translate(None, pdf_generic.HEX_DIGITS):
        stream.seek(start)
        return _PDF_HEX_READER(stream)
    stream.seek(start + len(body) + 2)
    if len(digits) % 2:
        digits += b"0"
    return pdf_generic.pdf_string(binascii.unhexlify(digits))


if pdf_generic.read_hex_string_from_stream is _PDF_HEX_READER:
    pdf_generic.read_hex_string_from_stream = _read_hex_string


@lru_cache(maxsize=64)
def _asn1_from_bytes(data: bytes) -> tuple[asn1_x509.Certificate, ...]:
    """Parsed once per process: anchors are the same for every file (and asn1crypto caches the
    prepared names it compares on the objects themselves)."""
    return tuple(asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in parse_certificates(data))


def _as_asn1(sources: Sequence[CertSource | cx509.Certificate]) -> list[asn1_x509.Certificate]:
    out: list[asn1_x509.Certificate] = []
    for src in sources:
        if isinstance(src, cx509.Certificate):
            out.append(asn1_x509.Certificate.load(src.public_bytes(Encoding.DER)))
        elif isinstance(src, Path):
            out.extend(_asn1_from_bytes(src.read_bytes()))
        else:
            out.extend(_asn1_from_bytes(bytes(src)))
    return out


def _embedded_revinfo(sig: EmbeddedPdfSignature) -> tuple[list[asn1_crl.CertificateList], list[Any]]:
    """Return the CRLs and OCSP responses in the signer's adbe-revocationInfoArchival attribute."""
    try:
        attr = find_unique_cms_attribute(sig.signer_info["signed_attrs"], "adobe_revocation_info_archival")
    except Exception:  # attribute absent or repeated: no embedded revocation data
        return [], []
    crls = [asn1_crl.CertificateList.load(c.dump()) for c in (attr["crl"] or [])]
    ocsps = [asn1_ocsp.OCSPResponse.load(o.dump()) for o in (attr["ocsp"] or [])]
    return crls, ocsps


def _map_modification(status: PdfSignatureStatus) -> tuple[Modification, ModificationLevel | None]:
    level = status.modification_level
    if level in (None, ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
        if level is None and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            return Modification.OTHER, level
        return Modification.NONE, level
    if level is ModificationLevel.FORM_FILLING:
        return Modification.FORM_FILLING, level
    return Modification.OTHER, level


def _cert_valid_at(cert: asn1_x509.Certificate, when: datetime | None) -> bool:
    if when is None:
        return True
    validity = cert["tbs_certificate"]["validity"]
    not_before = as_utc(validity["not_before"].native)
    not_after = as_utc(validity["not_after"].native)
    return not_before <= as_utc(when) <= not_after


def _signing_time(status: PdfSignatureStatus, sig: EmbeddedPdfSignature) -> datetime | None:
    if status.timestamp_validity is not None and status.timestamp_validity.intact:
        return status.timestamp_validity.timestamp
    return status.signer_reported_dt or sig.self_reported_timestamp


def _context(
    roots: list[asn1_x509.Certificate],
    others: list[asn1_x509.Certificate],
    dss: DocumentSecurityStore | None,
    sig: EmbeddedPdfSignature,
    allow_fetching: bool,
    moment: datetime | None = None,
) -> tuple[ValidationContext, bool]:
    crls, ocsps = _embedded_revinfo(sig)
    has_revinfo = bool(crls or ocsps or (dss is not None and (dss.crls or dss.ocsps)))
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "other_certs": list(others),
        "allow_fetching": allow_fetching,
        "revocation_mode": "hard-fail" if (has_revinfo or allow_fetching) else "soft-fail",
        "crls": crls,
        "ocsps": ocsps,
    }
    if moment is not None:
        kwargs["moment"] = moment
    if dss is not None:
        return dss.as_validation_context(kwargs), has_revinfo
    return ValidationContext(**kwargs), has_revinfo


def _evidence(field_name: str, status: PdfSignatureStatus, cert: asn1_x509.Certificate) -> dict[str, Any]:
    try:
        pretty = str(status.pretty_print_details())  # type: ignore[no-untyped-call]
    except Exception as exc:  # the report text is evidence only; never fail validation on it
        pretty = f"(report text unavailable: {exc!r})"
    return {
        "field": field_name,
        "summary": status.summary(),
        "report": pretty,
        "trust_problem": str(status.trust_problem_indic) if status.trust_problem_indic else None,
        "coverage": status.coverage.name if status.coverage else None,
        "modification_level": status.modification_level.name if status.modification_level else None,
        "diff": str(status.diff_result) if status.diff_result is not None else None,
        "validation_path": (
            [c.subject.human_friendly for c in status.validation_path.iter_certs(include_root=True)]
            if status.validation_path is not None
            else []
        ),
        "signer_certificate_pem": asn1_pem.armor("CERTIFICATE", cert.dump()).decode("ascii"),
        "signer_certificate_sha256": cert.sha256.hex(),
    }


def _finding_texts(code: str) -> tuple[str, str]:
    texts = {
        "digest_mismatch": (
            "Chữ ký số không còn nguyên vẹn: nội dung đã bị thay đổi sau khi ký.",
            "The signature no longer matches: the signed content was altered.",
        ),
        "invalid_cryptography": (
            "Giá trị chữ ký số không hợp lệ về mặt mật mã.",
            "The signature value does not verify cryptographically.",
        ),
        "revoked": ("Chứng thư số của người ký đã bị thu hồi.", "The signer's certificate has been revoked."),
        "expired": (
            "Chứng thư số không còn hiệu lực tại thời điểm ký.",
            "The signer's certificate was not valid at signing time.",
        ),
        "untrusted_issuer": (
            "Chứng thư số không được cấp bởi tổ chức chứng thực tin cậy.",
            "The certificate chain does not reach a trusted anchor.",
        ),
        "not_trusted": (
            "Không xác nhận được chứng thư số của người ký.",
            "The signer's certificate could not be validated.",
        ),
        "modified_after_signing": (
            "Tài liệu bị sửa đổi sau khi ký (không phải điền biểu mẫu).",
            "The document was modified after signing beyond form filling.",
        ),
        "form_filling": (
            "Sau khi ký, tài liệu chỉ được điền biểu mẫu hoặc ký thêm.",
            "After signing, only form fields were filled or further signatures added.",
        ),
        "not_whole_document": (
            "Chữ ký số không bao phủ toàn bộ phiên bản tài liệu.",
            "The signature does not cover the whole signed revision.",
        ),
        "revocation_unchecked": (
            "Tệp không kèm thông tin thu hồi; chưa kiểm tra được tình trạng thu hồi.",
            "No revocation data is embedded; revocation status was not checked.",
        ),
        "cert_expired_since_signing": (
            "Chứng thư số đã hết hạn sau thời điểm ký; chữ ký được kiểm tra tại thời điểm ký.",
            "The certificate expired after signing; the signature was validated at signing time.",
        ),
        "malformed": ("Không đọc được chữ ký số.", "The signature cannot be read."),
    }
    return texts[code]


def _sig_finding(code: str, severity: Severity, path: str, field_name: str, **evidence: Any) -> Finding:
    vi, en = _finding_texts(code)
    return Finding(f"pdf.signature.{code}", severity, vi, en, path=path, field=field_name, evidence=evidence)


def _validate_one(
    sig: EmbeddedPdfSignature,
    *,
    path: str,
    roots: list[asn1_x509.Certificate],
    others: list[asn1_x509.Certificate],
    dss: DocumentSecurityStore | None,
    allow_fetching: bool,
    later_signature: bool,
) -> SignatureResult:
    name = str(sig.field_name)  # plain str: pyHanko strings hold a reference to the reader
    cert = sig.signer_cert
    subject = cx509.load_der_x509_certificate(cert.dump()).subject
    signer = cert.subject.native.get("common_name") or cert.subject.human_friendly
    kind = classify_signer(subject)
    vc, has_revinfo = _context(roots, others, dss, sig, allow_fetching)
    status = validate_pdf_signature(sig, vc)
    signed_at_dt = _signing_time(status, sig)
    findings: list[Finding] = []
    expired = not _cert_valid_at(cert, signed_at_dt)
    trusted = status.trusted
    if (
        not trusted
        and not expired
        and status.intact
        and status.valid
        and status.trust_problem_indic is AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
        and signed_at_dt is not None
    ):
        # Expired since signing: an archive validates at the signing time, and says so.
        vc_then, _ = _context(roots, others, dss, sig, allow_fetching, moment=signed_at_dt)
        status_then = validate_pdf_signature(sig, vc_then)
        if status_then.trusted:
            trusted, status = True, status_then
            findings.append(_sig_finding("cert_expired_since_signing", Severity.WARNING, path, name))
    revoked = status.revoked
    modification, level = _map_modification(status)
    coverage = status.coverage
    if not status.intact:
        findings.append(_sig_finding("digest_mismatch", Severity.ERROR, path, name))
    elif not status.valid:
        findings.append(_sig_finding("invalid_cryptography", Severity.ERROR, path, name))
    if revoked:
        details = status.revocation_details
        findings.append(
            _sig_finding(
                "revoked",
                Severity.ERROR,
                path,
                name,
                revoked_at=vn_iso(details.revocation_date) if details else None,
                reason=str(details.revocation_reason.native) if details else None,
            )
        )
    if expired:
        findings.append(_sig_finding("expired", Severity.ERROR, path, name, signed_at=vn_iso(signed_at_dt)))
    elif not trusted and not revoked and status.intact and status.valid:
        indic = status.trust_problem_indic
        code = (
            "untrusted_issuer"
            if status.validation_path is None
            or indic
            in (
                AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
                AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
            )
            else "not_trusted"
        )
        findings.append(_sig_finding(code, Severity.ERROR, path, name, indication=str(indic)))
    if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        findings.append(
            _sig_finding("not_whole_document", Severity.ERROR, path, name, coverage=str(coverage))
        )
    if modification is Modification.OTHER and coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        severity = Severity.WARNING if level is ModificationLevel.ANNOTATIONS else Severity.ERROR
        findings.append(
            _sig_finding(
                "modified_after_signing", severity, path, name, level=level.name if level else "unknown"
            )
        )
    elif modification is Modification.FORM_FILLING:
        # Form changes followed by a later signature are the normal
        # person-then-body sequence; otherwise the archivist looks at them.
        severity = Severity.INFO if later_signature else Severity.WARNING
        findings.append(_sig_finding("form_filling", severity, path, name))
    if not has_revinfo and not allow_fetching and trusted:
        findings.append(_sig_finding("revocation_unchecked", Severity.INFO, path, name))
    valid = (
        status.intact
        and status.valid
        and trusted
        and not revoked
        and not expired
        and not any(f.severity is Severity.ERROR for f in findings)
    )
    return SignatureResult(
        field=name,
        signer=str(signer),
        kind=kind,
        signed_at=vn_iso(signed_at_dt) if signed_at_dt else None,
        intact=status.intact,
        covers_whole_document=coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification=modification,
        trusted=trusted,
        valid=valid,
        revoked=revoked,
        expired=expired,
        findings=tuple(findings),
        evidence={**_evidence(name, status, cert), **_signature_value(sig, status)},
    )


def _signature_value(sig: EmbeddedPdfSignature, status: PdfSignatureStatus) -> dict[str, Any]:
    """The signature's algorithm and value (base64 of the CMS SignerInfo signature), for PREMIS."""
    try:
        value = base64.b64encode(bytes(sig.signer_info["signature"].native)).decode("ascii")
    except Exception:  # a malformed SignerInfo is reported elsewhere; evidence only
        value = None
    return {
        "md_algorithm": status.md_algorithm,
        "signature_mechanism": status.pkcs7_signature_mechanism,
        "signature_value_b64": value,
    }


def _doc_finding(code: str, severity: Severity, vi: str, en: str, path: str, **evidence: Any) -> Finding:
    return Finding(f"pdf.signature.{code}", severity, vi, en, path=path, evidence=evidence)


def _document_rules(
    results: Sequence[SignatureResult], path: str, *, digitised: bool, required: bool
) -> list[Finding]:
    """Apply NĐ 30 Điều 5 (person and body, body last) and Điều 25.1.c (digitised: body)."""
    if not results:
        severity = Severity.ERROR if (required or digitised) else Severity.INFO
        return [
            _doc_finding(
                "none",
                severity,
                "Tài liệu không có chữ ký số.",
                "The document carries no digital signature.",
                path,
            )
        ]
    found: list[Finding] = []
    valid_kinds = [r.kind for r in results if r.valid]
    has_person = SignerKind.PERSON in valid_kinds
    has_org = SignerKind.ORGANISATION in valid_kinds
    if digitised and not has_org:
        found.append(
            _doc_finding(
                "missing_required_kind",
                Severity.ERROR,
                "Bản số hóa phải có chữ ký số hợp lệ của cơ quan, tổ chức (NĐ 30 Điều 25).",
                "A digitised copy needs a valid signature of the body (NĐ 30 Art. 25).",
                path,
                required="organisation",
            )
        )
    elif not digitised and not (has_person or has_org):
        found.append(
            _doc_finding(
                "missing_required_kind",
                Severity.ERROR,
                "Không có chữ ký số hợp lệ của người có thẩm quyền hay của cơ quan (NĐ 30 Điều 5).",
                "No valid signature of the competent person or of the body (NĐ 30 Art. 5).",
                path,
                required="person|organisation",
            )
        )
    elif not digitised and has_person != has_org:
        missing = "organisation" if has_person else "person"
        found.append(
            _doc_finding(
                "missing_required_kind",
                Severity.WARNING,
                "Thiếu chữ ký số của "
                + ("cơ quan, tổ chức" if has_person else "người có thẩm quyền")
                + " (NĐ 30 Điều 5 yêu cầu cả hai).",
                f"The {missing} signature is missing (NĐ 30 Art. 5 asks for both).",
                path,
                required=missing,
            )
        )
    kinds = [r.kind for r in results]
    person_last = max((i for i, k in enumerate(kinds) if k is SignerKind.PERSON), default=-1)
    org_first = min((i for i, k in enumerate(kinds) if k is SignerKind.ORGANISATION), default=len(kinds))
    if person_last > org_first:
        found.append(
            _doc_finding(
                "order",
                Severity.ERROR,
                "Chữ ký số của cơ quan phải đứng sau chữ ký của người có thẩm quyền.",
                "The body's signature must come after the competent person's.",
                path,
                order=[r.field for r in results],
            )
        )
    return found


def check_signatures(
    path: Path,
    trust_roots: Sequence[CertSource | cx509.Certificate],
    *,
    allow_fetching: bool = False,
    other_certs: Sequence[CertSource | cx509.Certificate] = (),
    digitised: bool = False,
    required: bool = True,
) -> SignatureReport:
    """Validate every signature in the PDF at ``path`` against ``trust_roots``.

    ``trust_roots`` and ``other_certs`` (intermediates) are PEM/DER files, PEM/DER bytes or
    ``cryptography`` certificates. ``digitised=True`` applies the rule for digitised copies
    (the body's signature is required). ``required=False`` makes an unsigned PDF an INFO
    finding instead of an ERROR. Never raises on a malformed PDF: it returns findings.
    """
    name = str(path)
    roots = _as_asn1(trust_roots)
    others = _as_asn1(other_certs)
    try:
        with path.open("rb") as f:
            reader = PdfFileReader(f, strict=False)
            if reader.encrypted and reader.decrypt("").status is AuthStatus.FAILED:
                finding = error(
                    "pdf.encrypted",
                    "Tệp PDF được mã hóa bằng mật khẩu, không kiểm tra được chữ ký số.",
                    "The PDF is password-protected; its signatures cannot be checked.",
                    path=name,
                )
                return SignatureReport(path=name, valid=False, signatures=(), findings=(finding,))
            sigs = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
            try:
                dss = DocumentSecurityStore.read_dss(reader)
            except Exception:  # no DSS (or an unreadable one): validate without it
                dss = None
            results: list[SignatureResult] = []
            for i, sig in enumerate(sigs):
                try:
                    results.append(
                        _validate_one(
                            sig,
                            path=name,
                            roots=roots,
                            others=others,
                            dss=dss,
                            allow_fetching=allow_fetching,
                            later_signature=i < len(sigs) - 1,
                        )
                    )
                except (PdfError, ValueError, KeyError, TypeError) as exc:
                    log.warning("unreadable signature", extra={"field": str(sig.field_name)})
                    results.append(_broken_signature(sig, name, exc))
    except (PdfError, OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        finding = error(
            "pdf.malformed",
            "Tệp PDF bị lỗi cấu trúc, không đọc được chữ ký số.",
            "The PDF is malformed; its signatures cannot be read.",
            path=name,
            evidence={"error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        return SignatureReport(path=name, valid=False, signatures=(), findings=(finding,))
    doc_findings = _document_rules(results, name, digitised=digitised, required=required)
    valid = bool(results) and all(
        f.severity is not Severity.ERROR for f in [*doc_findings, *(f for r in results for f in r.findings)]
    )
    return SignatureReport(path=name, valid=valid, signatures=tuple(results), findings=tuple(doc_findings))


def _broken_signature(sig: EmbeddedPdfSignature, path: str, exc: Exception) -> SignatureResult:
    finding = _sig_finding(
        "malformed", Severity.ERROR, path, str(sig.field_name), error=f"{type(exc).__name__}: {exc}"[:500]
    )
    return SignatureResult(
        field=str(sig.field_name),
        signer="",
        kind=SignerKind.UNKNOWN,
        signed_at=None,
        intact=False,
        covers_whole_document=False,
        modification=Modification.OTHER,
        trusted=False,
        valid=False,
        revoked=False,
        expired=False,
        findings=(finding,),
        evidence={"field": str(sig.field_name), "error": finding.evidence["error"]},
    )
