"""Submit a dossier folder to luutru through the REST API (httpx): create, upload in chunks, finalise, poll.

    python docs/examples/submit_dossier.py HO-SO/ --url https://luutru.example.vn --token lt_xxx.yyy

The folder holds ``metadata.json`` and the files it lists (docs/submission-format.md). Each
file is sent in chunks with ``Content-Range``; after an interruption the script asks the
server where the file stands (``HEAD`` → ``Upload-Offset``) and continues from there. The same
``--key`` (Idempotency-Key) on a retry returns the same submission instead of a second one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

WAITING = {"uploading", "received", "validating"}


def _check(r: httpx.Response) -> dict[str, Any]:
    if r.status_code >= 400:
        problem = r.json() if r.headers.get("content-type", "").startswith("application/problem+json") else {}
        raise SystemExit(f"{r.status_code} {problem.get('code', '')}: {problem.get('detail_vi') or r.text}")
    body: dict[str, Any] = r.json()
    return body


def upload_file(client: httpx.Client, url: str, path: Path, chunk_size: int) -> None:
    """Send ``path`` to ``url`` in chunks, resuming from the server's offset."""
    size = path.stat().st_size
    if size == 0:
        _check(client.put(url, content=b""))
        return
    offset = int(client.head(url).headers.get("Upload-Offset", "0"))
    with path.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            chunk = fh.read(chunk_size)
            end = offset + len(chunk) - 1
            r = client.put(url, content=chunk, headers={"Content-Range": f"bytes {offset}-{end}/{size}"})
            if r.status_code == 409 and "offset" in r.json():  # someone else moved on: follow the server
                offset = int(r.json()["offset"])
                continue
            offset = int(_check(r)["received_bytes"])


def submit(
    client: httpx.Client,
    folder: Path,
    *,
    chunk_size: int = 8 << 20,
    key: str | None = None,
    poll_s: float = 2.0,
) -> dict[str, Any]:
    """Create, upload, finalise, then poll until the archive has decided; return the submission."""
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    for doc in metadata["documents"]:
        doc.setdefault("size", (folder / doc["file"]).stat().st_size)
    headers = {"Idempotency-Key": key} if key else {}
    plan = _check(client.post("/api/v1/submissions", json={"metadata": metadata}, headers=headers))
    chunk_size = min(chunk_size, int(plan.get("chunk_size", chunk_size)))
    for f in plan["files"]:
        if not f["complete"]:
            upload_file(client, f["upload_url"], folder / f["path"], chunk_size)
    state = _check(client.post(plan["links"]["finalise"]))
    while state["state"] in WAITING:
        time.sleep(poll_s)
        state = _check(client.get(plan["links"]["self"]))
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--url", required=True, help="base URL of the archive, e.g. https://luutru.example.vn"
    )
    parser.add_argument("--token", required=True, help="API token: <prefix>.<secret>")
    parser.add_argument("--chunk-size", type=int, default=8 << 20)
    parser.add_argument("--key", default=None, help="Idempotency-Key, e.g. the dossier code")
    args = parser.parse_args(argv)
    auth = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, headers=auth, timeout=httpx.Timeout(30.0, read=600.0)) as client:
        result = submit(client, args.folder, chunk_size=args.chunk_size, key=args.key)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    for reason in result.get("reasons", []):
        print(f"- {reason['code']}: {reason['message_vi']}", file=sys.stderr)
    return 0 if result["state"] in ("accepted", "archived", "in_review") else 1


if __name__ == "__main__":
    raise SystemExit(main())
