"""The event log as evidence: anchoring its head in signed checkpoints, and verifying it end to end.

Wiring only; the rules are in ``archive.chain_checkpoints`` and ``archive.chain_audit``.

* The archive's Ed25519 key is generated once into ``<data_dir>/keys/`` (like ``secret_key``).
  Public keys in that folder (``*.pub.pem``) are trusted for verification, so a retired key's
  public half can be kept there when the key is replaced.
* ``anchor`` is called after every accession, backup and audit run. It never raises: a
  checkpoint that cannot be written is logged and recorded as a failed event, and the next
  anchoring writes the newest head everywhere — the accession, backup or audit stands.
* ``verify`` reads checkpoints from every replica, every backup under ``<data_dir>/backups``
  and any extra backup folders given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.chain_audit import (
    CheckpointSource,
    EvidenceReport,
    directory_source,
    replica_source,
    verify_with_checkpoints,
)
from archive.chain_checkpoints import (
    PREFIX,
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    AnchorResult,
    CheckpointWriter,
    chain_head,
    key_id,
    load_or_create_key,
    load_public_keys,
)
from luutru.config import Settings
from luutru.services import Services

log = logging.getLogger(__name__)


def keys_dir(settings: Settings) -> Path:
    return settings.data_dir / "keys"


def archive_key(settings: Settings) -> Ed25519PrivateKey:
    """The archive's signing key, generated once into ``<data_dir>/keys/`` (mode 0600)."""
    return load_or_create_key(keys_dir(settings))


def trusted_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """The archive's own public key and any other ``*.pub.pem`` kept in ``<data_dir>/keys/``.

    Verifying never creates a key: with none, every checkpoint found counts as unverifiable.
    """
    folder = keys_dir(settings)
    keys = load_public_keys(sorted(folder.glob("*.pub.pem")))
    if (folder / PRIVATE_KEY_NAME).exists():
        own = archive_key(settings).public_key()
        keys[key_id(own)] = own
    return keys


def writer(services: Services) -> CheckpointWriter:
    return CheckpointWriter(services.sessions, archive_key(services.settings), services.replicas)


def anchor(services: Services, trigger: str) -> AnchorResult | None:
    """Anchor the chain's head on every replica; never raises (see the module docstring)."""
    try:
        result = writer(services).anchor(trigger)
    except Exception:  # a boundary: the accession/backup/audit that called us has already succeeded
        log.exception("checkpoint failed", extra={"trigger": trigger})
        return None
    if result.ok:
        log.info("chain anchored", extra={"seq": result.seq, "trigger": trigger, "replicas": result.written})
    return result


def anchor_after(services: Services, trigger: str) -> Callable[[int], object]:
    """A hook for ``IngestService(after_accession=…)``."""
    return lambda _package_id: anchor(services, trigger)


def retire_after_restore(services: Services, reason: str, *, new_chain: bool = False) -> dict[str, int]:
    """After the catalog deliberately stepped back, retire the checkpoints it no longer matches.

    A restore keeps the chain up to the backup's head (checkpoints after it are retired); a
    rebuild starts a new chain (``new_chain``: every checkpoint is retired).
    """
    w = writer(services)
    with services.session() as s:
        head = chain_head(s)
    return w.retire_after(0 if new_chain or head is None else head.seq, reason)


def trust_backup_key(settings: Settings, backup: Path) -> Path | None:
    """On restore into a new data directory: trust the public key the backup's checkpoint names.

    The restore already trusts the backup (its catalog is taken as the truth), so its key is
    trusted to verify the older checkpoints on the replicas. Returns the file written, if any.
    """
    pem = backup / PREFIX / PUBLIC_KEY_NAME
    if not pem.is_file():
        return None
    found = load_public_keys([pem])
    if not found:
        return None
    kid = next(iter(found))
    target = keys_dir(settings) / f"restored-{kid}.pub.pem"
    if kid in trusted_keys(settings):
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pem.read_bytes())
    return target


def backup_dirs(settings: Settings) -> list[Path]:
    root = settings.data_dir / "backups"
    return sorted(p for p in root.iterdir() if (p / PREFIX).is_dir()) if root.is_dir() else []


def sources(services: Services, extra_backups: Iterable[Path] = ()) -> list[CheckpointSource]:
    keys = trusted_keys(services.settings)
    found = [replica_source(r, keys) for r in services.replicas]
    for path in [*backup_dirs(services.settings), *extra_backups]:
        found.append(directory_source(f"backup:{path.name}", path, keys))
    return found


def verify(
    services: Services,
    extra_backups: Iterable[Path] = (),
    progress: Callable[[int], None] | None = None,
) -> EvidenceReport:
    """Verify the event chain's links and compare it with every checkpoint found."""
    found = sources(services, extra_backups)
    with services.session() as s:
        return verify_with_checkpoints(s, found, progress)


__all__ = ["anchor", "anchor_after", "archive_key", "sources", "trusted_keys", "verify", "writer"]
