"""PREMIS 3.0 preservation metadata: objects, events and agents of a package.

Inputs are plain dataclasses (:class:`PremisFile`, :class:`PremisEvent`, :class:`PremisAgent`);
:func:`premis_xml` writes a document that validates against ``premis.xsd`` and
:func:`read_premis` reads one back, so the catalog can be rebuilt from AIPs alone.
Event types come from the Library of Congress vocabulary
(https://id.loc.gov/vocabulary/preservation/eventType).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lxml import etree

from archive.schemas import PREMIS_NS, XSI_NS
from archive.vntime import as_utc, vn_iso

NSMAP = {"premis": PREMIS_NS, "xsi": XSI_NS}
LOCAL = "local"  # identifier type for ids minted by luutru


class EventType(StrEnum):
    """eventType values from the LoC preservation vocabulary."""

    INGESTION = "ingestion"
    FIXITY_CHECK = "fixity check"
    FORMAT_IDENTIFICATION = "format identification"
    VALIDATION = "validation"
    VIRUS_CHECK = "virus check"
    INFORMATION_PACKAGE_CREATION = "information package creation"  # SIP → AIP
    ACCESSION = "accession"
    TRANSFER = "transfer"  # digitisation output (TT 05/2025)
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    METADATA_MODIFICATION = "metadata modification"


class Outcome(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class PremisAgent:
    """A software, organisation or person that took part in events."""

    identifier: str
    name: str
    agent_type: str  # "software" | "organization" | "person"
    version: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PremisEvent:
    """One preservation event; ``agents`` are ``(agent id, role)``, ``objects`` object ids."""

    identifier: str
    event_type: EventType | str  # EventType; other LoC terms are kept as text
    when: datetime  # aware; written in +07:00
    outcome: Outcome
    detail: str = ""
    outcome_detail: str = ""
    agents: Sequence[tuple[str, str]] = ()
    objects: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PremisRelationship:
    """A PREMIS relationship from the object carrying it to ``targets`` (object ids).

    Types/subtypes from the LoC vocabularies: ``structural`` (``includes``, ``is included in``)
    and ``derivation`` (``has source``, ``is source of``).
    """

    type: str
    subtype: str
    targets: Sequence[str]


@dataclass(frozen=True, slots=True)
class PremisSignature:
    """Summary of one digital signature found in a file (chữ ký số)."""

    encoding: str  # e.g. "PAdES-B-LT", "CMS"
    method: str  # the signature algorithm, e.g. "sha256_rsa"
    value: str  # the signature value itself (base64 of the CMS SignerInfo signature)
    validation_rules: str  # e.g. "ETSI EN 319 102-1 (pyHanko)"
    signer: str | None = None
    properties: Sequence[str] = ()  # e.g. "validity: VALID", "signing time: ..."


@dataclass(frozen=True, slots=True)
class PremisFile:
    """A file object: ``identifier`` is its path in the package, ``path`` where it is stored."""

    identifier: str
    size: int
    sha256: str
    format_name: str = "unknown"
    puid: str | None = None
    format_version: str | None = None
    original_name: str | None = None
    significant_properties: Mapping[str, str] = field(default_factory=dict)
    signatures: Sequence[PremisSignature] = ()
    creating_application: tuple[str, str | None] | None = None  # (name, version)
    relationships: Sequence[PremisRelationship] = ()


@dataclass(frozen=True, slots=True)
class PremisEntity:
    """An intellectual entity (the dossier, hồ sơ) or a representation."""

    identifier: str
    title: str | None = None
    category: str = "intellectualEntity"  # or "representation"
    significant_properties: Mapping[str, str] = field(default_factory=dict)
    relationships: Sequence[PremisRelationship] = ()


def _p(tag: str) -> str:
    return f"{{{PREMIS_NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _p(tag))
    if text is not None:
        el.text = text
    return el


def _identifier(parent: etree._Element, prefix: str, value: str, id_type: str = LOCAL) -> None:
    ident = _sub(parent, f"{prefix}Identifier")
    _sub(ident, f"{prefix}IdentifierType", id_type)
    _sub(ident, f"{prefix}IdentifierValue", value)


def _significant(parent: etree._Element, props: Mapping[str, str]) -> None:
    for key, value in props.items():
        sp = _sub(parent, "significantProperties")
        _sub(sp, "significantPropertiesType", key)
        _sub(sp, "significantPropertiesValue", value)


def _relationships(parent: etree._Element, relationships: Sequence[PremisRelationship]) -> None:
    for rel in relationships:
        el = _sub(parent, "relationship")
        _sub(el, "relationshipType", rel.type)
        _sub(el, "relationshipSubType", rel.subtype)
        for seq, target in enumerate(rel.targets):
            related = _sub(el, "relatedObjectIdentifier")
            _sub(related, "relatedObjectIdentifierType", LOCAL)
            _sub(related, "relatedObjectIdentifierValue", target)
            _sub(related, "relatedObjectSequence", str(seq))


def _entity(root: etree._Element, entity: PremisEntity) -> None:
    obj = _sub(root, "object")
    obj.set(f"{{{XSI_NS}}}type", f"premis:{entity.category}")
    _identifier(obj, "object", entity.identifier)
    _significant(obj, entity.significant_properties)
    if entity.title:
        _sub(obj, "originalName", entity.title)
    _relationships(obj, entity.relationships)


def _file(root: etree._Element, f: PremisFile) -> None:
    obj = _sub(root, "object")
    obj.set(f"{{{XSI_NS}}}type", "premis:file")
    _identifier(obj, "object", f.identifier)
    _significant(obj, f.significant_properties)
    chars = _sub(obj, "objectCharacteristics")
    _sub(chars, "compositionLevel", "0")
    fixity = _sub(chars, "fixity")
    _sub(fixity, "messageDigestAlgorithm", "SHA-256")
    _sub(fixity, "messageDigest", f.sha256)
    _sub(fixity, "messageDigestOriginator", "luutru")
    _sub(chars, "size", str(f.size))
    fmt = _sub(chars, "format")
    designation = _sub(fmt, "formatDesignation")
    _sub(designation, "formatName", f.format_name or "unknown")
    if f.format_version:
        _sub(designation, "formatVersion", f.format_version)
    if f.puid:
        registry = _sub(fmt, "formatRegistry")
        _sub(registry, "formatRegistryName", "PRONOM")
        _sub(registry, "formatRegistryKey", f.puid)
        _sub(registry, "formatRegistryRole", "identification")
    if f.creating_application and f.creating_application[0]:
        app = _sub(chars, "creatingApplication")
        _sub(app, "creatingApplicationName", f.creating_application[0])
        if f.creating_application[1]:
            _sub(app, "creatingApplicationVersion", f.creating_application[1])
    if f.original_name:
        _sub(obj, "originalName", f.original_name)
    storage = _sub(obj, "storage")
    location = _sub(storage, "contentLocation")
    _sub(location, "contentLocationType", "package path")
    _sub(location, "contentLocationValue", f.identifier)
    for sig in f.signatures:
        if not sig.value:
            continue  # signatureValue is mandatory in PREMIS; the JSON report keeps the rest
        info = _sub(obj, "signatureInformation")
        s = _sub(info, "signature")
        _sub(s, "signatureEncoding", sig.encoding)
        if sig.signer:
            _sub(s, "signer", sig.signer)
        _sub(s, "signatureMethod", sig.method)
        _sub(s, "signatureValue", sig.value)
        _sub(s, "signatureValidationRules", sig.validation_rules)
        for prop in sig.properties:
            _sub(s, "signatureProperties", prop)
    _relationships(obj, f.relationships)


def _event(root: etree._Element, e: PremisEvent) -> None:
    ev = _sub(root, "event")
    _identifier(ev, "event", e.identifier)
    _sub(ev, "eventType", str(e.event_type))
    _sub(ev, "eventDateTime", vn_iso(e.when))
    if e.detail:
        _sub(_sub(ev, "eventDetailInformation"), "eventDetail", e.detail)
    outcome = _sub(ev, "eventOutcomeInformation")
    _sub(outcome, "eventOutcome", e.outcome.value)
    if e.outcome_detail:
        _sub(_sub(outcome, "eventOutcomeDetail"), "eventOutcomeDetailNote", e.outcome_detail)
    for agent_id, role in e.agents:
        link = _sub(ev, "linkingAgentIdentifier")
        _sub(link, "linkingAgentIdentifierType", LOCAL)
        _sub(link, "linkingAgentIdentifierValue", agent_id)
        _sub(link, "linkingAgentRole", role)
    for object_id in e.objects:
        link = _sub(ev, "linkingObjectIdentifier")
        _sub(link, "linkingObjectIdentifierType", LOCAL)
        _sub(link, "linkingObjectIdentifierValue", object_id)


def _agent(root: etree._Element, a: PremisAgent) -> None:
    ag = _sub(root, "agent")
    _identifier(ag, "agent", a.identifier)
    _sub(ag, "agentName", a.name)
    _sub(ag, "agentType", a.agent_type)
    if a.version:
        _sub(ag, "agentVersion", a.version)
    if a.note:
        _sub(ag, "agentNote", a.note)


def premis_xml(
    *,
    entities: Sequence[PremisEntity] = (),
    files: Sequence[PremisFile] = (),
    events: Sequence[PremisEvent] = (),
    agents: Sequence[PremisAgent] = (),
    schemas: str = "../../schemas",
) -> bytes:
    """Return a PREMIS 3.0 document (UTF-8 bytes); at least one entity or file is required.

    ``schemas`` is the package's ``schemas/`` folder relative to where the document is stored.
    """
    if not entities and not files:
        raise ValueError("a PREMIS document needs at least one object")
    root = etree.Element(_p("premis"), nsmap=NSMAP)
    root.set("version", "3.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{PREMIS_NS} {schemas}/premis.xsd")
    for entity in entities:
        _entity(root, entity)
    for f in files:
        _file(root, f)
    for e in sorted(events, key=lambda e: as_utc(e.when)):
        _event(root, e)
    for a in agents:
        _agent(root, a)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@dataclass(frozen=True, slots=True)
class PremisDocument:
    """What :func:`read_premis` finds in a PREMIS document."""

    entities: list[PremisEntity]
    files: list[PremisFile]
    events: list[PremisEvent]
    agents: list[PremisAgent]


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path, NSMAP)
    return (found.text or "") if found is not None else ""


def _props(obj: etree._Element) -> dict[str, str]:
    return {
        _text(sp, "premis:significantPropertiesType"): _text(sp, "premis:significantPropertiesValue")
        for sp in obj.findall("premis:significantProperties", NSMAP)
    }


def _read_relationships(obj: etree._Element) -> list[PremisRelationship]:
    return [
        PremisRelationship(
            _text(r, "premis:relationshipType"),
            _text(r, "premis:relationshipSubType"),
            [
                _text(o, "premis:relatedObjectIdentifierValue")
                for o in r.findall("premis:relatedObjectIdentifier", NSMAP)
            ],
        )
        for r in obj.findall("premis:relationship", NSMAP)
    ]


def _event_type(text: str) -> EventType | str:
    try:
        return EventType(text)
    except ValueError:
        return text


def read_premis(xml: bytes) -> PremisDocument:
    """Parse a PREMIS 3.0 document written by :func:`premis_xml`."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    root = etree.fromstring(xml, parser)
    entities: list[PremisEntity] = []
    files: list[PremisFile] = []
    for obj in root.findall("premis:object", NSMAP):
        kind = (obj.get(f"{{{XSI_NS}}}type") or "").split(":")[-1]
        ident = _text(obj, "premis:objectIdentifier/premis:objectIdentifierValue")
        if kind != "file":
            title = _text(obj, "premis:originalName") or None
            entities.append(PremisEntity(ident, title, kind, _props(obj), _read_relationships(obj)))
            continue
        signatures = [
            PremisSignature(
                encoding=_text(s, "premis:signatureEncoding"),
                method=_text(s, "premis:signatureMethod"),
                value=_text(s, "premis:signatureValue"),
                validation_rules=_text(s, "premis:signatureValidationRules"),
                signer=_text(s, "premis:signer") or None,
                properties=[p.text or "" for p in s.findall("premis:signatureProperties", NSMAP)],
            )
            for s in obj.findall("premis:signatureInformation/premis:signature", NSMAP)
        ]
        chars = "premis:objectCharacteristics/"
        files.append(
            PremisFile(
                identifier=ident,
                size=int(_text(obj, chars + "premis:size") or 0),
                sha256=_text(obj, chars + "premis:fixity/premis:messageDigest"),
                format_name=_text(obj, chars + "premis:format/premis:formatDesignation/premis:formatName"),
                puid=_text(obj, chars + "premis:format/premis:formatRegistry/premis:formatRegistryKey")
                or None,
                format_version=_text(
                    obj, chars + "premis:format/premis:formatDesignation/premis:formatVersion"
                )
                or None,
                original_name=_text(obj, "premis:originalName") or None,
                significant_properties=_props(obj),
                signatures=signatures,
                creating_application=(
                    (
                        _text(obj, chars + "premis:creatingApplication/premis:creatingApplicationName"),
                        _text(obj, chars + "premis:creatingApplication/premis:creatingApplicationVersion")
                        or None,
                    )
                    if obj.find(chars + "premis:creatingApplication", NSMAP) is not None
                    else None
                ),
                relationships=_read_relationships(obj),
            )
        )
    events = [
        PremisEvent(
            identifier=_text(ev, "premis:eventIdentifier/premis:eventIdentifierValue"),
            event_type=_event_type(_text(ev, "premis:eventType")),
            when=datetime.fromisoformat(_text(ev, "premis:eventDateTime")),
            outcome=Outcome(_text(ev, "premis:eventOutcomeInformation/premis:eventOutcome")),
            detail=_text(ev, "premis:eventDetailInformation/premis:eventDetail"),
            outcome_detail=_text(
                ev, "premis:eventOutcomeInformation/premis:eventOutcomeDetail/premis:eventOutcomeDetailNote"
            ),
            agents=[
                (
                    _text(link, "premis:linkingAgentIdentifierValue"),
                    _text(link, "premis:linkingAgentRole"),
                )
                for link in ev.findall("premis:linkingAgentIdentifier", NSMAP)
            ],
            objects=[
                _text(link, "premis:linkingObjectIdentifierValue")
                for link in ev.findall("premis:linkingObjectIdentifier", NSMAP)
            ],
        )
        for ev in root.findall("premis:event", NSMAP)
    ]
    agents = [
        PremisAgent(
            identifier=_text(ag, "premis:agentIdentifier/premis:agentIdentifierValue"),
            name=_text(ag, "premis:agentName"),
            agent_type=_text(ag, "premis:agentType"),
            version=_text(ag, "premis:agentVersion") or None,
            note=_text(ag, "premis:agentNote") or None,
        )
        for ag in root.findall("premis:agent", NSMAP)
    ]
    return PremisDocument(entities, files, events, agents)
