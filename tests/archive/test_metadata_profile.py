"""Profiles are data: loading, field order, code lists, override files, a new circular as a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.errors import ConfigError, NotFound
from archive.metadata import available_profiles, load_profile, load_profile_file, validate_record

EAD_DOSSIER = [
    "fileCode", "title", "maintenance", "mode", "language", "startDate", "endDate", "keyword", "totalDoc",
    "numberOfPaper", "numberOfPage", "format", "inforSign", "confidenceLevel", "paperFileCode",
    "riskRecovery", "riskRecoveryStatus", "description",
]  # fmt: skip
AIP_DOC = [
    "arcFileCode", "mode", "language", "keyword", "numberOfPage", "format", "inforSign", "confidenceLevel",
    "description", "docCode", "docOrdinal", "typeName", "codeNumber", "codeNotation", "issuedDate",
    "organName", "subject", "autograph", "process",
]  # fmt: skip


def test_available_profiles() -> None:
    assert available_profiles() == ["tt02-2019", "nd30-2020", "tt05-2025"]
    with pytest.raises(NotFound):
        load_profile("tt99-2030")


def test_tt05_field_order_and_lengths() -> None:
    profile = load_profile("tt05-2025")
    dossier = profile.kind("dossier")
    assert [f.name for f in dossier.fields if f.ead] == EAD_DOSSIER
    assert profile.kind("aip_dossier").fields[0].name == "arcFileCode"
    assert len(profile.kind("document").fields) == 21
    assert [f.name for f in profile.kind("aip_document").fields] == AIP_DOC
    assert len(profile.kind("package").fields) == 5 and len(profile.kind("aip_package").fields) == 4
    title = dossier.field("title")
    assert title is not None and (title.max_length, title.label_vi, title.required) == (
        1000,
        "Tiêu đề hồ sơ",
        True,
    )
    assert "MM/YYYY" in profile.kind("aip_dossier").date_formats
    assert "MM/YYYY" not in dossier.date_formats
    assert dossier.field("Rights") is dossier.field("mode")  # NĐ 30 name accepted as an alias


def test_tt05_code_lists() -> None:
    profile = load_profile("tt05-2025")
    assert profile.codelists["maintenance"].codes["01"] == "Vĩnh viễn"
    assert sorted(profile.codelists["maintenance"].codes) == [f"{n:02d}" for n in range(1, 8)]
    assert len(profile.codelists["language"].codes) == 11
    assert len(profile.codelists["typeName"].codes) == 32
    assert profile.codelists["typeName"].codes["02"] == "Quyết định"
    assert profile.codelists["confidenceLevel"].codes["02"] == "Số hóa"


def test_unverified_rules_are_marked() -> None:
    tt05 = load_profile("tt05-2025")
    for kind in tt05.kinds.values():
        for spec in kind.fields:
            assert spec.verified is False and spec.source == "TT05", (kind.name, spec.name)
    assert all(not c.verified for c in tt05.codelists.values())
    nd30 = load_profile("nd30-2020").kind("dossier")
    title, rights = nd30.field("Title"), nd30.field("Rights")
    assert title is not None and title.required and not title.verified  # required is our decision
    assert rights is not None and rights.verified and rights.grade == "official text"


def test_nd30_and_tt02_kinds() -> None:
    nd30 = load_profile("nd30-2020")
    assert set(nd30.kinds) == {"outgoing", "incoming", "dossier"}
    incoming = nd30.kind("incoming")
    assert incoming.field("ArrivalNumber") is not None and incoming.field("IssuedAmount") is None
    signer = incoming.field("SignerInfo")
    assert signer is not None and [s.name for s in signer.subfields] == ["Position", "FullName"]
    organ = nd30.kind("dossier").field("OrganId")
    assert organ is not None and organ.max_length == 35  # QCVN SĐ 1:2022, not 13
    tt02 = load_profile("tt02-2019")
    assert set(tt02.kinds) == {"fonds", "dossier", "document"}
    assert len(tt02.kind("fonds").fields) == 13


def test_override_file_changes_attributes_and_codes(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(
        "[tt05-2025.dossier.title]\nmax_length = 50\n"
        "[tt05-2025.dossier.keyword]\nrequired = true\n"
        "[tt05-2025.aip_document.docOrdinal]\nrequired = true\n"
        "[tt05-2025.aip_dossier.title]\nmax_length = 10\n"
        '[tt05-2025.codelists.maintenance.codes]\n"08" = "5 năm"\n'
        "[nd30-2020.dossier.Rights]\nmax_length = 5\n",
        encoding="utf-8",
    )
    profile = load_profile("tt05-2025", overrides)
    dossier = profile.kind("dossier")
    assert dossier.field("title").max_length == 50  # type: ignore[union-attr]
    assert dossier.field("keyword").required  # type: ignore[union-attr]
    assert profile.kind("aip_document").field("docOrdinal").required  # type: ignore[union-attr]
    assert profile.kind("aip_dossier").field("title").max_length == 10  # type: ignore[union-attr]  # inherited field
    assert profile.codelists["maintenance"].codes["08"] == "5 năm"
    assert load_profile("tt05-2025").kind("dossier").field("title").max_length == 1000  # type: ignore[union-attr]
    record = {"title": "x" * 60, "maintenance": "08"}
    codes = {(f.code, f.field) for f in validate_record(profile, "dossier", record)}
    assert ("metadata.too_long", "title") in codes
    assert ("metadata.required", "keyword") in codes
    assert ("metadata.code_unknown", "maintenance") not in codes


@pytest.mark.parametrize(
    "text",
    [
        "[tt05-2025.dossier.title]\nmaxlength = 50\n",
        "[tt05-2025.dossier.nosuchfield]\nrequired = true\n",
        "[tt05-2025.nosuchkind.title]\nrequired = true\n",
        '[tt05-2025.dossier.title]\ntype = "colour"\n',
        "not toml at all = = =",
    ],
)
def test_bad_override_file_is_rejected(tmp_path: Path, text: str) -> None:
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_profile("tt05-2025", overrides)


def test_a_new_circular_is_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "tt99-2030.toml"
    path.write_text(
        """
[profile]
name = "tt99-2030"
title_vi = "Thông tư giả định"
title_en = "Hypothetical circular"

[codelists.mode]
label_vi = "Chế độ sử dụng"
codes = { "A" = "Công khai", "B" = "Mật" }

[kinds.dossier]
label_vi = "Hồ sơ"
label_en = "Dossier"
fields = [
  { name = "code", label_vi = "Mã hồ sơ", label_en = "Code", max_length = 10, required = true },
  { name = "mode", label_vi = "Chế độ sử dụng", label_en = "Mode", type = "code", codelist = "mode" },
]
""",
        encoding="utf-8",
    )
    profile = load_profile_file(path)
    assert profile.name == "tt99-2030"
    assert validate_record(profile, "dossier", {"code": "HS-1", "mode": "A"}) == []
    codes = {f.code for f in validate_record(profile, "dossier", {"code": "HS-0000000001", "mode": "01"})}
    assert codes == {"metadata.too_long", "metadata.code_unknown"}
