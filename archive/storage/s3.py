"""A replica in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW...), through boto3.

Layout under ``<prefix>``: ``<key>`` for every object; ``.pending/<package key>`` while a
package is being written; ``.manifests/<package key>.json`` once it is complete; ``.tmp/<uuid>``
for single-object writes in progress.

S3 has no rename, so a package put is made atomic for readers with a marker:

1. write ``.pending/<key>`` (the package is now invisible to ``open/stat/exists/list``);
2. upload every file under its final key (multipart, streamed, hashed while read);
3. write ``.manifests/<key>.json`` (key, size, sha256 of every object);
4. delete ``.pending/<key>`` — the single step that makes the package visible.

A crash before step 4 leaves a pending marker; ``recover()`` deletes everything under that
package key and the marker. A single object (``put_file``) goes to ``.tmp/<uuid>``, is verified,
then server-side copied to its key (an S3 PUT/COPY replaces an object atomically).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

from archive.fixity.hashing import HashingReader, IoBudget, sha256_file, sha256_stream
from archive.storage.base import (
    ObjectStat,
    PutProgress,
    StoredObject,
    VerifyResult,
    check_key,
    package_key,
    walk_files,
)
from archive.storage.errors import (
    ChecksumMismatch,
    ObjectMissing,
    PackageConflict,
    PackageWriteFailed,
    StorageError,
)

log = logging.getLogger(__name__)

PENDING, MANIFESTS, TMP = ".pending/", ".manifests/", ".tmp/"
_INTERNAL = (PENDING, MANIFESTS, TMP)


def s3_options_from_url(url: str) -> tuple[str, dict[str, str]]:
    """Split ``http(s)://user:pass@host:port/bucket[/prefix]`` into an ``s3://`` root and options.

    Returns ``("s3://bucket/prefix", {"endpoint_url", "access_key", "secret_key"})`` for
    :func:`archive.storage.open_replica`. Raises ValueError on a URL without a bucket.
    """
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if parts.scheme not in ("http", "https") or not path:
        raise ValueError("expected http(s)://user:pass@host:port/bucket[/prefix]")
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    options = {
        "endpoint_url": f"{parts.scheme}://{netloc}",
        "access_key": unquote(parts.username or ""),
        "secret_key": unquote(parts.password or ""),
    }
    return f"s3://{path}", options


class S3Replica:
    """A :class:`~archive.storage.base.Replica` kept in an S3 bucket under a key prefix."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        name: str | None = None,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.name = name or f"s3:{bucket}/{self.prefix}".rstrip("/")
        self.endpoint_url = endpoint_url
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region or None,
        )
        # 8 MiB parts, few threads: memory stays bounded whatever the object size.
        self._transfer = TransferConfig(multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)

    # -- helpers -----------------------------------------------------------------------------

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _pending_packages(self) -> list[str]:
        """Package keys whose put has started and not finished (readers treat them as absent)."""
        return [k[len(PENDING) :] for k in self._raw_list(PENDING)]

    def _hidden(self, key: str, pending: list[str] | None = None) -> bool:
        for pkg in self._pending_packages() if pending is None else pending:
            if key.startswith(pkg + "/"):
                return True
        return False

    def _raw_list(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._k(prefix)):
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(self.prefix) :]

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return cast(dict[str, Any], self._client.head_object(Bucket=self.bucket, Key=self._k(key)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _delete_many(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self._k(k)} for k in keys[start : start + 1000]]
            if batch:
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def _put_bytes(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._k(key), Body=data)

    # -- writes ------------------------------------------------------------------------------

    def put_file(self, src: Path | BinaryIO, key: str, *, expected_sha256: str | None = None) -> StoredObject:
        check_key(key)
        if self._manifest(key) is not None:
            raise PackageConflict(self.name, key)
        tmp = TMP + uuid.uuid4().hex
        try:
            if isinstance(src, Path):
                with open(src, "rb") as fh:
                    reader = HashingReader(fh)
                    self._client.upload_fileobj(reader, self.bucket, self._k(tmp), Config=self._transfer)
            else:
                reader = HashingReader(src)
                self._client.upload_fileobj(reader, self.bucket, self._k(tmp), Config=self._transfer)
            sha = reader.hexdigest()
            if expected_sha256 is not None and sha != expected_sha256.lower():
                raise ChecksumMismatch(self.name, key, expected_sha256, sha)
            self._client.copy(
                {"Bucket": self.bucket, "Key": self._k(tmp)}, self.bucket, self._k(key), Config=self._transfer
            )
        finally:
            self._client.delete_object(Bucket=self.bucket, Key=self._k(tmp))
        return StoredObject(key, reader.size, sha)

    def _manifest(self, key: str) -> list[StoredObject] | None:
        from botocore.exceptions import ClientError

        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._k(f"{MANIFESTS}{key}.json"))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        with body:
            data = json.loads(body.read())
        return [StoredObject(o["key"], int(o["size"]), o["sha256"]) for o in data["objects"]]

    def put_package(
        self,
        src_dir: Path,
        key: str,
        *,
        progress: PutProgress | None = None,
        source_disposable: bool = False,  # nothing to take: objects are always uploaded
    ) -> list[StoredObject]:
        key = package_key(key)
        files = walk_files(Path(src_dir))
        pending = self._pending_packages()
        existing = self._manifest(key)
        if existing is not None and key not in pending:
            return self._same_package(files, key, existing)
        if key in pending or self._head(key) is not None or any(True for _ in self._raw_list(key + "/")):
            raise PackageConflict(self.name, key)
        self._put_bytes(PENDING + key, b"")
        stored: list[StoredObject] = []
        try:
            for rel, path in files:
                with open(path, "rb") as fh:
                    reader = HashingReader(fh)
                    self._client.upload_fileobj(
                        reader, self.bucket, self._k(f"{key}/{rel}"), Config=self._transfer
                    )
                obj = StoredObject(f"{key}/{rel}", reader.size, reader.hexdigest())
                stored.append(obj)
                if progress is not None:
                    progress(obj)
            manifest = {
                "key": key,
                "objects": [{"key": o.key, "size": o.size, "sha256": o.sha256} for o in stored],
            }
            self._put_bytes(f"{MANIFESTS}{key}.json", json.dumps(manifest).encode())
            self._client.delete_object(Bucket=self.bucket, Key=self._k(PENDING + key))
        except BaseException as exc:
            self._discard_package(key)
            if isinstance(exc, Exception) and not isinstance(exc, StorageError):
                raise PackageWriteFailed(self.name, key, exc) from exc
            raise
        log.info("package written", extra={"key": key, "replica": self.name, "files": len(stored)})
        return stored

    def _same_package(
        self, files: list[tuple[str, Path]], key: str, existing: list[StoredObject]
    ) -> list[StoredObject]:
        if [f"{key}/{rel}" for rel, _ in files] != [o.key for o in existing]:
            raise PackageConflict(self.name, key)
        for (_, path), obj in zip(files, existing, strict=True):
            if path.stat().st_size != obj.size or sha256_file(str(path))[0] != obj.sha256:
                raise PackageConflict(self.name, key)
        return existing

    def _discard_package(self, key: str) -> int:
        objects = list(self._raw_list(key + "/"))
        self._delete_many([*objects, f"{MANIFESTS}{key}.json", PENDING + key])
        return len(objects)

    def delete(self, key: str) -> None:
        check_key(key)
        self._client.delete_object(Bucket=self.bucket, Key=self._k(key))

    def delete_prefix(self, prefix: str) -> int:
        check_key(prefix, allow_empty=True)
        keys = list(self.list(prefix))
        manifests = list(self._raw_list(MANIFESTS + prefix))
        self._delete_many(keys + manifests)
        return len(keys)

    def recover(self) -> int:
        count = 0
        for pkg in self._pending_packages():
            self._discard_package(pkg)
            count += 1
        leftovers = list(self._raw_list(TMP))
        self._delete_many(leftovers)
        count += len(leftovers)
        uploads = self._client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        for up in uploads.get("Uploads", []):
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"])
            count += 1
        if count:
            log.warning("removed unfinished writes", extra={"replica": self.name, "count": count})
        return count

    # -- reads -------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        check_key(key)
        if self._hidden(key):
            raise ObjectMissing(self.name, key)
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._k(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(self.name, key) from None
            raise
        return cast(BinaryIO, body)

    def stat(self, key: str) -> ObjectStat | None:
        check_key(key)
        head = self._head(key)
        if head is None or self._hidden(key):
            return None
        return ObjectStat(int(head["ContentLength"]), head["LastModified"].astimezone(UTC))

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def list(self, prefix: str = "") -> Iterator[str]:
        check_key(prefix, allow_empty=True)
        pending = self._pending_packages()
        for key in self._raw_list(prefix):
            if key.startswith(_INTERNAL) or self._hidden(key, pending):
                continue
            yield key

    def verify(self, key: str, sha256: str, *, budget: IoBudget | None = None) -> VerifyResult:
        try:
            body = self.open(key)
        except ObjectMissing:
            return VerifyResult(key, sha256, False, None, 0)
        with body:
            sha, size = sha256_stream(body, budget=budget)
        return VerifyResult(key, sha256, True, sha, size)

    def describe(self) -> dict[str, str]:
        where = f"s3://{self.bucket}/{self.prefix}"
        if self.endpoint_url:
            where += f" @ {self.endpoint_url}"
        return {"name": self.name, "backend": "s3", "location": where}
