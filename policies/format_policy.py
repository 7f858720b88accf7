"""Format policy (chính sách định dạng bảo quản): which formats are at risk and what to do.

TT 05/2025 Điều 26 and NĐ 30/2020 Phụ lục VI ask that documents stay readable as technology
changes. The policy maps a PRONOM PUID to a risk level and an action: keep as is, make a
preservation copy (format ``target`` made by ``tool``; the original is always kept), or make an
access copy. Signed PDFs are never altered: a copy of one is made only when its rule says
``copy_signed``, and that copy is marked unsigned.

The policy is data, versioned like the retention schedules: the defaults
(``policies/data/format_policy.csv``) cover the formats the seed regulations accept (Đắk Lắk
and Lạng Sơn Quy chế Điều 4.3); an administrator's change makes a new version, supersedes the
previous one, leaves an event, and lists the dossiers whose files it affects.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import events
from archive.catalog import (
    Dossier,
    EventType,
    FileRole,
    FormatAction,
    FormatPolicy,
    FormatPolicyRule,
    FormatRisk,
    Package,
    Role,
    StoredFile,
    User,
)
from archive.findings import Finding, error
from archive.vntime import utcnow
from policies.errors import FormatPolicyError
from policies.holds import require_role

DEFAULT_POLICY = Path(__file__).parent / "data" / "format_policy.csv"
PUID = re.compile(r"^(x-)?fmt/\d{1,5}$")
TARGETS = ("pdfa-2b",)
TOOLS = ("libreoffice", "ghostscript", "ocr")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One row of a policy as given by an administrator or the defaults file."""

    puid: str
    format_name: str
    risk: FormatRisk
    action: FormatAction
    target: str | None = None
    tool: str | None = None
    copy_signed: bool = False

    def key(self) -> tuple[str, str, str, str, str, bool]:
        return (
            self.puid,
            self.risk.value,
            self.action.value,
            self.target or "",
            self.tool or "",
            self.copy_signed,
        )


@dataclass(frozen=True, slots=True)
class SaveResult:
    policy: FormatPolicy
    created: bool
    changed_puids: tuple[str, ...]
    affected_dossiers: tuple[str, ...]  # dossier codes holding files of a changed PUID


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "có", "co", "x", "on")


def parse_rules(rows: Iterable[dict[str, str | None]]) -> list[RuleSpec]:
    """Validate rows (puid, format_name, risk, action, target, tool, copy_signed).

    Raise FormatPolicyError with one finding per bad row; empty PUID rows are skipped.
    """
    specs: list[RuleSpec] = []
    problems: list[Finding] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=1):
        puid = (row.get("puid") or "").strip()
        if not puid:
            continue

        def bad(what_vi: str, what_en: str, row_no: int = n, value: str = puid) -> None:
            problems.append(
                error(
                    "format_policy.row_invalid",
                    f"Dòng {row_no} ({value}): {what_vi}.",
                    f"Row {row_no} ({value}): {what_en}.",
                    evidence={"row": row_no, "puid": value},
                )
            )

        if not PUID.match(puid):
            bad("mã PRONOM không hợp lệ", "not a PRONOM identifier")
            continue
        if puid in seen:
            bad("mã PRONOM lặp lại", "PUID listed twice")
            continue
        seen.add(puid)
        try:
            risk = FormatRisk((row.get("risk") or "").strip().lower())
            action = FormatAction((row.get("action") or "").strip().lower())
        except ValueError:
            bad("mức rủi ro hoặc hành động không hợp lệ", "unknown risk level or action")
            continue
        target = (row.get("target") or "").strip().lower() or None
        tool = (row.get("tool") or "").strip().lower() or None
        if action is FormatAction.KEEP:
            target = tool = None
        elif target not in TARGETS or tool not in TOOLS:
            bad(
                f"cần định dạng đích ({', '.join(TARGETS)}) và công cụ ({', '.join(TOOLS)})",
                f"a copy needs a target ({', '.join(TARGETS)}) and a tool ({', '.join(TOOLS)})",
            )
            continue
        name = (row.get("format_name") or "").strip()[:200] or puid
        specs.append(RuleSpec(puid, name, risk, action, target, tool, _bool(row.get("copy_signed"))))
    if problems:
        raise FormatPolicyError(problems)
    return specs


def read_rules_csv(path: Path) -> list[RuleSpec]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return parse_rules(csv.DictReader(fh))


def _digest(specs: Sequence[RuleSpec]) -> str:
    keys = sorted(s.key() for s in specs)
    return hashlib.sha256(json.dumps(keys, ensure_ascii=False).encode()).hexdigest()


def current_policy(session: Session) -> FormatPolicy | None:
    return session.scalar(select(FormatPolicy).where(FormatPolicy.superseded_at.is_(None)))


def policy_versions(session: Session) -> list[FormatPolicy]:
    return list(session.scalars(select(FormatPolicy).order_by(FormatPolicy.version.desc())))


def ensure_policy(session: Session) -> FormatPolicy:
    """Return the current policy, installing the defaults as version 1 when there is none."""
    policy = current_policy(session)
    if policy is not None:
        return policy
    specs = read_rules_csv(DEFAULT_POLICY)
    policy = _new_version(session, specs, "system", "Mặc định — defaults (policies/data/format_policy.csv)")
    events.record(
        session,
        EventType.POLICY_ASSIGNMENT,
        object_type="format_policy",
        object_id=policy.version,
        detail="default format policy installed",
        data={"version": policy.version, "rules": len(specs)},
    )
    return policy


def _new_version(session: Session, specs: Sequence[RuleSpec], by: str, note: str | None) -> FormatPolicy:
    last = session.scalar(select(func.max(FormatPolicy.version))) or 0
    policy = FormatPolicy(
        version=last + 1, created_by=by[:100], note=(note or None), content_sha256=_digest(specs)
    )
    policy.rules = [FormatPolicyRule(**asdict(s)) for s in specs]
    session.add(policy)
    session.flush()
    return policy


def spec_of(rule: FormatPolicyRule) -> RuleSpec:
    return RuleSpec(
        rule.puid, rule.format_name, rule.risk, rule.action, rule.target, rule.tool, rule.copy_signed
    )


def affected_dossiers(session: Session, puids: Iterable[str], limit: int = 500) -> list[str]:
    """Codes of the dossiers whose packages (any version) hold original files of these PUIDs."""
    wanted = sorted(set(puids))
    if not wanted:
        return []
    rows = session.scalars(
        select(Dossier.code)
        .join(Package, Package.dossier_id == Dossier.id)
        .join(StoredFile, StoredFile.package_id == Package.id)
        .where(StoredFile.puid.in_(wanted), StoredFile.role == FileRole.ORIGINAL)
        .distinct()
        .order_by(Dossier.code)
        .limit(limit)
    )
    return list(rows)


def save_policy(
    session: Session, actor: User, specs: Sequence[RuleSpec], note: str | None = None
) -> SaveResult:
    """Make ``specs`` the current policy (a new version) unless they equal the current one."""
    require_role(actor, (Role.ADMINISTRATOR,), "change the format policy")
    current = ensure_policy(session)
    if _digest(specs) == current.content_sha256:
        return SaveResult(current, False, (), ())
    before = {r.puid: spec_of(r).key() for r in current.rules}
    after = {s.puid: s.key() for s in specs}
    changed = tuple(sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p)))
    current.superseded_at = utcnow()
    session.flush()
    policy = _new_version(session, specs, actor.username, note)
    affected = tuple(affected_dossiers(session, changed))
    events.record(
        session,
        EventType.POLICY_ASSIGNMENT,
        object_type="format_policy",
        object_id=policy.version,
        agent=events.Agent.person(actor.username),
        detail=f"format policy version {policy.version}",
        data={
            "version": policy.version,
            "previous": current.version,
            "changed_puids": list(changed),
            "affected_dossiers": len(affected),
            "note": note,
            "rules": [asdict(s) | {"risk": s.risk.value, "action": s.action.value} for s in specs],
        },
    )
    return SaveResult(policy, True, changed, affected)


def rule_for(policy: FormatPolicy, puid: str | None) -> FormatPolicyRule | None:
    """The policy's rule for ``puid`` (None: no rule, so nothing is done)."""
    if not puid:
        return None
    return next((r for r in policy.rules if r.puid == puid), None)


@dataclass(frozen=True, slots=True)
class HoldingRow:
    """Original files of one PUID in the holdings, with what the policy says about them."""

    puid: str | None
    format_name: str | None
    files: int
    dossiers: int
    rule: FormatPolicyRule | None


@dataclass(frozen=True, slots=True)
class PolicyOverview:
    policy: FormatPolicy
    versions: list[FormatPolicy]
    holdings: list[HoldingRow]


def policy_overview(session: Session) -> PolicyOverview:
    """The current policy, its versions, and the holdings by format with their risk and action."""
    policy = ensure_policy(session)
    rows = session.execute(
        select(
            StoredFile.puid,
            func.max(StoredFile.format_name),
            func.count(StoredFile.id),
            func.count(func.distinct(Package.dossier_id)),
        )
        .join(Package, Package.id == StoredFile.package_id)
        .where(StoredFile.role == FileRole.ORIGINAL)
        .group_by(StoredFile.puid)
        .order_by(func.count(StoredFile.id).desc())
    )
    holdings = [HoldingRow(p, n, int(f), int(d), rule_for(policy, p)) for p, n, f, d in rows]
    return PolicyOverview(policy, policy_versions(session), holdings)


def save_policy_rows(
    session: Session, actor: User, rows: Iterable[dict[str, str | None]], note: str | None = None
) -> SaveResult:
    """Parse rows as typed in the console and save them (FormatPolicyError on bad rows)."""
    return save_policy(session, actor, parse_rules(rows), note)


@dataclass(frozen=True, slots=True)
class PlannedCopy:
    """One original file the policy says needs a copy, or why it is left as it is."""

    dossier: str
    agency: str
    path: str
    puid: str
    action: FormatAction
    target: str | None
    tool: str | None
    skipped: str | None  # "signed": a signed PDF the policy does not copy


def preservation_plan(
    session: Session, *, puid: str | None = None, agency: str | None = None, limit: int = 10_000
) -> list[PlannedCopy]:
    """What the current policy would do to the holdings (latest stored AIP of each dossier)."""
    from archive.catalog import Agency, PackageState  # local: only this read needs them

    policy = ensure_policy(session)
    rules = {r.puid: r for r in policy.rules if r.action is not FormatAction.KEEP}
    latest = (
        select(Package.dossier_id, func.max(Package.version).label("version"))
        .where(Package.state == PackageState.STORED)
        .group_by(Package.dossier_id)
        .subquery()
    )
    query = (
        select(Dossier.code, Agency.code, StoredFile)
        .join(Agency, Agency.id == Dossier.agency_id)
        .join(latest, latest.c.dossier_id == Dossier.id)
        .join(Package, (Package.dossier_id == Dossier.id) & (Package.version == latest.c.version))
        .join(StoredFile, StoredFile.package_id == Package.id)
        .where(StoredFile.role == FileRole.ORIGINAL, StoredFile.puid.in_(sorted(rules)))
        .order_by(Dossier.code, StoredFile.path)
        .limit(limit)
    )
    if puid:
        query = query.where(StoredFile.puid == puid)
    if agency:
        query = query.where(Agency.code == agency)
    plan = []
    for dossier_code, agency_code, f in session.execute(query):
        rule = rules.get(f.puid or "")
        if rule is None or f.puid is None:
            continue
        signed = bool(f.properties.get("signatures"))
        skipped = "signed" if signed and not rule.copy_signed else None
        plan.append(
            PlannedCopy(
                dossier_code, agency_code, f.path, f.puid, rule.action, rule.target, rule.tool, skipped
            )
        )
    return plan
