"""Acceptance: the README's path, walked as a new user walks it.

In an empty folder (the working directory; no ``LUUTRU_DATA_DIR``, no ``luutru.toml``: the default
relative ``luutru-data``), ``luutru demo`` is started as ``make demo`` starts it — ingest, then
serve, in the same command, with the server's default worker processes; only ``LUUTRU_PORT``
is set. One served demo for the whole module (the full demo corpus with OCR takes minutes).
Then every role opens the pages that show page images, an agency submits with the token the
demo printed (docs/examples/submit_dossier.py), and the server is killed (SIGKILL to its whole
process group) while a submission is validating and restarted with ``luutru serve``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from archive.catalog import (
    AccessMode,
    Document,
    Dossier,
    Event,
    EventType,
    StoredFile,
    Submission,
    SubmissionState,
)
from luutru import demo
from luutru.config import Settings
from luutru.services import Services
from tests.e2e.conftest import VIEWPORT, _free_port, sign_in

ROOT = Path(__file__).resolve().parents[2]
LUUTRU = Path(sys.executable).with_name("luutru")
SUBMIT = ROOT / "docs" / "examples" / "submit_dossier.py"
DEMO_TIMEOUT_S = 20 * 60  # the whole corpus, OCR included, on a loaded 2-core machine
DECIDED = {"accepted", "archived", "in_review", "rejected"}
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
TEMPLATE = "H54.07.2024.01.TCCB"  # a demo dossier of Sở Nội vụ, the agency of the printed token


@dataclass
class UserDemo:
    folder: Path  # the working directory: the user's fresh clone
    port: int
    env: dict[str, str]
    password: str = ""
    token: str = ""
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> Settings:
        """What any luutru command started in the folder reads (the test looks at the same data)."""
        return Settings.load(environ={}, toml_path=self.folder / "luutru.toml", cwd=self.folder)

    def start(self, *argv: str) -> None:
        log = self.folder / f"{argv[0]}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(LUUTRU), *argv], cwd=self.folder, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.output()[-4000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout_s} s:\n{self.output()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole process group: master, workers, recovery, validation pools."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


@pytest.fixture(scope="module")
def user_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserDemo]:
    folder = tmp_path_factory.mktemp("fresh-clone")
    port = _free_port()
    # A new user's shell: no LUUTRU_* variable but the port (the tests' own are dropped).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUUTRU_")}
    env["LUUTRU_PORT"] = str(port)
    run = UserDemo(folder, port, env)
    run.start("demo")
    try:
        run.wait_healthy(DEMO_TIMEOUT_S)
        out = run.output()
        password = re.search(r"demo password \(every demo user\): (\S+)", out)
        token = re.search(r"API token \(.*?\): (\S+)", out)
        assert password and token, out
        run.password, run.token = password.group(1), token.group(1)
        assert not (ROOT / "luutru" / "web" / "luutru-data").exists()
        assert (folder / "luutru-data" / "catalog.db").is_file()
        yield run
    finally:
        if run.proc is not None and run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGTERM)
            try:
                run.proc.wait(timeout=20)  # graceful_timeout is 10 s
            except subprocess.TimeoutExpired:
                os.killpg(run.proc.pid, signal.SIGKILL)
                run.proc.wait(timeout=30)
                raise AssertionError("the server did not stop within 20 s of SIGTERM") from None


def _image_pages(settings: Settings) -> dict[str, list[str]]:
    """Pages that show page images, by kind, read from the demo's catalog."""
    services = Services.build(settings)
    try:
        with services.session() as s:
            pdf_docs = list(
                s.execute(
                    select(Document.id, Dossier.id, Dossier.access_mode, Document.access_mode)
                    .join(Dossier, Document.dossier_id == Dossier.id)
                    .join(StoredFile, StoredFile.document_id == Document.id)
                    .where(StoredFile.mime == "application/pdf")
                    .order_by(Document.id)
                    .distinct()
                )
            )
            review = list(
                s.scalars(select(Submission.id).where(Submission.state == SubmissionState.IN_REVIEW).limit(2))
            )
    finally:
        services.close()
    open_docs = [
        (doc, dossier)
        for doc, dossier, mode, doc_mode in pdf_docs
        if mode is AccessMode.OPEN and doc_mode is AccessMode.OPEN
    ]
    pages = {
        "ingest thumbnail": [f"/console/ingest/{sid}" for sid in review],
        "console document page": [f"/records/documents/{doc}" for doc, *_ in pdf_docs[:2]],
        "reading room": [f"/portal/records/{dossier}/documents/{doc}" for doc, dossier in open_docs[:2]],
    }
    assert all(pages.values()), pages  # the demo corpus has each kind
    return pages


def _visit(page: Any, path: str) -> tuple[int, list[tuple[str, int, bytes]], list[str]]:
    """Open ``path``; its status, every image response (url, status, first bytes), broken <img>s."""
    images: list[tuple[str, int, bytes]] = []

    def on_response(response: Any) -> None:
        if response.request.resource_type == "image":
            body = response.body() if response.status == 200 else b""
            images.append((response.url, response.status, body[:8]))

    page.on("response", on_response)
    try:
        response = page.goto(path)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle", timeout=60_000)
        broken = page.eval_on_selector_all(
            "img", "els => els.filter(e => e.complete && e.naturalWidth === 0).map(e => e.src)"
        )
    finally:
        page.remove_listener("response", on_response)
    return response.status if response else 0, images, broken


def test_every_role_sees_every_page_image(user_demo: UserDemo, browser: Any) -> None:
    pages = _image_pages(user_demo.settings())
    seen: dict[str, int] = dict.fromkeys(pages, 0)
    for username, *_ in demo.DEMO_USERS:
        context = browser.new_context(base_url=user_demo.url, viewport=VIEWPORT, locale="vi-VN")
        context.set_default_timeout(60_000)
        page = context.new_page()
        try:
            sign_in(page, username, user_demo.password)
            page.wait_for_load_state("networkidle")
            assert "/login" not in page.url, f"{username} could not sign in"
            for kind, paths in pages.items():
                for path in paths:
                    status, images, broken = _visit(page, path)
                    if status in (403, 404):  # not this role's page (or not its records)
                        continue
                    assert status == 200, (username, path, status)
                    bad = [
                        (u, st, head)
                        for u, st, head in images
                        if st != 200 or not head.startswith((PNG, JPEG))
                    ]
                    assert bad == [] and broken == [], (username, path, bad, broken)
                    page_images = [u for u, *_ in images if "/pages/" in u or "preview.png" in u]
                    seen[kind] += len(page_images)
        finally:
            context.close()
    assert all(n > 0 for n in seen.values()), seen  # some role saw page images of every kind


def _new_dossier(settings: Settings, dest: Path, code: str, copies: int = 1) -> Path:
    """A dossier for the token's agency: a demo dossier's signed PDFs under a new file code
    (``copies`` times each: more files, a longer validation)."""
    source = settings.data_dir / "demo-source" / TEMPLATE
    metadata = json.loads((source / "metadata.json").read_text(encoding="utf-8"))
    (dest / "tai-lieu").mkdir(parents=True)
    documents: list[dict[str, Any]] = []
    for copy in range(copies):
        for doc in metadata["documents"]:
            name = Path(doc["file"])
            rel = f"tai-lieu/{copy:02d}-{name.name}"
            shutil.copy(source / name, dest / rel)
            documents.append({**doc, "file": rel, "docCode": f"{code}.{len(documents) + 1:07d}"})
    metadata["dossier"] = {**metadata["dossier"], "fileCode": code, "totalDoc": len(documents)}
    metadata["documents"] = documents
    (dest / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
    return dest


def test_an_agency_submits_with_the_printed_token(user_demo: UserDemo, tmp_path: Path) -> None:
    folder = _new_dossier(user_demo.settings(), tmp_path / "ho-so", "H54.07.2025.90.TCCB")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(SUBMIT), str(folder), "--url", user_demo.url, "--token", user_demo.token],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout)
    assert result["state"] in DECIDED, result
    assert time.monotonic() - started < 120

    # A second one is withdrawn before it is finalised.
    second = _new_dossier(user_demo.settings(), tmp_path / "ho-so-2", "H54.07.2025.91.TCCB")
    metadata = json.loads((second / "metadata.json").read_text(encoding="utf-8"))
    for doc in metadata["documents"]:
        doc["size"] = (second / doc["file"]).stat().st_size
    with user_demo.api() as api:
        plan = api.post("/api/v1/submissions", json={"metadata": metadata})
        assert plan.status_code == 201, plan.text
        sid = plan.json()["id"]
        withdrawn = api.post(f"/api/v1/submissions/{sid}/withdraw", json={"reason": "gửi nhầm"})
        assert withdrawn.status_code == 200, withdrawn.text
        assert api.get(f"/api/v1/submissions/{sid}").json()["state"] == "withdrawn"


def test_a_submission_killed_while_validating_reaches_a_decision_after_restart(
    user_demo: UserDemo, tmp_path: Path
) -> None:
    folder = _new_dossier(user_demo.settings(), tmp_path / "ho-so", "H54.07.2025.92.TCCB", copies=8)
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    for doc in metadata["documents"]:
        doc["size"] = (folder / doc["file"]).stat().st_size
    with user_demo.api() as api:
        plan = api.post("/api/v1/submissions", json={"metadata": metadata})
        assert plan.status_code == 201, plan.text
        sid = plan.json()["id"]
        for f in plan.json()["files"]:
            put = api.put(f["upload_url"], content=(folder / f["path"]).read_bytes())
            assert put.status_code in (200, 201), put.text

        def finalise() -> None:
            with contextlib.suppress(httpx.TransportError):  # the server is killed under it
                api.post(f"/api/v1/submissions/{sid}/finalise", timeout=120)

        thread = threading.Thread(target=finalise, daemon=True)
        thread.start()
        deadline, state = time.monotonic() + 60, "uploading"
        while time.monotonic() < deadline and state != "validating":
            state = api.get(f"/api/v1/submissions/{sid}").json()["state"]
            assert state not in DECIDED, "validated before the kill: make the dossier bigger"
            time.sleep(0.02)
        assert state == "validating"
    user_demo.kill()
    thread.join(timeout=30)

    services = Services.build(user_demo.settings())
    try:
        with services.session() as s:
            stuck = s.scalars(
                select(Submission).where(Submission.dossier_code == "H54.07.2025.92.TCCB")
            ).one()
            assert stuck.state is SubmissionState.VALIDATING
            stuck_id = stuck.id
    finally:
        services.close()

    user_demo.start("serve")  # same folder, same environment: nobody touches the submission
    user_demo.wait_healthy(120)
    deadline, state = time.monotonic() + 120, "validating"
    with user_demo.api() as api:
        while time.monotonic() < deadline and state not in DECIDED:
            time.sleep(1)
            state = api.get(f"/api/v1/submissions/{sid}").json()["state"]
    assert state in DECIDED, user_demo.output()[-4000:]
    services = Services.build(user_demo.settings())
    try:
        with services.session() as s:
            detail = s.scalars(
                select(Event.detail).where(Event.object_id == stuck_id, Event.type == EventType.RECOVERY)
            ).all()
    finally:
        services.close()
    assert any("resumed after an interruption" in d for d in detail), detail
