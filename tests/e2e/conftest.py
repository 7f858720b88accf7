"""Browser tests: the real server (gunicorn, `luutru serve`) on a temp data dir, driven by Debian's chromium.

One server and one browser per session; a fresh browser context (cookies, storage) per test.
When a browser test fails, the page is saved to ``test-artifacts/screenshots/<test>.png``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from archive.catalog import (
    AccessMode,
    Agency,
    CopyStatus,
    Dossier,
    FileCopy,
    Package,
    PackageKind,
    PackageState,
    RecordState,
    StoredFile,
    Submission,
    SubmissionState,
)
from archive.vntime import utcnow
from luutru import demo
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from tests.support.clamav import install_test_signatures

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ROOT = Path(__file__).resolve().parents[2]
FAILURE_SHOTS = ROOT / "test-artifacts" / "screenshots"
# The README's screens are refreshed only on request (LUUTRU_DOC_SHOTS=1), so that a test run
# leaves the checkout as it found it; otherwise the same shots go to test-artifacts/.
DOC_SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("LUUTRU_DOC_SHOTS")
    else ROOT / "test-artifacts" / "doc-shots"
)
PASSWORD = demo.DEMO_PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed_holdings(services: Services) -> None:
    """A few dossiers, submissions and stored copies, so the dashboard has something to draw."""
    now = utcnow()
    with services.sessions.begin() as s:
        agencies = list(s.scalars(select(Agency).order_by(Agency.code)))
        n = 0
        for k, agency in enumerate(agencies):
            for year in (2021, 2022, 2023, 2024)[: 2 + k]:
                for _ in range(1 + (year + k) % 3):
                    n += 1
                    s.add(
                        Dossier(
                            code=f"{agency.code}.{year}.HS{n:03d}",
                            agency_id=agency.id,
                            title=f"Hồ sơ công việc số {n} năm {year}",
                            profile="TT05-2025",
                            access_mode=(AccessMode.OPEN, AccessMode.CONDITIONAL, AccessMode.SECRET)[n % 3],
                            end_date=date(year, 12, 31),
                            state=RecordState.UNDER_REVIEW if n % 7 == 0 else RecordState.ACTIVE,
                        )
                    )
        for i, state in enumerate((SubmissionState.ARCHIVED,) * 5 + (SubmissionState.IN_REVIEW,) * 2):
            s.add(Submission(agency_id=agencies[i % len(agencies)].id, state=state))
        s.add(Submission(agency_id=agencies[0].id, state=SubmissionState.REJECTED))
        s.flush()
        first = s.scalars(select(Dossier).order_by(Dossier.id)).first()
        assert first is not None
        package = Package(
            kind=PackageKind.AIP, state=PackageState.STORED, dossier_id=first.id, storage_key="aip/demo/v0001"
        )
        s.add(package)
        s.flush()
        for i in range(12):
            f = StoredFile(
                package_id=package.id, path=f"data/{i:02d}.pdf", size=350_000 * (i + 1), sha256="0" * 64
            )
            s.add(f)
            s.flush()
            for replica in ("r1", "r2"):
                status = CopyStatus.DAMAGED if (replica, i) == ("r2", 3) else CopyStatus.OK
                verified = now - timedelta(days=120 if i < 2 else 3)
                s.add(
                    FileCopy(
                        file_id=f.id, replica=replica, key=f.path, status=status, last_verified_at=verified
                    )
                )


@dataclass(frozen=True)
class Server:
    url: str
    settings: Settings


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`luutru serve` in a subprocess on a free port, over a migrated, demo-seeded data dir."""
    tmp = tmp_path_factory.mktemp("e2e")
    settings = Settings(data_dir=tmp / "data")
    prepare_data_dir(settings)
    install_test_signatures(settings)
    services = Services.build(settings)
    with services.sessions.begin() as s:
        demo.seed(s)
    _seed_holdings(services)
    services.close()
    port = _free_port()
    env = {
        **os.environ,
        "LUUTRU_DATA_DIR": str(settings.data_dir),
        "LUUTRU_PORT": str(port),
        # one browser signs in as many roles in quick succession from one address
        "LUUTRU_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "LUUTRU_CONFIG": str(tmp / "none.toml"),
    }
    luutru = Path(sys.executable).with_name("luutru")
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(luutru), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Server(url, settings)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Playwright gives every launch a fresh, temporary user-data-dir.
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport=VIEWPORT, locale="vi-VN")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILURE_SHOTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        pg.screenshot(path=str(FAILURE_SHOTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")


def doc_shot(page: Any, name: str) -> None:
    """Save a named screenshot for the docs (1280×800, the visible viewport only)."""
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_SHOTS / f"{name}.png"))
