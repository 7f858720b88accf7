"""The deployed job path: huey on Redis, a real ``luutru worker`` consumer, a scheduled task run by it.

The test enqueues the periodic index drain exactly as huey's scheduler does (``read_periodic`` →
``enqueue``, into Redis), a ``luutru worker`` process takes it from Redis and runs it; its effect
is what counts (huey keeps no result for periodic tasks): the catalog's index queue empties and
the dossier becomes searchable.
Each run has its own queue name (its own Redis key prefix), removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import redis

from archive.agencies import create_agency
from archive.events import Agent
from archive.visibility import Visibility
from luutru.config import Settings
from luutru.jobs import make_huey
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from search.index.base import SearchQuery
from tests.support.clamav import install_test_signatures

ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT_S = 60


@pytest.fixture
def redis_settings(tmp_path: Path, redis_url: str) -> Iterator[Settings]:
    settings = Settings(
        data_dir=tmp_path / "data",
        queue_backend="redis",
        redis_url=redis_url,
        queue_name=f"luutru-test-{uuid.uuid4().hex[:12]}",
    )
    yield settings
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"huey.*{settings.queue_name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LUUTRU_CONFIG": str(settings.data_dir / "none.toml"),
        "LUUTRU_DATA_DIR": str(settings.data_dir),
        "LUUTRU_QUEUE_BACKEND": settings.queue_backend,
        "LUUTRU_REDIS_URL": settings.redis_url,
        "LUUTRU_QUEUE_NAME": settings.queue_name,
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "luutru.cli.main", "worker", "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def test_redis_worker_runs_the_scheduled_index_drain(
    redis_settings: Settings, tmp_path: Path, pki: TestPki
) -> None:
    settings = redis_settings
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    svc = Services.build(settings)
    with svc.session() as s, s.begin():
        create_agency(s, AGENCY, "Ủy ban nhân dân tỉnh Thái Bình")
    src = make_dossier(
        tmp_path / "src", pki, notation="09.QH", extra_files=False,
        subjects=("Quy hoạch mạng lưới trường học huyện Kiến Xương",),
    )  # fmt: skip
    result = svc.ingest.ingest(src, AGENCY, actor=Agent.person("vanthu"))
    assert result.status == "accepted", [f.code for f in result.findings]
    queued = svc.search.pending()
    assert queued > 0
    query = SearchQuery(text="truong hoc Kien Xuong")
    assert svc.search.search(query, Visibility.everything()).total == 0  # not indexed yet

    huey = make_huey(settings)
    (drain,) = [t for t in huey.read_periodic(datetime(2026, 3, 2, 8, 41)) if t.name == "search.drain"]
    worker = _worker(settings, tmp_path / "worker.log")
    try:
        huey.enqueue(drain)
        assert huey.pending_count() >= 1 or svc.search.pending() == 0  # in Redis, or already taken
        deadline = time.monotonic() + RESULT_TIMEOUT_S
        while time.monotonic() < deadline and worker.poll() is None:
            if svc.search.pending() == 0 and huey.pending_count() == 0:
                break  # the worker took the task (and any the scheduler added) from Redis and ran it
            time.sleep(0.2)
        assert huey.pending_count() == 0
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "redis queue" in log, log  # the worker really ran on the Redis backend
    assert svc.search.pending() == 0
    hits = svc.search.search(query, Visibility.everything())
    assert hits.total >= 1 and hits.hits[0].dossier_id is not None
    svc.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))
