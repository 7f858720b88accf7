"""Bag validation (archive.bags) on real bags written to tmp_path: RFC 8493 and BagIt 0.93–0.97."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import bagit
import pytest

from archive.bags import (
    BagReport,
    bag_validate_main,
    decode_manifest_path,
    encode_manifest_path,
    validate_bag,
)

FILES = {"data/a.txt": b"Cong van so 12/UBND\n", "data/sub/b.bin": bytes(range(256)) * 10}


def write_bag(
    root: Path,
    files: Mapping[str, bytes] = FILES,
    *,
    version: str = "1.0",
    algorithms: Sequence[str] = ("sha256", "sha512"),
    info_name: str = "bag-info.txt",
    line: str = "{digest}  {path}\n",
    oxum: str | None = None,
    tag_manifest: bool = False,
) -> Path:
    """Write a bag by hand, so each test controls every byte of it."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    (root / "data").mkdir(exist_ok=True)
    (root / "bagit.txt").write_text(f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n")
    size = sum(len(c) for c in files.values())
    (root / info_name).write_text(
        f"Source-Organization: UBND tỉnh\nPayload-Oxum: {oxum or f'{size}.{len(files)}'}\n"
    )
    for alg in algorithms:
        text = "".join(
            line.format(digest=hashlib.new(alg, c).hexdigest(), path=encode_manifest_path(rel))
            for rel, c in files.items()
        )
        (root / f"manifest-{alg}.txt").write_text(text)
    if tag_manifest:
        tags = ["bagit.txt", info_name, *(f"manifest-{a}.txt" for a in algorithms)]
        text = "".join(f"{hashlib.sha256((root / t).read_bytes()).hexdigest()}  {t}\n" for t in tags)
        (root / "tagmanifest-sha256.txt").write_text(text)
    return root


def codes(issues: Sequence[object]) -> set[str]:
    return {i.code for i in issues}  # type: ignore[attr-defined]


def test_bag_made_by_the_bagit_library_is_valid(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    (tmp_path / "bag" / "hồ sơ.txt").write_text("Quyết định số 15/QĐ-BNV", encoding="utf-8")
    bagit.make_bag(
        str(tmp_path / "bag"), {"Source-Organization": "Bộ Nội vụ"}, checksums=["sha256", "sha512"]
    )
    report = validate_bag(tmp_path / "bag")
    assert report.valid, report.errors
    assert report.version == "0.97"  # what bagit-python 1.9 writes
    assert codes(report.warnings) == {"bag.old_version"}


def test_hand_written_bag_with_tag_manifest_is_valid(tmp_path: Path) -> None:
    report = validate_bag(write_bag(tmp_path / "bag", tag_manifest=True))
    assert report.valid and not report.warnings


def test_changed_byte_is_a_checksum_mismatch(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "data/a.txt").write_bytes(b"Cong van so 13/UBND\n")  # same length: Oxum still agrees
    report = validate_bag(bag)
    assert not report.valid
    assert codes(report.errors) == {"bag.checksum_mismatch"}
    assert {i.path for i in report.errors} == {"data/a.txt"}
    assert len(report.errors) == 2  # one per manifest: sha256 and sha512


def test_fast_mode_skips_checksums_but_not_completeness(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "data/a.txt").write_bytes(b"Cong van so 13/UBND\n")
    assert validate_bag(bag, fast=True).valid
    (bag / "data/sub/b.bin").unlink()
    assert "bag.missing_file" in codes(validate_bag(bag, fast=True).errors)


def test_missing_file(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "data/sub/b.bin").unlink()
    report = validate_bag(bag)
    assert codes(report.errors) == {"bag.missing_file", "bag.oxum_mismatch"}
    assert [i.path for i in report.errors if i.code == "bag.missing_file"] == ["data/sub/b.bin"]


def test_extra_file_is_unlisted(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "data/extra.txt").write_bytes(b"")  # zero bytes but one more file: Oxum count differs
    report = validate_bag(bag)
    assert "bag.unlisted_file" in codes(report.errors)
    assert "bag.oxum_mismatch" in codes(report.errors)


def test_file_listed_in_one_manifest_only_is_unlisted(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    lines = (bag / "manifest-sha512.txt").read_text().splitlines(keepends=True)
    (bag / "manifest-sha512.txt").write_text("".join(line for line in lines if "a.txt" not in line))
    report = validate_bag(bag)
    assert codes(report.errors) == {"bag.unlisted_file"}
    assert "manifest-sha512.txt" in report.errors[0].message_en


@pytest.mark.parametrize("evil", ["../outside.txt", "data/../../outside.txt", "/etc/passwd", "C:/x.txt"])
def test_path_traversal_in_manifest_is_unsafe(tmp_path: Path, evil: str) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    bag = write_bag(tmp_path / "bag")
    with (bag / "manifest-sha256.txt").open("a") as fh:
        fh.write(f"{hashlib.sha256(b'secret').hexdigest()}  {evil}\n")
    report = validate_bag(bag)
    assert not report.valid
    assert "bag.unsafe_path" in codes(report.errors)


def test_manifest_entry_outside_payload_is_unsafe(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    with (bag / "manifest-sha256.txt").open("a") as fh:
        fh.write(f"{hashlib.sha256((bag / 'bagit.txt').read_bytes()).hexdigest()}  bagit.txt\n")
    assert "bag.unsafe_path" in codes(validate_bag(bag).errors)


def test_payload_oxum_mismatch(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", oxum="999.2")
    report = validate_bag(bag, fast=True)
    assert codes(report.errors) == {"bag.oxum_mismatch"}
    assert "999.2" in report.errors[0].message_en


def test_malformed_oxum_and_manifest_line(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", oxum="lots")
    with (bag / "manifest-sha256.txt").open("a") as fh:
        fh.write("nothex  data/a.txt\n")
    assert {"bag.oxum_invalid", "bag.manifest_malformed"} <= codes(validate_bag(bag).errors)


def test_fetch_txt_is_not_supported(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "fetch.txt").write_text("https://example.org/c.pdf 10 data/c.pdf\n")
    assert "bag.fetch_unsupported" in codes(validate_bag(bag).errors)


def test_no_payload_manifest(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", algorithms=())
    assert codes(validate_bag(bag).errors) == {"bag.no_payload_manifest"}


def test_missing_or_bad_declaration(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "bagit.txt").unlink()
    assert codes(validate_bag(bag).errors) == {"bag.declaration_missing"}
    (bag / "bagit.txt").write_text("BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n")
    assert codes(validate_bag(bag).errors) == {"bag.unsupported_version"}
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    assert codes(validate_bag(bag).errors) == {"bag.declaration_invalid"}


def test_bom_in_declaration_is_an_error(tmp_path: Path) -> None:
    """RFC 8493 §2.1.1: the bag declaration MUST NOT contain a BOM (bagit-python agrees)."""
    bag = write_bag(tmp_path / "bag")
    (bag / "bagit.txt").write_bytes(b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    report = validate_bag(bag)
    assert not report.valid
    assert codes(report.errors) == {"bag.declaration_bom"}
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()


def test_tag_manifest_mismatch(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", tag_manifest=True)
    with (bag / "bag-info.txt").open("a") as fh:
        fh.write("Contact-Name: someone\n")
    report = validate_bag(bag)
    assert codes(report.errors) == {"bag.checksum_mismatch"}
    assert report.errors[0].path == "bag-info.txt"


def test_bagit_096_is_accepted_with_a_warning(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", version="0.96", algorithms=("md5",))
    report = validate_bag(bag)
    assert report.valid, report.errors
    assert report.version == "0.96"
    assert codes(report.warnings) == {"bag.old_version", "bag.weak_algorithm"}


def test_bagit_093_style_bag_binary_marker_and_tabs(tmp_path: Path) -> None:
    files = {"data/a.txt": b"x" * 10, "data/b c.txt": b"y" * 3}
    bag = write_bag(
        tmp_path / "bag",
        files,
        version="0.93",
        algorithms=("md5",),
        info_name="package-info.txt",
        line="{digest}\t*{path}\n",
    )
    report = validate_bag(bag)
    assert report.valid, report.errors
    assert "bag.old_version" in codes(report.warnings)
    (bag / "data/b c.txt").write_bytes(b"z" * 3)
    assert codes(validate_bag(bag).errors) == {"bag.checksum_mismatch"}


def test_percent_encoded_paths(tmp_path: Path) -> None:
    files = {"data/100%25 done.txt".replace("%25", "%"): b"a", "data/line\nbreak.txt": b"b"}
    bag = write_bag(tmp_path / "bag", files)
    manifest = (bag / "manifest-sha256.txt").read_text()
    assert "100%25 done.txt" in manifest and "line%0Abreak.txt" in manifest
    assert validate_bag(bag).valid
    assert decode_manifest_path("a%0d%0Ab%25c%41") == "a\r\nb%c%41"


def test_unencoded_percent_sequence_does_not_match(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", {"data/x%0A.txt": b"a"})
    (bag / "manifest-sha256.txt").write_text(f"{hashlib.sha256(b'a').hexdigest()}  data/x%0A.txt\n")
    (bag / "manifest-sha512.txt").unlink()
    errors = codes(validate_bag(bag).errors)
    assert {"bag.missing_file", "bag.unlisted_file"} <= errors


def test_symlink_leaving_the_bag_is_unsafe(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    bag = write_bag(tmp_path / "bag")
    (bag / "data/link.txt").symlink_to(tmp_path / "secret.txt")
    assert "bag.unsafe_path" in codes(validate_bag(bag).errors)


def test_progress_counts_every_byte(tmp_path: Path) -> None:
    seen: list[int] = []
    validate_bag(write_bag(tmp_path / "bag", algorithms=("sha256",)), progress=seen.append)
    assert sum(seen) == sum(len(c) for c in FILES.values())


def test_json_shape_and_cli_exit_codes(tmp_path: Path) -> None:
    good = write_bag(tmp_path / "good")
    bad = write_bag(tmp_path / "bad", oxum="1.1")
    code, report = bag_validate_main(good)
    assert code == 0 and json.loads(json.dumps(report.to_json())) == {
        "valid": True,
        "errors": [],
        "warnings": [],
    }
    code, report = bag_validate_main(bad)
    assert code == 1
    data = report.to_json()
    assert set(data) == {"valid", "errors", "warnings"} and data["valid"] is False
    assert data["errors"][0].keys() == {"code", "message", "message_vi"}
    code, report = bag_validate_main(tmp_path / "nowhere")
    assert code == 2 and codes(report.errors) == {"bag.not_found"}


def test_findings_carry_both_languages(tmp_path: Path) -> None:
    report: BagReport = validate_bag(write_bag(tmp_path / "bag", oxum="5.5"))
    (finding,) = report.findings()
    assert finding.code == "bag.oxum_mismatch" and finding.severity.value == "error"
    assert "tải trọng" in finding.message_vi and "Payload-Oxum" in finding.message_en


def test_unicode_normalization_difference_is_a_warning(tmp_path: Path) -> None:
    import unicodedata

    nfc = "data/Hồ sơ.txt"
    bag = write_bag(tmp_path / "bag", {nfc: b"x"})
    nfd = unicodedata.normalize("NFD", nfc)
    for alg in ("sha256", "sha512"):
        (bag / f"manifest-{alg}.txt").write_text(f"{hashlib.new(alg, b'x').hexdigest()}  {nfd}\n", "utf-8")
    report = validate_bag(bag)
    assert report.valid, report.errors
    assert codes(report.warnings) == {"bag.unicode_normalization"}
    (bag / nfc).write_bytes(b"y")
    assert codes(validate_bag(bag).errors) == {"bag.checksum_mismatch"}


@pytest.mark.parametrize(
    "declaration",
    [
        b"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n",  # two spaces
        b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",  # space before the colon
        b"BagIt-Version:\t1.0\nTag-File-Character-Encoding: UTF-8\n",  # a tab
        b" BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",  # leading space
        b"BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n",  # trailing space
        b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",  # wrong order
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nContact-Name: x\n",  # a third line
        b"BagIt-Version: 1.0\n\nTag-File-Character-Encoding: UTF-8\n",  # a blank line between
    ],
)
def test_declaration_not_exactly_two_lines_is_an_error_in_1_0(tmp_path: Path, declaration: bytes) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "bagit.txt").write_bytes(declaration)
    report = validate_bag(bag)
    assert not report.valid and codes(report.errors) == {"bag.declaration_invalid"}
    assert report.errors[0].path == "bagit.txt" and report.errors[0].message_vi


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_declaration_line_endings_lf_crlf_cr_are_all_valid(tmp_path: Path, ending: bytes) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0" + ending + b"Tag-File-Character-Encoding: UTF-8")
    report = validate_bag(bag)
    assert report.valid and not report.warnings, report.errors


def test_loose_declaration_of_an_old_draft_is_a_warning(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", version="0.97")
    (bag / "bagit.txt").write_bytes(b"BagIt-Version:  0.97\nTag-File-Character-Encoding:UTF-8\n")
    report = validate_bag(bag)
    assert report.valid, report.errors
    assert codes(report.warnings) == {"bag.old_version", "bag.declaration_invalid"}


@pytest.mark.parametrize("version", ["0.93", "0.94", "0.95", "0.96", "0.97"])
def test_every_old_draft_is_valid_with_a_warning(tmp_path: Path, version: str) -> None:
    report = validate_bag(write_bag(tmp_path / "bag", version=version))
    assert report.valid and report.version == version, report.errors
    assert codes(report.warnings) == {"bag.old_version"}


def test_version_1_0_is_valid_without_warnings_and_bagit_python_agrees(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", tag_manifest=True)
    report = validate_bag(bag)
    assert report.valid and report.version == "1.0" and not report.warnings
    assert bagit.Bag(str(bag)).is_valid()


def test_dot_slash_manifest_paths_are_normalised(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", line="{digest}  ./{path}\n")
    assert "./data/a.txt" in (bag / "manifest-sha256.txt").read_text()
    report = validate_bag(bag)
    assert report.valid and not report.warnings, report.errors
    assert set(report.manifests["sha256"]) == set(FILES)
    assert bagit.Bag(str(bag)).is_valid()  # bagit-python normalises the same way
    (bag / "data/a.txt").write_bytes(b"Cong van so 13/UBND\n")  # and still checks the file
    assert "bag.checksum_mismatch" in codes(validate_bag(bag).errors)


def test_dot_slash_cannot_hide_a_traversal(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    with (bag / "manifest-sha256.txt").open("a") as fh:
        fh.write(f"{hashlib.sha256(b'x').hexdigest()}  ./data/./../../x.txt\n")
    assert "bag.unsafe_path" in codes(validate_bag(bag).errors)


def test_tab_separator_and_upper_case_checksums_are_valid(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", algorithms=("sha256",))
    lines = (bag / "manifest-sha256.txt").read_text().splitlines()
    (bag / "manifest-sha256.txt").write_text(
        "".join(f"{d.upper()}\t{p.strip()}\n" for d, p in (x.split("  ", 1) for x in lines))
    )
    report = validate_bag(bag)
    assert report.valid and not report.warnings, report.errors


def test_missing_payload_oxum_or_bag_info_is_a_warning(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    (bag / "bag-info.txt").write_text("Source-Organization: UBND tỉnh\n", encoding="utf-8")
    report = validate_bag(bag)
    assert report.valid and codes(report.warnings) == {"bag.oxum_missing"}
    assert validate_bag(bag, fast=True).valid
    (bag / "bag-info.txt").unlink()
    report = validate_bag(bag)
    assert report.valid and codes(report.warnings) == {"bag.info_missing"}
    assert bagit.Bag(str(bag)).is_valid()


def test_non_utf8_tag_encoding_is_a_warning(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag", files={"data/a.txt": b"x"})
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n")
    report = validate_bag(bag)
    assert report.valid, report.errors
    assert codes(report.warnings) == {"bag.encoding_not_utf8"}


def test_cli_refuses_a_bom_and_accepts_dot_slash(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from luutru.cli.main import cli

    env = {"LUUTRU_CONFIG": str(tmp_path / "none.toml"), "LUUTRU_DATA_DIR": str(tmp_path / "d")}
    bom = write_bag(tmp_path / "bom")
    (bom / "bagit.txt").write_bytes(b"\xef\xbb\xbf" + (bom / "bagit.txt").read_bytes())
    result = CliRunner().invoke(cli, ["bag", "validate", str(bom), "--json"], env=env)
    assert result.exit_code == 1 and json.loads(result.stdout)["errors"][0]["code"] == "bag.declaration_bom"
    dot = write_bag(tmp_path / "dot", line="{digest}  ./{path}\n")
    result = CliRunner().invoke(cli, ["bag", "validate", str(dot), "--json"], env=env)
    assert result.exit_code == 0 and json.loads(result.stdout)["valid"] is True
