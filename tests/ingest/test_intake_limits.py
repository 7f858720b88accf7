"""Intake limits: deep or huge metadata, unsafe names, 0-byte files — refused or flagged, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.findings import Severity
from ingest.intake import IntakeRejected, StagedSubmission, stage_submission
from ingest.intake.names import SafeName, check_name
from tests.ingest.test_intake_unpack import DOCS, LIMITS, metadata, rejected, write_folder, write_zip

DEEP = b'{"profile": "tt05-2025", "dossier": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_metadata_nested_100000_levels_is_refused_as_a_finding(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_folder(tmp_path / "src", DOCS, DEEP)
    result = stage_submission(source, staging, limits=LIMITS)
    rejected(result, staging, "intake.metadata_too_deep")
    finding = result.findings[0]
    assert "64" in finding.message_vi and "64" in finding.message_en and finding.path == "metadata.json"


def test_metadata_over_16_mib_is_refused_before_parsing(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    source = write_folder(tmp_path / "src", DOCS, b'{"pad": "' + b"x" * (16 * 1024 * 1024) + b'"}')
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.metadata_too_large")


def test_metadata_xlsx_with_huge_cells_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "dossier"
    sheet.append(["field", "value"])
    sheet.append(["profile", "tt05-2025"])
    docs = book.create_sheet("documents")
    docs.append(["file", "description"])
    for _ in range(600):  # 600 × 32,000 characters: about 19 MB of metadata
        docs.append(["van-ban/02-to-trinh.txt", "x" * 32_000])
    source = tmp_path / "src"
    write_folder(source, DOCS)
    (source / "metadata.json").unlink()
    book.save(source / "metadata.xlsx")
    staging = tmp_path / "staging"
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.metadata_too_large")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("van-ban/ghi-chu.txt ", "intake.invalid_name"),  # trailing space
        ("van-ban /ghi-chu.txt", "intake.invalid_name"),  # a folder with a trailing space
        ("van-ban/ghi-chu.", "intake.invalid_name"),  # trailing dot
        ("%2e%2e/x", "intake.path_traversal"),
        ("a/%2E%2E/%2e%2e/x", "intake.path_traversal"),
        ("%252e%252e/x", "intake.path_traversal"),  # encoded twice
        ("..%2fx", "intake.path_traversal"),
        ("a\tb.txt", "intake.invalid_name"),
        ("a\x85b.txt", "intake.invalid_name"),  # C1 control (NEL)
        ("a\x7fb.txt", "intake.invalid_name"),
    ],
)
def test_unsafe_names_are_refused_with_bilingual_findings(tmp_path: Path, name: str, code: str) -> None:
    found = check_name(name.encode())
    assert not isinstance(found, SafeName) and found.code == code
    assert found.severity is Severity.ERROR and found.message_vi != found.message_en
    staging = tmp_path / "staging"
    entries = {**DOCS, "metadata.json": metadata(DOCS), name: b"noi dung"}
    rejected(stage_submission(write_zip(tmp_path / "x.zip", entries), staging, limits=LIMITS), staging, code)


def test_a_folder_file_with_a_trailing_space_is_refused(tmp_path: Path) -> None:
    source = write_folder(tmp_path / "src", {**DOCS, "van-ban/ghi-chu.txt ": b"x"})
    staging = tmp_path / "staging"
    rejected(stage_submission(source, staging, limits=LIMITS), staging, "intake.invalid_name")


@pytest.mark.parametrize("name", ["Hồ sơ 2024/quyết định.pdf", "a%20b.txt", "v1.2/a.b.txt", "50%.txt"])
def test_ordinary_names_still_pass(name: str) -> None:
    assert isinstance(check_name(name.encode()), SafeName)


def test_a_zero_byte_document_is_a_warning(tmp_path: Path) -> None:
    files = {**DOCS, "van-ban/03-rong.txt": b""}
    result = stage_submission(write_folder(tmp_path / "src", files), tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    empty = [f for f in result.findings if f.code == "intake.empty_file"]
    assert [(f.severity, f.path) for f in empty] == [(Severity.WARNING, "van-ban/03-rong.txt")]
    assert empty[0].message_vi and empty[0].message_en


def test_a_zero_byte_document_in_a_zip_is_a_warning(tmp_path: Path) -> None:
    files = {**DOCS, "rong.pdf": b""}
    source = write_zip(tmp_path / "x.zip", {**files, "metadata.json": metadata(files)})
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert not isinstance(result, IntakeRejected)
    assert {f.code for f in result.findings} == {"intake.empty_file"}
