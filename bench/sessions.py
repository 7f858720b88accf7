"""What server-side sessions cost a request: one indexed lookup, and a write at most once a minute.

Measures ``GET /healthz`` (one ``SELECT 1``) through the real app on a migrated SQLite catalog:

* anonymous — no session lookup (the baseline, measured in the same run);
* signed in — the session row looked up and the user loaded on every request, ``last_seen_at``
  written at most once a minute (the shipped policy);
* signed in, touch every request — the same with the throttle off (``touch_every = 0``), to show
  what the throttle saves.

Run: ``.venv/bin/python bench/sessions.py [--requests 500] [--rounds 5] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

# bench/ingest.py would shadow the ingest package: put the repository first instead of bench/.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


def _rate(client: Any, n: int, path: str = "/healthz") -> float:
    """Requests per second over ``n`` requests."""
    start = time.perf_counter()
    for _ in range(n):
        r = client.get(path)
        assert r.status_code == 200
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from flask.testing import FlaskClient
    from sqlalchemy import select

    from archive.catalog import User
    from archive.vntime import utcnow
    from luutru import demo
    from luutru.config import Settings
    from luutru.services import Services, prepare_data_dir
    from luutru.web.app import create_app
    from luutru.web.auth import POLICY_KEY, SID_KEY
    from luutru.web_sessions import SessionPolicy, start_session

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        prepare_data_dir(settings)
        services = Services.build(settings)
        with services.sessions.begin() as s:
            demo.seed(s)
        app = create_app(settings, services)

        def signed_in() -> FlaskClient:
            with services.sessions.begin() as s:
                user_id = s.scalar(select(User.id).where(User.username == "luutru"))
                assert user_id is not None
                sid = start_session(s, user_id, utcnow())
            client = app.test_client()
            with client.session_transaction() as sess:
                sess[SID_KEY] = sid
            return client

        policy: SessionPolicy = app.extensions[POLICY_KEY]
        every_policy = replace(policy, touch_every=policy.touch_every * 0)
        anon_client, throttled_client, every_client = app.test_client(), signed_in(), signed_in()
        _rate(anon_client, 200)  # warm up
        best = {"anonymous": 0.0, "throttled": 0.0, "every": 0.0}
        # Rounds interleave the three, so load from elsewhere on the machine hits all alike;
        # the best round of each counts.
        for _ in range(args.rounds):
            best["anonymous"] = max(best["anonymous"], _rate(anon_client, args.requests))
            app.extensions[POLICY_KEY] = policy
            best["throttled"] = max(best["throttled"], _rate(throttled_client, args.requests))
            app.extensions[POLICY_KEY] = every_policy
            best["every"] = max(best["every"], _rate(every_client, args.requests))
            app.extensions[POLICY_KEY] = policy
        anonymous, throttled, every = best["anonymous"], best["throttled"], best["every"]
        services.close()
    result = {
        "requests": args.requests,
        "rounds": args.rounds,
        "anonymous_rps": round(anonymous, 1),
        "signed_in_rps": round(throttled, 1),
        "signed_in_touch_every_request_rps": round(every, 1),
        "ratio_signed_in_vs_anonymous": round(throttled / anonymous, 3),
        "ratio_touch_every_vs_anonymous": round(every / anonymous, 3),
        "ms_added_per_request": round(1000 / throttled - 1000 / anonymous, 3),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
