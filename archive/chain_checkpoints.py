"""Signed checkpoints of the event chain's head, kept outside the catalog (điểm neo chuỗi sự kiện).

The event chain proves that no row was changed *in isolation*; someone who can write the
catalog can still delete the newest events, or change one and recompute every later hash.
A checkpoint pins the chain: it records the head (``seq``, ``hash``, the head event's time and
the number of events), the hashes of the events since the previous checkpoint, and an Ed25519
signature by the archive's own key. Checkpoints are written to every replica
(``checkpoints/<seq>.json`` through the storage ``Replica`` protocol, so S3 works too) and into
every backup, each beside the public key (``checkpoints/archive-ed25519.pub.pem``), so a
verifier without the catalog can check them.

The private key is generated once into ``<data_dir>/keys/`` (mode 0600) by the caller;
``archive`` only takes it as an argument. Verification is in ``archive.chain_audit``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.catalog import Event, EventType, Outcome
from archive.errors import ArchiveError
from archive.storage import Replica
from archive.vntime import as_utc, utcnow

log = logging.getLogger(__name__)

PREFIX = "checkpoints/"
RETIRED_PREFIX = "checkpoints-retired/"  # not read by verification
PUBLIC_KEY_NAME = "archive-ed25519.pub.pem"
PRIVATE_KEY_NAME = "checkpoint-ed25519.pem"
FORMAT = 1
ALGORITHM = "Ed25519"
MAX_LISTED = 10_000  # event hashes carried by one checkpoint (the ones since the previous)
_NAME = re.compile(r"^(\d{12})\.json$")


class CheckpointInvalid(ArchiveError):
    """A checkpoint file that cannot be read, or whose signature does not verify."""


# -- the archive's key ---------------------------------------------------------------------------
def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_or_create_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The archive's signing key from ``keys_dir``; generated once (PKCS#8 PEM, mode 0600).

    The public half is written beside it as ``archive-ed25519.pub.pem``.
    """
    path = keys_dir / PRIVATE_KEY_NAME
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        keys_dir.chmod(0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
        (keys_dir / PUBLIC_KEY_NAME).write_bytes(public_pem(key.public_key()))
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CheckpointInvalid(f"{path} is not an Ed25519 private key")
    return loaded


def load_public_keys(paths: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """Public keys (PEM files) by key id: the archive's own and any retired ones kept beside it."""
    keys: dict[str, Ed25519PublicKey] = {}
    for p in paths:
        loaded = serialization.load_pem_public_key(p.read_bytes())
        if isinstance(loaded, Ed25519PublicKey):
            keys[key_id(loaded)] = loaded
    return keys


# -- the checkpoint --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest event: its ``seq``, ``hash`` and time, and how many events the chain holds."""

    seq: int
    hash: str
    occurred_at: datetime
    count: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the chain had ``count`` events, the newest ``seq`` with ``hash``".

    ``hashes[i]`` is the hash of event ``hashes_from + i``: the events since the previous
    checkpoint (at most ``MAX_LISTED``), so a verifier can name the first changed event.
    """

    seq: int
    hash: str
    occurred_at: str  # head event, ISO 8601 UTC
    count: int
    signed_at: str  # ISO 8601 UTC
    trigger: str  # accession, backup, audit, manual
    key_id: str
    hashes_from: int
    hashes: list[str] = field(default_factory=list)

    def body(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    def listed(self) -> dict[int, str]:
        return {self.hashes_from + i: h for i, h in enumerate(self.hashes)}


def key_for(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


def seq_of(key: str) -> int | None:
    """The seq a checkpoint key names, or None for anything else under ``checkpoints/``."""
    match = _NAME.match(key.removeprefix(PREFIX))
    return int(match.group(1)) if match else None


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> bytes:
    """The checkpoint file: its fields plus an Ed25519 signature over their canonical JSON."""
    signature = base64.b64encode(key.sign(checkpoint.body())).decode()
    doc = {"format": FORMAT, "algorithm": ALGORITHM, "checkpoint": asdict(checkpoint), "signature": signature}
    return json.dumps(doc, indent=1).encode()


def parse(data: bytes, keys: dict[str, Ed25519PublicKey]) -> Checkpoint:
    """Read a checkpoint file and verify its signature with the trusted ``keys``.

    Raises CheckpointInvalid when it is unreadable, signed by an unknown key or altered.
    """
    try:
        doc = json.loads(data)
        cp = Checkpoint(**doc["checkpoint"])
        signature = base64.b64decode(doc["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"unreadable checkpoint: {exc}") from exc
    public = keys.get(cp.key_id)
    if public is None:
        raise CheckpointInvalid(f"checkpoint {cp.seq} is signed by an unknown key {cp.key_id}")
    try:
        public.verify(signature, cp.body())
    except InvalidSignature:
        raise CheckpointInvalid(f"checkpoint {cp.seq}: the signature does not verify") from None
    return cp


def chain_head(session: Session) -> ChainHead | None:
    row = session.execute(
        select(Event.seq, Event.hash, Event.occurred_at).order_by(Event.seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return ChainHead(int(row[0]), row[1], as_utc(row[2]), int(row[0]))  # seq has no gaps: count == seq


def make_checkpoint(
    session: Session, head: ChainHead, key: Ed25519PrivateKey, trigger: str, since: int
) -> Checkpoint:
    """The checkpoint of ``head``, listing the hashes of events ``since`` < seq ≤ head (capped)."""
    start = max(since + 1, head.seq - MAX_LISTED + 1, 1)
    hashes = list(
        session.scalars(
            select(Event.hash).where(Event.seq >= start, Event.seq <= head.seq).order_by(Event.seq)
        )
    )
    return Checkpoint(
        seq=head.seq,
        hash=head.hash,
        occurred_at=head.occurred_at.isoformat(),
        count=head.count,
        signed_at=utcnow().isoformat(),
        trigger=trigger,
        key_id=key_id(key.public_key()),
        hashes_from=start,
        hashes=hashes,
    )


def newest_seq(keys: Iterable[str]) -> int:
    return max((s for s in map(seq_of, keys) if s is not None), default=0)


# -- writing ---------------------------------------------------------------------------------------
@dataclass
class AnchorResult:
    """Where the checkpoint of ``seq`` was written, and where it could not be (replica → error)."""

    seq: int | None
    written: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


# _WRITE_FAILURES: a checkpoint is written after the work that asked for it has committed, so
# any failure of a replica — StorageError, OSError, or a backend client's own error such as
# botocore's — is recorded (log + failed event) and never raised; the next anchoring retries.


class CheckpointWriter:
    """Anchors the chain's head on every replica and into backups, signed with ``key``.

    A replica that cannot be written is logged and recorded as a failed event; nothing is
    raised, so the accession, backup or audit that asked for the checkpoint stands. The next
    anchoring writes the then-newest head to every replica, which covers everything before it.
    """

    def __init__(
        self, sessions: sessionmaker[Session], key: Ed25519PrivateKey, replicas: Sequence[Replica]
    ) -> None:
        self.sessions, self.key, self.replicas = sessions, key, replicas

    def anchor(self, trigger: str) -> AnchorResult:
        """Write a checkpoint of the current head to every replica that lacks one at that seq."""
        listings: dict[str, list[str]] = {}
        result = AnchorResult(None)
        for r in self.replicas:
            try:
                listings[r.name] = list(r.list(PREFIX))
            except Exception as exc:  # see _WRITE_FAILURES
                result.failed[r.name] = f"{type(exc).__name__}: {exc}"
        since = max((newest_seq(keys) for keys in listings.values()), default=0)
        with self.sessions() as s:
            head = chain_head(s)
            if head is None:
                return result
            cp = make_checkpoint(s, head, self.key, trigger, min(since, head.seq - 1))
        result.seq = head.seq
        data = sign(cp, self.key)
        pem = public_pem(self.key.public_key())
        for r in self.replicas:
            if r.name in result.failed:
                continue
            if key_for(head.seq) in listings[r.name]:
                result.already.append(r.name)
                continue
            try:
                if PREFIX + PUBLIC_KEY_NAME not in listings[r.name]:
                    r.put_file(io.BytesIO(pem), PREFIX + PUBLIC_KEY_NAME)
                r.put_file(io.BytesIO(data), key_for(head.seq))
                result.written.append(r.name)
            except Exception as exc:  # see _WRITE_FAILURES
                result.failed[r.name] = f"{type(exc).__name__}: {exc}"
        if result.failed:
            self._record_failure(head.seq, trigger, result.failed)
        return result

    def write_to_dir(self, dest: Path, head: ChainHead, trigger: str = "backup") -> Path:
        """Write the checkpoint of ``head`` (and the public key) under ``dest/checkpoints/``."""
        with self.sessions() as s:
            cp = make_checkpoint(s, head, self.key, trigger, 0)
        folder = dest / PREFIX.rstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PUBLIC_KEY_NAME).write_bytes(public_pem(self.key.public_key()))
        path = dest / key_for(head.seq)
        path.write_bytes(sign(cp, self.key))
        return path

    def retire_after(self, seq: int, reason: str) -> dict[str, int]:
        """Move the checkpoints newer than ``seq`` aside on every replica; return how many per replica.

        For a deliberate step back of the catalog (a restore from an older backup, a rebuild
        that starts a new chain): they would otherwise report the lost events as a truncation
        for ever. They are kept under ``checkpoints-retired/<time>/`` and the step is an event,
        so it stays visible. Someone with catalog and replica write access could do the same,
        which is why backups (kept on other media) carry checkpoints too.
        """
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        moved: dict[str, int] = {}
        for r in self.replicas:
            n = 0
            for key in list(r.list(PREFIX)):
                found = seq_of(key)
                if found is None or found <= seq:
                    continue
                with r.open(key) as fh:
                    r.put_file(fh, f"{RETIRED_PREFIX}{stamp}/{key.removeprefix(PREFIX)}")
                r.delete(key)
                n += 1
            moved[r.name] = n
        if any(moved.values()):
            with self.sessions() as s, s.begin():
                events.record(
                    s,
                    EventType.VALIDATION,
                    object_type="event_log",
                    object_id="checkpoint",
                    outcome=Outcome.WARNING,
                    detail=f"checkpoints after event {seq} retired: {reason}",
                    data={"after_seq": seq, "moved": moved, "to": f"{RETIRED_PREFIX}{stamp}/"},
                )
        return moved

    def _record_failure(self, seq: int, trigger: str, failed: dict[str, str]) -> None:
        log.error("checkpoint not written", extra={"seq": seq, "replicas": sorted(failed)})
        with self.sessions() as s, s.begin():
            events.record(
                s,
                EventType.VALIDATION,
                object_type="event_log",
                object_id="checkpoint",
                outcome=Outcome.FAILURE,
                detail=f"checkpoint of event {seq} ({trigger}) not written to {', '.join(sorted(failed))}; "
                "the next checkpoint retries",
                data={"seq": seq, "trigger": trigger, "failed": failed},
            )


def read_checkpoint(replica: Replica, seq: int, keys: dict[str, Ed25519PublicKey]) -> Checkpoint:
    with replica.open(key_for(seq)) as fh:
        return parse(fh.read(1 << 22), keys)


def read_file(path: Path, keys: dict[str, Ed25519PublicKey]) -> Checkpoint:
    with path.open("rb") as fh:
        return parse(fh.read(1 << 22), keys)


def to_json(cp: Checkpoint) -> dict[str, Any]:
    return {
        "seq": cp.seq,
        "hash": cp.hash,
        "count": cp.count,
        "signed_at": cp.signed_at,
        "trigger": cp.trigger,
    }


__all__ = [
    "AnchorResult",
    "ChainHead",
    "Checkpoint",
    "CheckpointInvalid",
    "CheckpointWriter",
    "chain_head",
    "key_for",
    "key_id",
    "load_or_create_key",
    "load_public_keys",
    "make_checkpoint",
    "parse",
    "public_pem",
    "read_checkpoint",
    "read_file",
    "seq_of",
    "sign",
]
