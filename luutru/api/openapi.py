"""The OpenAPI 3.1 contract of the REST API, as a Python dict (served at ``/api/v1/openapi.json``).

The test suite runs schemathesis against this document, so every status a route can return
is listed here with its schema; an undocumented answer fails the build.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from archive.boundedjson import MAX_DEPTH, MAX_METADATA_BYTES
from ingest.uploads import MAX_PATH_CHARS
from luutru.api.submissions import MAX_PAGE
from luutru.config import DEFAULT_FORMATS
from luutru.protocol_errors import MAX_HEADER_FIELD, MAX_REQUEST_LINE
from search.folding import MAX_QUERY_CHARS

STATES = ["uploading", "received", "validating", "in_review", "accepted", "rejected", "withdrawn", "archived"]
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


# A file path as the upload service takes it (ingest.uploads.safe_path): relative, '/'-separated,
# components of 1–255 characters (and at most 255 bytes in UTF-8), none '.' or '..', no backslash,
# no control character, no drive letter, at most 300 characters in all.
_CHAR = r"[^/\\\x00-\x1f\x7f-\x9f]"
# ingest/intake/names.py also refuses a component ending in a space or a dot, and '..' written
# percent-encoded (the lookaheads; '%252e' and mixed forms are refused by the server too).
_DIRS = (
    r"^(?![A-Za-z]:)(?!.*[ .](?:/|$))(?!(?:.*/)?%2[eE]%2[eE](?:/|$))"
    rf"(?:(?!\.\.?/){_CHAR}{{1,255}}/)*"
)
PATH_PATTERN = rf"{_DIRS}(?!\.\.?$){_CHAR}{{1,255}}$"
PATH_RULES = (
    "Relative path with '/' separators; each component 1–255 characters and at most 255 bytes"
    " in UTF-8, not '.' or '..' (also not percent-encoded: '%2e%2e'), not ending in a space or a"
    " dot, NFC; without backslash or control characters (C0, DEL, C1); no drive letter;"
    f" at most {MAX_PATH_CHARS} characters."
)


def file_pattern(formats: Iterable[str]) -> str:
    """PATH_PATTERN whose last component ends with an accepted extension (any letter case)."""
    alternatives = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else _escape(c) for c in ext.lower())
        for ext in sorted(set(formats))
    )
    return rf"{_DIRS}{_CHAR}{{1,250}}\.(?:{alternatives})$"


def _escape(c: str) -> str:
    return "\\" + c if not c.isalnum() else c


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": schema}
    if example is not None:
        body["example"] = example
    return {"application/json": body}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


COMMON_ERRORS = {
    "414": {"$ref": "#/components/responses/RequestLineTooLong"},
    "431": {"$ref": "#/components/responses/HeadersTooLarge"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "500": {"$ref": "#/components/responses/ServerError"},
}

EXAMPLE_METADATA = {
    "profile": "tt05-2025",
    "dossier": {
        "fileCode": "H54.2024.05.CCHC",
        "title": "Hồ sơ về việc thực hiện kế hoạch cải cách hành chính năm 2024",
        "maintenance": "06",
        "mode": "01",
        "language": "01",
        "startDate": "05/01/2024",
        "endDate": "27/12/2024",
    },
    "documents": [
        {
            "file": "tai-lieu/0001.pdf",
            "sha256": "9f2c" + "0" * 60,
            "size": 48213,
            "docCode": "H54.2024.05.CCHC.0000001",
            "typeName": "10",
            "codeNumber": "01",
            "codeNotation": "KH-UBND",
            "issuedDate": "05/01/2024",
            "organName": "Ủy ban nhân dân tỉnh Thái Bình",
            "subject": "Kế hoạch cải cách hành chính năm 2024",
        }
    ],
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details, with the title and detail in Vietnamese too.",
        "required": ["type", "title", "status", "detail", "code", "title_vi", "detail_vi"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "examples": ["intake.checksum_mismatch"]},
            "title_vi": {"type": "string", "examples": ["Nội dung không xử lý được"]},
            "detail_vi": {"type": "string"},
            "instance": {"type": "string"},
            "offset": {"type": "integer", "description": "409 upload.offset_mismatch: where to resume"},
        },
    },
    "DocumentDeclaration": {
        "type": "object",
        "required": ["file", "sha256"],
        "properties": {
            "file": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATH_CHARS,
                "pattern": PATH_PATTERN,  # narrowed to the accepted extensions by openapi_document
                "description": PATH_RULES + " Ends with an accepted extension (415 otherwise). Two"
                " documents may not name the same file, nor 'metadata.json'/'metadata.xlsx' (422).",
            },
            "sha256": SHA256,
            "size": {
                "type": "integer",
                "minimum": 0,
                "description": "bytes; lets the archive refuse early (413 above max_file_bytes,"
                " or when the declared sizes add up to more than max_bytes)",
            },
        },
        "additionalProperties": True,
    },
    "Metadata": {
        "type": "object",
        "description": "metadata.json of the submission (docs/submission-format.md).",
        "required": ["documents"],
        "properties": {
            "profile": {"type": "string", "enum": ["tt05-2025", "nd30-2020", "tt02-2019"]},
            "dossier": {"type": "object", "additionalProperties": True},
            "documents": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10_000,  # max_files, set by openapi_document
                "items": _ref("DocumentDeclaration"),
            },
        },
    },
    "SubmissionRequest": {
        "type": "object",
        "description": "At most 16 MiB of JSON (413 request.too_large), arrays/objects nested at most "
        "64 levels (400 request.too_deep).",
        "x-max-body-bytes": MAX_METADATA_BYTES,
        "x-max-depth": MAX_DEPTH,
        "required": ["metadata"],
        "properties": {"metadata": _ref("Metadata")},
        "example": {"metadata": EXAMPLE_METADATA},
    },
    "UploadFile": {
        "type": "object",
        "required": ["path", "sha256", "size", "expected_size", "received_bytes", "complete", "upload_url"],
        "properties": {
            "path": {"type": "string"},
            "sha256": {"type": "string"},
            "size": NULL_INT,
            "expected_size": NULL_INT,
            "received_bytes": {"type": "integer", "minimum": 0},
            "complete": {"type": "boolean"},
            "upload_url": {"type": "string"},
        },
    },
    "Finding": {
        "type": "object",
        "required": ["code", "severity", "message_vi", "message_en"],
        "properties": {
            "code": {"type": "string"},
            "severity": {"type": "string", "enum": ["error", "warning", "info"]},
            "message_vi": {"type": "string"},
            "message_en": {"type": "string"},
            "path": NULL_STR,
            "field": NULL_STR,
            "evidence": {"type": "object"},
        },
    },
    "Reason": {
        "type": "object",
        "required": ["code", "message_vi", "message_en"],
        "properties": {
            "code": {"type": "string"},
            "message_vi": {"type": "string"},
            "message_en": {"type": "string"},
        },
    },
    "Submission": {
        "type": "object",
        "required": ["id", "submission_id", "state", "status", "findings", "reasons", "files", "links"],
        "properties": {
            "id": {"type": "string"},
            "submission_id": NULL_STR,
            "state": {"type": "string", "enum": STATES},
            "status": {"type": "string"},
            "dossier": NULL_STR,
            "title": NULL_STR,
            "received_at": {"type": ["string", "null"], "description": "ISO 8601, +07:00"},
            "decided_at": NULL_STR,
            "decision_reason": NULL_STR,
            "reasons": {"type": "array", "items": _ref("Reason")},
            "findings": {"type": "array", "items": _ref("Finding")},
            "files": {"type": "array", "items": _ref("UploadFile")},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
            "chunk_size": {"type": "integer", "description": "advised chunk size in bytes"},
            "receipt": {"type": ["object", "null"], "description": "biên nhận, on finalise only"},
        },
    },
    "SubmissionList": {
        "type": "object",
        "required": ["total", "page", "per_page", "items", "links"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "items": {"type": "array", "items": _ref("Submission")},
            "links": {"type": "object", "additionalProperties": NULL_STR},
        },
    },
    "Dossier": {
        "type": "object",
        "required": ["code", "title", "access_mode", "state", "links"],
        "properties": {
            "code": {"type": "string"},
            "arc_code": NULL_STR,
            "agency": {"type": "string"},
            "title": {"type": "string"},
            "profile": {"type": "string"},
            "access_mode": {"type": "string", "enum": ["01", "02", "03"]},
            "state": {"type": "string"},
            "retention_years": NULL_INT,
            "retention_text": NULL_STR,
            "start_date": NULL_STR,
            "end_date": NULL_STR,
            "document_count": {"type": "integer"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "DocumentList": {
        "type": "object",
        "required": ["dossier", "total", "items"],
        "properties": {
            "dossier": {"type": "string"},
            "total": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object"}},
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["total", "total_is_exact", "partial", "page", "items"],
        "properties": {
            "total": {"type": "integer"},
            "total_is_exact": {
                "type": "boolean",
                "description": "false for very broad queries: total is then a lower bound (more than N).",
            },
            "partial": {
                "type": "boolean",
                "description": "true when the query ran out of its time budget: the items are the best found"
                " so far / truy vấn hết thời gian cho phép: đây là các kết quả tốt nhất tìm được đến lúc đó.",
            },
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object"}},
        },
    },
}

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_PATH = {
    "name": "path",
    "in": "path",
    "required": True,
    "description": "the file's declared path (may contain '/'). " + PATH_RULES,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_CHARS, "pattern": PATH_PATTERN},
}
_OFFSET_HEADERS = {
    "Upload-Offset": {"description": "bytes received so far", "schema": {"type": "integer"}},
    "Upload-Length": {"description": "the file's size, once known", "schema": {"type": "integer"}},
}
_FILE_OK = {"description": "file status", "headers": _OFFSET_HEADERS, "content": _json(_ref("UploadFile"))}
_SUB_OK = {"description": "the submission", "content": _json(_ref("Submission"))}


def _op(summary: str, summary_vi: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    op = {"summary": summary, "description": summary_vi, "responses": {**responses, **COMMON_ERRORS}}
    op.update(extra)
    return op


PATHS: dict[str, Any] = {
    "/submissions": {
        "post": _op(
            "Open a submission: declare metadata and files, get the upload plan",
            "Mở lần nộp lưu: khai báo metadata và tệp, nhận kế hoạch tải lên (phạm vi submit)",
            {
                "201": {
                    **_SUB_OK,
                    "description": "upload plan",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "200": {**_SUB_OK, "description": "the same request again (Idempotency-Key)"},
                "400": _problem("malformed body or header; JSON nested over 64 levels (request.too_deep)"),
                "409": _problem("Idempotency-Key reused with a different body"),
                "413": _problem("body over 16 MiB (request.too_large); too many or too large files"),
                "415": _problem("a file format is not accepted"),
                "422": _problem("the metadata cannot make a plan"),
            },
            operationId="createSubmission",
            parameters=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "pattern": "^[A-Za-z0-9_.:-]+$",
                    },
                    "example": "UBND-TB-2024-0001",
                }
            ],
            requestBody={
                "required": True,
                "content": _json(_ref("SubmissionRequest"), {"metadata": EXAMPLE_METADATA}),
            },
        ),
        "get": _op(
            "List the agency's own submissions",
            "Danh sách các lần nộp lưu của cơ quan (phạm vi read-own)",
            {
                "200": {"description": "one page", "content": _json(_ref("SubmissionList"))},
                "400": _problem("bad parameter"),
            },
            operationId="listSubmissions",
            parameters=[
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": STATES[1:]}},
                {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {
                    "name": "page",
                    "in": "query",
                    "description": "1 to 1000 (400 above): narrow deeper lists with 'state' or 'since'",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            ],
        ),
    },
    "/edxml-messages": {
        "post": _op(
            "Submit one edXML message (QCVN 102:2016) as the body; answered with its status",
            "Nộp lưu một thông điệp edXML (QCVN 102:2016) trong thân yêu cầu; trả về trạng thái (phạm vi submit)",
            {
                "201": {
                    **_SUB_OK,
                    "description": "received and checked (or refused, with the reasons)",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": _problem("no body"),
                "413": _problem("the message is larger than the archive accepts"),
                "415": _problem("not sent as application/xml, text/xml or application/octet-stream"),
            },
            operationId="submitEdxml",
            requestBody={
                "required": True,
                "content": {
                    "application/xml": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
                    "text/xml": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary", "minLength": 1}
                    },
                },
            },
        )
    },
    "/submissions/{id}/edxml-status": {
        "get": _op(
            "The edXML status message (Status, StatusCode) answering one message of the submission",
            "Thông điệp trạng thái edXML trả lời một thông điệp của lần nộp (phạm vi read-own)",
            {
                "200": {
                    "description": "the Status message",
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                },
                "400": _problem("'message' is not an integer from 0 to 10000"),
                "404": _problem("no such submission, or no edXML message with that number"),
            },
            operationId="getEdxmlStatus",
            parameters=[
                _ID,
                {
                    "name": "message",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0},
                },
            ],
        )
    },
    "/submissions/{id}": {
        "get": _op(
            "State, findings and reasons of one submission",
            "Trạng thái, kết quả kiểm tra và lý do của một lần nộp lưu (phạm vi read-own)",
            {"200": _SUB_OK, "404": _problem("no such submission of this agency")},
            operationId="getSubmission",
            parameters=[_ID],
        )
    },
    "/submissions/{id}/files/{path}": {
        "put": _op(
            "Upload a file whole, or one chunk of it (Content-Range)",
            "Tải lên cả tệp hoặc một phần (Content-Range); phần phải bắt đầu tại Upload-Offset",
            {
                "200": _FILE_OK,
                "400": _problem("bad path or Content-Range, or the transfer stopped early"),
                "404": _problem("no such submission or file"),
                "409": _problem("wrong offset (body has 'offset'), file busy, or upload closed"),
                "413": _problem("larger than declared or allowed"),
                "415": _problem("format not accepted"),
                "422": _problem("intake.checksum_mismatch: the file was reset, send it again"),
            },
            operationId="uploadFile",
            parameters=[
                _ID,
                _PATH,
                {
                    "name": "Content-Range",
                    "in": "header",
                    "required": False,
                    "description": (
                        "'bytes START-END/TOTAL' (TOTAL may be '*'), START ≤ END < TOTAL; the chunk"
                        " must begin at Upload-Offset (409 otherwise, with 'offset') and Content-Length"
                        " must equal END − START + 1 (400 upload.range_invalid otherwise). Without it"
                        " the body is the whole file."
                    ),
                    "schema": {
                        "type": "string",
                        "pattern": "^bytes [0-9]{1,19}-[0-9]{1,19}/([0-9]{1,19}|\\*)$",
                    },
                    "example": "bytes 0-8388607/67108864",
                },
            ],
            requestBody={
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            },
        ),
        "get": _op(
            "How much of a file has arrived (also HEAD)",
            "Đã nhận được bao nhiêu byte của tệp: vị trí để gửi tiếp (cũng trả lời HEAD)",
            {"200": _FILE_OK, "400": _problem("bad path"), "404": _problem("no such submission or file")},
            operationId="getFileOffset",
            parameters=[_ID, _PATH],
        ),
    },
    "/submissions/{id}/finalise": {
        "post": _op(
            "Finalise: hand the files to intake and validate now (idempotent)",
            "Hoàn tất: chuyển tệp sang tiếp nhận và kiểm tra ngay (gọi lại an toàn)",
            {
                "200": {**_SUB_OK, "description": "received and validated; 'receipt' the first time"},
                "404": _problem("no such submission"),
                "409": _problem("files missing, or withdrawn"),
            },
            operationId="finaliseSubmission",
            parameters=[_ID],
        )
    },
    "/submissions/{id}/withdraw": {
        "post": _op(
            "Withdraw before acceptance",
            "Thu hồi trước khi được chấp nhận",
            {
                "200": _SUB_OK,
                "400": _problem("JSON body nested over 64 levels (request.too_deep) or not JSON"),
                "404": _problem("no such submission"),
                "409": _problem("already accepted or decided"),
                "413": _problem("JSON body over 64 KiB (request.too_large)"),
            },
            operationId="withdrawSubmission",
            parameters=[_ID],
        )
    },
    "/dossiers/{code}": {
        "get": _op(
            "Metadata of one of the agency's dossiers",
            "Thông tin hồ sơ của cơ quan (hồ sơ của cơ quan khác: 404)",
            {
                "200": {"description": "the dossier", "content": _json(_ref("Dossier"))},
                "404": _problem("not found"),
            },
            operationId="getDossier",
            parameters=[
                {
                    "name": "code",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 100},
                }
            ],
        )
    },
    "/dossiers/{code}/documents": {
        "get": _op(
            "Documents of one of the agency's dossiers",
            "Danh sách văn bản trong hồ sơ của cơ quan",
            {
                "200": {"description": "documents", "content": _json(_ref("DocumentList"))},
                "404": _problem("not found"),
            },
            operationId="listDocuments",
            parameters=[
                {
                    "name": "code",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 100},
                }
            ],
        )
    },
    "/search": {
        "get": _op(
            "Full-text search within the agency's records",
            "Tìm kiếm toàn văn trong tài liệu của cơ quan (phạm vi search)",
            {
                "200": {"description": "results", "content": _json(_ref("SearchResult"))},
                "400": _problem("bad parameter; search.no_words: punctuation only"),
                "503": _problem("search.unavailable: the index is not reachable (Retry-After)"),
            },
            operationId="search",
            parameters=[
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS},
                    "description": "words, with or without diacritics; a question is fine (the best subset of"
                    " its words is ranked); punctuation alone is refused (400 search.no_words)",
                    "example": "cải cách hành chính",
                },
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
            ],
        )
    },
}


def openapi_document(
    server_url: str = "/api/v1", *, formats: Iterable[str] = DEFAULT_FORMATS, max_files: int = 10_000
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document; ``server_url`` is where the API is mounted.

    ``formats`` (accepted extensions) and ``max_files`` are the archive's settings, so the
    document states the limits this archive enforces.
    """
    schemas = copy.deepcopy(SCHEMAS)
    schemas["DocumentDeclaration"]["properties"]["file"]["pattern"] = file_pattern(formats)
    schemas["Metadata"]["properties"]["documents"]["maxItems"] = max_files
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "luutru REST API",
            "version": "1.0.0",
            "summary": "Nộp lưu hồ sơ điện tử cho cơ quan, tổ chức (submission API for agencies)",
            "description": (
                "Agencies submit dossiers: open a submission with its metadata, upload each file "
                "(whole or in resumable chunks), finalise, then follow its state. Errors are RFC 9457 "
                "problem+json with a stable `code` and Vietnamese `title_vi`/`detail_vi`. Limits: a"
                f" request line of at most {MAX_REQUEST_LINE} bytes (414), header lines of at most"
                f" {MAX_HEADER_FIELD} bytes (431); the others are in the parameters and schemas."
                " See docs/api.md."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerToken": []}],
        "paths": PATHS,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "<prefix>.<secret>",
                    "description": "Per-agency token issued by an administrator; scopes submit, read-own, search.",
                }
            },
            "responses": {
                "Unauthorized": _problem("missing, unknown, revoked or expired token"),
                "Forbidden": _problem("the token lacks the scope"),
                "TooManyRequests": {
                    **_problem("rate limited; retry after the given seconds"),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
                "ServerError": _problem("unexpected error; no stack trace is returned"),
                "RequestLineTooLong": _problem(
                    f"request.line_too_long: the request line is over {MAX_REQUEST_LINE} bytes"
                ),
                "HeadersTooLarge": _problem(
                    f"request.headers_too_large: a header line over {MAX_HEADER_FIELD} bytes"
                ),
            },
        },
    }


__all__ = ["MAX_PATH_CHARS", "PATH_PATTERN", "file_pattern", "openapi_document"]
