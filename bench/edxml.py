"""edXML benchmark: a folder of 1,000 messages (one signed PDF each), against `sha256sum` in the same run.

Run by hand (never from the test suite):

    .venv/bin/python bench/edxml.py                           # 1,000 messages, 100 dossiers of 10
    .venv/bin/python bench/edxml.py --messages 200 --per-dossier 10 --large-mb 256 --json out.json

What is measured, in a fresh data directory (SQLite catalog, two local replicas):

* **intake** — ``stage_submission`` of the whole folder as one submission: every message parsed
  (push parser, no tree), every attachment decoded from base64 into staging, hashed, sniffed.
  Reported: messages/s, MB/s (of message bytes), peak RSS; and the same for a tenth of the
  messages, to show memory does not grow with their number.
* **transfer** — ``luutru transfer import`` (``ingest.transfer.import_edxml_folder``) grouping
  the messages into dossiers by a dossier list: intake, format identification, PDF/PDF-A,
  signature validation, metadata, review decision, one submission per dossier. Reported:
  messages/s, peak RSS. (Dossiers go to review: the export has no retention or access mode.)
* **one large message** — ``--large-mb`` MB of attachment in one message: MB/s and peak RSS.
* **baseline** — ``sha256sum`` over the same message files in the same run.

Generation is not timed. Each measurement runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
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
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

INTAKE = r"""
import json, resource, sys, time
from pathlib import Path
from ingest.intake import IntakeLimits, StagedSubmission, stage_submission
src, staging = Path(sys.argv[1]), Path(sys.argv[2])
start = time.perf_counter()
staged = stage_submission(src, staging, limits=IntakeLimits(max_files=100_000))
elapsed = time.perf_counter() - start
assert isinstance(staged, StagedSubmission), staged.findings[:3]
print(json.dumps({"seconds": elapsed, "documents": len(staged.documents),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TRANSFER = r"""
import json, resource, sys, time
from pathlib import Path
from archive.events import Agent
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from ingest.transfer import Grouping, import_edxml_folder
data, src, listing, trust = (Path(a) for a in sys.argv[1:5])
settings = Settings(data_dir=data)
prepare_data_dir(settings)
import shutil; shutil.copy(trust, settings.trust_path / "root.pem")
svc = Services.build(settings)
from archive.agencies import create_agency
with svc.sessions.begin() as s:
    create_agency(s, "000.00.00.H54", "Ủy ban nhân dân tỉnh Thái Bình")
start = time.perf_counter()
report = import_edxml_folder(svc.ingest, src, "000.00.00.H54", actor=Agent.organization("000.00.00.H54"),
                             grouping=Grouping.LIST, dossier_list=listing, state=data / "state.jsonl")
elapsed = time.perf_counter() - start
svc.close()
print(json.dumps({"seconds": elapsed, "counts": report.counts(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _generate(work: Path, messages: int, large_mb: int) -> tuple[Path, Path, Path, Path, Path]:
    from luutru.samples import pdfs
    from luutru.samples.edxml import Attachment, Message, write_message
    from luutru.samples.pki import TestPki

    pki = TestPki.create(work / "pki")
    letters = []
    for i in range(10):  # ten distinct signed letters, reused: signing is not what is measured
        base = pdfs.make_pdf(
            work / f"base-{i}.pdf", text=f"Công văn số {i}/UBND", pdfa="2b", signature_fields=("NguoiKy",)
        )
        letters.append(
            pdfs.sign_pdf(
                base, work / f"letter-{i}.pdf", pki.person.signer, field="NguoiKy", crls=[pki.crl_der]
            )
        )
    folder, tenth = work / "export", work / "export-tenth"
    folder.mkdir()
    tenth.mkdir()
    for i in range(messages):
        m = Message(number=str(1000 + i), attachments=(Attachment(letters[i % 10], name=f"vb-{i}.pdf"),))
        write_message(folder / f"vb-{i:05d}.edxml", m)
        if i < messages // 10:
            shutil.copy(folder / f"vb-{i:05d}.edxml", tenth)
    large_dir = work / "large"
    large_dir.mkdir()
    blob = work / "large.bin"
    with blob.open("wb") as out:
        for _ in range(large_mb):
            out.write(os.urandom(1 << 20))
    write_message(
        large_dir / "large.edxml",
        Message(attachments=(Attachment(blob, content_type="application/octet-stream"),)),
    )
    blob.unlink()
    return folder, tenth, large_dir / "large.edxml", pki.root, work


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--per-dossier", type=int, default=10)
    parser.add_argument("--large-mb", type=int, default=256)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-edxml-") as tmp:
        work = Path(tmp)
        folder, tenth, large, root, _ = _generate(work, args.messages, args.large_mb)
        size = sum(p.stat().st_size for p in folder.iterdir())
        listing = work / "list.csv"
        with listing.open("w", encoding="utf-8") as out:
            out.write("dossier,message\n")
            for i, p in enumerate(sorted(folder.iterdir())):
                out.write(f"HS-{i // args.per_dossier:04d},{p.name}\n")
        start = time.perf_counter()
        subprocess.run(f"sha256sum {folder}/*.edxml > /dev/null", shell=True, check=True)
        baseline = time.perf_counter() - start
        intake = _child(INTAKE, str(folder), str(work / "staging-1"))
        intake_tenth = _child(INTAKE, str(tenth), str(work / "staging-2"))
        big = _child(INTAKE, str(large), str(work / "staging-3"))
        shutil.rmtree(work / "staging-1")
        shutil.rmtree(work / "staging-3")
        transfer = _child(TRANSFER, str(work / "data"), str(folder), str(listing), str(root))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "messages": args.messages, "message_mb": round(size / 2**20, 1),
        "sha256sum_seconds": round(baseline, 3),
        "intake": {**intake, "messages_per_s": round(args.messages / intake["seconds"], 1),
                   "ratio_to_sha256sum": round(intake["seconds"] / baseline, 1)},
        "intake_tenth": intake_tenth,
        "large_message": {**big, "mb_per_s": round(args.large_mb * 4 / 3 / big["seconds"], 1)},
        "transfer": {**transfer, "messages_per_s": round(args.messages / transfer["seconds"], 1),
                     "ratio_to_sha256sum": round(transfer["seconds"] / baseline, 1)},
    }  # fmt: skip
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
