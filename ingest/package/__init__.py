"""Packaging: BagIt SIP/AIP whose payload is an E-ARK CSIP package (METS, PREMIS, EAD).

See docs/packages.md for the layout and how it maps to TT 05/2025.
"""

from __future__ import annotations

from ingest.package.aip import AipManifest, AipPreservation, AipSummary, build_aip, read_aip
from ingest.package.bagging import FileFormat, ManifestEntry, PackageFile
from ingest.package.errors import ChecksumMismatch, InvalidPackage, PackageError, UnsafePath
from ingest.package.premis import (
    EventType,
    Outcome,
    PremisAgent,
    PremisEvent,
    PremisFile,
    PremisSignature,
)
from ingest.package.sip import SipManifest, build_sip

__all__ = [
    "AipManifest",
    "AipPreservation",
    "AipSummary",
    "ChecksumMismatch",
    "EventType",
    "FileFormat",
    "InvalidPackage",
    "ManifestEntry",
    "Outcome",
    "PackageError",
    "PackageFile",
    "PremisAgent",
    "PremisEvent",
    "PremisFile",
    "PremisSignature",
    "SipManifest",
    "UnsafePath",
    "build_aip",
    "build_sip",
    "read_aip",
]
