"""Web benchmark: concurrent users on a served archive, beside the same requests one at a time.

Run by hand (never from the test suite), on an archive folder made by ``luutru demo``:

    .venv/bin/python bench/web.py --folder /tmp/demo                  # starts `luutru serve` there
    .venv/bin/python bench/web.py --folder /tmp/demo --url http://127.0.0.1:8080   # a running server
    .venv/bin/python bench/web.py --folder /tmp/big --from-demo /tmp/demo --dossiers-synthetic 100000

Four requests, picked at random by each simulated user: the portal search (varied queries built
from the catalog's dossier titles, with and without diacritics, one to three words), an open
dossier's portal page, a reading-room page image, and ``GET /api/v1/submissions/{id}`` with an
agency token. First ``--serial`` requests of each kind one at a time (the baseline), then
``--users`` (default 10 and 50) concurrent users for ``--duration`` seconds each. Reported per
kind: requests, p50/p95/p99 (ms), requests/s and errors (any status other than 200, or a
transport error). Goal at 50 users on the 2-core machine: search p95 ≤ 300 ms, dossier page
p95 ≤ 150 ms, 0 errors. Only loopback traffic; every loop is bounded by the duration.

``--dossiers-synthetic N`` first copies the demo archive ``--from-demo`` into ``--folder`` and
adds N dossiers (one document each) straight into its catalog and search index — a bulk seed of
the rows and index entries, not an ingest (no packages, so those dossiers have no page images:
the image and API requests still go to the demo's records).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from archive.catalog import AccessMode, Agency, Document, Dossier, StoredFile, Submission
from luutru.config import Settings
from luutru.services import Services
from search.folding import fold

LUUTRU = Path(sys.executable).with_name("luutru")
KINDS = ("search", "dossier", "page_image", "api_submission")
AGENCY = "000.00.07.H54"  # the demo's agency with submissions (Sở Nội vụ)


class Targets:
    """What the requests ask for, read from the archive's catalog."""

    def __init__(self, settings: Settings, rng: random.Random) -> None:
        services = Services.build(settings)
        try:
            with services.session() as s:
                titles = list(s.scalars(select(Dossier.title).limit(5000)))
                self.dossiers = list(
                    s.scalars(select(Dossier.id).where(Dossier.access_mode == AccessMode.OPEN).limit(5000))
                )
                self.images = [
                    f"/portal/records/{d}/files/{f}/pages/1.png"
                    for d, f in s.execute(
                        select(Dossier.id, StoredFile.id)
                        .join(Document, Document.dossier_id == Dossier.id)
                        .join(StoredFile, StoredFile.document_id == Document.id)
                        .where(
                            StoredFile.mime == "application/pdf",
                            Dossier.access_mode == AccessMode.OPEN,
                            Document.access_mode == AccessMode.OPEN,
                        )
                        .limit(200)
                    )
                ]
                agency = s.scalar(select(Agency.id).where(Agency.code == AGENCY))
                self.submissions = list(
                    s.scalars(select(Submission.id).where(Submission.agency_id == agency).limit(200))
                )
        finally:
            services.close()
        assert self.dossiers and self.images and self.submissions, "not a demo archive?"
        self.queries = _queries(titles, rng)
        self.rng = rng

    def path(self, kind: str) -> str:
        r = self.rng
        if kind == "search":
            return f"/portal/search?q={r.choice(self.queries)}"
        if kind == "dossier":
            return f"/portal/dossiers/{r.choice(self.dossiers)}"
        if kind == "page_image":
            return r.choice(self.images)
        return f"/api/v1/submissions/{r.choice(self.submissions)}"


def _queries(titles: list[str], rng: random.Random, n: int = 300) -> list[str]:
    words = [w for t in titles for w in t.split() if len(w) > 2]
    out = []
    for i in range(n):
        start = rng.randrange(max(1, len(words) - 3))
        text = " ".join(words[start : start + 1 + i % 3])
        out.append(fold(text) if i % 2 else text)
    return out


async def _one(client: httpx.AsyncClient, path: str) -> tuple[float, bool]:
    t0 = time.perf_counter()
    try:
        r = await client.get(path)
        await r.aread()
        ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - t0, ok


async def _serial(
    url: str, headers: dict[str, str], targets: Targets, n: int
) -> dict[str, list[tuple[float, bool]]]:
    out: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        for kind in KINDS:
            for _ in range(n):
                out[kind].append(await _one(client, targets.path(kind)))
    return out


async def _load(
    url: str, headers: dict[str, str], targets: Targets, users: int, duration: float
) -> tuple[dict[str, list[tuple[float, bool]]], float]:
    out: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as client:
        start = time.perf_counter()
        end = start + duration

        async def user() -> None:
            while time.perf_counter() < end:
                kind = targets.rng.choice(KINDS)
                out[kind].append(await _one(client, targets.path(kind)))

        await asyncio.gather(*(user() for _ in range(users)))
        return out, time.perf_counter() - start


def _summary(samples: dict[str, list[tuple[float, bool]]], elapsed: float | None) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for kind in KINDS:
        got = samples.get(kind, [])
        ms = sorted(t * 1000 for t, _ in got)
        if not ms:
            continue
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
        span = elapsed if elapsed is not None else sum(ms) / 1000
        table[kind] = {
            "requests": len(ms),
            "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1),
            "req_s": round(len(ms) / span, 1),
            "errors": sum(1 for _, ok in got if not ok),
        }
    return table


def _seed_synthetic(folder: Path, demo: Path, n: int) -> None:
    """Copy the demo archive, then add ``n`` dossiers with one document each to its catalog and index."""
    from datetime import date, timedelta

    from search.index.base import IndexDoc
    from search.service import open_index

    if folder.exists():
        raise SystemExit(f"{folder} exists: --dossiers-synthetic seeds a new folder")
    shutil.copytree(demo, folder, symlinks=True)
    settings = Settings.load(environ={}, toml_path=folder / "luutru.toml", cwd=folder)
    services = Services.build(settings)
    rng = random.Random(5)
    titles = [t for t in Targets(settings, rng).queries if len(t) > 12] or ["hồ sơ công tác"]
    t0 = time.perf_counter()
    with services.session() as s:
        agencies = list(s.execute(select(Agency.id, Agency.code, Agency.name)))
    index = open_index(settings.search_backend, fts5_path=settings.search_db_path, es_url="", es_index="")
    batch = 5000
    for first in range(0, n, batch):
        count = min(batch, n - first)
        with services.sessions.begin() as s:
            dossiers = []
            for i in range(first, first + count):
                agency_id, _, _ = agencies[i % len(agencies)]
                dossiers.append(
                    Dossier(
                        code=f"H54.SYN.{i:07d}", agency_id=agency_id, title=f"Hồ sơ {rng.choice(titles)} số {i}",
                        profile="tt05-2025", maintenance="02", access_mode=AccessMode.OPEN,
                        start_date=date(2000, 1, 1) + timedelta(days=i % 8000), descriptive={},
                    )
                )  # fmt: skip
            s.add_all(dossiers)
            s.flush()
            docs = [
                Document(
                    dossier_id=d.id, ordinal=1, doc_code=f"{d.code}.0000001", type_code="02",
                    subject=f"Quyết định về {rng.choice(titles)}", access_mode=AccessMode.OPEN, descriptive={},
                )
                for d in dossiers
            ]  # fmt: skip
            s.add_all(docs)
            s.flush()
            entries: list[IndexDoc] = []
            for k, (d, doc) in enumerate(zip(dossiers, docs, strict=True)):
                _, code, name = agencies[(first + k) % len(agencies)]
                entries.append(
                    IndexDoc(
                        id=f"doc:{doc.id}", dossier_id=d.id, dossier_code=d.code, title=d.title,
                        subject=doc.subject or "", agency_code=code, agency_name=name, doc_type="02",
                        issued_date=d.start_date, retention="02", access_mode="01", file_format="pdf",
                    )
                )  # fmt: skip
        index.upsert(entries)
        print(f"seeded {first + count:,}/{n:,} dossiers ({time.perf_counter() - t0:.0f} s)", flush=True)
    index.close()
    services.close()


def _dossiers(settings: Settings) -> int:
    from sqlalchemy import func

    services = Services.build(settings)
    try:
        with services.session() as s:
            return int(s.scalar(select(func.count()).select_from(Dossier)) or 0)
    finally:
        services.close()


def _serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUUTRU_")}
    env["LUUTRU_PORT"] = str(port)
    log = (folder / "bench-serve.log").open("wb")
    proc = subprocess.Popen(
        [str(LUUTRU), "serve"],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("the server did not come up in 120 s")


def _token(folder: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUUTRU_")}
    out = subprocess.run(
        [str(LUUTRU), "token", "create", AGENCY, "--name", f"bench {time.time():.0f}", "--scope", "read-own", "--json"],
        cwd=folder, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return str(json.loads(out.stdout)["token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="the archive's folder (luutru demo's cwd)")
    parser.add_argument("--url", default=None, help="a running server on that folder (default: start one)")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--users", default="10,50")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--serial", type=int, default=30, help="one-at-a-time requests per kind")
    parser.add_argument("--dossiers-synthetic", type=int, default=0)
    parser.add_argument("--from-demo", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder.resolve()
    if args.dossiers_synthetic:
        if args.from_demo is None:
            raise SystemExit("--dossiers-synthetic needs --from-demo DEMO_FOLDER")
        _seed_synthetic(folder, args.from_demo.resolve(), args.dossiers_synthetic)
    settings = Settings.load(environ={}, toml_path=folder / "luutru.toml", cwd=folder)
    targets = Targets(settings, random.Random(11))
    headers = {"Authorization": f"Bearer {_token(folder)}"}
    proc = None if args.url else _serve(folder, args.port)
    url = args.url or f"http://127.0.0.1:{args.port}"
    report: dict[str, Any] = {
        "url": url, "cpus": os.cpu_count(), "duration_s": args.duration, "dossiers": _dossiers(settings)
    }  # fmt: skip
    try:
        serial = asyncio.run(_serial(url, headers, targets, args.serial))
        report["one_at_a_time"] = _summary(serial, None)
        for users in (int(u) for u in args.users.split(",")):
            samples, elapsed = asyncio.run(_load(url, headers, targets, users, args.duration))
            report[f"users_{users}"] = _summary(samples, elapsed)
            print(f"{users} users done", file=sys.stderr, flush=True)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
