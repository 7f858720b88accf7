"""`luutru ingest` and `luutru metadata validate` at their limits: deep JSON, empty files, two at once.

Whatever goes wrong, `--json` prints one JSON line per path and no traceback reaches stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from archive.catalog import Dossier, Submission
from luutru.cli.main import cli
from luutru.config import Settings
from luutru.samples.dossiers import AGENCY, make_dossier
from luutru.samples.pki import TestPki
from luutru.services import Services

ONE = ("Kế hoạch cải cách hành chính năm 2024",)  # one signed PDF: the race, not the checks
DEEP = '{"profile": "tt05-2025", "dossier": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _deep_dossier(root: Path, pki: TestPki) -> Path:
    src = make_dossier(root, pki, notation="09.DEEP", extra_files=False)
    (src / "metadata.json").write_text(DEEP, encoding="utf-8")
    return src


def test_deep_metadata_json_gives_a_json_line_not_a_traceback(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    src = _deep_dossier(tmp_path / "deep", pki)
    result = CliRunner().invoke(cli, ["ingest", str(src), "--agency", AGENCY, "--json"], env=archive_env)
    assert result.exit_code == 1, result.output  # rejected at intake, as documented
    assert "Traceback" not in result.output
    line = json.loads(result.stdout)
    assert (line["status"], line["state"]) == ("rejected", "rejected")
    assert [f["code"] for f in line["findings"]] == ["intake.metadata_too_deep"]


def test_deep_metadata_without_agency_is_a_usage_error_not_a_traceback(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    src = _deep_dossier(tmp_path / "deep", pki)
    result = CliRunner().invoke(cli, ["ingest", str(src), "--json"], env=archive_env)
    assert result.exit_code == 2, result.output  # usage: the agency cannot be read, nothing received
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert "--agency" in result.stderr
    line = json.loads(result.stdout)  # --json: the path still gets its line
    assert line["code"] == "ingest.agency_missing" and line["submission"] is None


def test_metadata_validate_exits_2_on_deep_json(tmp_path: Path, archive_env: dict[str, str]) -> None:
    path = tmp_path / "metadata.json"
    path.write_text(DEEP, encoding="utf-8")
    result = CliRunner().invoke(cli, ["metadata", "validate", str(path), "--json"], env=archive_env)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    out = json.loads(result.stdout)
    assert out["valid"] is False and [f["code"] for f in out["findings"]] == ["metadata.unreadable"]
    assert "64" in out["findings"][0]["message_vi"]


def test_an_unexpected_error_still_prints_the_json_line(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str], settings: Settings
) -> None:
    """A staging root that is a file (a broken environment): the line says so, stdout stays JSON."""
    src = make_dossier(tmp_path / "src", pki, notation="10.BROKEN", extra_files=False)
    env = {**archive_env, "LUUTRU_STAGING_DIR": str(tmp_path / "not-a-dir")}
    (tmp_path / "not-a-dir").write_text("x")
    result = CliRunner().invoke(cli, ["ingest", str(src), "--json"], env=env)
    assert result.exit_code == 1, result.output
    line = json.loads(result.stdout)
    assert line["status"] == "error" and line["source"] == str(src)
    assert line["code"] in {"ingest.failed", "ingest.unexpected_error"}
    assert "Traceback" not in result.stdout


def test_a_zero_byte_document_sends_the_dossier_to_review(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str]
) -> None:
    src = make_dossier(tmp_path / "src", pki, notation="11.EMPTY", extra_files=False)
    meta = json.loads((src / "metadata.json").read_text(encoding="utf-8"))
    (src / "tai-lieu" / "ghi-chu.txt").write_bytes(b"")
    extra = {**meta["documents"][0], "file": "tai-lieu/ghi-chu.txt", "docCode": "H54.2024.11.EMPTY.0000009"}
    extra["sha256"] = hashlib.sha256(b"").hexdigest()
    meta["documents"].append(extra)
    (src / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(src), "--json"], env=archive_env)
    line = json.loads(result.stdout)
    assert (line["status"], line["state"]) == ("review", "in_review"), line["findings"]
    empty = [f for f in line["findings"] if f["code"] == "intake.empty_file"]
    assert [(f["severity"], f["path"]) for f in empty] == [("warning", "tai-lieu/ghi-chu.txt")]


def test_two_identical_ingests_at_once_one_dossier_two_json_lines(
    tmp_path: Path, pki: TestPki, archive_env: dict[str, str], settings: Settings
) -> None:
    """Ten rounds of two `luutru ingest --json` processes on the same dossier, started together."""
    env = {**os.environ, **archive_env}
    command = [sys.executable, "-m", "luutru.cli.main", "ingest", "--json"]
    for round_ in range(10):
        src = make_dossier(
            tmp_path / f"src{round_}", pki, notation=f"2{round_}.RACE", subjects=ONE, extra_files=False
        )
        procs = [
            subprocess.Popen([*command, str(src)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        lines = [json.loads(out.decode()) for out, _ in outs]  # each printed exactly one JSON object
        assert [p.returncode for p in procs] == [0, 0], [err.decode()[-2000:] for _, err in outs]
        assert all(b"Traceback" not in err for _, err in outs)
        assert {(x["status"], x["state"]) for x in lines} == {("accepted", "archived")}
        assert lines[0]["submission"] == lines[1]["submission"]  # the second gets the first's outcome
        assert sum(x["receipt"] is not None for x in lines) == 1  # only one was received
    svc = Services.build(settings)
    with svc.session() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 10
        assert s.scalar(select(func.count()).select_from(Submission)) == 10
    svc.close()
