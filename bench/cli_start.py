"""Command-line start-up: ``luutru --help`` against ``python3 -c pass``, in the same run.

Run by hand (never from the test suite):

    .venv/bin/python bench/cli_start.py [--runs 5]

Each contender runs ``--runs`` times, alternating; the median wall time and the peak RSS are
reported, and their ratio. Goal: ``luutru --help`` ≤ 10 × ``python3 -c pass`` (median of 5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LUUTRU = Path(sys.executable).with_name("luutru")


def _run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KiB) of one run of ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed: {proc.returncode}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # The baseline is this interpreter (the virtualenv's python3), the one `luutru` runs on.
    contenders = {"python3 -c pass": [sys.executable, "-c", "pass"], "luutru --help": [str(LUUTRU), "--help"]}
    times: dict[str, list[float]] = {k: [] for k in contenders}
    rss: dict[str, int] = {}
    for _ in range(args.runs):
        for name, argv in contenders.items():
            elapsed, peak = _run(argv)
            times[name].append(elapsed)
            rss[name] = max(rss.get(name, 0), peak)
    base = statistics.median(times["python3 -c pass"])
    luutru = statistics.median(times["luutru --help"])
    report = {
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "median_s": {k: round(statistics.median(v), 4) for k, v in times.items()},
        "all_s": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "peak_rss_kib": rss,
        "ratio": round(luutru / base, 2),
        "goal": "ratio <= 10",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
