"""The event log row: PREMIS-style, append-only, each row carrying its predecessor's hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.catalog.base import Base, enum_column, new_uuid


class EventType(StrEnum):
    """PREMIS event types (Library of Congress vocabulary, id.loc.gov/vocabulary/preservation/eventType).

    The last block are luutru's own types for what PREMIS has no word for; they carry a prefix.
    """

    ACCESSION = "accession"
    APPRAISAL = "appraisal"
    CAPTURE = "capture"
    CREATION = "creation"
    DEACCESSION = "deaccession"
    DELETION = "deletion"
    DIGITAL_SIGNATURE_VALIDATION = "digital signature validation"
    DISSEMINATION = "dissemination"
    FIXITY_CHECK = "fixity check"
    FORMAT_IDENTIFICATION = "format identification"
    INFORMATION_PACKAGE_CREATION = "information package creation"
    INGESTION = "ingestion"
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    METADATA_EXTRACTION = "metadata extraction"
    METADATA_MODIFICATION = "metadata modification"
    MIGRATION = "migration"
    POLICY_ASSIGNMENT = "policy assignment"
    PRINTING = "printing"
    QUARANTINE = "quarantine"
    RECOVERY = "recovery"
    REPLICATION = "replication"
    TRANSFER = "transfer"
    UNPACKING = "unpacking"
    VALIDATION = "validation"
    VIRUS_CHECK = "virus check"
    # luutru's own
    SUBMISSION_WITHDRAWAL = "luutru:submission withdrawal"  # thu hồi
    SUBMISSION_DECISION = "luutru:submission decision"
    LEGAL_HOLD = "luutru:legal hold"
    DISPOSAL = "luutru:disposal"  # council vote, review, decision
    BACKUP = "luutru:backup"
    ADMINISTRATION = "luutru:administration"  # users, tokens, agencies, trust anchors
    AUTHENTICATION = "luutru:authentication"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # 1, 2, 3… no gaps
    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, unique=True)
    type: Mapped[EventType] = mapped_column(enum_column(EventType, 40))
    object_type: Mapped[str] = mapped_column(String(30))  # submission, dossier, package, file, user…
    object_id: Mapped[str] = mapped_column(String(100))
    agent_type: Mapped[str] = mapped_column(String(20))  # person, organization, software
    agent: Mapped[str] = mapped_column(String(200))  # username, agency code, luutru/x.y
    occurred_at: Mapped[datetime]
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, 10))
    detail: Mapped[str] = mapped_column(default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
