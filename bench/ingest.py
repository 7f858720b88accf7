"""Ingest benchmark: signed PDFs end to end, and one very large file, against `sha256sum` in the same run.

Run by hand (never from the test suite):

    .venv/bin/python bench/ingest.py                       # 1,000 signed PDFs in 50 dossiers + one 2 GB file
    .venv/bin/python bench/ingest.py --dossiers 10 --large-mb 512 --json out.json

What is measured, in a fresh data directory (SQLite catalog, two local replicas):

* **many documents** — 50 dossiers × 20 single-page PDF/A letters, each signed with a real
  key (TEST PKI), ingested end to end as one batch (``IngestService.ingest_many``, what
  ``luutru ingest PATH...`` and the demo use): intake with checksums, identification (libmagic +
  FIDO), metadata profile, PDF/PDF-A checks, signature validation, SIP + AIP, two replicas,
  catalog. ``--one-by-one`` also times the same dossiers ingested one call at a time.
  Reported: documents/s, MB/s, peak RSS of the ingesting process.
* **one large file** — a dossier holding one file of ``--large-mb`` MB: MB/s and peak RSS
  (memory must not grow with the file: every step streams in 1 MiB chunks).
* **baseline** — ``sha256sum`` over the same files in the same run; the ratio is what to compare
  across machines, since these machines are noisy.

Generation (keys, PDFs, the large file) is not timed. Each measurement runs in a child process
so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file is named like the `ingest` package: never let bench/ shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from archive.events import Agent
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from archive.agencies import create_agency

mode, data, trust, *folders = sys.argv[1:]
one_by_one = mode == "one-by-one"
settings = Settings(data_dir=Path(data), trust_dir=Path(trust))
prepare_data_dir(settings)
svc = Services.build(settings)
with svc.session() as s, s.begin():
    create_agency(s, "000.00.00.H54", "Ủy ban nhân dân tỉnh Thái Bình")
svc.ingest  # build the service (trust store) before timing
from ingest.identify import shared_identifier
shared_identifier()  # FIDO's PRONOM table, built once per process (a server builds it at its first ingest)
from ingest.service import BatchSource
batch = [BatchSource(Path(f), "000.00.00.H54", Agent.person("bench")) for f in folders]
start = time.perf_counter()
if one_by_one:
    statuses = [svc.ingest.ingest(b.path, b.agency_code, actor=b.actor).status for b in batch]
else:  # as `luutru ingest PATH...` and the demo do: dossier n+1 checked while n is archived
    statuses = [item.result.status if item.result else "error" for item in svc.ingest.ingest_many(batch)]
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "statuses": statuses,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_corpus(root: Path, dossiers: int, per: int) -> tuple[list[Path], Path]:
    """Write ``dossiers`` folders of ``per`` signed single-page PDFs; return them and the trust root."""
    from luutru.samples.dossiers import signed_letter
    from luutru.samples.pki import TestPki

    pki = TestPki.create(root / "pki")
    folders = []
    for d in range(1, dossiers + 1):
        folder = root / f"hs-{d:03d}"
        docs = folder / "tai-lieu"
        docs.mkdir(parents=True)
        documents = []
        for n in range(1, per + 1):
            # signed by the competent person, then by the body (NĐ 30 Điều 5), as agencies send them
            text = f"Công văn số {d * 1000 + n}/UBND-VP về việc thử nghiệm hiệu năng tiếp nhận hồ sơ"
            out = signed_letter(docs / f"{n:03d}.pdf", pki, text)
            documents.append(_doc(f"tai-lieu/{out.name}", out, d, n))
        _metadata(folder, d, documents)
        folders.append(folder)
    return folders, pki.root


def _doc(rel: str, path: Path, d: int, n: int) -> dict[str, Any]:
    from archive.fixity.hashing import sha256_file

    return {
        "file": rel,
        "sha256": sha256_file(path)[0],
        "docCode": f"H54.2024.{d:03d}.BENCH.{n:07d}",
        "typeName": "22",
        "codeNumber": f"{d * 1000 + n}",
        "codeNotation": "UBND-VP",
        "issuedDate": "05/01/2024",
        "organName": "Ủy ban nhân dân tỉnh Thái Bình",
        "subject": f"Công văn thử nghiệm số {n}",
        "language": "01",
        "mode": "01",
        "confidenceLevel": "01",
    }


def _metadata(folder: Path, d: int, documents: list[dict[str, Any]]) -> None:
    meta = {
        "profile": "tt05-2025",
        "dossier": {
            "organId": "000.00.00.H54",
            "fileCode": f"H54.2024.{d:03d}.BENCH",
            "title": f"Hồ sơ thử nghiệm hiệu năng số {d}",
            "maintenance": "06",
            "mode": "01",
            "language": "01",
            "startDate": "01/01/2024",
            "endDate": "31/12/2024",
            "totalDoc": len(documents),
            "riskRecovery": "0",
        },
        "documents": documents,
    }
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def make_large(root: Path, megabytes: int) -> Path:
    """One dossier with one large (non-sparse, pseudo-random) MP4-named file."""
    folder = root / "hs-large"
    (folder / "tai-lieu").mkdir(parents=True)
    path = folder / "tai-lieu" / "ghi-hinh.mp4"
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    with path.open("wb") as out:
        # an MP4 'ftyp' header so identification sees a real container type
        head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        out.write(head)
        h.update(head)
        for i in range(megabytes):
            chunk = block[i % 997 :] + block[: i % 997]
            out.write(chunk)
            h.update(chunk)
    doc = {
        "file": "tai-lieu/ghi-hinh.mp4", "sha256": h.hexdigest(), "docCode": "H54.2024.999.BENCH.0000001",
        "typeName": "32", "issuedDate": "05/01/2024", "organName": "Ủy ban nhân dân tỉnh Thái Bình",
        "subject": "Ghi hình hội nghị", "language": "01", "mode": "01", "confidenceLevel": "01",
    }  # fmt: skip
    _metadata(folder, 999, [doc])
    return folder


def run_child(data: Path, trust: Path, folders: list[Path], mode: str = "batch") -> dict[str, Any]:
    os.sync()  # the generated files' write-back is not the ingest's to pay for
    shutil.rmtree(data, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(data), str(trust), *map(str, folders)],
        capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def sha256sum_seconds(files: list[Path]) -> float:
    start = time.perf_counter()
    for i in range(0, len(files), 500):
        subprocess.run(["sha256sum", *map(str, files[i : i + 500])], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dossiers", type=int, default=50)
    ap.add_argument("--per-dossier", type=int, default=20)
    ap.add_argument("--large-mb", type=int, default=2048)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--one-by-one", action="store_true", help="also time the dossiers ingested one at a time (no overlap)"
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="luutru-bench-", dir=args.dir))
    try:
        print(f"generating {args.dossiers} × {args.per_dossier} signed PDFs …", file=sys.stderr)
        folders, trust_root = make_corpus(root / "src", args.dossiers, args.per_dossier)
        trust = root / "trust"
        trust.mkdir()
        shutil.copy(trust_root, trust / "root.pem")
        files = sorted(p for f in folders for p in f.rglob("*.pdf"))
        mb = sum(p.stat().st_size for p in files) / 1e6
        base = sha256sum_seconds(files)
        many = run_child(root / "data-many", trust, folders)
        single = run_child(root / "data-many", trust, folders, "one-by-one") if args.one_by_one else None
        accepted = many["statuses"].count("accepted")
        docs = len(files)
        results: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "many": {
                "documents": docs, "dossiers": len(folders), "accepted_dossiers": accepted, "mb": round(mb, 1),
                "seconds": round(many["seconds"], 2), "documents_per_s": round(docs / many["seconds"], 1),
                "mb_per_s": round(mb / many["seconds"], 2), "peak_rss_mb": round(many["peak_rss_mb"], 1),
                "sha256sum_seconds": round(base, 3),
                "ratio_vs_sha256sum": round(base / many["seconds"], 4),
            },
        }  # fmt: skip
        if single is not None:
            results["many_one_by_one"] = {
                "seconds": round(single["seconds"], 2), "documents_per_s": round(docs / single["seconds"], 1),
                "peak_rss_mb": round(single["peak_rss_mb"], 1),
            }  # fmt: skip
        if args.large_mb:
            print(f"generating one {args.large_mb} MB file …", file=sys.stderr)
            large = make_large(root / "src", args.large_mb)
            big = large / "tai-lieu" / "ghi-hinh.mp4"
            base_large = sha256sum_seconds([big])
            one = run_child(root / "data-large", trust, [large])
            size_mb = big.stat().st_size / 1e6
            results["large"] = {
                "mb": round(size_mb), "status": one["statuses"][0], "seconds": round(one["seconds"], 2),
                "mb_per_s": round(size_mb / one["seconds"], 1), "peak_rss_mb": round(one["peak_rss_mb"], 1),
                "sha256sum_mb_per_s": round(size_mb / base_large, 1),
                "ratio_vs_sha256sum": round(base_large / one["seconds"], 3),
            }  # fmt: skip
        print(json.dumps(results, ensure_ascii=False, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
