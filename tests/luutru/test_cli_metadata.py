"""`luutru metadata validate`: a correct TT 05/2025 dossier passes; each defect is named per field."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.textenc import encode_legacy
from luutru.cli.main import cli

DATA = Path(__file__).resolve().parents[1] / "archive" / "data" / "metadata"
OK = json.loads((DATA / "tt05_dossier_ok.json").read_text(encoding="utf-8"))


def _run(tmp_path: Path, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    env = {"LUUTRU_CONFIG": str(tmp_path / "none.toml"), "LUUTRU_DATA_DIR": str(tmp_path / "d")}
    result = CliRunner().invoke(
        cli, ["metadata", "validate", str(path), "--profile", "tt05-2025", "--json"], env=env
    )
    return result.exit_code, json.loads(result.stdout)


def test_correct_dossier_is_valid(tmp_path: Path) -> None:
    code, out = _run(tmp_path, OK)
    assert code == 0 and out["valid"] is True
    assert not [f for f in out["findings"] if f["severity"] == "error"]


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["dossier"][field] = value

    return change


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        del d["dossier"][field]

    return change


CASES = [
    ("wrong agency code", _set("organId", "000.00.00.h54"), "metadata.agency_code", "organId"),
    ("over-long title", _set("title", "Hồ sơ " * 300), "metadata.too_long", "title"),
    ("unknown code", _set("maintenance", "09"), "metadata.code_unknown", "maintenance"),
    ("missing required", _drop("title"), "metadata.required", "title"),
    ("end before start", _set("endDate", "31/12/2023"), "metadata.date_order", "endDate"),
    ("non-NFC", _set("keyword", unicodedata.normalize("NFD", "cải cách hành chính")), "metadata.not_nfc", "keyword"),
    ("TCVN3", _set("description", encode_legacy("Người lập hồ sơ: Nguyễn Thị Hương", "tcvn3")), "metadata.legacy_encoding", "description"),
    ("VNI", _set("description", encode_legacy("Người lập hồ sơ: Nguyễn Thị Hương", "vni")), "metadata.legacy_encoding", "description"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "change", "code", "field"), CASES, ids=[c[0] for c in CASES])
def test_each_defect_is_named(
    tmp_path: Path, label: str, change: Callable[[dict[str, Any]], None], code: str, field: str
) -> None:
    data = json.loads(json.dumps(OK))
    change(data)
    exit_code, out = _run(tmp_path, data)
    hits = [f for f in out["findings"] if f["code"] == code and f["field"] == field]
    assert hits, out["findings"]
    assert hits[0]["message_vi"] and hits[0]["message_en"] and hits[0]["message_vi"] != hits[0]["message_en"]
    if hits[0]["severity"] == "error":
        assert exit_code == 1 and out["valid"] is False
    else:  # non-NFC text is a warning with the NFC form suggested
        assert code == "metadata.not_nfc"


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "metadata.json"
    bad.write_text("{ không phải JSON", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["metadata", "validate", str(bad)], env={"LUUTRU_CONFIG": str(tmp_path / "x")}
    )
    assert result.exit_code == 2, result.output
