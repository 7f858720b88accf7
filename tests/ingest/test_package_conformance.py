"""Every package luutru writes conforms: the official E-ARK validator, the declared XML schemas,
PREMIS links, the AIP's own descriptive records, and revised versions that point back.

One demo archive per session (``demo_archive``: 3 sample dossiers, one corrected to v0002).
"""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from archive.bags import validate_bag
from archive.metadata.aip_records import finding_aid_xml
from archive.metadata.ead import ead_document_xml, ead_dossier_xml
from archive.schemas import CSIP_NS, EAD_NS, METS_NS, PREMIS_NS, XSI_NS
from ingest.package import build_sip
from luutru.cli.main import cli
from luutru.config import Settings
from tests.support.eark import VALIDATOR_DEFECTS, eark_errors

M = {"mets": METS_NS}
P = {"premis": PREMIS_NS}
SIP_DEFECTS = VALIDATOR_DEFECTS | {"SIP14"}


def bags(settings: Settings) -> list[Path]:
    found = sorted(p.parent for p in (settings.data_dir / "replicas").glob("*/aip/*/v*/bagit.txt"))
    assert found, "the demo archive has no AIP on its replicas"
    return found


@cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


def declared_schema_errors(xml_file: Path) -> list[str]:
    """Validate ``xml_file`` against the schema(s) its root declares (files in the package)."""
    tree = etree.parse(str(xml_file), etree.XMLParser(no_network=True, resolve_entities=False))
    root = tree.getroot()
    nons = root.get(f"{{{XSI_NS}}}noNamespaceSchemaLocation")
    pairs = (root.get(f"{{{XSI_NS}}}schemaLocation") or "").split()
    namespace = etree.QName(root).namespace
    if nons:
        location = nons
    else:
        declared = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if namespace not in declared:
            return [f"{xml_file}: declares no schema for its root namespace {namespace}"]
        location = declared[namespace]
    xsd = (xml_file.parent / location).resolve()
    if not xsd.is_file():
        return [f"{xml_file}: declared schema {location} is not in the package"]
    schema = _schema(xsd)
    return [] if schema.validate(tree) else [f"{xml_file}: {e.message}" for e in schema.error_log]


def test_every_aip_passes_the_eark_validator(demo_archive: Settings) -> None:
    for bag in bags(demo_archive):
        assert eark_errors(bag / "data") == [], bag
        # CSIP12/13/16 are ignored because the validator applies them to every CREATOR agent;
        # the software agent they are written for must still satisfy them
        for mets in (bag / "data" / "METS.xml", bag / "data/representations/rep1/METS.xml"):
            hdr = etree.parse(str(mets)).getroot().find("mets:metsHdr", M)
            software = hdr.xpath(
                "mets:agent[@ROLE='CREATOR'][@TYPE='OTHER'][@OTHERTYPE='SOFTWARE']", namespaces=M
            )
            assert len(software) == 1
            notes = software[0].findall("mets:note", M)
            assert [n.get(f"{{{CSIP_NS}}}NOTETYPE") for n in notes] == ["SOFTWARE VERSION"]


def test_every_xml_file_validates_against_the_schema_it_declares(demo_archive: Settings) -> None:
    checked = carried = 0
    for bag in bags(demo_archive):
        for xml_file in sorted((bag / "data").rglob("*.xml")):
            if "/metadata/preservation/versions/" in xml_file.as_posix():
                # earlier versions' evidence is kept byte for byte; its schemaLocation was
                # relative to where it was first written, so check it by namespace instead
                doc = etree.parse(str(xml_file))
                assert etree.QName(doc.getroot()).namespace == PREMIS_NS
                assert _schema(bag / "data" / "schemas" / "premis.xsd").validate(doc), xml_file
                carried += 1
                continue
            assert declared_schema_errors(xml_file) == []
            checked += 1
    assert checked > 20 and carried >= 2


def test_a_sip_passes_the_eark_sip_profile(tmp_path: Path, demo_archive: Settings) -> None:
    source = next(p for p in sorted((demo_archive.data_dir / "demo-source").iterdir()) if p.is_dir())
    metadata = json.loads((source / "metadata.json").read_text("utf-8"))
    sip = build_sip(
        source, metadata, tmp_path / "sip", agency="Ủy ban nhân dân tỉnh Thái Bình", agency_code="000.00.00.H54",
        dossier_ead=ead_dossier_xml, document_ead=ead_document_xml,
        finding_aid=lambda m: finding_aid_xml(m, arc_code=metadata["dossier"]["fileCode"], agency_name="UBND"),
    )  # fmt: skip
    data = sip.path / "data"
    assert eark_errors(data, ignore=SIP_DEFECTS) == []
    mets = etree.parse(str(data / "METS.xml")).getroot()
    assert mets.get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
    codes = mets.xpath(
        "mets:metsHdr/mets:agent[@ROLE='CREATOR'][@TYPE='ORGANIZATION']/mets:note/text()", namespaces=M
    )
    assert codes == ["000.00.00.H54"]
    for xml_file in sorted(data.rglob("*.xml")):
        assert declared_schema_errors(xml_file) == []
    # the validator's defects are really its own: each listed rule still fires on this correct SIP
    fired = {e.split(":")[0] for e in eark_errors(data, ignore=frozenset())}
    assert {"SIP14", "CSIP12", "CSIP13", "CSIP16", "CSIP60", "CSIP63", "CSIP95", "CSIP103"} <= fired, fired


def _premis(bag: Path) -> list[etree._Element]:
    return [
        etree.parse(str(p)).getroot()
        for p in sorted((bag / "data").rglob("PREMIS*.xml"))
        if "/versions/" not in p.as_posix()
    ]


def test_premis_events_link_objects_and_agents_that_exist(demo_archive: Settings) -> None:
    for bag in bags(demo_archive):
        docs = _premis(bag)
        assert len(docs) == 2
        for doc in docs:
            agents = set(
                doc.xpath(
                    "premis:agent/premis:agentIdentifier/premis:agentIdentifierValue/text()", namespaces=P
                )
            )
            events = doc.findall("premis:event", P)
            for event in events:
                assert event.findall("premis:linkingObjectIdentifier", P), etree.tostring(event)
                linked = event.xpath(
                    "premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue/text()", namespaces=P
                )
                assert linked and set(linked) <= agents, (linked, agents)
            types = set(doc.xpath("premis:agent/premis:agentType/text()", namespaces=P))
            assert {"software", "organization"} <= types
            version = doc.xpath(
                "premis:agent[premis:agentType='software']/premis:agentVersion/text()", namespaces=P
            )
            assert version and version[0]
        root, rep = docs[0], docs[1]
        if "PREMIS_rep1" in str(root.base):
            root, rep = rep, root
        ie = root.xpath(
            "premis:object[@xsi:type='premis:intellectualEntity']", namespaces={**P, "xsi": XSI_NS}
        )[0]
        assert ie.xpath("premis:relationship[premis:relationshipSubType='includes']", namespaces=P)
        files = rep.xpath("premis:object[@xsi:type='premis:file']", namespaces={**P, "xsi": XSI_NS})
        assert files
        for f in files:
            assert f.xpath("premis:relationship[premis:relationshipSubType='is included in']", namespaces=P)
            assert f.xpath(
                "premis:objectCharacteristics/premis:format/premis:formatRegistry/premis:formatRegistryName/text()",
                namespaces=P,
            ) == ["PRONOM"]
        ingestion = root.xpath("premis:event[premis:eventType='ingestion']", namespaces=P)[0]
        roles = dict(
            zip(
                ingestion.xpath("premis:linkingAgentIdentifier/premis:linkingAgentRole/text()", namespaces=P),
                ingestion.xpath(
                    "premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue/text()", namespaces=P
                ),
                strict=True,
            )
        )
        assert roles["submitter"] not in ("organization", "person") and "." in roles["submitter"]
        # the officer who submitted is a person agent of the ingestion, described in the file
        persons = root.xpath(
            "premis:agent[premis:agentType='person']/premis:agentIdentifier/premis:agentIdentifierValue/text()",
            namespaces=P,
        )
        assert (
            "vanthu" in persons
            and roles.get("submitter")
            and "vanthu"
            in ingestion.xpath(
                "premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue/text()", namespaces=P
            )
        )


def test_signatures_carry_the_real_method_and_value(demo_archive: Settings) -> None:
    seen = 0
    for bag in bags(demo_archive):
        for sig in bag.glob("data/representations/rep1/metadata/preservation/PREMIS_rep1.xml"):
            for s in etree.parse(str(sig)).getroot().iterfind(".//premis:signature", P):
                method = s.findtext("premis:signatureMethod", namespaces=P)
                value = s.findtext("premis:signatureValue", namespaces=P) or ""
                assert method and any(alg in method.lower() for alg in ("rsa", "ecdsa", "ed25519")), method
                assert len(base64.b64decode(value, validate=True)) >= 64  # the signature bytes, not a pointer
                assert s.findtext("premis:signer", namespaces=P)
                seen += 1
    assert seen > 0


def test_aip_descriptive_metadata_is_the_aip_variant_with_iso_dates(demo_archive: Settings) -> None:
    bag = bags(demo_archive)[0]
    data = bag / "data"
    dossier = etree.parse(str(data / "metadata/descriptive/EAD.xml")).getroot()
    assert dossier.tag == "simpledc" and dossier.find("fileCode") is None
    arc = dossier.findtext("arcFileCode") or ""
    file_code = (
        etree.parse(str(data / "METS.xml"))
        .getroot()
        .xpath("mets:metsHdr/mets:altRecordID[@TYPE='fileCode']/text()", namespaces=M)[0]
    )
    assert arc.endswith("." + file_code) and len(arc) > len(file_code) + 1
    for name in ("startDate", "endDate"):
        text = dossier.findtext(name) or ""
        assert text[:4].isdigit() and "/" not in text, (name, text)
    doc1 = etree.parse(str(data / "representations/rep1/metadata/descriptive/EAD_doc_1.xml")).getroot()
    assert doc1.findtext("arcFileCode") == arc and doc1.findtext("docOrdinal") == "1"
    assert "/" not in (doc1.findtext("issuedDate") or "")
    mets = etree.parse(str(data / "METS.xml")).getroot()
    refs = {
        r.get(f"{{{'http://www.w3.org/1999/xlink'}}}href"): r
        for r in mets.iterfind(".//mets:dmdSec/mets:mdRef", M)
    }
    assert refs["metadata/descriptive/EAD.xml"].get("MDTYPE") == "OTHER"
    assert refs["metadata/descriptive/EAD.xml"].get("OTHERMDTYPE") == "TT05-2025-EAD"
    assert refs["metadata/descriptive/EAD2002.xml"].get("MDTYPE") == "EAD"
    ead = etree.parse(str(data / "metadata/descriptive/EAD2002.xml")).getroot()
    assert ead.tag == f"{{{EAD_NS}}}ead"
    e = {"e": EAD_NS}
    assert ead.xpath("e:archdesc[@level='file']/e:did/e:unitid/text()", namespaces=e) == [arc]
    items = ead.xpath("e:archdesc/e:dsc/e:c[@level='item']", namespaces=e)
    assert len(items) == len(list(data.glob("representations/rep1/metadata/descriptive/EAD_doc_*.xml")))
    normal = ead.xpath("e:archdesc/e:did/e:unitdate/@normal", namespaces=e)[0]
    assert "/" in normal and normal[:4].isdigit()
    # each EAD_doc is linked (DMDID) to the file it describes in the representation METS
    rep = etree.parse(str(data / "representations/rep1/METS.xml")).getroot()
    assert all(f.get("DMDID") for f in rep.iterfind(".//mets:fileGrp[@USE='Data']/mets:file", M))


def test_a_revised_version_points_to_the_previous_and_keeps_its_evidence(demo_archive: Settings) -> None:
    revised = [b for b in bags(demo_archive) if b.name == "v0002"]
    assert revised, "the demo archive has a corrected dossier"
    bag = revised[0]
    data = bag / "data"
    mets = etree.parse(str(data / "METS.xml")).getroot()
    assert mets.find("mets:metsHdr", M).get("RECORDSTATUS") == "REVISED"
    previous = mets.xpath("mets:metsHdr/mets:altRecordID[@TYPE='PREVIOUSVERSION']/text()", namespaces=M)
    assert previous == [f"{bag.parent.name}/v0001"]
    premis = etree.parse(str(data / "metadata/preservation/PREMIS.xml")).getroot()
    derivation = premis.xpath(
        "premis:object/premis:relationship[premis:relationshipType='derivation']"
        "/premis:relatedObjectIdentifier/premis:relatedObjectIdentifierValue/text()",
        namespaces=P,
    )
    assert derivation == previous
    old = bag.parent / "v0001" / "data" / "metadata" / "preservation" / "reports" / "validation"
    kept = data / "metadata" / "preservation" / "versions" / "v0001" / "reports" / "validation"
    assert sorted(p.name for p in old.iterdir()) == sorted(p.name for p in kept.iterdir())
    assert (data / "metadata/preservation/versions/v0001/PREMIS.xml").is_file()
    types = premis.xpath("premis:event/premis:eventType/text()", namespaces=P)
    assert "metadata modification" in types


@pytest.mark.parametrize("rule", sorted(SIP_DEFECTS))
def test_every_ignored_rule_is_explained_in_the_docs(rule: str) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "packages.md").read_text("utf-8")
    assert f"`{rule}`" in docs


def test_export_writes_the_current_aip_as_a_folder_or_a_zip(tmp_path: Path, demo_archive: Settings) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_archive.data_dir, data_dir)
    env = {"LUUTRU_DATA_DIR": str(data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    revised = next(b for b in bags(Settings(data_dir=data_dir)) if b.name == "v0002")
    code = etree.parse(str(revised / "data/METS.xml")).getroot().get("OBJID")
    runner = CliRunner()
    folder = tmp_path / "out" / "aip"
    result = runner.invoke(cli, ["export", code, "--as", "aip", "--out", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert validate_bag(folder).valid
    assert eark_errors(folder / "data") == []
    assert (folder / "bag-info.txt").read_text("utf-8").count("AIP-Version: 2") == 1  # the current version
    assert sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()) == sorted(
        p.relative_to(revised) for p in revised.rglob("*") if p.is_file()
    )
    archive_zip = tmp_path / "out" / "aip.zip"
    result = runner.invoke(cli, ["export", code, "--out", str(archive_zip)], env=env)
    assert result.exit_code == 0, result.output
    unpacked = tmp_path / "unzipped"
    with zipfile.ZipFile(archive_zip) as zf:
        zf.extractall(unpacked)
    (top,) = list(unpacked.iterdir())
    assert top.name == f"{code}_v0002" and validate_bag(top).valid
    again = runner.invoke(cli, ["export", code, "--out", str(archive_zip)], env=env)
    assert again.exit_code != 0 and "already exists" in again.output
    missing = runner.invoke(cli, ["export", "KHONG.CO", "--out", str(tmp_path / "x")], env=env)
    assert missing.exit_code != 0 and "export failed" in missing.output
