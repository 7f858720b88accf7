"""Fixtures of the API tests: a real test PKI, a signed dossier folder, the app with its tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from luutru.config import Settings
from luutru.samples.dossiers import make_dossier
from luutru.samples.pki import TestPki
from tests.api.harness import Api, build_api, clone_api


@pytest.fixture(scope="package")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="package")
def dossier_src(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Path:
    """One real signed submission folder (3 signed PDFs, an XLSX, a PNG), built once."""
    return make_dossier(tmp_path_factory.mktemp("src") / "ho-so", pki)


@pytest.fixture(scope="package")
def api_template(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Api:
    built = build_api(Settings(data_dir=tmp_path_factory.mktemp("template") / "data"), pki)
    built.services.close()
    return built


@pytest.fixture
def api(tmp_path: Path, api_template: Api) -> Iterator[Api]:
    """The app on its own copy of the template data directory."""
    built = clone_api(api_template, tmp_path / "data")
    yield built
    built.services.close()
