"""docs/metadata-profiles.md lists every unverified rule of every shipped profile."""

from __future__ import annotations

import re
from pathlib import Path

from archive.metadata import available_profiles, load_profile

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metadata-profiles.md"


def test_every_unverified_rule_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in available_profiles():
        assert f"`{name}`" in text
        section = text.split(f"\n### {name} ", 1)[1].split("\n### ", 1)[0]
        rows = {
            line.split("|")[1].strip(): line
            for line in section.splitlines()
            if line.startswith("| ") and line.count("|") >= 3
        }
        profile = load_profile(name)
        for kind in profile.kinds.values():
            for spec in kind.fields:
                if not spec.verified:
                    assert f"`{spec.name}`" in rows[f"`{kind.name}`"], (name, kind.name, spec.name)
        for codelist in profile.codelists.values():
            if not codelist.verified:
                assert f"`{codelist.name}`" in rows["code lists"], (name, codelist.name)


def test_every_finding_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sources = (Path(__file__).resolve().parents[2] / "archive" / "metadata").glob("*.py")
    codes = {m for p in sources for m in re.findall(r'"(metadata\.[a-z_]+)"', p.read_text(encoding="utf-8"))}
    assert codes, "no finding codes found"
    for code in codes:
        assert f"`{code}`" in text, code
