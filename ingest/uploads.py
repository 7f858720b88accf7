"""Resumable chunked uploads (tải lên từng phần) for the REST API, then hand-over to the ingest service.

An upload session is opened with the submission's metadata (``metadata.json`` as it will be
received). Each declared file is sent whole or in chunks; a chunk must start at the current
offset (the size of ``<root>/<id>/parts/<path>.part``), so an interrupted transfer resumes
where it stopped. When a file is whole, its SHA-256 is computed by streaming the part once and
compared with the declaration; a mismatch resets the file. Finalising writes ``metadata.json``
next to the completed files and calls :meth:`IngestService.receive` on that folder, so intake
verifies every checksum again (invariant 1).

Files are streamed in 1 MiB chunks; nothing reads a whole file into memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import Agency, EventType, Submission, SubmissionState
from archive.catalog.upload import ApiUpload, ApiUploadFile, UploadState
from archive.errors import Conflict, NotFound
from archive.fixity.hashing import sha256_file
from archive.vntime import utcnow
from ingest.errors import (
    UploadBusy,
    UploadChecksumMismatch,
    UploadFormatRefused,
    UploadIncomplete,
    UploadInterrupted,
    UploadOffsetMismatch,
    UploadPathInvalid,
    UploadPlanInvalid,
    UploadRangeInvalid,
    UploadTooLarge,
)
from ingest.formats import FormatPolicy
from ingest.intake.names import SafeName, check_name
from ingest.service import IngestResult, IngestService

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # read/write unit: 1 MiB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RESERVED = frozenset({"metadata.json", "metadata.xlsx"})


class Readable(Protocol):
    """A request body: ``read(n)`` returns at most ``n`` bytes, ``b""`` at the end."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What one upload may hold; ``chunk_size`` is the size advised to clients in the plan."""

    formats: FormatPolicy
    max_files: int = 10_000
    max_bytes: int = 20 * 1024**3
    max_file_bytes: int = 8 * 1024**3
    chunk_size: int = 8 * CHUNK


@dataclass(frozen=True, slots=True)
class FileStatus:
    path: str
    sha256: str
    declared_size: int | None
    expected_size: int | None
    received_bytes: int
    complete: bool

    @classmethod
    def of(cls, row: ApiUploadFile) -> FileStatus:
        return cls(
            row.path,
            row.declared_sha256,
            row.declared_size,
            row.expected_size,
            row.received_bytes,
            row.complete,
        )


@dataclass(frozen=True, slots=True)
class UploadStatus:
    id: str
    agency_id: int
    state: UploadState
    submission_id: str | None
    idempotency_key: str | None
    files: tuple[FileStatus, ...]

    @classmethod
    def of(cls, row: ApiUpload) -> UploadStatus:
        return cls(
            row.id, row.agency_id, row.state, row.submission_id, row.idempotency_key,
            tuple(FileStatus.of(f) for f in row.files),
        )  # fmt: skip


def request_hash(metadata: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the metadata: equal bodies give equal hashes."""
    body = json.dumps(metadata, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


MAX_PATH_CHARS = 300  # declared in the OpenAPI document with the other path rules


def safe_path(raw: str) -> str:
    """Return ``raw`` as a normalised relative path, or raise UploadPathInvalid.

    The API takes paths in their plain form only: no empty or ``.`` component (``a//b``,
    ``./a``), at most MAX_PATH_CHARS characters, besides the rules of every intake name.
    """
    if "\\" in raw or "\x00" in raw or any(p in ("", ".") for p in raw.split("/")):
        raise UploadPathInvalid(
            f"Đường dẫn tệp không hợp lệ: {raw!r}.", f"Invalid file path: {raw!r}.", path=raw
        )
    if len(raw) > MAX_PATH_CHARS:
        raise UploadPathInvalid(
            f"Đường dẫn tệp dài quá {MAX_PATH_CHARS} ký tự.",
            f"The file path is longer than {MAX_PATH_CHARS} characters.",
            path=raw[:MAX_PATH_CHARS],
        )
    checked = check_name(raw.encode("utf-8", errors="surrogateescape"))
    if not isinstance(checked, SafeName):
        raise UploadPathInvalid(checked.message_vi, checked.message_en, path=raw)
    return checked.path


def _plan_files(metadata: Mapping[str, Any], limits: UploadLimits) -> list[tuple[str, str, int | None]]:
    docs = metadata.get("documents")
    if not isinstance(docs, list) or not docs:
        raise UploadPlanInvalid("Cần khai báo ít nhất một tài liệu.", "Declare at least one document.")
    if len(docs) > limits.max_files:
        raise UploadTooLarge(
            f"Quá {limits.max_files} tệp.", f"More than {limits.max_files} files.", limit=limits.max_files
        )
    planned: list[tuple[str, str, int | None]] = []
    seen: set[str] = set()
    total = 0
    for i, doc in enumerate(docs):
        if not isinstance(doc, Mapping) or not isinstance(doc.get("file"), str):
            raise UploadPlanInvalid(f"Tài liệu {i + 1}: thiếu 'file'.", f"Document {i + 1}: 'file' missing.")
        path = safe_path(doc["file"])
        sha, size = doc.get("sha256"), doc.get("size")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise UploadPlanInvalid(
                f"{path}: 'sha256' phải là 64 chữ số hex thường.",
                f"{path}: 'sha256' must be 64 lowercase hex digits.",
                path=path,
            )
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise UploadPlanInvalid(
                f"{path}: 'size' phải là số nguyên không âm.", f"{path}: 'size' must be a non-negative integer.",
                path=path,
            )  # fmt: skip
        if path in seen or path.lower() in _RESERVED:
            raise UploadPlanInvalid(
                f"Tệp {path} khai báo trùng hoặc dùng tên dành riêng.",
                f"File {path} is declared twice or uses a reserved name.",
                path=path,
            )
        if not limits.formats.accepts(PurePosixPath(path).suffix):
            raise UploadFormatRefused(
                f"Định dạng tệp {path} không được chấp nhận.", f"The format of {path} is not accepted.",
                path=path,
            )  # fmt: skip
        if size is not None:
            if size > limits.max_file_bytes:
                raise UploadTooLarge(
                    f"Tệp {path} vượt quá {limits.max_file_bytes} byte.",
                    f"File {path} exceeds {limits.max_file_bytes} bytes.",
                    path=path, limit=limits.max_file_bytes,
                )  # fmt: skip
            total += size
        seen.add(path)
        planned.append((path, sha, size))
    if total > limits.max_bytes:
        raise UploadTooLarge(
            f"Tổng dung lượng vượt quá {limits.max_bytes} byte.",
            f"The files exceed {limits.max_bytes} bytes in total.",
            limit=limits.max_bytes,
        )
    return planned


class UploadService:
    """Upload sessions of one archive: open, write chunks, finalise, withdraw."""

    def __init__(
        self, sessions: sessionmaker[Session], root: Path, limits: UploadLimits, ingest: IngestService
    ) -> None:
        self.sessions, self.root, self.limits, self.ingest = sessions, root, limits, ingest

    # -- opening ----------------------------------------------------------------------------
    def open(
        self,
        agency_id: int,
        metadata: Mapping[str, Any],
        *,
        actor: events.Agent,
        token_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[UploadStatus, bool]:
        """Open a session (``True``) or return the one opened with the same key and body (``False``).

        Raises Conflict when the key was used with a different body; UploadPlanInvalid,
        UploadPathInvalid, UploadFormatRefused or UploadTooLarge when the plan is refused.
        """
        digest = request_hash(metadata)
        if idempotency_key is not None:
            found = self._by_key(agency_id, idempotency_key, digest)
            if found is not None:
                return found, False
        planned = _plan_files(metadata, self.limits)
        try:
            with self.sessions() as s, s.begin():
                row = ApiUpload(
                    agency_id=agency_id, token_id=token_id, idempotency_key=idempotency_key,
                    request_hash=digest, metadata_doc=dict(metadata), state=UploadState.OPEN,
                )  # fmt: skip
                row.files = [
                    ApiUploadFile(ordinal=i, path=p, declared_sha256=sha, declared_size=size,
                                  expected_size=size, received_bytes=0, complete=False)
                    for i, (p, sha, size) in enumerate(planned, start=1)
                ]  # fmt: skip
                s.add(row)
                s.flush()
                events.record(
                    s, EventType.TRANSFER, object_type="api_upload", object_id=row.id, agent=actor,
                    detail=f"upload session opened: {len(planned)} files",
                    data={"files": len(planned), "idempotency_key": idempotency_key},
                )  # fmt: skip
                return UploadStatus.of(row), True
        except IntegrityError:  # the same key won a race: answer as a retry
            if idempotency_key is None:
                raise
            found = self._by_key(agency_id, idempotency_key, digest)
            if found is None:
                raise
            return found, False

    def _by_key(self, agency_id: int, key: str, digest: str) -> UploadStatus | None:
        with self.sessions() as s:
            row = s.scalar(
                select(ApiUpload).where(ApiUpload.agency_id == agency_id, ApiUpload.idempotency_key == key)
            )
            if row is None:
                return None
            if row.request_hash != digest:
                raise Conflict(f"idempotency key {key!r} was used with a different request")
            return UploadStatus.of(row)

    # -- reading ----------------------------------------------------------------------------
    def status(self, upload_id: str, agency_id: int) -> UploadStatus:
        """The session, if it belongs to ``agency_id``; NotFound otherwise (no existence leak)."""
        with self.sessions() as s:
            return UploadStatus.of(self._get(s, upload_id, agency_id))

    def file_status(self, upload_id: str, agency_id: int, raw_path: str) -> FileStatus:
        path = safe_path(raw_path)
        with self.sessions() as s:
            return FileStatus.of(self._file(self._get(s, upload_id, agency_id), path))

    # -- writing ----------------------------------------------------------------------------
    def write(
        self,
        upload_id: str,
        agency_id: int,
        raw_path: str,
        body: Readable,
        *,
        start: int | None = None,
        length: int | None = None,
        total: int | None = None,
    ) -> FileStatus:
        """Append ``length`` bytes of ``body`` at ``start`` (None: the body is the whole file).

        ``total`` is the file's full size when the client knows it. When the file becomes
        whole, its SHA-256 is verified. Raises UploadOffsetMismatch (wrong start),
        UploadTooLarge, UploadRangeInvalid, UploadChecksumMismatch (file reset),
        UploadInterrupted (what arrived is kept), UploadBusy, Conflict (session not open).
        """
        path = safe_path(raw_path)
        with self.sessions() as s:
            upload = self._get(s, upload_id, agency_id)
            if upload.state is not UploadState.OPEN:
                raise Conflict(f"upload {upload_id} is {upload.state.value}")
            row = self._file(upload, path)
            declared, expected, complete = row.declared_size, row.expected_size, row.complete
        if not self.limits.formats.accepts(PurePosixPath(path).suffix):
            raise UploadFormatRefused(
                f"Định dạng tệp {path} không được chấp nhận.",
                f"The format of {path} is not accepted.",
                path=path,
            )
        if complete:  # a whole, verified file takes no more bytes
            raise UploadOffsetMismatch(expected if expected is not None else 0)
        size = self._check_sizes(path, declared, expected, start, length, total)
        part = self._part(upload_id, path)
        part.parent.mkdir(parents=True, exist_ok=True)
        with _locked(part) as fh:
            current = fh.seek(0, 2)
            if start is None:
                fh.truncate(0)
                fh.seek(0)
            elif start != current:
                raise UploadOffsetMismatch(current)
            begin = fh.tell()
            limit = size if size is not None else self.limits.max_file_bytes
            try:
                _copy(body, fh, length, limit - begin)
            except UploadTooLarge:
                fh.truncate(begin)
                raise
            except OSError:
                fh.flush()
                self._save(upload_id, path, fh.tell(), size)
                raise
            fh.flush()
            offset = fh.tell()
            whole = (start is None) or (size is not None and offset == size)
            if whole:
                return self._complete(upload_id, path, part, offset)
            return self._save(upload_id, path, offset, size)

    def _check_sizes(
        self, path: str, declared: int | None, expected: int | None,
        start: int | None, length: int | None, total: int | None,
    ) -> int | None:  # fmt: skip
        """Return the file's expected size after this request (None: not known yet)."""
        size = expected
        if start is None and length is not None:
            total = length
        if total is not None:
            if total > self.limits.max_file_bytes or (declared is not None and total > declared):
                raise UploadTooLarge(
                    f"Tệp {path} lớn hơn dung lượng cho phép hoặc đã khai báo.",
                    f"File {path} is larger than allowed or declared.",
                    path=path, limit=declared if declared is not None else self.limits.max_file_bytes,
                )  # fmt: skip
            if size is not None and total != size:
                raise UploadRangeInvalid(
                    f"Tổng kích thước {total} khác kích thước {size} đã biết của {path}.",
                    f"Total size {total} differs from the known size {size} of {path}.",
                    path=path,
                )
            size = total
        if start is not None and length is not None and size is not None and start + length > size:
            raise UploadRangeInvalid(
                "Phần dữ liệu vượt quá kích thước tệp.", "The chunk goes past the end of the file.", path=path
            )
        return size

    def _save(self, upload_id: str, path: str, offset: int, size: int | None) -> FileStatus:
        with self.sessions() as s, s.begin():
            row = self._file(self._get_any(s, upload_id), path)
            row.received_bytes, row.expected_size = offset, size
            return FileStatus.of(row)

    def _complete(self, upload_id: str, path: str, part: Path, size: int) -> FileStatus:
        digest = sha256_file(part)[0]
        with self.sessions() as s, s.begin():
            row = self._file(self._get_any(s, upload_id), path)
            declared = row.declared_sha256
            if digest != declared:  # reset: the whole file must be sent again
                part.unlink(missing_ok=True)
                row.received_bytes, row.expected_size = 0, row.declared_size
            else:
                final = self._folder(upload_id) / path
                final.parent.mkdir(parents=True, exist_ok=True)
                part.replace(final)
                row.received_bytes, row.expected_size, row.complete = size, size, True
            status = FileStatus.of(row)
        if digest != declared:
            raise UploadChecksumMismatch(
                f"Mã kiểm tra SHA-256 của {path} không khớp với khai báo; hãy gửi lại tệp.",
                f"The SHA-256 of {path} differs from the declared one; send the file again.",
                path=path, declared=declared, received=digest,
            )  # fmt: skip
        return status

    # -- finishing --------------------------------------------------------------------------
    def finalise(self, upload_id: str, agency_id: int, *, actor: events.Agent) -> IngestResult:
        """Hand the whole upload to the ingest service and validate it now (idempotent).

        Raises UploadIncomplete when a declared file has not arrived whole, Conflict when
        the session was withdrawn.
        """
        with self.sessions() as s:  # SQLite: one session at a time (each BEGIN takes the write lock)
            upload = self._get(s, upload_id, agency_id)
            done = upload.submission_id if upload.state is UploadState.FINALISED else None
        if done:
            return self.ingest.result(done)
        with self.sessions() as s:
            upload = self._get(s, upload_id, agency_id)
            if upload.state is UploadState.ABANDONED:
                raise Conflict(f"upload {upload_id} was withdrawn")
            missing = [f.path for f in upload.files if not f.complete]
            if missing:
                raise UploadIncomplete(
                    f"Còn {len(missing)} tệp chưa tải lên đủ.", f"{len(missing)} file(s) not uploaded whole yet.",
                    missing=missing,
                )  # fmt: skip
            metadata = dict(upload.metadata_doc)
            agency = s.get(Agency, agency_id)
            assert agency is not None
            agency_code = agency.code
        folder = self._folder(upload_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metadata.json").write_text(
            json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        result = self.ingest.receive(folder, agency_code, actor=actor, source_kind="api")
        with self.sessions() as s, s.begin():
            upload = self._get_any(s, upload_id)
            upload.state, upload.submission_id, upload.finalised_at = (
                UploadState.FINALISED, result.submission_id, utcnow(),
            )  # fmt: skip
            sub = s.get(Submission, result.submission_id)
            if sub is not None and sub.token_id is None:
                sub.token_id = upload.token_id
            events.record(
                s, EventType.TRANSFER, object_type="api_upload", object_id=upload_id, agent=actor,
                detail="upload finalised and handed to intake", data={"submission": result.submission_id},
            )  # fmt: skip
        shutil.rmtree(self.root / upload_id, ignore_errors=True)
        if result.state is SubmissionState.RECEIVED:
            return self.ingest.continue_submission(result.submission_id, receipt=result.receipt)
        return result

    def withdraw(
        self, upload_id: str, agency_id: int, *, actor: events.Agent, reason: str = ""
    ) -> UploadStatus:
        """Withdraw (thu hồi): abandon an open upload, or withdraw its submission before acceptance.

        Raises Conflict when the submission is already accepted, archived or rejected.
        """
        with self.sessions() as s:
            upload = self._get(s, upload_id, agency_id)
            state, submission_id = upload.state, upload.submission_id
        if state is UploadState.FINALISED and submission_id:
            current = self.ingest.result(submission_id).state
            if current is not SubmissionState.WITHDRAWN:
                self.ingest.withdraw(submission_id, actor=actor, reason=reason)
        elif state is UploadState.OPEN:
            with self.sessions() as s, s.begin():
                row = self._get_any(s, upload_id)
                row.state = UploadState.ABANDONED
                events.record(
                    s, EventType.SUBMISSION_WITHDRAWAL, object_type="api_upload", object_id=upload_id,
                    agent=actor, detail=f"open upload withdrawn: {reason or 'by the agency'}",
                )  # fmt: skip
            shutil.rmtree(self.root / upload_id, ignore_errors=True)
        return self.status(upload_id, agency_id)

    # -- internals --------------------------------------------------------------------------
    def _part(self, upload_id: str, path: str) -> Path:
        return self.root / upload_id / "parts" / f"{path}.part"

    def _folder(self, upload_id: str) -> Path:
        return self.root / upload_id / "folder"

    @staticmethod
    def _get_any(s: Session, upload_id: str) -> ApiUpload:
        row = s.get(ApiUpload, upload_id)
        if row is None:
            raise NotFound("upload", upload_id)
        return row

    def _get(self, s: Session, upload_id: str, agency_id: int) -> ApiUpload:
        row = self._get_any(s, upload_id)
        if row.agency_id != agency_id:
            raise NotFound("upload", upload_id)
        return row

    @staticmethod
    def _file(upload: ApiUpload, path: str) -> ApiUploadFile:
        for f in upload.files:
            if f.path == path:
                return f
        raise NotFound("upload file", path)


@contextmanager
def _locked(part: Path) -> Iterator[BinaryIO]:
    """Open ``part`` for appending under an exclusive lock; UploadBusy if another writer holds it."""
    with part.open("a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy(
                "Tệp đang được tải lên bởi một yêu cầu khác.", "Another request is uploading this file."
            ) from None
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _copy(body: Readable, out: BinaryIO, length: int | None, room: int) -> None:
    """Copy ``length`` bytes (None: to the end) from ``body`` in 1 MiB reads; at most ``room`` bytes."""
    left = length
    written = 0
    while left is None or left > 0:
        want = CHUNK if left is None else min(CHUNK, left)
        data = body.read(want)
        if not data:
            if left is not None:
                raise UploadInterrupted(
                    "Kết nối bị ngắt giữa chừng; hãy gửi tiếp từ vị trí hiện tại.",
                    "The transfer stopped early; resume from the current offset.",
                )
            return
        written += len(data)
        if written > room:
            raise UploadTooLarge(
                "Tệp lớn hơn kích thước đã khai báo hoặc cho phép.",
                "The file is larger than declared or allowed.",
            )
        out.write(data)
        if left is not None:
            left -= len(data)


__all__ = [
    "CHUNK",
    "FileStatus",
    "Readable",
    "UploadLimits",
    "UploadService",
    "UploadStatus",
    "request_hash",
    "safe_path",
]
