"""The demo corpus: ≥ 20 dossiers, ≥ 200 documents, and its problem dossiers end as a real archive ends them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.catalog import Document
from archive.events import Agent
from luutru import demo
from luutru.config import Settings
from luutru.samples.corpus import DOCUMENT_KINDS, SPECS, build_corpus
from luutru.samples.pki import TestPki
from luutru.services import Services, prepare_data_dir
from search.folding import fold
from tests.support.clamav import install_test_signatures


def test_corpus_is_large_enough() -> None:
    per_dossier = len(DOCUMENT_KINDS) + 3  # signed letters + a digitised page + a sheet + an image
    assert len(SPECS) >= 20
    assert len(SPECS) * per_dossier >= 200
    assert {s.problem for s in SPECS} >= {
        None,
        "unsigned",
        "altered",
        "expired",
        "format",
        "duplicate",
        "nfc",
    }
    assert len({s.agency for s in SPECS}) == 3


def test_problem_dossiers_are_rejected_or_reviewed(tmp_path: Path, settings: Settings, pki: TestPki) -> None:
    prepare_data_dir(settings)
    svc = Services.build(settings)
    with svc.session() as s, s.begin():
        demo.seed(s)
    shutil.copy(pki.root, settings.trust_path / "root.pem")
    install_test_signatures(settings)
    clean_snv = next(s for s in SPECS if s.agency == "000.00.07.H54" and s.problem is None)
    specs = (clean_snv, *[s for s in SPECS if s.problem])
    folders = build_corpus(tmp_path / "src", pki, specs=specs)
    outcomes = {}
    for spec, folder in zip(specs, folders, strict=True):
        result = svc.ingest.ingest(folder, spec.agency, actor=Agent.person("vanthu"))
        outcomes[spec.problem] = (result.status, {f.code for f in result.findings})
    assert outcomes[None][0] == "accepted", outcomes[None][1]
    assert outcomes["unsigned"][0] == "rejected" and "pdf.signature.none" in outcomes["unsigned"][1]
    assert outcomes["altered"][0] == "rejected" and "pdf.signature.digest_mismatch" in outcomes["altered"][1]
    assert outcomes["expired"][0] == "rejected" and "pdf.signature.expired" in outcomes["expired"][1]
    assert outcomes["format"][0] == "rejected" and "format.not_accepted" in outcomes["format"][1]
    assert outcomes["duplicate"][0] == "review" and "duplicate.content" in outcomes["duplicate"][1]
    assert outcomes["nfc"][0] == "review" and "metadata.not_nfc" in outcomes["nfc"][1]
    # the photographed chart of the accepted dossier is read by OCR: its title becomes searchable text
    svc.search.drain_all()
    with svc.session() as s:
        chart = s.scalars(select(Document).where(Document.subject.startswith("Biểu đồ kết quả"))).one()
        assert chart.text_method == "ocr" and fold(chart.subject) in fold(chart.text_content or "")
    svc.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.create(tmp_path_factory.mktemp("pki"))
