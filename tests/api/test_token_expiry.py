"""API tokens with an expiry and a last-used time: console, CLI and the API's refusal."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, update

from archive.catalog import Agency, ApiToken, Role, TokenScope
from archive.vntime import VN_TZ, utcnow, vn_today
from luutru import accounts
from luutru.cli.main import cli
from luutru.samples.dossiers import AGENCY
from tests.api.harness import Api


def _token(api: Api, prefix: str) -> ApiToken:
    with api.services.session() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        assert token is not None
        return token


def _issue(api: Api, days: int | None) -> str:
    with api.services.sessions.begin() as s:
        agency = s.scalar(select(Agency).where(Agency.code == AGENCY))
        assert agency is not None
        expires = utcnow() + timedelta(days=days) if days is not None else None
        secret = accounts.issue_token(s, agency, "hết hạn", [TokenScope.READ_OWN], expires_at=expires).secret
    api.tokens["x"] = secret
    return secret.split(".")[0]


def test_expired_token_is_refused_with_a_bilingual_problem(api: Api) -> None:
    prefix = _issue(api, days=30)
    assert api.call("GET", "/submissions", "x").status_code == 200
    with api.services.sessions.begin() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.prefix == prefix)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = api.call("GET", "/submissions", "x")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "auth.token_expired"
    assert "hết hạn" in body["detail_vi"] and "expired" in body["detail"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # a revoked token keeps its own answer; an unknown secret never learns the token expired
    wrong = prefix + ".sai"
    r = api.client().get("/api/v1/submissions", headers={"Authorization": f"Bearer {wrong}"})
    assert r.get_json()["code"] == "auth.invalid_token"


def test_token_without_expiry_lives_until_revoked(api: Api) -> None:
    prefix = _issue(api, days=None)
    assert _token(api, prefix).expires_at is None
    assert api.call("GET", "/submissions", "x").status_code == 200


def test_expiry_must_be_in_the_future(api: Api) -> None:
    with api.services.sessions.begin() as s:
        agency = s.scalar(select(Agency).where(Agency.code == AGENCY))
        assert agency is not None
        try:
            accounts.issue_token(
                s, agency, "cũ", [TokenScope.READ_OWN], expires_at=utcnow() - timedelta(days=1)
            )
        except ValueError:
            pass
        else:
            raise AssertionError("a token expiring in the past was issued")


def test_last_used_is_written_at_most_once_a_minute(api: Api) -> None:
    prefix = _issue(api, days=1)
    assert _token(api, prefix).last_used_at is None
    assert api.call("GET", "/submissions", "x").status_code == 200
    first = _token(api, prefix).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=10)
    assert api.call("GET", "/submissions", "x").status_code == 200
    assert _token(api, prefix).last_used_at == first  # within the minute: no write
    earlier = utcnow() - timedelta(minutes=2)
    with api.services.sessions.begin() as s:
        s.execute(update(ApiToken).where(ApiToken.prefix == prefix).values(last_used_at=earlier))
    assert api.call("GET", "/submissions", "x").status_code == 200
    assert _token(api, prefix).last_used_at > earlier + timedelta(minutes=1)  # type: ignore[operator]


def test_cli_token_create_with_expiry(api: Api, tmp_path: Path) -> None:
    env = {"LUUTRU_DATA_DIR": str(api.settings.data_dir), "LUUTRU_CONFIG": str(tmp_path / "none.toml")}
    runner = CliRunner()
    day = (vn_today() + timedelta(days=10)).isoformat()
    r = runner.invoke(
        cli,
        ["token", "create", AGENCY, "--name", "QLVB", "--scope", "read-own", "--expires", day, "--json"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["expires_at"] == f"{(vn_today() + timedelta(days=11)).isoformat()}T00:00:00+07:00"
    token = _token(api, out["prefix"])
    assert token.expires_at is not None
    past = runner.invoke(
        cli,
        [
            "token",
            "create",
            AGENCY,
            "--name",
            "QLVB",
            "--scope",
            "read-own",
            "--expires",
            vn_today().isoformat(),
        ],
        env=env,
    )
    assert past.exit_code == 2 and "sau hôm nay" in past.output
    bad = runner.invoke(
        cli, ["token", "create", AGENCY, "--name", "QLVB", "--scope", "read-own", "--expires", "mai"], env=env
    )
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_console_issues_a_token_with_an_expiry(api: Api) -> None:
    """The console form's "Valid until" day: the token lives through that day, Vietnam time."""
    from tests.web.conftest import csrf_token

    with api.services.sessions.begin() as s:
        accounts.create_user(s, "quantri", "Quản trị", "mat-khau-du-dai-1", [Role.ADMINISTRATOR])
    client = api.client()
    r = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "username": "quantri", "password": "mat-khau-du-dai-1"},
    )
    assert r.status_code == 302
    day = vn_today() + timedelta(days=3)
    r = client.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_token(client, "/admin/tokens"),
            "name": "QLVB",
            "agency": AGENCY,
            "scopes": "read-own",
            "expires_on": day.isoformat(),
        },
    )
    assert r.status_code == 201
    secret = re.search(r"data-secret>([^<]+)<", r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    token = _token(api, secret.split(".")[0])
    assert token.expires_at is not None
    assert token.expires_at == datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN_TZ)
    r = client.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_token(client, "/admin/tokens"),
            "name": "QLVB",
            "agency": AGENCY,
            "scopes": "read-own",
            "expires_on": vn_today().isoformat(),
        },
        follow_redirects=True,
    )
    assert "Ngày hết hạn phải sau hôm nay" in r.get_data(as_text=True)
