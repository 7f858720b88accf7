"""Storage replicas: where the AIPs are kept, each replica a full copy (local directory or S3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.storage.base import ObjectStat, Replica, StoredObject, VerifyResult, check_key
from archive.storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    ObjectMissing,
    PackageConflict,
    PackageWriteFailed,
    StorageError,
)
from archive.storage.local import LocalReplica

__all__ = [
    "ChecksumMismatch",
    "InvalidKey",
    "LocalReplica",
    "ObjectMissing",
    "ObjectStat",
    "PackageConflict",
    "PackageWriteFailed",
    "Replica",
    "StorageError",
    "StoredObject",
    "VerifyResult",
    "check_key",
    "open_replica",
]


def open_replica(root: str, *, name: str | None = None, **s3_options: Any) -> Replica:
    """Open the replica named by ``root``: ``s3://bucket/prefix`` or a local directory path.

    ``s3_options`` (``endpoint_url``, ``access_key``, ``secret_key``, ``region``, ``client``)
    are passed to :class:`~archive.storage.s3.S3Replica` and ignored for local roots. A local
    root is created when missing. Call ``recover()`` on each replica at start-up.
    """
    if root.startswith("s3://"):
        from archive.storage.s3 import S3Replica

        bucket, _, prefix = root[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in replica root {root!r}")
        return S3Replica(bucket, prefix, name=name, **s3_options)
    return LocalReplica(Path(root), name=name)
