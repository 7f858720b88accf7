"""Fixity audits and self-repair on real files in two local replicas (and S3 when configured).

Each kind of damage is made for real (a byte flipped in place, a file truncated, a file
deleted, a stray file added), detected by the audit and repaired from the other replica.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.findings import Severity
from archive.fixity.audit import (
    AuditCursor,
    CopyCheck,
    CopyStatus,
    ExpectedCopy,
    audit_copies,
    audit_parallel,
    find_unknown,
)
from archive.fixity.hashing import IoBudget
from archive.fixity.repair import RepairStatus, quarantine_unknown, repair_copy, repair_from_any
from archive.storage import LocalReplica

KEY = "aip/AIP-1/v0001"


@pytest.fixture
def replicas(tmp_path: Path) -> tuple[LocalReplica, LocalReplica]:
    return LocalReplica(tmp_path / "r1", name="r1"), LocalReplica(tmp_path / "r2", name="r2")


@pytest.fixture
def expected(tmp_path: Path, replicas: tuple[LocalReplica, LocalReplica]) -> list[ExpectedCopy]:
    """One AIP of six files written to both replicas; the catalog's view of it."""
    src = tmp_path / "src"
    for i in range(6):
        path = src / "data" / f"doc-{i}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"%PDF-1.7 văn bản {i}\n".encode() + os.urandom(20_000 + i))
    stored = [r.put_package(src, KEY) for r in replicas]
    assert stored[0] == stored[1]
    return [ExpectedCopy(o.key, o.sha256, o.size) for o in stored[0]]


def flip_byte(replica: LocalReplica, key: str, offset: int = 1000) -> None:
    with open(replica.root / key, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


def truncate(replica: LocalReplica, key: str, size: int = 100) -> None:
    os.truncate(replica.root / key, size)


def statuses(checks: Iterator[CopyCheck]) -> dict[str, CopyStatus]:
    return {c.key: c.status for c in checks}


def test_intact_copies_are_ok(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    checks = list(audit_copies(replicas[0], expected))
    assert [c.status for c in checks] == [CopyStatus.OK] * len(expected)
    assert all(c.ok and c.to_finding() is None and c.replica == "r1" for c in checks)
    assert all(
        c.checked_at.tzinfo is not None and c.actual_size == e.size
        for c, e in zip(checks, expected, strict=True)
    )


def test_each_damage_is_detected_and_repaired_from_the_other_replica(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    r1, r2 = replicas
    flipped, cut, gone = expected[0], expected[1], expected[2]
    flip_byte(r1, flipped.key)
    truncate(r1, cut.key)
    (r1.root / gone.key).unlink()
    stray = f"{KEY}/data/stray.bin"
    (r1.root / stray).write_bytes(b"not in the catalog")

    found = statuses(audit_copies(r1, expected))
    assert found[flipped.key] is CopyStatus.DAMAGED
    assert found[cut.key] is CopyStatus.TRUNCATED
    assert found[gone.key] is CopyStatus.MISSING
    assert [s for k, s in found.items() if k not in {flipped.key, cut.key, gone.key}] == [CopyStatus.OK] * 3
    assert list(find_unknown(r1, {e.key for e in expected})) == [stray]
    assert list(find_unknown(r2, {e.key for e in expected})) == []
    assert statuses(audit_copies(r2, expected)) == {e.key: CopyStatus.OK for e in expected}

    checks = [c for c in audit_copies(r1, expected) if not c.ok]
    findings = [c.to_finding() for c in checks]
    assert {f.code for f in findings if f} == {
        "fixity.copy.damaged",
        "fixity.copy.truncated",
        "fixity.copy.missing",
    }
    assert all(f and f.severity is Severity.ERROR and f.message_vi and f.message_en for f in findings)

    for check in checks:
        result = repair_copy(check.key, check.expected_sha256, check.expected_size, source=r2, target=r1)
        assert result.status is RepairStatus.REPAIRED and result.source == "r2"
        assert result.to_finding().code == "fixity.repair.done"
    new_key = quarantine_unknown(r1, stray)
    assert new_key.startswith("quarantine/") and new_key.endswith(stray)

    assert statuses(audit_copies(r1, expected)) == {e.key: CopyStatus.OK for e in expected}
    assert list(find_unknown(r1, {e.key for e in expected})) == []
    assert (r1.root / new_key).read_bytes() == b"not in the catalog"
    assert list((r1.root / ".tmp").iterdir()) == []


def test_both_copies_damaged_is_unrecoverable_and_target_untouched(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    r1, r2 = replicas
    item = expected[3]
    flip_byte(r1, item.key, offset=10)
    flip_byte(r2, item.key, offset=20)
    before = (r1.root / item.key).read_bytes()
    result = repair_copy(item.key, item.sha256, item.size, source=r2, target=r1)
    assert result.status is RepairStatus.UNRECOVERABLE and "checksum" in result.detail
    finding = result.to_finding()
    assert finding.code == "fixity.repair.unrecoverable" and finding.severity is Severity.ERROR
    assert (r1.root / item.key).read_bytes() == before  # a bad source never overwrites
    assert list((r1.root / ".tmp").iterdir()) == []

    truncate(r2, expected[4].key)
    assert "size" in repair_copy(expected[4].key, expected[4].sha256, expected[4].size, r2, r1).detail
    (r2.root / expected[5].key).unlink()
    (r1.root / expected[5].key).unlink()
    both_missing = repair_from_any(expected[5].key, expected[5].sha256, expected[5].size, [r1, r2], r1)
    assert both_missing.status is RepairStatus.UNRECOVERABLE and "missing" in both_missing.detail


def test_repair_from_any_skips_bad_sources(tmp_path: Path, expected: list[ExpectedCopy]) -> None:
    r1, r2 = LocalReplica(tmp_path / "r1", name="r1"), LocalReplica(tmp_path / "r2", name="r2")
    r3 = LocalReplica(tmp_path / "r3", name="r3")
    item = expected[0]
    with r1.open(item.key) as fh:
        r3.put_file(fh, item.key, expected_sha256=item.sha256)
    flip_byte(r1, item.key)
    flip_byte(r2, item.key)
    result = repair_from_any(item.key, item.sha256, item.size, [r1, r2, r3], r1)
    assert result.ok and result.source == "r3"
    assert r1.verify(item.key, item.sha256).ok


def test_manifest_disagreement_is_reported(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    e = expected[0]
    rows = [ExpectedCopy(e.key, e.sha256, e.size, manifest_sha256="0" * 64), expected[1]]
    checks = list(audit_copies(replicas[0], rows))
    assert checks[0].status is CopyStatus.OK and checks[0].manifest_agrees is False and not checks[0].ok
    finding = checks[0].to_finding()
    assert finding is not None and finding.code == "fixity.manifest.disagrees"
    assert checks[1].manifest_agrees is None and checks[1].ok


def test_interrupted_audit_resumes_where_it_stopped(
    tmp_path: Path, replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    r1 = replicas[0]
    stop = threading.Event()
    cursor_file = tmp_path / "cursor.json"
    cursor = AuditCursor.load(cursor_file)
    first_run: list[CopyCheck] = []
    for check in audit_copies(r1, cursor.pending(r1.name, expected), stop=stop):
        first_run.append(check)
        cursor.record(check)
        cursor.save(cursor_file)
        if len(first_run) == 2:
            stop.set()  # the operator stops the sweep (or the worker shuts down)
    assert len(first_run) == 2

    resumed = AuditCursor.load(cursor_file)  # as after a restart
    assert resumed.started_at == cursor.started_at
    second_run = list(audit_copies(r1, resumed.pending(r1.name, expected)))
    assert [c.key for c in first_run + second_run] == [e.key for e in expected]  # each copy once
    assert list(resumed.pending("r2", expected)) == expected  # per replica


def test_audit_parallel_checks_every_replica_and_shares_the_budget(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    r1, r2 = replicas
    flip_byte(r2, expected[2].key)
    clock_lock = threading.Lock()
    fake_time = [0.0]

    def clock() -> float:
        with clock_lock:
            return fake_time[0]

    def sleep(seconds: float) -> None:
        with clock_lock:
            fake_time[0] += seconds

    budget = IoBudget(0.1, burst_s=0.0, clock=clock, sleep=sleep)  # 100 kB/s
    checks = list(audit_parallel([(r1, expected), (r2, expected)], budget, workers=2))
    assert len(checks) == 2 * len(expected)
    bad = [(c.replica, c.key, c.status) for c in checks if not c.ok]
    assert bad == [("r2", expected[2].key, CopyStatus.DAMAGED)]
    total = 2 * sum(e.size for e in expected)
    assert budget.slept >= total / 100_000 - 1e-6


def test_audit_parallel_stops_early_when_asked(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    stop, gate = threading.Event(), threading.Event()

    def rows() -> Iterator[ExpectedCopy]:
        yield expected[0]
        gate.wait()  # each worker waits here after its first copy until the test has decided
        yield from expected[1:]

    gen = audit_parallel([(r, rows()) for r in replicas], None, workers=2, stop=stop)
    first = next(gen)
    assert first.status is CopyStatus.OK
    stop.set()
    gate.set()
    rest = list(gen)
    assert len(rest) <= 1  # at most the other replica's first copy; nothing after the stop
    assert all(c.key == expected[0].key for c in rest)


def test_unreadable_copy_is_reported_not_raised(
    replicas: tuple[LocalReplica, LocalReplica], expected: list[ExpectedCopy]
) -> None:
    if os.geteuid() == 0:
        # root reads files whatever their mode: make the object a directory instead.
        r1 = replicas[0]
        path = r1.root / expected[0].key
        path.unlink()
        path.mkdir()
        (path / "x").write_bytes(b"x" * (expected[0].size + 1))
        check = next(audit_copies(r1, expected[:1]))
        assert check.status is CopyStatus.MISSING
        return
    path = replicas[0].root / expected[0].key
    path.chmod(0)
    check = next(audit_copies(replicas[0], expected[:1]))
    assert check.status is CopyStatus.UNREADABLE and "PermissionError" in check.detail
