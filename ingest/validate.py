"""The validate stage: every check a staged dossier goes through, each yielding findings.

Checks are plain functions over a :class:`Inspection` (the staged submission and what has been
learnt about it so far); ``VALIDATION_STEPS`` is the order, read top to bottom.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from archive import textenc
from archive.findings import Finding, Severity, error, info, warning
from archive.metadata import crosswalk_dossier, load_profile, validate_dossier
from ingest.checks import PdfReport, SignatureReport, check_digitised, check_pdf, check_signatures
from ingest.formats import FormatPolicy
from ingest.identify import FileIdentity, identify
from ingest.intake import StagedSubmission
from ingest.lifeline import die_with_parent

TEXT_EXTENSIONS = frozenset({"txt", "csv", "xml", "json", "rtf"})
TEXT_SAMPLE_BYTES = 4 * 1024 * 1024  # encoding detection looks at the first 4 MiB
DIGITISED = "02"  # mức độ tin cậy: Số hóa


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """What the validate stage needs from configuration, as plain values."""

    formats: FormatPolicy
    trust_roots: tuple[x509.Certificate, ...] = ()
    verapdf: str | None = None
    clamscan: str | None = None
    clamav_database: Path | None = None  # signatures for ``clamscan --database``; None → its own
    profile_overrides: Path | None = None
    workers: int = 2  # file checks run in this many processes (1: in the calling process)
    require_signatures: bool = True  # False only for the archive's own records (e.g. disposal papers)


# Looks up the archive for records matching a document; returns findings (warnings).
DuplicateLookup = Callable[[Mapping[str, Any], str, str], list[Finding]]


@dataclass
class Inspection:
    """What the validate stage learns about one staged submission."""

    staged: StagedSubmission
    policy: ValidationPolicy
    duplicates: DuplicateLookup | None = None
    progress: Callable[[str], None] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # crosswalked to TT 05/2025
    identities: dict[str, FileIdentity] = field(default_factory=dict)
    pdf_reports: dict[str, PdfReport] = field(default_factory=dict)
    signature_reports: dict[str, SignatureReport] = field(default_factory=dict)
    pdf_findings: dict[str, list[Finding]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    malware_scanned: bool = False
    # File checks started ahead of ``inspect`` (see ``start_inspection``), collected by ``check_files``.
    pending_files: PendingFileChecks | None = None
    # Findings of steps run ahead of ``inspect``, by step name; ``inspect`` uses them instead of re-running.
    done_early: dict[str, list[Finding]] = field(default_factory=dict)

    def path_of(self, rel: str) -> Path:
        return self.staged.payload_root / rel

    def documents(self) -> list[Mapping[str, Any]]:
        docs = self.metadata.get("documents") or self.staged.documents
        return list(docs)

    def step(self, label: str) -> None:
        if self.progress:
            self.progress(label)


def check_metadata(ins: Inspection) -> list[Finding]:
    """Validate against the submitted profile, then crosswalk to TT 05/2025 for the AIP."""
    data = {
        "profile": ins.staged.profile,
        "dossier": dict(ins.staged.dossier),
        "documents": list(ins.staged.documents),
    }
    profile = load_profile(ins.staged.profile, ins.policy.profile_overrides)
    findings = validate_dossier(profile, data)
    if ins.staged.dossier.get("_source") in CONVERTED_SOURCES:
        findings = [_to_complete(f) if f.code == "metadata.required" else f for f in findings]
    if ins.staged.profile == "tt05-2025":
        ins.metadata = data
    else:
        mapped, notes = crosswalk_dossier(data, ins.staged.profile)
        mapped["profile"] = "tt05-2025"
        ins.metadata = mapped
        findings.extend(notes)
    return findings


# Dossiers built by luutru from another format (edXML envelopes, SIPs of other producers): a
# required field they lack is for an archivist to complete in review, not a refusal.
CONVERTED_SOURCES = frozenset({"edxml", "tt05-sip", "e-ark-sip"})


def _to_complete(found: Finding) -> Finding:
    name = found.field or "?"
    return warning(
        "intake.field_to_complete",
        f"Gói tin không cung cấp trường bắt buộc {name}; người làm lưu trữ phải bổ sung. ({found.message_vi})",
        f"The package does not give the required field {name}; an archivist must complete it. ({found.message_en})",
        path=found.path,
        field=found.field,
    )


def check_formats(ins: Inspection) -> list[Finding]:
    """Identify every file (and, in the same pass, run the PDF checks), several files at a time."""
    results = check_files(ins)
    findings: list[Finding] = []
    for staged in ins.staged.files:
        result = results[staged.path]
        ins.identities[staged.path] = result.identity
        if result.pdf is not None:
            ins.pdf_reports[staged.path] = result.pdf
        if result.signatures is not None:
            ins.signature_reports[staged.path] = result.signatures
        ins.pdf_findings[staged.path] = list(result.pdf_findings)
        findings.extend(_with_path(result.identity.findings, staged.path))
    return findings


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything checked on one file: identity, PDF report, signature report, PDF findings."""

    path: str
    identity: FileIdentity
    pdf: PdfReport | None = None
    signatures: SignatureReport | None = None
    pdf_findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class FileTask:
    path: str
    absolute: Path
    digitised: bool
    formats: FormatPolicy
    trust_pem: tuple[bytes, ...]
    verapdf: str | None
    require_signatures: bool = True


def check_file(task: FileTask) -> FileResult:
    """Check one file: a pure function of the file and the policy, so it can run in a worker process."""
    identity = identify(task.absolute, task.formats)
    is_pdf = identity.mime == "application/pdf" or task.path.lower().endswith(".pdf")
    if not is_pdf:
        return FileResult(task.path, identity)
    report = check_pdf(task.absolute, verapdf=task.verapdf)
    findings = list(report.findings)
    if any(x.code == "pdf.malformed" for x in report.findings):
        return FileResult(task.path, identity, report, None, tuple(_with_path(findings, task.path)))
    if task.digitised:
        findings.extend(check_digitised(task.absolute))
    roots = list(task.trust_pem)
    sig = check_signatures(
        task.absolute, roots, other_certs=roots, digitised=task.digitised, required=task.require_signatures
    )
    findings.extend(sig.all_findings)
    return FileResult(task.path, identity, report, sig, tuple(_with_path(findings, task.path)))


POOL_MIN_FILES = 4  # fewer files are checked in-process: starting workers would cost more
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    """One pool of worker processes per archive process, started on first use.

    ``spawn`` (not fork: safe from a threaded web server) makes the workers direct children of
    this process, so ``ingest.lifeline.die_with_parent`` ties their lives to it: a crash leaves no
    orphans.
    The pool belongs to the process that made it: a forked child (a gunicorn worker forked after
    the demo's ingest) forgets it and starts its own (``_forget_pool``)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None and getattr(_POOL, "_broken", False):
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=os.cpu_count() or 2,
                mp_context=get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return _POOL


def shutdown_pool() -> None:
    """Stop this process's pool (its workers exit); the next check starts a new one."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _forget_pool() -> None:
    """In a forked child: the parent's pool has no manager thread here and its workers are not
    this process's children; using it would hang. Drop it (without touching the parent's
    workers) and take a fresh lock (the parent's may have been held by another thread)."""
    global _POOL, _POOL_LOCK
    _POOL = None
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)

# Kept for pools started by an older process image (pickled by reference to this name).
_die_with_parent = die_with_parent


def _chunksize(tasks: int) -> int:
    """Files per worker round trip: few round trips for many small files, yet about four
    batches per worker so that one slow file does not leave the other workers idle."""
    workers = os.cpu_count() or 2
    return max(1, min(16, tasks // (workers * 4)))


@dataclass
class PendingFileChecks:
    """File checks dispatched and not collected yet: batches on the pool, or tasks left to run here.

    ``collect`` returns the results by path (and re-raises what a check raised); ``cancel`` drops
    batches no worker has begun (a running batch finishes and its result is discarded)."""

    tasks: tuple[FileTask, ...]
    batches: tuple[Future[list[FileResult]], ...] = ()

    def collect(self) -> dict[str, FileResult]:
        if not self.batches:  # in-process: the checks run now, in the caller
            return {r.path: r for r in (check_file(t) for t in self.tasks)}
        try:
            return {r.path: r for batch in self.batches for r in batch.result()}
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        for batch in self.batches:
            batch.cancel()


def check_batch(tasks: Sequence[FileTask]) -> list[FileResult]:
    """Check several files in one worker round trip (``check_file`` on each, in order)."""
    return [check_file(t) for t in tasks]


def file_tasks(ins: Inspection) -> list[FileTask]:
    """One task per staged file; "digitised" comes from the documents' metadata (``check_metadata``)."""
    by_file = {str(d.get("file")): d for d in ins.documents()}
    pem = tuple(c.public_bytes(serialization.Encoding.PEM) for c in ins.policy.trust_roots)
    return [
        FileTask(
            f.path,
            ins.path_of(f.path),
            str(by_file.get(f.path, {}).get("confidenceLevel") or "") == DIGITISED,
            ins.policy.formats,
            pem,
            ins.policy.verapdf,
            ins.policy.require_signatures,
        )
        for f in ins.staged.files
    ]


def start_file_checks(ins: Inspection) -> PendingFileChecks:
    """Dispatch the checks of every file to the pool (in-process ones wait for ``collect``).

    Run ``check_metadata`` first: the digitised flag is read from the crosswalked documents.
    The pending checks are also kept on ``ins.pending_files`` for ``check_files`` to collect."""
    tasks = tuple(file_tasks(ins))
    pending = PendingFileChecks(tasks)
    if ins.policy.workers > 1 and len(tasks) >= POOL_MIN_FILES:
        size = _chunksize(len(tasks))
        pool = _pool()
        pending.batches = tuple(
            pool.submit(check_batch, tasks[i : i + size]) for i in range(0, len(tasks), size)
        )
    ins.pending_files = pending
    return pending


def check_files(ins: Inspection) -> dict[str, FileResult]:
    """Results of every file check: the ones started ahead when there are, else started now."""
    pending = ins.pending_files or start_file_checks(ins)
    ins.pending_files = None
    return pending.collect()


def start_inspection(ins: Inspection) -> None:
    """Run the metadata step now and dispatch the file checks, ahead of ``inspect``.

    So the workers can check this submission while the caller does other work (packaging the
    previous one); ``inspect`` later reuses the metadata findings and collects the file checks."""
    ins.done_early["metadata"] = check_metadata(ins)
    start_file_checks(ins)


def drop_pending(ins: Inspection) -> None:
    """Forget what was started ahead: cancel file checks no worker has begun."""
    if ins.pending_files is not None:
        ins.pending_files.cancel()
        ins.pending_files = None
    ins.done_early.clear()


def check_text_encoding(ins: Inspection) -> list[Finding]:
    """Unicode (TCVN 6909:2001) is required; legacy TCVN3 and VNI text is found and named."""
    findings: list[Finding] = []
    for f in ins.staged.files:
        if (
            Path(f.path).suffix.lower().lstrip(".") not in TEXT_EXTENSIONS
            or f.path == ins.staged.metadata_file
        ):
            continue
        with ins.path_of(f.path).open("rb") as fh:
            sample = fh.read(TEXT_SAMPLE_BYTES)
        if len(sample) == TEXT_SAMPLE_BYTES:  # cut at a line end, never inside a character
            sample = sample[: sample.rfind(b"\n") + 1] or sample
        _, found = textenc.check_text_encoding(sample)
        findings.extend(_with_path(found, f.path))
    return findings


def check_pdfs(ins: Inspection) -> list[Finding]:
    """PDF structure, PDF/A, every signature, and the digitisation rules (computed with the identities)."""
    return [f for staged in ins.staged.files for f in ins.pdf_findings.get(staged.path, [])]


def check_duplicates(ins: Inspection) -> list[Finding]:
    """Same identifier, same (số, ký hiệu, cơ quan ban hành), or same bytes: a warning naming the other."""
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    for f in ins.staged.files:
        if f.path == ins.staged.metadata_file:
            continue
        if f.sha256 in seen:
            findings.append(
                warning(
                    "duplicate.content_in_submission",
                    f"Tệp {f.path} trùng nội dung với tệp {seen[f.sha256]} trong cùng lần nộp.",
                    f"File {f.path} has the same content as {seen[f.sha256]} in this submission.",
                    path=f.path,
                    evidence={"other": seen[f.sha256], "sha256": f.sha256},
                )
            )
        seen.setdefault(f.sha256, f.path)
    if ins.duplicates is not None:
        sha_by_path = {f.path: f.sha256 for f in ins.staged.files}
        for doc in ins.documents():
            rel = str(doc.get("file") or "")
            findings.extend(ins.duplicates(doc, rel, sha_by_path.get(rel, "")))
    return findings


def scan_malware(ins: Inspection) -> list[Finding]:
    """ClamAV when installed and it has signatures; otherwise a warning "not scanned".

    An unscanned dossier is never accepted without an archivist: the warning sends it to review
    (and the PREMIS virus-check event says "not scanned").
    """
    scanner = ins.policy.clamscan
    if not scanner:
        return [
            warning(
                "malware.not_scanned",
                "Chưa quét mã độc: máy chủ không có ClamAV; lưu trữ viên cần xem xét hồ sơ.",
                "Not scanned for malware: ClamAV is not installed on this server; an archivist must review.",
            )
        ]
    database = ins.policy.clamav_database
    options = ["--database", str(database)] if database is not None else []
    paths = [str(ins.path_of(f.path)) for f in ins.staged.files]
    proc = subprocess.run(
        [scanner, *options, "--no-summary", "--infected", *paths],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    evidence = {"scanner": Path(scanner).name, "database": str(database) if database else "default"}
    if proc.returncode == 0:
        ins.malware_scanned = True
        return [
            info(
                "malware.clean",
                "Đã quét mã độc: không phát hiện.",
                "Scanned for malware: none found.",
                evidence=evidence,
            )
        ]
    if proc.returncode == 1:
        ins.malware_scanned = True
        root = str(ins.staged.payload_root) + "/"
        return [
            error(
                "malware.found",
                f"Phát hiện mã độc: {line.removeprefix(root)}",
                f"Malware found: {line.removeprefix(root)}",
                path=line.split(":", 1)[0].removeprefix(root),
                evidence=evidence,
            )
            for line in proc.stdout.splitlines()
            if line.endswith("FOUND")
        ]
    if "No supported database" in proc.stderr or "cli_loaddbdir" in proc.stderr:
        return [
            warning(
                "malware.not_scanned",
                "Chưa quét mã độc: ClamAV chưa có cơ sở dữ liệu mẫu mã độc (chạy freshclam);"
                " lưu trữ viên cần xem xét hồ sơ.",
                "Not scanned for malware: ClamAV has no signature database (run freshclam);"
                " an archivist must review.",
                evidence=evidence,
            )
        ]
    return [
        warning(
            "malware.scan_failed",
            f"Không quét được mã độc (mã lỗi {proc.returncode}).",
            f"The malware scan failed (exit {proc.returncode}): {proc.stderr.strip()[:300]}",
            evidence=evidence,
        )
    ]


def find_clamscan(configured: str | None, database: Path | None = None) -> str | None:
    """The scanner to run: the configured one, else ``clamdscan`` or ``clamscan`` on PATH.

    With a signature ``database`` only ``clamscan`` will do: ``clamdscan`` asks a daemon, which
    loads its own database and has no ``--database`` option. None when there is no executable
    scanner (a configured path that does not exist counts as none: "not scanned", not a crash).
    """
    if configured:
        return shutil.which(configured)
    if database is not None:
        return shutil.which("clamscan")
    return shutil.which("clamdscan") or shutil.which("clamscan")


Step = Callable[[Inspection], list[Finding]]
VALIDATION_STEPS: tuple[tuple[str, Step], ...] = (
    ("metadata", check_metadata),
    ("format identification", check_formats),
    ("text encoding", check_text_encoding),
    ("pdf and signatures", check_pdfs),
    ("duplicates", check_duplicates),
    ("virus check", scan_malware),
)


def inspect(
    ins: Inspection, steps: Sequence[tuple[str, Step]] = VALIDATION_STEPS
) -> dict[str, list[Finding]]:
    """Run every step; return findings per step (also accumulated on ``ins.findings``)."""
    results: dict[str, list[Finding]] = {}
    for name, step in steps:
        ins.step(name)
        early = ins.done_early.pop(name, None)
        found = step(ins) if early is None else early
        results[name] = found
        ins.findings.extend(found)
    return results


def _with_path(findings: Sequence[Finding], path: str) -> list[Finding]:
    out = []
    for f in findings:
        if f.path == path:
            out.append(f)
        else:
            out.append(Finding(f.code, f.severity, f.message_vi, f.message_en, path, f.field, f.evidence))
    return out


def blocking(findings: Sequence[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
