"""Vendored XML schemas for packages (METS 1.12 + E-ARK CSIP extensions, PREMIS 3, EAD 2002).

The XSD files sit side by side because they import each other by relative location.
Sources: public copies in github.com/keeps/roda (roda-core test corpora, roda-common-data).
Each schema is compiled once per process and cached; lxml schemas are read-only after
compilation, so sharing one across threads for validation is safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Literal

from lxml import etree

SCHEMA_DIR = Path(__file__).resolve().parent

SchemaName = Literal["mets", "premis", "ead", "tt05"]

SCHEMA_FILES: dict[str, str] = {
    "mets": "mets1_12.xsd",
    "premis": "premis.xsd",
    "ead": "ead_2002.xsd",
    "tt05": "tt05-2025-ead.xsd",
}

# Every XSD shipped here, including the ones imported by the three above.
ALL_XSD_FILES: tuple[str, ...] = (
    "mets1_12.xsd",
    "DILCISExtensionMETS.xsd",
    "DILCISExtensionSIPMETS.xsd",
    "xlink.xsd",
    "premis.xsd",
    "ead_2002.xsd",
    "tt05-2025-ead.xsd",
)

METS_NS = "http://www.loc.gov/METS/"
PREMIS_NS = "http://www.loc.gov/premis/v3"
EAD_NS = "urn:isbn:1-931666-22-9"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def schema_path(name: str) -> Path:
    """Return the path of a vendored XSD by short name (``mets``) or file name."""
    file_name = SCHEMA_FILES.get(name, name)
    path = SCHEMA_DIR / file_name
    if file_name not in ALL_XSD_FILES or not path.is_file():
        raise KeyError(f"unknown schema {name!r}")
    return path


@cache
def load_schema(name: str) -> etree.XMLSchema:
    """Compile and cache the schema ``name`` (``mets``, ``premis``, ``ead`` or an XSD file name).

    Raises KeyError for an unknown name. Imports resolve against this folder only; no network.
    """
    path = schema_path(name)
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    doc = etree.parse(str(path), parser)
    return etree.XMLSchema(doc)


def validation_errors(name: str, document: etree._ElementTree | etree._Element | bytes) -> list[str]:
    """Validate ``document`` against schema ``name``; return the error lines (empty when valid)."""
    if isinstance(document, bytes):
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        document = etree.fromstring(document, parser)
    schema = load_schema(name)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def iter_xsd_files() -> Iterator[Path]:
    """Yield every vendored XSD (to copy into a package's ``schemas/`` folder)."""
    for file_name in ALL_XSD_FILES:
        yield SCHEMA_DIR / file_name
