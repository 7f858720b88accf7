"""BagIt submissions (folder and zipped) and metadata.xlsx: the manifest is the declaration."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import bagit
from openpyxl import Workbook

from archive.findings import Severity
from ingest.intake import IntakeLimits, IntakeRejected, SourceKind, StagedSubmission, stage_submission
from ingest.intake.checksums import hash_tree

LIMITS = IntakeLimits(max_files=100, max_bytes=10**8, max_file_bytes=10**7, zip_max_ratio=100)


def make_bag(root: Path, *, algorithms: tuple[str, ...] = ("sha256",)) -> Path:
    """A real bag made by the Library of Congress bagit library; metadata.json has no sha256."""
    root.mkdir()
    (root / "van-ban").mkdir()
    (root / "van-ban" / "01-bao-cao.pdf").write_bytes(b"%PDF-1.4\n% Bao cao 45/BC-UBND\n%%EOF\n")
    (root / "van-ban" / "02-ke-hoach.txt").write_text("Kế hoạch số 7/KH-UBND\n", encoding="utf-8")
    meta = {
        "profile": "tt05-2025",
        "dossier": {"fileCode": "H49.64.33.2024.07", "title": "Hồ sơ báo cáo tổng kết năm 2024"},
        "documents": [
            {"file": "van-ban/01-bao-cao.pdf", "docCode": "H49.64.33.2024.07.0000001"},
            {"file": "van-ban/02-ke-hoach.txt", "docCode": "H49.64.33.2024.07.0000002"},
        ],
    }
    (root / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    bagit.make_bag(str(root), {"Source-Organization": "UBND tỉnh Đắk Lắk"}, checksums=list(algorithms))
    return root


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, (folder.name + "/" + path.relative_to(folder).as_posix()))
    return target


def test_bag_folder_is_staged_and_verified(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bag")
    result = stage_submission(bag, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert result.kind is SourceKind.BAG
    assert result.payload_root.name == "data"
    assert {f.path for f in result.files} == {
        "metadata.json",
        "van-ban/01-bao-cao.pdf",
        "van-ban/02-ke-hoach.txt",
    }
    assert (result.payload_root.parent / "bagit.txt").is_file()
    assert bagit.Bag(str(result.payload_root.parent)).is_valid()
    # bagit-python writes BagIt 0.97: valid, noted for the record, nothing for an archivist to decide
    assert [(f.code, f.severity) for f in result.findings] == [("bag.old_version", Severity.INFO)]


def test_zipped_bag_is_staged(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "HS-2024-07", algorithms=("sha512",))
    source = zip_folder(bag, tmp_path / "HS-2024-07.zip")
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert result.kind is SourceKind.ZIPPED_BAG
    staged = hash_tree(result.payload_root)
    assert {f.path: f.sha256 for f in result.files} == {p: f.sha256 for p, f in staged.items()}


def test_tampered_bag_payload_is_rejected(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bag", algorithms=("sha256", "sha512"))
    (bag / "data" / "van-ban" / "02-ke-hoach.txt").write_text("Kế hoạch số 8/KH-UBND\n", encoding="utf-8")
    staging = tmp_path / "staging"
    result = stage_submission(bag, staging, limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    mismatches = [f for f in result.findings if f.code == "intake.checksum_mismatch"]
    assert {f.evidence["algorithm"] for f in mismatches} == {"sha256", "sha512"}
    assert all(f.path == "van-ban/02-ke-hoach.txt" for f in mismatches)
    assert not (staging / result.submission_id).exists()


def test_bag_with_file_missing_from_payload_or_manifest(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    bag = make_bag(tmp_path / "a")
    (bag / "data" / "van-ban" / "01-bao-cao.pdf").unlink()
    result = stage_submission(bag, staging, limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    assert "intake.file_missing" in {f.code for f in result.findings}

    bag = make_bag(tmp_path / "b")
    (bag / "data" / "them.txt").write_text("thêm", encoding="utf-8")
    result = stage_submission(bag, staging, limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    assert {f.code for f in result.findings} >= {"intake.bag_invalid", "intake.file_unlisted"}


def test_bag_without_metadata_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "bag"
    root.mkdir()
    (root / "a.pdf").write_bytes(b"%PDF-1.4")
    bagit.make_bag(str(root), checksums=["sha256"])
    result = stage_submission(root, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    assert {f.code for f in result.findings} == {"intake.metadata_missing"}


def test_metadata_xlsx_is_read(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    data = b"%PDF-1.4\n% Cong van 120/UBND-VP\n%%EOF\n"
    (source / "cong-van.pdf").write_bytes(data)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "dossier"
    sheet.append(["field", "value"])
    sheet.append(["profile", "nd30-2020"])
    sheet.append(["FileCode", "000.00.00.H49202401.TCCB"])
    sheet.append(["Title", "Hồ sơ công văn đi năm 2024"])
    docs = book.create_sheet("documents")
    docs.append(["file", "sha256", "CodeNumber", "Subject"])
    docs.append(["cong-van.pdf", hashlib.sha256(data).hexdigest(), 120, "Về việc nộp lưu hồ sơ"])
    book.save(source / "metadata.xlsx")
    result = stage_submission(source, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert result.metadata_file == "metadata.xlsx" and result.profile == "nd30-2020"
    assert result.dossier["Title"] == "Hồ sơ công văn đi năm 2024"
    assert result.documents[0]["CodeNumber"] == 120


def test_documented_example_is_a_valid_envelope(tmp_path: Path) -> None:
    from ingest.intake.declaration import Declaration, read_declaration

    doc = (Path(__file__).parents[2] / "docs" / "submission-format.md").read_text(encoding="utf-8")
    example = next(block for block in doc.split("```json")[1:] if '"fileCode"' in block).split("```")[0]
    (tmp_path / "metadata.json").write_text(example, encoding="utf-8")
    declaration = read_declaration(tmp_path, require_sha256=True)
    assert isinstance(declaration, Declaration), declaration
    assert declaration.profile == "tt05-2025" and len(declaration.documents) == 2
    schema = json.loads((Path(__file__).parents[2] / "docs" / "submission.schema.json").read_text("utf-8"))
    assert set(schema["required"]) <= set(json.loads(example))
    assert schema["properties"]["profile"]["enum"] == ["tt05-2025", "nd30-2020", "tt02-2019"]


def _as_version_1_0(bag: Path) -> Path:
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    for tag in bag.glob("tagmanifest-*.txt"):
        tag.unlink()  # bagit-python's tag manifest lists the old bagit.txt
    return bag


def test_bag_intake_follows_rfc_8493_declaration(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    bom = _as_version_1_0(make_bag(tmp_path / "bom"))
    (bom / "bagit.txt").write_bytes(b"\xef\xbb\xbf" + (bom / "bagit.txt").read_bytes())
    spaced = _as_version_1_0(make_bag(tmp_path / "spaced"))
    (spaced / "bagit.txt").write_bytes(b"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n")
    for bag, bag_code in ((bom, "bag.declaration_bom"), (spaced, "bag.declaration_invalid")):
        result = stage_submission(bag, staging, limits=LIMITS)
        assert isinstance(result, IntakeRejected), result
        refusal = next(f for f in result.findings if f.code == "intake.bag_invalid")
        assert refusal.evidence["bag_code"] == bag_code and refusal.message_vi.startswith("Túi BagIt")


def test_bag_intake_accepts_dot_slash_paths_and_a_missing_oxum(tmp_path: Path) -> None:
    bag = _as_version_1_0(make_bag(tmp_path / "bag", algorithms=("sha256", "sha512")))
    for manifest in bag.glob("manifest-*.txt"):
        lines = manifest.read_text(encoding="utf-8").splitlines()
        manifest.write_text("".join(f"{d}  ./{p}\n" for d, p in (x.split(None, 1) for x in lines)), "utf-8")
    info = bag / "bag-info.txt"
    info.write_text(
        "".join(x + "\n" for x in info.read_text("utf-8").splitlines() if "Oxum" not in x), "utf-8"
    )
    result = stage_submission(bag, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    assert [(f.code, f.severity) for f in result.findings] == [("bag.oxum_missing", Severity.INFO)]
    assert bagit.Bag(str(bag)).is_valid()  # bagit-python agrees


def test_old_bag_with_md5_only_goes_to_review_and_is_still_checked(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bag", algorithms=("md5",))
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n")
    for tag in bag.glob("tagmanifest-*.txt"):
        tag.unlink()
    result = stage_submission(bag, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, StagedSubmission), result
    found = {(f.code, f.severity) for f in result.findings}
    assert found == {("bag.old_version", Severity.INFO), ("bag.weak_algorithm", Severity.WARNING)}
    (bag / "data" / "van-ban" / "02-ke-hoach.txt").write_text("Kế hoạch số 8/KH-UBND\n", encoding="utf-8")
    result = stage_submission(bag, tmp_path / "staging", limits=LIMITS)
    assert isinstance(result, IntakeRejected)
    assert {f.evidence.get("algorithm") for f in result.findings if f.code == "intake.checksum_mismatch"} == {
        "md5"
    }
