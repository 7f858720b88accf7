"""The ingest service: one submission from receipt to an archived AIP, with every step in the catalog.

The CLI, the REST API, the console and the worker all call this; none of them touches the
pipeline pieces directly. States follow ``archive.catalog.SUBMISSION_TRANSITIONS``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive import events
from archive.accession import accession
from archive.catalog import (
    SUBMISSION_TRANSITIONS,
    Agency,
    Document,
    Dossier,
    Event,
    EventType,
    Outcome,
    PackageState,
    RecordState,
    StoredFile,
    Submission,
    SubmissionFile,
    SubmissionState,
    User,
)
from archive.errors import ArchiveError, Conflict, NotFound
from archive.faults import checkpoint
from archive.findings import Finding, Severity, error, warning
from archive.fixity.hashing import sha256_file
from archive.storage import Replica
from archive.vntime import utcnow
from ingest.assemble import accession_request, build_packages, keeping_archive
from ingest.driving import LOCK_DIR, DrivingLocks
from ingest.edxml_answers import ANSWERS_KEY, EdxmlAnswer, answers_for
from ingest.errors import IngestError, UploadTooLarge
from ingest.intake import (
    IntakeLimits,
    IntakeRejected,
    Receipt,
    StagedFile,
    StagedSubmission,
    make_receipt,
    stage_submission,
)
from ingest.validate import Inspection, ValidationPolicy, drop_pending, inspect, start_inspection

log = logging.getLogger(__name__)


class Readable(Protocol):
    """A byte stream to read from (a request body)."""

    def read(self, n: int = -1, /) -> bytes: ...


Progress = Callable[[str], None]
# Progress of a batch: the index of the source in the batch (from 0) and the step label. A source
# is received (label RECEIVING) one step ahead, while the one before it is still being validated.
BatchProgress = Callable[[int, str], None]
RECEIVING = "receiving"

# What an agency sees: the catalog's states, and the three outcomes of `luutru ingest --json`.
OUTCOME = {
    SubmissionState.ARCHIVED: "accepted",
    SubmissionState.ACCEPTED: "accepted",
    SubmissionState.IN_REVIEW: "review",
    SubmissionState.REJECTED: "rejected",
    SubmissionState.WITHDRAWN: "withdrawn",
    SubmissionState.RECEIVED: "received",
    SubmissionState.VALIDATING: "validating",
}
INTERNAL_SOURCE = "internal"  # records the archive makes itself, e.g. the papers of a disposal
# States in which checks started ahead of validation are still wanted.
# What a crash or a restart can leave half-way: taken up again by ``recover`` or ``retry``.
INTERRUPTED_STATES = (SubmissionState.RECEIVED, SubmissionState.VALIDATING, SubmissionState.ACCEPTED)
_PREFETCH_STATES = (SubmissionState.RECEIVED, SubmissionState.VALIDATING)
# States in which a submission still needs its staged files.
_LIVE_STATES = (
    SubmissionState.RECEIVED,
    SubmissionState.VALIDATING,
    SubmissionState.IN_REVIEW,
    SubmissionState.ACCEPTED,
)
_STEP_EVENTS = {
    "metadata": EventType.VALIDATION,
    "format identification": EventType.FORMAT_IDENTIFICATION,
    "text encoding": EventType.VALIDATION,
    "pdf and signatures": EventType.DIGITAL_SIGNATURE_VALIDATION,
    "duplicates": EventType.VALIDATION,
    "virus check": EventType.VIRUS_CHECK,
}


@dataclass(frozen=True, slots=True)
class IngestConfig:
    staging_root: Path
    validation: ValidationPolicy
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    auto_accept: bool = True
    office_hours: tuple[str, ...] = ("07:30-11:30", "13:00-17:00")
    office_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: frozenset[date] = frozenset()
    edxml_mappings: Path | None = None  # per-agency edXML mapping profiles, over the built-in ones
    edxml_organ: tuple[str, str] = ("", "")  # the archive's OrganId and name in edXML status answers


@dataclass(frozen=True, slots=True)
class IngestResult:
    submission_id: str
    state: SubmissionState
    findings: tuple[Finding, ...]
    receipt: Mapping[str, Any] | None = None
    dossier_code: str | None = None
    edxml_status: tuple[EdxmlAnswer, ...] = ()  # the answer to each edXML message, if any

    @property
    def status(self) -> str:
        return OUTCOME[self.state]

    def to_json(self) -> dict[str, Any]:
        return {
            "submission": self.submission_id,
            "status": self.status,
            "state": self.state.value,
            "dossier": self.dossier_code,
            "receipt": self.receipt,
            "findings": [f.to_json() for f in self.findings],
            **({"edxml_status": [a.to_json() for a in self.edxml_status]} if self.edxml_status else {}),
        }


@dataclass(frozen=True, slots=True)
class BatchSource:
    """One source of ``IngestService.ingest_many``: what ``ingest`` takes for one submission."""

    path: Path
    agency_code: str
    actor: events.Agent


@dataclass(frozen=True, slots=True)
class BatchItem:
    """What became of one source of ``IngestService.ingest_many``.

    Either ``result`` (the submission's outcome, rejected at intake included) or ``error``: the
    ``ArchiveError`` / ``IngestError`` that stopped this source alone (unknown agency, a replica
    that cannot be written, a state conflict). ``submission_id`` is set when the source got as far
    as a submission; after an error that submission stays where it stopped (recovery finishes it).
    """

    source: Path
    result: IngestResult | None = None
    error: ArchiveError | IngestError | None = None
    submission_id: str | None = None


def content_digest(staged: StagedSubmission) -> str:
    """SHA-256 over the metadata and every (path, sha256): the same submission gives the same digest."""
    body = {
        "profile": staged.profile,
        "dossier": staged.dossier,
        "documents": staged.documents,
        "files": sorted((f.path, f.sha256) for f in staged.files),
    }
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


class IngestService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: IngestConfig,
        replicas: Sequence[Replica],
        *,
        after_accession: Callable[[int], object] | None = None,
    ) -> None:
        self.sessions, self.config, self.replicas = sessions, config, replicas
        self.locks = DrivingLocks(config.staging_root)  # one driver per submission at a time
        # Called with the package id once an AIP is committed (luutru anchors the event chain
        # there); it must not raise: the accession already stands.
        self.after_accession = after_accession
        # Inspections of submissions accepted in this process, so archiving does not redo the
        # checks; after a restart (or for a later decision) the checks simply run again.
        self._inspected: dict[str, tuple[Inspection, dict[str, list[Finding]]]] = {}
        # Inspections started ahead by ingest_many (metadata checked, file checks in the pool),
        # taken by _inspect when that submission is validated: at most two per running batch (the
        # dossier about to be validated and the next), none once it ends.
        self._prefetched: dict[str, Inspection] = {}

    # -- the whole path ---------------------------------------------------------------------
    def ingest(
        self,
        source: Path,
        agency_code: str,
        *,
        actor: events.Agent,
        source_kind: str = "cli",
        progress: Progress | None = None,
    ) -> IngestResult:
        """Receive, validate and, when the decision allows, archive one submission."""
        result = self.receive(source, agency_code, actor=actor, source_kind=source_kind)
        return self.continue_submission(result.submission_id, progress=progress, receipt=result.receipt)

    def ingest_many(
        self,
        sources: Iterable[BatchSource],
        *,
        source_kind: str = "cli",
        progress: BatchProgress | None = None,
    ) -> Generator[BatchItem, None, None]:
        """Ingest several sources, each its own submission; yield one item per source, in order.

        A pipeline of depth one: source n+1 is received and its file checks are dispatched to the
        worker pool *before* source n is validated and archived, so the workers check n+1 while
        this process packages n. Everything that decides on the catalog stays in order: n+1 is
        validated (its duplicates looked up) only after n is archived, so a document repeated
        across two dossiers of one batch is found on the second, as when ingested one by one.

        An ``ArchiveError`` or ``IngestError`` stops that source only (reported in its item's
        ``error``); any other exception ends the batch. Whatever ends it — the last source, an
        exception, or the caller closing the iterator — no started checks are left behind.
        Receipt is one step ahead, so the same content twice in one batch is the first
        submission twice (its outcome, as after any resubmission while the first is live).
        """
        batch = list(sources)
        started: list[str] = []  # submissions this batch prefetched: all dropped in `finally`

        def receive_ahead(index: int) -> BatchItem:
            source = batch[index]
            if progress:
                progress(index, RECEIVING)
            try:
                received = self.receive(
                    source.path, source.agency_code, actor=source.actor, source_kind=source_kind
                )
            except (ArchiveError, IngestError) as exc:
                return BatchItem(source.path, error=exc)
            sid = received.submission_id
            # a receipt of its own, not the live submission an identical one made (its driver checks it)
            mine = received.receipt is not None
            if mine and received.state is SubmissionState.RECEIVED and sid not in self._prefetched:
                self._prefetch(sid)
                started.append(sid)
            return BatchItem(source.path, received, submission_id=sid)

        def finish(index: int, received: BatchItem) -> BatchItem:
            if received.result is None or received.submission_id is None:
                return received
            sid = received.submission_id

            def step(label: str) -> None:
                if progress:
                    progress(index, label)

            try:
                result = self.continue_submission(sid, progress=step, receipt=received.result.receipt)
            except (ArchiveError, IngestError) as exc:
                self._drop_prefetched(sid)
                return BatchItem(received.source, error=exc, submission_id=sid)
            return BatchItem(received.source, result, submission_id=sid)

        try:
            ahead = receive_ahead(0) if batch else None
            for index in range(len(batch)):
                assert ahead is not None
                current = ahead
                ahead = receive_ahead(index + 1) if index + 1 < len(batch) else None
                yield finish(index, current)
        finally:
            for sid in started:
                self._drop_prefetched(sid)

    def prefetched(self) -> dict[str, Inspection]:
        """Inspections started ahead by ``ingest_many`` and not validated yet, by submission (a copy)."""
        return dict(self._prefetched)

    def continue_submission(
        self,
        submission_id: str,
        *,
        progress: Progress | None = None,
        receipt: Mapping[str, Any] | None = None,
    ) -> IngestResult:
        """Take a submission as far as it can go now (also what recovery after a crash runs).

        Holds the submission's driving lock throughout: a second caller for the same submission
        (an identical ingest started at the same time) waits, then reports the outcome the first
        reached; the state is read only once the lock is held.
        """
        with self.locks.hold(submission_id):
            state = self._state(submission_id)
            if state in (SubmissionState.RECEIVED, SubmissionState.VALIDATING):
                state = self.validate(submission_id, progress=progress)
            if state is SubmissionState.ACCEPTED:
                self.archive(submission_id, progress=progress)
            return self._finished(self.result(submission_id, receipt=receipt))

    def _finished(self, result: IngestResult) -> IngestResult:
        """Drop the driving-lock file once the submission is decided for good (under the lock)."""
        if result.state not in _LIVE_STATES:
            self.locks.forget(result.submission_id)
        return result

    def ingest_edxml_stream(self, body: Readable, agency_code: str, *, actor: events.Agent) -> IngestResult:
        """Ingest one edXML message read from ``body`` (an API request), answered like any other.

        The message is copied (at most ``limits.max_file_bytes``) beside the staging folders,
        ingested, and its copy removed. Raises ``UploadTooLarge`` past the limit.
        """
        self.config.staging_root.mkdir(parents=True, exist_ok=True)
        incoming = self.config.staging_root / f"incoming-{uuid.uuid4()}.edxml"
        limit = self.config.limits.max_file_bytes
        try:
            size = 0
            with incoming.open("xb") as out:
                while chunk := body.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise UploadTooLarge(
                            f"Thông điệp edXML vượt quá {limit} byte.",
                            f"The edXML message exceeds {limit} bytes.",
                        )
                    out.write(chunk)
            return self.ingest(incoming, agency_code, actor=actor, source_kind="api")
        finally:
            incoming.unlink(missing_ok=True)

    # -- receipt ----------------------------------------------------------------------------
    def receive(
        self, source: Path, agency_code: str, *, actor: events.Agent, source_kind: str = "cli"
    ) -> IngestResult:
        """Stage the upload, verify declared checksums, record the submission and its receipt.

        The same content submitted again by the same agency while the first is live returns the
        first submission (one AIP); a refused upload is recorded as a rejected submission.
        """
        with self.sessions() as s:
            agency = s.scalar(select(Agency).where(Agency.code == agency_code))
            if agency is None:
                raise NotFound("agency", agency_code)
            agency_id = agency.id
        self.config.staging_root.mkdir(parents=True, exist_ok=True)
        staged = stage_submission(
            source,
            self.config.staging_root,
            limits=self.config.limits,
            trust_roots=self.config.validation.trust_roots,
            edxml_mappings=self.config.edxml_mappings,
            agency_code=agency_code,
        )
        if isinstance(staged, IntakeRejected):
            with self.sessions() as s, s.begin():
                sub = Submission(
                    id=staged.submission_id, agency_id=agency_id, source=source_kind,
                    state=SubmissionState.REJECTED, received_at=staged.received_at,
                    findings=[f.to_json() for f in staged.findings], decided_at=utcnow(),
                    decision_reason="intake refused",
                    metadata_doc={ANSWERS_KEY: [dict(a) for a in staged.answers]} if staged.answers else {},
                )  # fmt: skip
                s.add(sub)
                s.flush()
                events.record(
                    s, EventType.INGESTION, object_type="submission", object_id=sub.id, agent=actor,
                    outcome=Outcome.FAILURE, detail="submission refused at intake",
                    data={"codes": sorted({f.code for f in staged.findings})},
                )  # fmt: skip
            return self.result(staged.submission_id)
        digest = content_digest(staged)
        receipt = make_receipt(
            staged,
            office_hours=self.config.office_hours,
            office_days=self.config.office_days,
            holidays=self.config.holidays,
        )
        try:
            return self._record_receipt(staged, agency_id, digest, receipt, actor, source_kind)
        except IntegrityError:  # an identical submission was recorded meanwhile (unique index)
            live = self._live_submission(agency_id, digest)
            if live is None:
                raise
            shutil.rmtree(staged.root, ignore_errors=True)
            return live

    def _live_submission(self, agency_id: int, digest: str) -> IngestResult | None:
        """The agency's live submission with this content digest (the first of identical ones)."""
        with self.sessions() as s:
            live = s.scalar(_live_content(agency_id, digest))
            return None if live is None else IngestResult(live.id, live.state, (), None, live.dossier_code)

    def _record_receipt(
        self,
        staged: StagedSubmission,
        agency_id: int,
        digest: str,
        receipt: Receipt,
        actor: events.Agent,
        source_kind: str,
    ) -> IngestResult:
        """Insert the submission, or return the live one with the same content (staging removed)."""
        with self.sessions() as s, s.begin():
            live = s.scalar(_live_content(agency_id, digest))
            if live is not None:
                shutil.rmtree(staged.root, ignore_errors=True)
                return IngestResult(live.id, live.state, (), None, live.dossier_code)
            sub = Submission(
                id=staged.submission_id,
                agency_id=agency_id,
                source=source_kind,
                profile=staged.profile,
                dossier_code=str(staged.dossier.get("fileCode") or staged.dossier.get("FileCode") or "")
                or None,
                title=str(staged.dossier.get("title") or staged.dossier.get("Title") or "")[:1000] or None,
                received_at=staged.received_at,
                counted_from=receipt.counted_from,
                metadata_doc=_metadata_doc(staged),
                findings=[f.to_json() for f in staged.findings],
                staging_path=str(staged.root),
                total_bytes=staged.total_bytes,
                content_digest=digest,
            )
            sub.files = [
                SubmissionFile(path=f.path, size=f.size, sha256=f.sha256, received_bytes=f.size)
                for f in staged.files
            ]
            s.add(sub)
            s.flush()
            events.record(
                s, EventType.INGESTION, object_type="submission", object_id=sub.id, agent=actor,
                detail=f"submission received: {len(staged.files)} files, {staged.total_bytes} bytes",
                data={"receipt": receipt.to_json()},
            )  # fmt: skip
            events.record(
                s, EventType.FIXITY_CHECK, object_type="submission", object_id=sub.id,
                detail="declared SHA-256 of every file verified at receipt",
            )  # fmt: skip
        checkpoint("ingest.after_receipt")
        return IngestResult(
            staged.submission_id, SubmissionState.RECEIVED, tuple(staged.findings), receipt.to_json()
        )

    # -- validation and decision ------------------------------------------------------------
    def validate(self, submission_id: str, *, progress: Progress | None = None) -> SubmissionState:
        """Run every check; errors reject, warnings go to review, clean ones are accepted (if policy allows)."""
        self._transition(submission_id, SubmissionState.VALIDATING, None, "validation started", quiet=True)
        received = self._intake_findings(submission_id)
        ins, steps = self._inspect(submission_id, progress)
        findings = [*received, *ins.findings]  # intake's warnings (empty file…) weigh in the decision
        self._inspected.clear()  # keep at most one: inspections hold per-file reports
        worst = {f.severity for f in findings}
        if Severity.ERROR in worst:
            new = SubmissionState.REJECTED
        elif Severity.WARNING in worst or not self.config.auto_accept:
            new = SubmissionState.IN_REVIEW
        else:
            new = SubmissionState.ACCEPTED
        with self.sessions() as s, s.begin():
            sub = self._get(s, submission_id)
            sub.findings = [f.to_json() for f in findings]
            for sf in sub.files:
                identity = ins.identities.get(sf.path)
                sf.mime = identity.mime if identity else None
                sf.puid = identity.puid if identity else None
                sf.report = {
                    "identity": identity.to_json() if identity else None,
                    "pdf": ins.pdf_reports[sf.path].to_json() if sf.path in ins.pdf_reports else None,
                    "signatures": ins.signature_reports[sf.path].to_json()
                    if sf.path in ins.signature_reports
                    else None,
                }
            for step, found in steps.items():
                sev = {f.severity for f in found}
                events.record(
                    s, _STEP_EVENTS[step], object_type="submission", object_id=submission_id,
                    outcome=Outcome.FAILURE if Severity.ERROR in sev else Outcome.WARNING if Severity.WARNING in sev else Outcome.SUCCESS,
                    detail=f"{step}: {len(found)} finding(s)", data={"codes": sorted({f.code for f in found})},
                )  # fmt: skip
            self._set_state(s, sub, new, events.SYSTEM, f"decision after validation: {OUTCOME[new]}")
            if new is SubmissionState.REJECTED:
                sub.decided_at = utcnow()
                sub.decision_reason = "; ".join(
                    sorted({f.code for f in findings if f.severity is Severity.ERROR})
                )
        if new is SubmissionState.ACCEPTED:
            self._inspected[submission_id] = (ins, steps)
        if new is SubmissionState.REJECTED:
            self._clean_staging(submission_id)
        checkpoint("ingest.after_validation")
        return new

    def accept(
        self, submission_id: str, *, actor: events.Agent, reason: str = "", progress: Progress | None = None
    ) -> IngestResult:
        """An archivist accepts a submission in review; it is archived at once."""
        with self.locks.hold(submission_id):
            self._transition(
                submission_id,
                SubmissionState.ACCEPTED,
                actor,
                reason or "accepted by archivist",
                decided=True,
            )
            self.archive(submission_id, progress=progress)
            return self._finished(self.result(submission_id))

    def complete(
        self,
        submission_id: str,
        *,
        dossier: Mapping[str, Any],
        documents: Mapping[int, Mapping[str, Any]],
        actor: events.Agent,
        progress: Progress | None = None,
    ) -> IngestResult:
        """An archivist completes fields of a submission in review (``intake.field_to_complete``);
        it is validated again at once, and archived if it now passes and policy allows.

        ``documents`` maps 1-based ordinals to fields. A document without ``docCode`` gets the
        derived one (fileCode + 7-digit ordinal) once the dossier has a ``fileCode``.
        """
        with self.sessions() as s, s.begin():
            sub = self._get(s, submission_id)
            if sub.state is not SubmissionState.IN_REVIEW:
                raise Conflict(
                    f"submission {submission_id} is {sub.state.value}: only one in review is completed"
                )
            doc = dict(sub.metadata_doc)
            fields = {**(doc.get("dossier") or {}), **dossier}
            docs = [dict(d) for d in doc.get("documents") or []]
            for ordinal, changes in documents.items():
                if not 1 <= ordinal <= len(docs):
                    raise Conflict(f"submission {submission_id} has no document {ordinal}")
                docs[ordinal - 1].update(changes)
            if fields.get("fileCode"):
                for ordinal, item in enumerate(docs, start=1):
                    item.setdefault("docCode", f"{fields['fileCode']}.{ordinal:07d}")
            doc["dossier"], doc["documents"] = fields, docs
            sub.metadata_doc = doc
            sub.dossier_code = str(fields.get("fileCode") or "") or None
            sub.title = str(fields.get("title") or "")[:1000] or None
            events.record(
                s, EventType.METADATA_MODIFICATION, object_type="submission", object_id=sub.id, agent=actor,
                detail="fields completed in review",
                data={"dossier": sorted(dossier), "documents": {str(k): sorted(v) for k, v in documents.items()}},
            )  # fmt: skip
            self._set_state(s, sub, SubmissionState.VALIDATING, actor, "validation after completion")
        return self.continue_submission(submission_id, progress=progress)

    def reject(self, submission_id: str, *, actor: events.Agent, reason: str) -> IngestResult:
        """Reject with a reason that goes back to the agency (vi/en as written by the archivist)."""
        if not reason.strip():
            raise Conflict("a rejection needs a reason (lý do từ chối)")
        with self.locks.hold(submission_id):
            self._transition(submission_id, SubmissionState.REJECTED, actor, reason, decided=True)
            self._clean_staging(submission_id)
            return self._finished(self.result(submission_id))

    def withdraw(self, submission_id: str, *, actor: events.Agent, reason: str = "") -> IngestResult:
        """The agency withdraws (thu hồi) a submission that is not accepted yet (waits for a running drive)."""
        with self.locks.hold(submission_id):
            self._transition(
                submission_id,
                SubmissionState.WITHDRAWN,
                actor,
                reason or "withdrawn by the agency",
                decided=True,
            )
            self._clean_staging(submission_id)
            return self._finished(self.result(submission_id))

    # -- packaging and accession ------------------------------------------------------------
    def archive(self, submission_id: str, *, progress: Progress | None = None) -> int:
        """Package an accepted submission and accession it onto every replica; return the package id."""
        with self.sessions() as s:
            sub = self._get(s, submission_id)
            if sub.state is not SubmissionState.ACCEPTED:
                raise Conflict(f"submission {submission_id} is {sub.state.value}, not accepted")
            agency = s.get(Agency, sub.agency_id)
            assert agency is not None
            agency_id, agency_code, agency_name = agency.id, agency.code, agency.name
            archive_code, archive_name = keeping_archive(agency)
            people = _people(s, submission_id)
        cached = self._inspected.pop(submission_id, None)
        ins, steps = cached or self._inspect(submission_id, progress)
        work = self._work_dir(submission_id)
        if progress:
            progress("packaging")
        aip_dir, aip_id = build_packages(
            ins, steps, work, agency_code=agency_code, agency_name=agency_name,
            archive_code=archive_code, archive_name=archive_name, people=people,
        )  # fmt: skip
        checkpoint("ingest.after_packaging")
        manifest = [(f.path, f.size, f.sha256) for f in _bag_manifest(aip_dir)]
        request = accession_request(ins, aip_dir, aip_id, manifest, agency_id=agency_id, actor=events.SYSTEM)
        if progress:
            progress("accession")
        package_id = accession(self.sessions, self.replicas, request, progress)
        if self.after_accession is not None:
            self.after_accession(package_id)
        self._clean_staging(submission_id)
        return package_id

    def recover(
        self, progress: Progress | None = None, *, received_before: datetime | None = None
    ) -> list[str]:
        """Finish what a crash interrupted: re-validate or re-archive; remove orphan staging folders.

        ``received_before`` (a server's start time) leaves alone the submissions received since,
        which a live request of that server may be validating right now. One submission that
        fails again does not stop the others: it stays where it is, for an archivist's ``retry``.
        """
        with self.sessions() as s:
            query = select(Submission.id).where(Submission.state.in_(INTERRUPTED_STATES))
            if received_before is not None:
                query = query.where(Submission.received_at < received_before)
            pending = list(s.scalars(query.order_by(Submission.received_at)))
            known = {p for p in s.scalars(select(Submission.staging_path)) if p}
        for sid in pending:
            try:
                self._resume(sid, events.SYSTEM, "resumed after an interruption (crash or restart)", progress)
            except (ArchiveError, IngestError, OSError) as exc:
                log.error("recovery: submission %s failed again: %s", sid, exc)
        with self.sessions() as s:  # finished (archived, rejected…) but a crash kept their staging
            finished = list(
                s.scalars(
                    select(Submission.id).where(
                        Submission.staging_path.is_not(None), Submission.state.not_in(_LIVE_STATES)
                    )
                )
            )
        for sid in finished:
            self._clean_staging(sid)
        root = self.config.staging_root
        if root.is_dir():
            for child in root.iterdir():
                if child.name == LOCK_DIR:
                    continue
                if child.is_dir() and str(child) not in known and not child.name.endswith(".work"):
                    shutil.rmtree(child, ignore_errors=True)
            self._prune_locks()
        return pending

    def retry(
        self, submission_id: str, *, actor: events.Agent, progress: Progress | None = None
    ) -> IngestResult:
        """An archivist takes a stuck submission (received, validating or accepted but not archived,
        e.g. after a crash) as far as it can go now; the request is an event of its own."""
        state = self._state(submission_id)
        if state not in INTERRUPTED_STATES:
            raise Conflict(
                f"submission {submission_id} is {state.value}: only a received, validating or accepted"
                " (not yet archived) submission can be retried"
            )
        return self._resume(submission_id, actor, "retried by an archivist", progress)

    def _resume(
        self, submission_id: str, actor: events.Agent, reason: str, progress: Progress | None
    ) -> IngestResult:
        with self.sessions() as s, s.begin():
            sub = self._get(s, submission_id)
            events.record(
                s, EventType.RECOVERY, object_type="submission", object_id=submission_id, agent=actor,
                outcome=Outcome.SUCCESS, detail=f"{sub.state.value}: {reason}",
                data={"state": sub.state.value},
            )  # fmt: skip
        return self.continue_submission(submission_id, progress=progress)

    def _prune_locks(self) -> None:
        """Drop the driving-lock files of submissions decided for good (archived, rejected, withdrawn)."""
        lock_dir = self.config.staging_root / LOCK_DIR
        if not lock_dir.is_dir():
            return
        ids = [p.stem for p in lock_dir.glob("*.lock")]
        with self.sessions() as s:
            final = set(
                s.scalars(
                    select(Submission.id).where(Submission.id.in_(ids), Submission.state.not_in(_LIVE_STATES))
                )
            )
        self.locks.prune(final)

    # -- queries ----------------------------------------------------------------------------
    def result(self, submission_id: str, receipt: Mapping[str, Any] | None = None) -> IngestResult:
        with self.sessions() as s:
            sub = self._get(s, submission_id)
            findings = tuple(Finding.from_json(f) for f in sub.findings)
            answers = (sub.metadata_doc or {}).get(ANSWERS_KEY) or []
            status = answers_for(
                answers, sub.state, findings, reason=sub.decision_reason or "",
                organ=self.config.edxml_organ, when=sub.decided_at or sub.received_at,
            )  # fmt: skip
            return IngestResult(sub.id, sub.state, findings, receipt, sub.dossier_code, tuple(status))

    # -- internals --------------------------------------------------------------------------
    def _inspect(
        self, submission_id: str, progress: Progress | None
    ) -> tuple[Inspection, dict[str, list[Finding]]]:
        ins = self._prefetched.pop(submission_id, None)
        if ins is not None and self._state(submission_id) not in _PREFETCH_STATES:
            drop_pending(ins)  # decided meanwhile (withdrawn…): what was started is stale
            ins = None
        if ins is None:
            ins = self._new_inspection(submission_id)
        ins.progress = progress
        staged = ins.staged
        try:
            steps = inspect(ins)
        except BaseException:
            drop_pending(ins)  # a step failed before the file checks were collected
            raise
        exists = self._dossier_exists(staged)
        if exists:
            steps["duplicates"].append(exists)
            ins.findings.append(exists)
        return ins, steps

    def _new_inspection(self, submission_id: str) -> Inspection:
        staged = self._staged(submission_id)
        policy = self.config.validation
        with self.sessions() as s:
            if self._get(s, submission_id).source == INTERNAL_SOURCE:
                # the archive's own records (disposal papers) carry no agency signatures
                policy = dataclasses.replace(policy, require_signatures=False)
        return Inspection(staged, policy, duplicates=self._duplicates)

    def _prefetch(self, submission_id: str) -> None:
        """Check the metadata and dispatch the file checks of a received submission, ahead of
        its validation. Only an optimisation: when starting fails, nothing is kept and
        ``validate`` runs (and reports) the same steps in their usual place."""
        try:
            ins = self._new_inspection(submission_id)
            start_inspection(ins)
        except Exception:  # an optimisation must not move an error: validate() raises it in its place
            log.debug("checks not started ahead", extra={"submission": submission_id}, exc_info=True)
            return
        self._prefetched[submission_id] = ins

    def _drop_prefetched(self, submission_id: str) -> None:
        ins = self._prefetched.pop(submission_id, None)
        if ins is not None:
            drop_pending(ins)

    def _dossier_exists(self, staged: StagedSubmission) -> Finding | None:
        code = staged.dossier.get("fileCode") or staged.dossier.get("FileCode")
        if not code:
            return None
        with self.sessions() as s:
            other = s.scalar(select(Dossier).where(Dossier.code == str(code)))
            if other is None or other.state is RecordState.DESTROYED:
                return None
            return error(
                "ingest.dossier_exists",
                f"Hồ sơ mã {code} đã có trong kho lưu trữ; sửa đổi phải tạo phiên bản mới, không nộp lại.",
                f"Dossier {code} is already archived; a correction makes a new AIP version, not a new submission.",
                field="fileCode",
                evidence={"dossier": str(code)},
            )

    def _duplicates(self, doc: Mapping[str, Any], rel: str, sha256: str) -> list[Finding]:
        found: list[Finding] = []
        with self.sessions() as s:
            live = Document.state != RecordState.DESTROYED
            code = doc.get("docCode")
            if code:
                for other in s.scalars(select(Document).where(Document.doc_code == str(code), live).limit(3)):
                    found.append(
                        _dup("duplicate.document_code", rel, f"mã tài liệu {code}", other.dossier.code)
                    )
            number, notation, organ = doc.get("codeNumber"), doc.get("codeNotation"), doc.get("organName")
            if number and notation and organ:
                q = select(Document).where(
                    Document.code_number == str(number), Document.code_notation == str(notation),
                    Document.organ_name == str(organ), live,
                ).limit(3)  # fmt: skip
                for other in s.scalars(q):
                    found.append(
                        _dup(
                            "duplicate.number_notation",
                            rel,
                            f"số {number}/{notation} của {organ}",
                            other.dossier.code,
                        )
                    )
            if sha256:
                q2 = (
                    select(StoredFile)
                    .where(StoredFile.sha256 == sha256)
                    .join(StoredFile.package)
                    .where(StoredFile.package.has(state=PackageState.STORED))
                    .limit(3)
                )
                for sf in s.scalars(q2):
                    dossier = sf.package.dossier
                    found.append(
                        _dup("duplicate.content", rel, "nội dung tệp", dossier.code if dossier else "?")
                    )
        return found

    def _staged(self, submission_id: str) -> StagedSubmission:
        with self.sessions() as s:
            sub = self._get(s, submission_id)
            info = sub.metadata_doc.get("_staging") or {}
            if not sub.staging_path or not Path(sub.staging_path).is_dir():
                raise Conflict(f"submission {submission_id} has no staged files any more")
            return StagedSubmission(
                submission_id=sub.id,
                kind=info.get("kind", "folder"),
                root=Path(sub.staging_path),
                payload_root=Path(info.get("payload_root", sub.staging_path)),
                metadata_file=info.get("metadata_file", "metadata.json"),
                profile=sub.profile or "tt05-2025",
                dossier=sub.metadata_doc.get("dossier") or {},
                documents=sub.metadata_doc.get("documents") or [],
                files=tuple(StagedFile(f.path, f.size or 0, f.sha256 or "") for f in sub.files),
                received_at=sub.received_at,
            )

    def _intake_findings(self, submission_id: str) -> list[Finding]:
        """The findings recorded at receipt (no errors: those refuse at intake), read from the
        receipt event. The submission's own list is replaced by each validation, so a second one
        (after a retry or an archivist's completion) must not take the first's findings for intake's."""
        with self.sessions() as s:
            data = s.scalar(
                select(Event.data)
                .where(
                    Event.object_type == "submission",
                    Event.object_id == submission_id,
                    Event.type == EventType.INGESTION,
                )
                .order_by(Event.seq)
                .limit(1)
            )
        receipt = (data or {}).get("receipt") or {}
        return [Finding.from_json(f) for f in receipt.get("findings") or []]

    def _work_dir(self, submission_id: str) -> Path:
        return self.config.staging_root / f"{submission_id}.work"

    def _clean_staging(self, submission_id: str) -> None:
        self._drop_prefetched(submission_id)  # checks of files about to be removed are stale
        with self.sessions() as s, s.begin():
            sub = self._get(s, submission_id)
            path, sub.staging_path = sub.staging_path, None
        if path:
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self._work_dir(submission_id), ignore_errors=True)

    def _state(self, submission_id: str) -> SubmissionState:
        with self.sessions() as s:
            return self._get(s, submission_id).state

    @staticmethod
    def _get(s: Session, submission_id: str) -> Submission:
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound("submission", submission_id)
        return sub

    def _transition(
        self,
        submission_id: str,
        new: SubmissionState,
        actor: events.Agent | None,
        reason: str,
        *,
        decided: bool = False,
        quiet: bool = False,
    ) -> None:
        with self.sessions() as s, s.begin():
            sub = self._get(s, submission_id)
            if sub.state is new and quiet:
                return
            self._set_state(s, sub, new, actor or events.SYSTEM, reason)
            if decided:
                sub.decided_at = utcnow()
                sub.decision_reason = reason

    @staticmethod
    def _set_state(
        s: Session, sub: Submission, new: SubmissionState, actor: events.Agent, reason: str
    ) -> None:
        if new not in SUBMISSION_TRANSITIONS[sub.state]:
            raise Conflict(f"submission {sub.id} is {sub.state.value}: cannot become {new.value}")
        old, sub.state = sub.state, new
        event_type = (
            EventType.SUBMISSION_WITHDRAWAL
            if new is SubmissionState.WITHDRAWN
            else EventType.SUBMISSION_DECISION
        )
        events.record(
            s, event_type, object_type="submission", object_id=sub.id, agent=actor,
            outcome=Outcome.FAILURE if new is SubmissionState.REJECTED else Outcome.SUCCESS,
            detail=f"{old.value} → {new.value}: {reason}", data={"from": old.value, "to": new.value},
        )  # fmt: skip


def _live_content(agency_id: int, digest: str) -> Select[Submission]:
    """The agency's live submission of this content (at most one: ``uq_submission_live_content``)."""
    return select(Submission).where(
        Submission.agency_id == agency_id,
        Submission.content_digest == digest,
        Submission.state.not_in([SubmissionState.REJECTED, SubmissionState.WITHDRAWN]),
    )


def _metadata_doc(staged: StagedSubmission) -> dict[str, Any]:
    doc = {
        "profile": staged.profile,
        "dossier": dict(staged.dossier),
        "documents": [dict(d) for d in staged.documents],
        "_staging": {
            "kind": str(staged.kind),
            "payload_root": str(staged.payload_root),
            "metadata_file": staged.metadata_file,
        },
    }
    if staged.answers:
        doc[ANSWERS_KEY] = [dict(a) for a in staged.answers]
    return doc


def _dup(code: str, rel: str, what_vi: str, other: str) -> Finding:
    return warning(
        code,
        f"Có thể trùng lặp: {what_vi} đã có trong hồ sơ {other}.",
        f"Possible duplicate: {code.split('.')[-1].replace('_', ' ')} already in dossier {other}.",
        path=rel,
        evidence={"other_dossier": other},
    )


def _bag_manifest(aip_dir: Path) -> list[StagedFile]:
    """Every file of the AIP bag with size and SHA-256, from its own manifests (no second read)."""
    sums: dict[str, str] = {}
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        path = aip_dir / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                digest, _, rel = line.partition(" ")
                sums[rel.strip().lstrip("*")] = digest
    out = []
    for file in sorted(p for p in aip_dir.rglob("*") if p.is_file()):
        rel = file.relative_to(aip_dir).as_posix()
        digest = sums.get(rel) or sha256_file(file)[0]  # tagmanifest itself is listed nowhere: hash it
        out.append(StagedFile(rel, file.stat().st_size, digest))
    return out


def _people(s: Session, submission_id: str) -> list[tuple[str, str, str]]:
    """(username, full name, role) of the persons who submitted and decided, from the event log."""
    rows = s.execute(
        select(Event.agent, Event.type)
        .where(
            Event.object_type == "submission", Event.object_id == submission_id, Event.agent_type == "person"
        )
        .order_by(Event.seq)
    ).all()
    people: dict[str, str] = {}
    for agent, event_type in rows:
        role = "submitting officer" if event_type is EventType.INGESTION else "accepting archivist"
        if event_type in (EventType.INGESTION, EventType.SUBMISSION_DECISION):
            people.setdefault(agent, role)
    names = {u.username: u.full_name for u in s.scalars(select(User).where(User.username.in_(people)))}
    return [(user, names.get(user, user), role) for user, role in people.items()]
