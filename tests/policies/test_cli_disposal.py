"""The retention, disposal and hold commands through CliRunner, end to end on a real data directory."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from archive import events
from archive.agencies import create_agency
from archive.catalog import Dossier, Role, User
from luutru.accounts import create_user
from luutru.cli import disposal as disposal_cli
from luutru.cli.context import CliContext
from luutru.config import Settings
from luutru.services import Services, prepare_data_dir
from search.index.base import IndexDoc
from search.index.fts5 import Fts5Index
from tests.policies.conftest import AGENCY, MEMBERS, World
from tests.support.clamav import install_test_signatures


@pytest.fixture
def cli_world(settings: Settings, tmp_path: Path) -> tuple[click.Group, World, Services]:
    prepare_data_dir(settings)
    install_test_signatures(settings)  # the disposal papers are archived through the same checks
    services = Services.build(settings)

    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        ctx.obj = CliContext(settings, services)

    disposal_cli.register(cli)
    with services.session() as s:
        create_agency(s, AGENCY, "Sở Nội vụ tỉnh Thái Bình")
        create_user(
            s, "luu_tru_vien", "Nguyễn Thị Lan", None, [Role.ARCHIVIST, Role.ADMINISTRATOR, Role.DECIDER]
        )
        create_user(s, "giam_doc", "Lê Văn Minh", None, [Role.DECIDER])
        for name in MEMBERS:
            create_user(s, name, name, None, [Role.COUNCIL_MEMBER])
        s.commit()
    world = World(services.sessions, tmp_path, services.replicas)  # type: ignore[arg-type]
    return cli, world, services


def invoke(cli: click.Group, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_disposal_from_the_command_line(
    cli_world: tuple[click.Group, World, Services], tmp_path: Path
) -> None:
    cli, world, services = cli_world
    dossier_id = world.add_dossier("KT-2014-01")
    world.add_dossier("NO-END", end=None, packages=False)
    with services.session() as s:
        doc_ids = [d.id for d in world.dossier(s, "KT-2014-01").documents]
    index = Fts5Index(services.settings.search_db_path)
    index.upsert(
        [IndexDoc(id=f"dossier:{dossier_id}", title="Hồ sơ kế toán", dossier_id=dossier_id)]
        + [IndexDoc(id=f"doc:{i}", title="Văn bản", body="nội dung", dossier_id=dossier_id) for i in doc_ids]
    )
    assert index.count() == 3
    index.close()

    schedule = tmp_path / "tt10.csv"
    schedule.write_text(
        "series,doc_type,agency_code,maintenance,years,description\n,,,06,,Hồ sơ chung\n", "utf-8"
    )
    assert (
        "version 1"
        in invoke(
            cli,
            "retention",
            "import",
            str(schedule),
            "--code",
            "TT10",
            "--name",
            "TT 10/2022",
            "--as",
            "luu_tru_vien",
        ).output
    )
    assert (
        "unchanged"
        in invoke(
            cli, "retention", "import", str(schedule), "--code", "TT10", "--name", "x", "--as", "luu_tru_vien"
        ).output
    )

    due = json.loads(invoke(cli, "retention", "due", "--json", "--today", "2025-03-01").output)
    assert [d["code"] for d in due["due"]] == ["KT-2014-01"]
    assert due["due"][0]["due_date"] == "2025-01-01" and due["due"][0]["maintenance"] == "06"
    assert [d["code"] for d in due["missing_end_date"]] == ["NO-END"] and due["held"] == []
    assert (
        json.loads(invoke(cli, "retention", "due", "--json", "--mark", "--today", "2025-03-01").output)[
            "marked"
        ]
        == 1
    )

    placed = invoke(
        cli,
        "hold",
        "place",
        "--scope",
        "dossier",
        "--dossier",
        "KT-2014-01",
        "--kind",
        "inspection",
        "--reason",
        "Thanh tra",
        "--as",
        "luu_tru_vien",
    ).output
    hold_id = placed.split("#")[1].split()[0]
    refused = invoke(
        cli,
        "disposal",
        "appraise",
        "KT-2014-01",
        "--decision",
        "propose",
        "--reason",
        "hết giá trị",
        "--as",
        "luu_tru_vien",
        "--today",
        "2025-03-01",
        code=1,
    )
    assert "legal hold" in refused.output
    assert json.loads(invoke(cli, "hold", "list", "--json").output)[0]["kind"] == "inspection"
    invoke(cli, "hold", "release", hold_id, "--reason", "Kết thúc thanh tra", "--as", "luu_tru_vien")

    invoke(
        cli,
        "disposal",
        "appraise",
        "KT-2014-01",
        "--decision",
        "propose",
        "--reason",
        "hết giá trị",
        "--as",
        "luu_tru_vien",
        "--today",
        "2025-03-01",
    )
    case = invoke(
        cli,
        "disposal",
        "open",
        "KT-2014-01",
        "--title",
        "Hủy hồ sơ kế toán",
        "--note",
        "Hết hạn 10 năm",
        "--as",
        "luu_tru_vien",
    ).output.strip()
    invoke(cli, "disposal", "submit", case, "--as", "luu_tru_vien")
    for name in MEMBERS[:2]:
        invoke(cli, "disposal", "vote", case, "--vote", "approve", "--as", name)
    invoke(
        cli,
        "disposal",
        "vote",
        case,
        "--vote",
        "reject",
        "--opinion",
        "Còn giá trị tham khảo.",
        "--as",
        MEMBERS[2],
    )
    invoke(
        cli,
        "disposal",
        "review",
        case,
        "--reference",
        "12/TĐ",
        "--opinion",
        "Đồng ý",
        "--approved",
        "--as",
        "luu_tru_vien",
    )
    four_eyes = invoke(cli, "disposal", "decide", case, "--reference", "9/QĐ", "--as", "luu_tru_vien", code=1)
    assert "may not decide" in four_eyes.output
    assert (
        "approved"
        in invoke(cli, "disposal", "decide", case, "--reference", "9/QĐ", "--as", "giam_doc").output
    )

    out = invoke(
        cli, "disposal", "execute", case, "--as", "luu_tru_vien", "--papers", str(tmp_path / "papers")
    ).output
    assert "KT-2014-01" in out and "bien-ban-huy.pdf" in out
    assert "papers archived as dossier" in out and ": accepted" in out  # kept permanently themselves
    assert world.bytes_on_disk("KT-2014-01") == []
    index = Fts5Index(services.settings.search_db_path)
    assert index.count() == 0
    index.close()
    shown = json.loads(invoke(cli, "disposal", "show", case, "--json").output)
    assert shown["state"] == "destroyed" and shown["dossiers"][0]["tombstone"] is True
    assert {"member": MEMBERS[2], "vote": "reject", "opinion": "Còn giá trị tham khảo."} in shown["votes"]
    assert any(name.endswith(".xlsx") for name in shown["documents"])
    with services.session() as s:
        assert events.verify_chain(s).ok
        assert s.scalar(select(User).where(User.username == "giam_doc")) is not None
        papers = s.scalars(select(Dossier).where(Dossier.code.like("%.HUY.%"))).one()
        assert papers.maintenance == "01" and papers.retention_years is None  # permanent
        assert {d.type_code for d in papers.documents} >= {"20", "02"}
    services.close()
