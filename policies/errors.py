"""Errors raised on purpose by policies/: retention schedules, appraisal, disposal, legal holds.

Each subclasses the ``archive.errors`` class callers already catch (Conflict, PermissionDenied…),
so the web layer maps them to a status without knowing this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archive.errors import ArchiveError, Conflict, IntegrityError, PermissionDenied

if TYPE_CHECKING:
    from archive.findings import Finding


class PolicyError(ArchiveError):
    """Base for errors raised on purpose by policies/."""


class LegalHoldActive(PolicyError, Conflict):
    """A legal hold covers the dossier: no appraisal, disposal step or destruction may run."""

    def __init__(self, dossier_code: str, hold_id: int, step: str) -> None:
        super().__init__(f"dossier {dossier_code} is under legal hold #{hold_id}: {step} refused")
        self.dossier_code, self.hold_id, self.step = dossier_code, hold_id, step


class RoleRequired(PolicyError, PermissionDenied):
    """The actor lacks the role this step needs."""

    def __init__(self, username: str, roles: Sequence[str], step: str) -> None:
        super().__init__(f"{username} needs one of the roles {', '.join(roles)} to {step}")
        self.username, self.roles, self.step = username, tuple(roles), step


class FourEyesViolation(PolicyError, PermissionDenied):
    """The person deciding a disposal is the one who proposed it (nguyên tắc bốn mắt)."""

    def __init__(self, username: str, case_code: str) -> None:
        super().__init__(f"{username} proposed disposal case {case_code} and may not decide it")
        self.username, self.case_code = username, case_code


class InvalidTransition(PolicyError, Conflict):
    """The disposal case or dossier is not in a state that allows this step."""

    def __init__(self, what: str, state: str, step: str) -> None:
        super().__init__(f"{what} is {state}: cannot {step}")
        self.what, self.state, self.step = what, state, step


class DuplicateVote(PolicyError, Conflict):
    """A council member tried to vote twice on the same case."""


class InvalidAppraisal(PolicyError, ValueError):
    """An appraisal decision lacks what it needs (reason, new period)."""


class ScheduleImportError(PolicyError, ValueError):
    """A retention schedule file cannot be imported; ``findings`` say which rows and why."""

    def __init__(self, path: str, findings: Sequence[Finding]) -> None:
        first = findings[0].message_en if findings else "no rules"
        super().__init__(f"cannot import schedule {path}: {len(findings)} problem(s); first: {first}")
        self.path, self.findings = path, list(findings)


class NoMatchingRule(PolicyError, LookupError):
    """No rule of the active schedules matches the dossier."""


class DestructionIncomplete(PolicyError, IntegrityError):
    """Copies remain on a replica after deletion, or a replica holding copies was not given."""

    def __init__(self, replica: str, prefix: str, detail: str) -> None:
        super().__init__(f"destruction incomplete on replica {replica} under {prefix}: {detail}")
        self.replica, self.prefix, self.detail = replica, prefix, detail


class FormatPolicyError(PolicyError, ValueError):
    """A format policy cannot be saved; ``findings`` say which rows and why."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        first = findings[0].message_en if findings else "no rules"
        super().__init__(f"format policy refused: {len(findings)} problem(s); first: {first}")
        self.findings = list(findings)
