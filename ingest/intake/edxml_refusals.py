"""Findings about edXML messages (QCVN 102:2016), in Vietnamese and English.

One function per code, as in :mod:`ingest.intake.refusals`; the reader, the mapping and the
signature check only decide when a finding applies.
"""

from __future__ import annotations

from archive.findings import Finding, error, info, warning


def malformed(message: str, detail: str) -> Finding:
    return error(
        "edxml.malformed",
        f"Thông điệp edXML không phải XML hợp lệ: {message} ({detail})",
        f"The edXML message is not well-formed XML: {message} ({detail})",
        path=message,
        evidence={"detail": detail[:300]},
    )


def doctype(message: str) -> Finding:
    return error(
        "edxml.doctype_forbidden",
        f"Thông điệp edXML chứa khai báo DOCTYPE (có thể là bom XML hoặc thực thể ngoài), bị từ chối: {message}",
        f"The edXML message has a DOCTYPE declaration (possible XML bomb or external entity); refused: {message}",
        path=message,
    )


def not_a_message(message: str) -> Finding:
    return error(
        "edxml.not_a_message",
        f"Tệp không phải thông điệp edXML (không có MessageHeader hay Status): {message}",
        f"The file is not an edXML message (no MessageHeader or Status): {message}",
        path=message,
    )


def status_message(message: str, code: str) -> Finding:
    return error(
        "edxml.status_not_document",
        f"Thông điệp {message} là thông điệp trạng thái (StatusCode {code}), không phải văn bản; "
        "không thể nộp lưu thông điệp trạng thái.",
        f"Message {message} is a status message (StatusCode {code}), not a document; "
        "a status message cannot be submitted for archiving.",
        path=message,
        evidence={"status_code": code},
    )


def header_too_large(message: str, limit: int) -> Finding:
    return error(
        "edxml.header_too_large",
        f"Phần tiêu đề của thông điệp {message} vượt quá {limit} byte.",
        f"The header of message {message} exceeds {limit} bytes.",
        path=message,
        evidence={"limit": limit},
    )


def base64_invalid(path: str, detail: str) -> Finding:
    return error(
        "edxml.base64_invalid",
        f"Tệp đính kèm không giải mã được từ base64: {path} ({detail})",
        f"The attachment does not decode from base64: {path} ({detail})",
        path=path,
        evidence={"detail": detail[:300]},
    )


def attachment_empty(message: str, name: str) -> Finding:
    return error(
        "edxml.attachment_empty",
        f"Tệp đính kèm '{name}' của thông điệp {message} không có nội dung (ContentTransferEncoded).",
        f"Attachment '{name}' of message {message} has no content (ContentTransferEncoded).",
        path=message,
    )


def attachment_too_large(path: str | None, size: int, limit: int) -> Finding:
    where_vi = f"Tệp đính kèm {path}" if path else "Tổng các tệp đính kèm"
    where_en = f"Attachment {path}" if path else "The attachments together"
    return error(
        "intake.too_large",
        f"{where_vi} vượt quá giới hạn {limit} byte (đã giải mã {size} byte).",
        f"{where_en} exceed the limit of {limit} bytes ({size} bytes decoded).",
        path=path,
        evidence={"size": size, "limit": limit},
    )


def manifest_missing(message: str, reference: str) -> Finding:
    return error(
        "edxml.attachment_missing",
        f"edXMLManifest của {message} liệt kê tệp '{reference}' nhưng thông điệp không chứa tệp đó.",
        f"The edXMLManifest of {message} lists '{reference}' but the message does not carry it.",
        path=message,
        evidence={"reference": reference},
    )


def no_attachment(message: str) -> Finding:
    return error(
        "edxml.no_attachment",
        f"Thông điệp {message} không có tệp đính kèm nào: không có văn bản để nộp lưu.",
        f"Message {message} has no attachment: there is no document to archive.",
        path=message,
    )


def namespace_unexpected(message: str, namespace: str) -> Finding:
    return info(
        "edxml.namespace_unexpected",
        f"Thông điệp {message} dùng không gian tên '{namespace}' thay vì không gian tên QCVN 102:2016.",
        f"Message {message} uses namespace '{namespace}' instead of the QCVN 102:2016 one.",
        path=message,
        evidence={"namespace": namespace},
    )


def content_type_mismatch(path: str, declared: str, found: str) -> Finding:
    return info(
        "edxml.content_type_mismatch",
        f"Tệp {path} được khai báo là '{declared}' nhưng nội dung là {found}; dùng loại theo nội dung.",
        f"File {path} is labelled '{declared}' but its bytes are {found}; the content decides.",
        path=path,
        evidence={"declared": declared, "found": found},
    )


def field_to_complete(field: str, label_vi: str, label_en: str, path: str | None = None) -> Finding:
    return warning(
        "intake.field_to_complete",
        f"Gói tin không cung cấp trường '{label_vi}' ({field}); người làm lưu trữ phải bổ sung trước khi tiếp nhận.",
        f"The package does not give '{label_en}' ({field}); an archivist must complete it before acceptance.",
        path=path,
        field=field,
    )


def signature_valid(message: str, subject: str, algorithm: str) -> Finding:
    return info(
        "edxml.signature_valid",
        f"Chữ ký số XML của thông điệp {message} hợp lệ (người ký: {subject}).",
        f"The XML signature of message {message} is valid (signer: {subject}).",
        path=message,
        evidence={"signer": subject, "algorithm": algorithm, "weak": algorithm.endswith("sha1")},
    )


def signature_invalid(message: str, detail: str) -> Finding:
    return error(
        "edxml.signature_invalid",
        f"Chữ ký số XML của thông điệp {message} không hợp lệ: nội dung đã bị thay đổi hoặc chữ ký hỏng ({detail}).",
        f"The XML signature of message {message} does not verify: content changed or signature broken ({detail}).",
        path=message,
        evidence={"detail": detail[:300]},
    )


def signature_untrusted(message: str, subject: str, detail: str) -> Finding:
    return warning(
        "edxml.signature_untrusted",
        f"Chữ ký số XML của thông điệp {message} đúng với chứng thư đi kèm ({subject}) nhưng chứng thư "
        f"không thuộc chuỗi tin cậy đã cấu hình ({detail}).",
        f"The XML signature of message {message} matches its certificate ({subject}) but the certificate "
        f"does not chain to a configured trust root ({detail}).",
        path=message,
        evidence={"signer": subject, "detail": detail[:300]},
    )


def signature_not_verified(message: str, reason: str) -> Finding:
    return warning(
        "edxml.signature_not_verified",
        f"Không kiểm tra được chữ ký số XML của thông điệp {message}: {reason}.",
        f"The XML signature of message {message} could not be verified: {reason}.",
        path=message,
        evidence={"reason": reason},
    )


def unsigned(message: str) -> Finding:
    return info(
        "edxml.unsigned",
        f"Thông điệp {message} không có chữ ký số XML trên phong bì.",
        f"Message {message} carries no XML signature on its envelope.",
        path=message,
    )
