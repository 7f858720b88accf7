"""edXML messages (QCVN 102:2016) for tests, demos and benchmarks, written as the public SDKs
of the exchange write them: ``edXML`` › ``edXMLEnvelope`` (header, manifest) and
``AttachmentEncoded`` (base64). Attachments are encoded in pieces, so a large one never sits
in memory whole; a message signed with XML-DSig (enveloped, over the whole document) is
built in memory, which is fine for the small messages tests sign.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import serialization
from lxml import etree

from .pki import Identity

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 pieces join without padding


@dataclass(frozen=True, slots=True)
class Attachment:
    path: Path
    content_type: str = "application/pdf"
    name: str = ""  # AttachmentName; default the file name
    description: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """The envelope fields of one document message."""

    organ_id: str = "000.00.00.H54"
    organ_name: str = "Ủy ban nhân dân tỉnh Thái Bình"
    recipients: Sequence[tuple[str, str]] = (("000.00.12.H54", "Sở Nội vụ tỉnh Thái Bình"),)
    number: str = "15"
    notation: str = "QĐ-UBND"
    place: str = "Thái Bình"
    date: str = "2024/01/15"  # YYYY/MM/DD, as QCVN 102:2016 writes it
    type_code: str = "1"
    type_name: str = "Quyết định"
    subject: str = "Quyết định phê duyệt kế hoạch cải cách hành chính năm 2024"
    signer: tuple[str, str, str] = ("KT. CHỦ TỊCH", "Phó Chủ tịch", "Nguyễn Văn An")
    pages: int = 4
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    trace: Sequence[tuple[str, str]] = (("000.00.00.H54", "2024/01/15 08:30:00"),)
    response_for: str = ""  # DocumentId this message answers, if any

    @property
    def document_id(self) -> str:
        return f"{self.organ_id},{self.date},{self.number}/{self.notation}"


def _organ(tag: str, organ_id: str, name: str) -> str:
    return (
        f"<edXML:{tag}><edXML:OrganId>{escape(organ_id)}</edXML:OrganId>"
        f"<edXML:OrganizationInCharge>{escape(name)}</edXML:OrganizationInCharge>"
        f"<edXML:OrganName>{escape(name)}</edXML:OrganName></edXML:{tag}>"
    )


def _header(m: Message, *, signature_placeholder: bool) -> str:
    competence, position, full_name = m.signer
    to = "".join(_organ("To", organ, name) for organ, name in m.recipients)
    responses = (
        f"<edXML:ResponseFor><edXML:OrganId>{escape(m.organ_id)}</edXML:OrganId>"
        f"<edXML:DocumentId>{escape(m.response_for)}</edXML:DocumentId></edXML:ResponseFor>"
        if m.response_for
        else ""
    )
    trace = "".join(
        f"<edXML:TraceHeader><edXML:OrganId>{escape(o)}</edXML:OrganId>"
        f"<edXML:Timestamp>{escape(t)}</edXML:Timestamp></edXML:TraceHeader>"
        for o, t in m.trace
    )
    refs = "".join(
        f"<edXML:Reference><edXML:ContentId>cid:{i}</edXML:ContentId>"
        f"<edXML:ContentType>{escape(a.content_type)}</edXML:ContentType>"
        f"<edXML:Description>{escape(a.description or a.name or a.path.name)}</edXML:Description>"
        f"<edXML:AttachmentName>{escape(a.name or a.path.name)}</edXML:AttachmentName></edXML:Reference>"
        for i, a in enumerate(m.attachments, start=1)
    )
    placeholder = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"/>'
    return (
        f'<edXML:edXMLEnvelope xmlns:edXML="{EDXML_NS}"><edXML:edXMLHeader><edXML:MessageHeader>'
        f"{_organ('From', m.organ_id, m.organ_name)}{to}{responses}"
        f"<edXML:DocumentId>{escape(m.document_id)}</edXML:DocumentId>"
        f"<edXML:Code><edXML:CodeNumber>{escape(m.number)}</edXML:CodeNumber>"
        f"<edXML:CodeNotation>{escape(m.notation)}</edXML:CodeNotation></edXML:Code>"
        f"<edXML:PromulgationInfo><edXML:Place>{escape(m.place)}</edXML:Place>"
        f"<edXML:PromulgationDate>{escape(m.date)}</edXML:PromulgationDate></edXML:PromulgationInfo>"
        f"<edXML:DocumentType><edXML:Type>{m.type_code}</edXML:Type>"
        f"<edXML:TypeName>{escape(m.type_name)}</edXML:TypeName></edXML:DocumentType>"
        f"<edXML:Subject>{escape(m.subject)}</edXML:Subject>"
        f"<edXML:SignerInfo><edXML:Competence>{escape(competence)}</edXML:Competence>"
        f"<edXML:Position>{escape(position)}</edXML:Position>"
        f"<edXML:FullName>{escape(full_name)}</edXML:FullName></edXML:SignerInfo>"
        f"<edXML:OtherInfo><edXML:Priority>0</edXML:Priority>"
        f"<edXML:PageAmount>{m.pages}</edXML:PageAmount></edXML:OtherInfo>"
        f"<edXML:SteeringType>0</edXML:SteeringType>"
        f"</edXML:MessageHeader><edXML:TraceHeaderList>{trace}</edXML:TraceHeaderList>"
        f"{placeholder if signature_placeholder else ''}</edXML:edXMLHeader>"
        f'<edXML:edXMLBody><edXML:edXMLManifest version="1.0">{refs}</edXML:edXMLManifest>'
        f"</edXML:edXMLBody></edXML:edXMLEnvelope>"
    )


def _encode(source: Path, out: IO[bytes]) -> None:
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            out.write(base64.b64encode(chunk))


def write_message(path: Path, m: Message, *, sign_with: Identity | None = None) -> Path:
    """Write the message ``m`` to ``path``; sign the whole document with ``sign_with`` if given."""
    with path.open("wb") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="{EDXML_NS}">'.encode())
        out.write(_header(m, signature_placeholder=sign_with is not None).encode())
        out.write(b"<AttachmentEncoded>")
        for i, a in enumerate(m.attachments, start=1):
            out.write(
                f"<Attachment><ContentId>cid:{i}</ContentId>"
                f"<AttachmentName>{escape(a.name or a.path.name)}</AttachmentName>"
                f"<Description>{escape(a.description or a.name or a.path.name)}</Description>"
                f"<ContentType>{escape(a.content_type)}</ContentType>"
                f'<edXML:ContentTransferEncoded xmlns:edXML="{EDXML_NS}">'.encode()
            )
            _encode(a.path, out)
            out.write(b"</edXML:ContentTransferEncoded></Attachment>")
        out.write(b"</AttachmentEncoded></edXML>")
    if sign_with is not None:
        sign_message(path, sign_with)
    return path


def sign_message(path: Path, identity: Identity) -> Path:
    """Sign the message at ``path`` in place (XML-DSig, enveloped, over the whole document)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from signxml.algorithms import SignatureMethod
    from signxml.signer import XMLSigner

    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, huge_tree=True)).getroot()
    key = identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (identity.cert, *identity.chain)]
    method = (
        SignatureMethod.ECDSA_SHA256
        if isinstance(identity.key, ec.EllipticCurvePrivateKey)
        else SignatureMethod.RSA_SHA256
    )
    signed = XMLSigner(signature_algorithm=method).sign(root, key=key, cert=chain)
    path.write_bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    return path
