"""Fixity benchmark: our audit against ``sha256sum`` on the same files, in the same run.

Run by hand (never from the test suite):

    .venv/bin/python bench/fixity.py                 # 1 GB of 50 MB files + 10,000 × 20 KB files
    .venv/bin/python bench/fixity.py --dir /data/bench --keep --json out.json

Two local replicas are generated (real copies, not links) in a temporary directory or ``--dir``.
Every file is read once before timing, so all three contenders hash from the page cache:
the figures are CPU throughput, the cost the audit adds on top of the disks. Measured:

* ``sha256sum`` over replica 1 (a subprocess, one core) — the reference;
* ``audit_copies`` over replica 1 (one thread);
* ``audit_parallel`` over replicas 1 and 2 (two threads, one per replica).

Targets: one thread ≥ 0.9 × sha256sum; two replicas ≥ 1.6 × sha256sum. Peak RSS is reported
after each phase to show memory does not grow with file size (1 MiB reads).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.fixity.audit import CopyStatus, ExpectedCopy, audit_copies, audit_parallel
from archive.storage import LocalReplica

MB = 1_000_000
CHUNK = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def generate(replica: LocalReplica, prefix: str, count: int, size: int) -> list[ExpectedCopy]:
    """Write ``count`` files of ``size`` bytes under ``prefix`` in 1 MiB writes; return the rows."""
    seed = os.urandom(CHUNK)
    rows: list[ExpectedCopy] = []
    for i in range(count):
        key = f"{prefix}/f{i:05d}.bin"
        path = replica.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "wb") as fh:
            left, n = size, 0
            while left:
                part = min(left, CHUNK)
                block = i.to_bytes(4, "big") + n.to_bytes(4, "big") + seed[8:part]
                fh.write(block)
                digest.update(block)
                left -= part
                n += 1
        rows.append(ExpectedCopy(key, digest.hexdigest(), size))
    return rows


def mirror(src: LocalReplica, dst: LocalReplica, rows: list[ExpectedCopy]) -> None:
    for row in rows:
        target = dst.root / row.key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src.root / row.key, target)


def warm(replicas: list[LocalReplica], rows: list[ExpectedCopy]) -> None:
    buf = bytearray(CHUNK)
    for replica in replicas:
        for row in rows:
            with open(replica.root / row.key, "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


def time_sha256sum(replica: LocalReplica, rows: list[ExpectedCopy]) -> float:
    names = "\0".join(row.key for row in rows).encode()
    start = time.perf_counter()
    proc = subprocess.run(
        ["xargs", "-0", "sha256sum"], input=names, cwd=replica.root, capture_output=True, check=True
    )
    elapsed = time.perf_counter() - start
    got = {line.split()[1].decode(): line.split()[0].decode() for line in proc.stdout.splitlines()}
    assert all(got[row.key] == row.sha256 for row in rows), "sha256sum disagrees with the generator"
    return elapsed


def time_sha256sum_pair(replicas: list[LocalReplica], rows: list[ExpectedCopy]) -> float:
    """Two sha256sum processes at once, one per replica: what this machine gives two cores."""
    names = "\0".join(row.key for row in rows).encode()
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            ["xargs", "-0", "sha256sum"], cwd=r.root, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        for r in replicas
    ]
    for proc in procs:
        proc.communicate(names)
    elapsed = time.perf_counter() - start
    assert all(proc.returncode == 0 for proc in procs)
    return elapsed


def time_one(replica: LocalReplica, rows: list[ExpectedCopy]) -> float:
    start = time.perf_counter()
    bad = [c for c in audit_copies(replica, rows) if c.status is not CopyStatus.OK]
    elapsed = time.perf_counter() - start
    assert not bad, bad[:3]
    return elapsed


def time_two(replicas: list[LocalReplica], rows: list[ExpectedCopy]) -> float:
    start = time.perf_counter()
    checks = list(audit_parallel([(r, rows) for r in replicas], None, workers=2))
    elapsed = time.perf_counter() - start
    assert len(checks) == 2 * len(rows) and all(c.status is CopyStatus.OK for c in checks)
    return elapsed


def measure(name: str, replicas: list[LocalReplica], rows: list[ExpectedCopy]) -> dict[str, Any]:
    total = sum(r.size for r in rows)
    warm(replicas, rows)
    ref = min(time_sha256sum(replicas[0], rows) for _ in range(2))
    pair = min(time_sha256sum_pair(replicas, rows) for _ in range(2))
    rss_before = peak_rss_mib()
    one = min(time_one(replicas[0], rows) for _ in range(2))
    two = min(time_two(replicas, rows) for _ in range(2))
    ref_mbs, one_mbs, two_mbs = total / MB / ref, total / MB / one, 2 * total / MB / two
    return {
        "set": name,
        "files": len(rows),
        "bytes": total,
        "sha256sum_mb_s": round(ref_mbs, 1),
        "audit_1_thread_mb_s": round(one_mbs, 1),
        "audit_2_replicas_mb_s": round(two_mbs, 1),
        "ratio_1_thread": round(one_mbs / ref_mbs, 2),
        "ratio_2_replicas": round(two_mbs / ref_mbs, 2),
        "sha256sum_2_procs_mb_s": round(2 * total / MB / pair, 1),
        "speedup_2_vs_1_thread": round(two_mbs / one_mbs, 2),
        "speedup_sha256sum_2_vs_1": round(2 * ref / pair, 2),
        "target_1_thread_met": one_mbs / ref_mbs >= 0.9,
        "target_2_replicas_met": two_mbs / ref_mbs >= 1.6,
        "peak_rss_mib_before": round(rss_before, 1),
        "peak_rss_mib_after": round(peak_rss_mib(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, help="where to generate the data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--large-total-mb", type=int, default=1000)
    parser.add_argument("--large-file-mb", type=int, default=50)
    parser.add_argument("--small-count", type=int, default=10_000)
    parser.add_argument("--small-kb", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    base = (
        Path(tempfile.mkdtemp(prefix="luutru-bench-", dir=args.dir)) if args.dir else Path(tempfile.mkdtemp())
    )
    try:
        r1 = LocalReplica(base / "r1", name="r1")
        r2 = LocalReplica(base / "r2", name="r2")
        large_n = args.large_total_mb // args.large_file_mb
        large = generate(r1, "aip/LARGE", large_n, args.large_file_mb * MB)
        small = generate(r1, "aip/SMALL", args.small_count, args.small_kb * 1000)
        mirror(r1, r2, large + small)
        results = [
            measure(f"large {large_n} × {args.large_file_mb} MB", [r1, r2], large),
            measure(f"small {args.small_count} × {args.small_kb} KB", [r1, r2], small),
        ]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "hot page cache: CPU throughput of hashing, sha256sum = one core",
        "results": results,
    }
    cols = [
        ("set", 24), ("sha256sum_mb_s", 10), ("audit_1_thread_mb_s", 10), ("ratio_1_thread", 8),
        ("audit_2_replicas_mb_s", 10), ("ratio_2_replicas", 8), ("speedup_2_vs_1_thread", 8),
        ("speedup_sha256sum_2_vs_1", 8), ("peak_rss_mib_after", 9),
    ]  # fmt: skip
    heads = ["set", "sha256sum", "1 thread", "ratio", "2 replicas", "ratio", "2 vs 1", "ssum 2v1", "RSS MiB"]
    print(
        "  ".join(
            h.rjust(w) if i else h.ljust(w) for i, (h, (_, w)) in enumerate(zip(heads, cols, strict=True))
        )
    )
    for row in results:
        print("  ".join(str(row[k]).rjust(w) if i else str(row[k]).ljust(w) for i, (k, w) in enumerate(cols)))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
