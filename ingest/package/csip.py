"""The E-ARK CSIP folder layout used by TT 05/2025, and the METS files that describe it.

Inside the bag's ``data/``::

    METS.xml
    metadata/descriptive/EAD.xml
    metadata/preservation/PREMIS.xml              (AIP only)
    metadata/preservation/reports/...json          (AIP only)
    representations/rep1/METS.xml
    representations/rep1/metadata/descriptive/EAD_doc_<n>.xml
    representations/rep1/metadata/preservation/PREMIS_rep1.xml   (AIP only)
    representations/rep1/data/<files>
    schemas/*.xsd
    documentation/                                 (optional)

:func:`write_mets_files` derives both METS documents from the files already placed, by
their folder, so SIP and AIP share one code path.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from lxml import etree

from archive.schemas import EAD_NS, XSI_NS, iter_xsd_files
from ingest.package.bagging import FileFormat, PackageFile, write_bytes_file
from ingest.package.mets import MetsFile, MetsSpec, PackageType, RecordStatus, build_mets

REP_NAME = "rep1"
REP = f"representations/{REP_NAME}"
REP_DATA = f"{REP}/data"
ROOT_METS = "METS.xml"
REP_METS = f"{REP}/METS.xml"
DOSSIER_EAD = "metadata/descriptive/EAD.xml"
FINDING_AID = "metadata/descriptive/EAD2002.xml"  # the dossier as an EAD 2002 finding aid
TT05_XSD = "tt05-2025-ead.xsd"  # schema of the TT 05/2025 <simpledc> records
ROOT_PREMIS = "metadata/preservation/PREMIS.xml"
REP_PREMIS = f"{REP}/metadata/preservation/PREMIS_{REP_NAME}.xml"
REPORTS = "metadata/preservation/reports"
XML = "text/xml"


def document_ead_path(n: int) -> str:
    """Return the path of the n-th (1-based) document's EAD_doc file."""
    return f"{REP}/metadata/descriptive/EAD_doc_{n}.xml"


def declare_schema(xml: bytes, rel: str) -> bytes:
    """``xml`` stored at ``rel`` declaring its schema in the package's ``schemas/`` folder.

    A TT 05/2025 ``<simpledc>`` record (no namespace) gets ``xsi:noNamespaceSchemaLocation``
    → ``tt05-2025-ead.xsd``; an EAD 2002 document ``xsi:schemaLocation`` → ``ead_2002.xsd``.
    Anything else is returned unchanged.
    """
    root = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    namespace = etree.QName(root).namespace
    schemas = "../" * rel.count("/") + "schemas"
    if namespace is None:
        root.set(f"{{{XSI_NS}}}noNamespaceSchemaLocation", f"{schemas}/{TT05_XSD}")
    elif namespace == EAD_NS:
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{EAD_NS} {schemas}/ead_2002.xsd")
    else:
        return xml
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def copy_schemas(data_dir: Path) -> list[PackageFile]:
    """Copy every vendored XSD into ``schemas/`` (copies, not links: they are ours to keep)."""
    placed: list[PackageFile] = []
    for xsd in iter_xsd_files():
        placed.append(write_bytes_file(data_dir, f"schemas/{xsd.name}", xsd.read_bytes(), XML))
    return placed


def _under(files: Sequence[PackageFile], prefix: str) -> list[PackageFile]:
    return sorted((f for f in files if f.rel.startswith(prefix + "/")), key=lambda f: f.rel)


def _data_file(
    pf: PackageFile, formats: Mapping[str, FileFormat], described_by: Mapping[str, Sequence[str]]
) -> MetsFile:
    key = pf.rel.removeprefix(REP_DATA + "/")
    fmt = formats.get(key, FileFormat())
    return MetsFile.of(pf, REP, fmt.puid, fmt.name, tuple(described_by.get(key, ())))


def write_mets_files(
    data_dir: Path,
    files: Sequence[PackageFile],
    *,
    objid: str,
    label: str,
    package_type: PackageType,
    agency: str,
    created: datetime,
    formats: Mapping[str, FileFormat] | None = None,
    alt_ids: Sequence[tuple[str, str]] = (),
    agency_code: str = "",
    archive: str = "",
    record_status: RecordStatus = "NEW",
    described_by: Mapping[str, Sequence[str]] | None = None,
) -> list[PackageFile]:
    """Write the representation METS, then the root METS; return both as placed files.

    ``files`` are all payload files except the two METS documents, paths relative to
    ``data_dir``. ``formats`` and ``described_by`` (the EAD_doc hrefs, relative to the
    representation folder, describing a file) are keyed by the path under
    ``representations/rep1/data/``.
    """
    formats = formats or {}
    links = described_by or {}
    common = {
        "label": label,
        "package_type": package_type,
        "created": created,
        "agency": agency,
        "agency_code": agency_code,
        "archive": archive,
        "record_status": record_status,
        "alt_ids": alt_ids,
    }
    rep_desc = _under(files, f"{REP}/metadata/descriptive")
    rep_pres = _under(files, f"{REP}/metadata/preservation")
    rep_spec = MetsSpec(
        objid=f"{objid}/{REP_NAME}",
        schemas="../../schemas",
        descriptive=[MetsFile.of(f, REP) for f in rep_desc],
        preservation=[MetsFile.of(f, REP) for f in rep_pres],
        groups=[("Data", [_data_file(f, formats, links) for f in _under(files, REP_DATA)])],
        struct_label="CSIP",
        **common,  # type: ignore[arg-type]
    )
    rep_mets = write_bytes_file(data_dir, REP_METS, build_mets(rep_spec), XML)
    root_spec = MetsSpec(
        objid=objid,
        descriptive=[MetsFile.of(f) for f in _under(files, "metadata/descriptive")],
        preservation=[MetsFile.of(f) for f in _under(files, "metadata/preservation")],
        groups=[
            ("Documentation", [MetsFile.of(f) for f in _under(files, "documentation")]),
            ("Schemas", [MetsFile.of(f) for f in _under(files, "schemas")]),
        ],
        representations=[(REP_NAME, MetsFile.of(rep_mets))],
        **common,  # type: ignore[arg-type]
    )
    root_mets = write_bytes_file(data_dir, ROOT_METS, build_mets(root_spec), XML)
    return [rep_mets, root_mets]


def prepare_out_dir(out_dir: Path) -> Path:
    """Return a fresh ``<out_dir>.partial`` work folder; the caller renames it when done.

    Raises FileExistsError when ``out_dir`` already exists (a package is never overwritten).
    """
    if out_dir.exists():
        raise FileExistsError(f"package folder already exists: {out_dir}")
    work = out_dir.with_name(out_dir.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    (work / "data").mkdir(parents=True)
    return work
