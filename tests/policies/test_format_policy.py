"""Format policy as data: defaults for the seed formats, versions on change, dossiers affected."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.catalog import Event, FormatAction, FormatRisk, StoredFile
from policies.errors import FormatPolicyError, RoleRequired
from policies.format_policy import (
    RuleSpec,
    current_policy,
    ensure_policy,
    parse_rules,
    policy_versions,
    preservation_plan,
    rule_for,
    save_policy,
    spec_of,
)
from tests.policies.conftest import World


def test_defaults_cover_the_seed_formats(world: World) -> None:
    with world.session() as s:
        policy = ensure_policy(s)
        s.commit()
        assert policy.version == 1 and policy.superseded_at is None
        # Đắk Lắk / Lạng Sơn Điều 4.3: office text and spreadsheets, scans, PDF
        for puid in ("fmt/40", "fmt/412", "fmt/290", "fmt/355", "fmt/61", "fmt/214", "fmt/294"):
            rule = rule_for(policy, puid)
            assert rule is not None and rule.action is FormatAction.PRESERVATION_COPY
            assert (rule.target, rule.tool) == ("pdfa-2b", "libreoffice")
        for puid in ("fmt/43", "fmt/13", "fmt/353"):
            rule = rule_for(policy, puid)
            assert rule is not None and rule.tool == "ocr"
        plain_pdf = rule_for(policy, "fmt/276")
        assert plain_pdf is not None and plain_pdf.tool == "ghostscript" and plain_pdf.copy_signed is False
        assert (
            rule_for(policy, "fmt/477") is not None
            and rule_for(policy, "fmt/477").action is FormatAction.KEEP
        )  # type: ignore[union-attr]
        assert ensure_policy(s).id == policy.id  # installed once


def test_a_change_is_a_new_version_listing_the_dossiers_it_affects(world: World) -> None:
    world.add_dossier("HS-DOCX")
    world.add_dossier("HS-PDFA")
    with world.session() as s:
        for code, puid in (("HS-DOCX", "fmt/412"), ("HS-PDFA", "fmt/477")):
            for f in s.scalars(select(StoredFile).where(StoredFile.path.like("data/%"))):
                if f.package.dossier is not None and f.package.dossier.code == code:
                    f.puid = puid
        admin = world.user(s, "quan_tri")
        specs = [spec_of(r) for r in ensure_policy(s).rules]
        unchanged = save_policy(s, admin, specs)
        assert unchanged.created is False and unchanged.policy.version == 1
        edited = [
            RuleSpec(
                r.puid, r.format_name, FormatRisk.HIGH, FormatAction.ACCESS_COPY, "pdfa-2b", "libreoffice"
            )
            if r.puid == "fmt/412"
            else r
            for r in specs
        ]
        result = save_policy(s, admin, edited, note="DOCX: chỉ bản khai thác")
        s.commit()
        assert result.created and result.policy.version == 2
        assert result.changed_puids == ("fmt/412",)
        assert result.affected_dossiers == ("HS-DOCX",)
        versions = policy_versions(s)
        assert [v.version for v in versions] == [2, 1] and versions[1].superseded_at is not None
        assert current_policy(s).version == 2  # type: ignore[union-attr]
        event = s.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event is not None and event.data["changed_puids"] == ["fmt/412"]
        with pytest.raises(RoleRequired):
            save_policy(s, world.user(s, "luu_tru_vien"), specs)


def test_bad_rows_are_refused_with_findings() -> None:
    with pytest.raises(FormatPolicyError) as caught:
        parse_rules(
            [
                {"puid": "docx", "risk": "low", "action": "keep"},
                {"puid": "fmt/412", "risk": "low", "action": "preservation_copy", "target": "tiff"},
                {"puid": "fmt/43", "risk": "nguy hiểm", "action": "keep"},
                {"puid": "fmt/44", "risk": "low", "action": "keep"},
                {"puid": "fmt/44", "risk": "low", "action": "keep"},
            ]
        )
    rows = [f.evidence["row"] for f in caught.value.findings]
    assert rows == [1, 2, 3, 5]
    assert all(f.message_vi.startswith("Dòng") for f in caught.value.findings)


def test_plan_lists_files_to_copy_and_keeps_signed_pdfs(world: World) -> None:
    world.add_dossier("HS-PLAN")
    with world.session() as s:
        files = [f for f in s.scalars(select(StoredFile).where(StoredFile.path.like("data/%")))]
        assert len(files) == 2
        files[0].puid = "fmt/412"  # .docx → copy
        files[1].puid = "fmt/276"  # plain PDF 1.7, but signed → kept as it is
        files[1].properties = {"signatures": [{"field": "NguoiKy"}]}
        s.commit()
        plan = preservation_plan(s)
        by_puid = {p.puid: p for p in plan}
        assert by_puid["fmt/412"].skipped is None and by_puid["fmt/412"].tool == "libreoffice"
        assert by_puid["fmt/276"].skipped == "signed"
        assert [p.puid for p in preservation_plan(s, puid="fmt/412")] == ["fmt/412"]
        assert preservation_plan(s, agency="000.00.99.H99") == []
