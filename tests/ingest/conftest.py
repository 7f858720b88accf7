"""Fixtures for the ingest checks: one generated PKI and a set of real PDFs per session, and a
prepared data directory with the test agency for the CLI (``archive_env``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples import pdfs
from luutru.samples.dossiers import AGENCY
from luutru.samples.pki import TestPki
from luutru.services import prepare_data_dir
from tests.support.clamav import install_test_signatures


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def base_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PDF/A-2b claiming letter with a text field and the two signature fields of Điều 5."""
    out = tmp_path_factory.mktemp("pdf") / "cong-van.pdf"
    return pdfs.make_pdf(out, pdfa="2b", text_field="ghi_chu", signature_fields=("NguoiKy", "CoQuan"))


@pytest.fixture(scope="session")
def person_signed(base_pdf: Path, pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("signed") / "person.pdf"
    return pdfs.sign_pdf(base_pdf, out, pki.person.signer, field="NguoiKy", crls=[pki.crl_der])


@pytest.fixture(scope="session")
def fully_signed(person_signed: Path, pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Signed by the competent person, then by the body (the order NĐ 30 Điều 5 expects)."""
    out = tmp_path_factory.mktemp("signed") / "person-then-body.pdf"
    return pdfs.sign_pdf(person_signed, out, pki.organisation.signer, field="CoQuan", crls=[pki.crl_der])


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Path], Path]:
    """Return a function that copies a session file into this test's tmp_path (to break it)."""

    def _copy(src: Path) -> Path:
        dst = tmp_path / src.name
        shutil.copyfile(src, dst)
        return dst

    return _copy


@pytest.fixture
def archive_env(settings: Settings, pki: TestPki) -> dict[str, str]:
    """A prepared data directory trusting the test PKI, with the test agency; the env for the CLI."""
    prepare_data_dir(settings)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    env = {"LUUTRU_DATA_DIR": str(settings.data_dir), "LUUTRU_CONFIG": str(settings.data_dir / "none.toml")}
    result = CliRunner().invoke(cli, ["agency", "add", AGENCY, "Ủy ban nhân dân tỉnh Thái Bình"], env=env)
    assert result.exit_code == 0, result.output
    return env
