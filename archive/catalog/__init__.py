"""The catalog: typed SQLAlchemy 2 models, one module per aggregate."""

from archive.catalog.access import AccessRequest, AccessRequestState
from archive.catalog.agency import Agency, Fonds
from archive.catalog.base import Base
from archive.catalog.disposal import (
    Appraisal,
    AppraisalDecision,
    CouncilVote,
    DisposalCase,
    DisposalItem,
    DisposalState,
    HoldScope,
    LegalHold,
    Tombstone,
    Vote,
)
from archive.catalog.dossier import AccessMode, Document, Dossier, RecordState
from archive.catalog.event import Event, EventType, Outcome
from archive.catalog.outbox import IndexOutbox
from archive.catalog.package import (
    CopyStatus,
    FileCopy,
    FileRole,
    Package,
    PackageKind,
    PackageState,
    StoredFile,
)
from archive.catalog.preservation import FormatAction, FormatPolicy, FormatPolicyRule, FormatRisk
from archive.catalog.retention import RetentionRule, RetentionSchedule
from archive.catalog.submission import SUBMISSION_TRANSITIONS, Submission, SubmissionFile, SubmissionState
from archive.catalog.upload import ApiUpload, ApiUploadFile, UploadState
from archive.catalog.user import ApiToken, Role, TokenScope, User, UserRole, WebSession

__all__ = [
    "SUBMISSION_TRANSITIONS",
    "AccessMode",
    "AccessRequest",
    "AccessRequestState",
    "Agency",
    "ApiToken",
    "ApiUpload",
    "ApiUploadFile",
    "Appraisal",
    "AppraisalDecision",
    "Base",
    "CopyStatus",
    "CouncilVote",
    "DisposalCase",
    "DisposalItem",
    "DisposalState",
    "Document",
    "Dossier",
    "Event",
    "EventType",
    "FileCopy",
    "FileRole",
    "Fonds",
    "FormatAction",
    "FormatPolicy",
    "FormatPolicyRule",
    "FormatRisk",
    "HoldScope",
    "IndexOutbox",
    "LegalHold",
    "Outcome",
    "Package",
    "PackageKind",
    "PackageState",
    "RecordState",
    "RetentionRule",
    "RetentionSchedule",
    "Role",
    "StoredFile",
    "Submission",
    "SubmissionFile",
    "SubmissionState",
    "TokenScope",
    "Tombstone",
    "UploadState",
    "User",
    "UserRole",
    "Vote",
    "WebSession",
]
