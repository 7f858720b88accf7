"""`luutru ingest PATH PATH…`: one JSON line (or one human line) per path; exit 1 unless all went in."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from archive.catalog import Package
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples import pdfs
from luutru.samples.dossiers import make_dossier, sha256
from luutru.samples.pki import TestPki
from luutru.services import Services


def _tampered(root: Path, pki: TestPki) -> Path:
    src = make_dossier(root, pki, notation="02.TAMPERED", extra_files=False)
    victim = src / "tai-lieu" / "0002.pdf"
    pdfs.tamper_signed_range(victim)
    meta = json.loads((src / "metadata.json").read_text())
    meta["documents"][1]["sha256"] = sha256(victim)
    (src / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    return src


def test_two_paths_print_two_json_lines_and_exit_1_when_one_is_rejected(
    tmp_path: Path, pki: TestPki, settings: Settings, archive_env: dict[str, str]
) -> None:
    clean = make_dossier(tmp_path / "clean", pki, notation="01.CLEAN")
    bad = _tampered(tmp_path / "bad", pki)
    result = CliRunner().invoke(cli, ["ingest", str(clean), str(bad), "--json"], env=archive_env)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"submission", "status", "state", "dossier", "receipt", "findings"}
    assert (first["status"], first["state"], first["dossier"]) == (
        "accepted",
        "archived",
        "H54.2024.01.CLEAN",
    )
    assert first["receipt"]["submission_id"] == first["submission"]
    assert second["status"] == "rejected"
    assert "pdf.signature.digest_mismatch" in {f["code"] for f in second["findings"]}
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Package)) == 1
    svc.close()


def test_two_clean_paths_exit_0_with_one_human_line_each(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    a = make_dossier(tmp_path / "a", pki, notation="01.A", extra_files=False)
    b = make_dossier(tmp_path / "b", pki, notation="02.B", extra_files=False)
    result = CliRunner().invoke(cli, ["ingest", str(a), str(b)], env=archive_env)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if ": submission " in line]
    assert [line.split(": submission ")[0] for line in lines] == [str(a), str(b)]
    assert all(line.endswith("accepted (archived)") for line in lines)


def test_an_unknown_agency_is_reported_on_its_line_and_the_batch_goes_on(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    a = make_dossier(tmp_path / "a", pki, notation="01.A", extra_files=False)
    b = make_dossier(tmp_path / "b", pki, notation="02.B", extra_files=False)
    meta = json.loads((a / "metadata.json").read_text())
    meta["dossier"]["organId"] = "999.99.99.X99"  # named in the metadata, not registered
    (a / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    result = CliRunner().invoke(cli, ["ingest", str(a), str(b), "--json"], env=archive_env)
    assert result.exit_code == 1, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["status"] == "error" and first["submission"] is None and first["source"] == str(a)
    assert "999.99.99.X99" in first["error"]
    assert second["status"] == "accepted"


def test_several_paths_without_an_agency_are_refused_before_any_is_received(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    a = make_dossier(tmp_path / "a", pki, notation="01.A", extra_files=False)
    b = make_dossier(tmp_path / "b", pki, notation="02.B", extra_files=False)
    meta = json.loads((b / "metadata.json").read_text())
    del meta["dossier"]["organId"]
    (b / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False))
    result = CliRunner().invoke(cli, ["ingest", str(a), str(b), "--json"], env=archive_env)
    assert result.exit_code == 2 and str(b) in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # --json: a line for every path
    assert [(x["source"], x["status"], x["code"]) for x in lines] == [
        (str(a), "error", "ingest.not_received"),
        (str(b), "error", "ingest.agency_missing"),
    ]
    assert all(x["submission"] is None for x in lines)  # nothing was received
