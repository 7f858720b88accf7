"""Helpers of the API tests: the real app on a migrated SQLite catalog, two agencies and their tokens."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from archive import events
from archive.agencies import create_agency
from archive.catalog import TokenScope
from luutru import accounts
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from luutru.web.app import create_app
from tests.support.clamav import install_test_signatures

OTHER = "000.00.14.H54"
ALL_SCOPES = (TokenScope.SUBMIT, TokenScope.READ_OWN, TokenScope.SEARCH)


@dataclass
class Api:
    """The app and the tokens: ``tokens["a"]`` (agency A, every scope), ``"b"`` (agency B), …"""

    app: Flask
    services: Services
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def call(self, method: str, path: str, who: str = "a", **kw: Any) -> TestResponse:
        headers = dict(kw.pop("headers", {}))
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client().open("/api/v1" + path, method=method, headers=headers, **kw)


def clone_api(template: Api, data_dir: Path) -> Api:
    """A copy of ``template``'s data directory (migrated catalog, agencies, tokens) under ``data_dir``.

    Copying a closed SQLite file is much faster than running the migrations for every test.
    """
    template.services.close()
    shutil.copytree(template.settings.data_dir, data_dir)
    settings = Settings(data_dir=data_dir)
    services = Services.build(settings)
    return Api(create_app(settings, services), services, settings, dict(template.tokens))


def build_api(settings: Settings, pki: TestPki) -> Api:
    """Migrate a catalog in ``settings.data_dir``, trust the test PKI, add agencies A and B and tokens."""
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    services = Services.build(settings)
    tokens: dict[str, str] = {}
    with services.sessions.begin() as s:
        a = create_agency(s, AGENCY, "Ủy ban nhân dân tỉnh Thái Bình")
        b = create_agency(s, OTHER, "Sở Tài chính tỉnh Thái Bình")
        for name, agency, scopes in (
            ("a", a, ALL_SCOPES),
            ("b", b, ALL_SCOPES),
            ("a-submit", a, (TokenScope.SUBMIT,)),
            ("a-read", a, (TokenScope.READ_OWN,)),
            ("a-revoked", a, ALL_SCOPES),
        ):
            tokens[name] = accounts.issue_token(s, agency, name, scopes).secret
        accounts.revoke_token(s, tokens["a-revoked"].split(".")[0], actor=events.SYSTEM)
    return Api(create_app(settings, services), services, settings, tokens)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def small_metadata(files: dict[str, bytes], code: str = "H54.2024.99.TEST") -> dict[str, Any]:
    """Metadata declaring ``files`` (path → content) with their checksums and sizes."""
    return {
        "profile": "tt05-2025",
        "dossier": {"fileCode": code, "title": "Hồ sơ thử nghiệm API"},
        "documents": [
            {"file": path, "sha256": sha(data), "size": len(data), "docCode": f"{code}.{i:07d}"}
            for i, (path, data) in enumerate(files.items(), start=1)
        ],
    }


def folder_metadata(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    for doc in data["documents"]:
        doc["size"] = (folder / doc["file"]).stat().st_size
    return data


def submit_folder(api: Api, folder: Path, who: str = "a", key: str | None = None) -> dict[str, Any]:
    """Open, upload every file whole, finalise; return the finalise answer."""
    headers = {"Idempotency-Key": key} if key else {}
    r = api.call("POST", "/submissions", who, json={"metadata": folder_metadata(folder)}, headers=headers)
    assert r.status_code in (200, 201), r.get_json()
    plan = r.get_json()
    for f in plan["files"]:
        up = api.call(
            "PUT", f"/submissions/{plan['id']}/files/{f['path']}", who, data=(folder / f["path"]).read_bytes()
        )
        assert up.status_code == 200, up.get_json()
    r = api.call("POST", f"/submissions/{plan['id']}/finalise", who)
    assert r.status_code == 200, r.get_json()
    out: dict[str, Any] = r.get_json()
    return out
