"""edXML messages (QCVN 102:2016) at intake: decoded, mapped, signatures checked, bad input refused."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.intake import IntakeLimits, IntakeRejected, SourceKind, StagedSubmission, stage_submission
from ingest.intake.edxml_status import StatusCode, build_status
from luutru.samples.dossiers import sha256
from luutru.samples.edxml import Attachment, Message, write_message
from luutru.samples.pki import TestPki


def _xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["STT", "Nội dung", "Kinh phí"])
    sheet.append([1, "Đào tạo cán bộ", 120_000_000])
    book.save(path)
    return path


def _zip_of(path: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, path.name)
    return out


def _stage(source: Path, tmp_path: Path, **kw: object) -> StagedSubmission | IntakeRejected:
    return stage_submission(source, tmp_path / "staging", limits=kw.pop("limits", IntakeLimits()), **kw)  # type: ignore[arg-type]


def _codes(result: StagedSubmission | IntakeRejected) -> set[str]:
    return {f.code for f in result.findings}


def _refused(result: StagedSubmission | IntakeRejected, tmp_path: Path) -> IntakeRejected:
    assert isinstance(result, IntakeRejected), result
    assert not (tmp_path / "staging" / result.submission_id).exists(), "nothing may stay half-ingested"
    for f in result.findings:
        assert f.message_vi and f.message_en and f.message_vi != f.message_en
    return result


def test_one_pdf_message_is_decoded_and_mapped_to_tt05_fields(tmp_path: Path, fully_signed: Path) -> None:
    msg = write_message(
        tmp_path / "qd-15.edxml", Message(attachments=(Attachment(fully_signed, name="QD-15.pdf"),))
    )
    staged = _stage(msg, tmp_path)
    assert isinstance(staged, StagedSubmission), staged
    assert staged.kind is SourceKind.EDXML and staged.profile == "tt05-2025"
    [doc] = staged.documents
    assert doc["file"] == "attachments/qd-15/QD-15.pdf"
    assert doc["sha256"] == sha256(fully_signed)
    assert (staged.payload_root / doc["file"]).read_bytes() == fully_signed.read_bytes()
    assert {k: doc[k] for k in ("codeNumber", "codeNotation", "issuedDate", "typeName", "numberOfPage")} == {
        "codeNumber": "15", "codeNotation": "QĐ-UBND", "issuedDate": "15/01/2024", "typeName": "02",
        "numberOfPage": 4,
    }  # fmt: skip
    assert doc["organName"] == "Ủy ban nhân dân tỉnh Thái Bình"
    assert doc["subject"].startswith("Quyết định phê duyệt")
    trail = doc["_edxml"]
    assert trail["document_id"] == "000.00.00.H54,2024/01/15,15/QĐ-UBND"
    assert trail["promulgation"]["Place"] == "Thái Bình"
    assert trail["signer"]["FullName"] == "Nguyễn Văn An"
    assert trail["trace"]["TraceHeader"]["OrganId"] == "000.00.00.H54"
    assert staged.dossier["startDate"] == staged.dossier["endDate"] == "15/01/2024"
    assert "fileCode" not in staged.dossier and "maintenance" not in staged.dossier  # never guessed
    assert {"edxml.unsigned", "edxml.mapped_from_profile"} <= _codes(staged)
    assert {f.path for f in staged.files} == {"qd-15.edxml", doc["file"]}  # the message is kept
    assert staged.answers[0]["DocumentId"] == trail["document_id"]


def test_pdf_and_zipped_xlsx_are_unpacked_and_detected_by_their_bytes(
    tmp_path: Path, fully_signed: Path
) -> None:
    xlsx = _xlsx(tmp_path / "du-toan.xlsx")
    zipped = _zip_of(xlsx, tmp_path / "phu-luc.zip")
    lying = _xlsx(tmp_path / "bang-ke.xlsx")
    msg = write_message(
        tmp_path / "m.edxml",
        Message(
            attachments=(
                Attachment(fully_signed, name="QD.pdf"),
                Attachment(zipped, content_type="application/zip", description="Phụ lục dự toán"),
                Attachment(lying, content_type="application/pdf"),  # wrong label: the bytes decide
            )
        ),
    )
    staged = _stage(msg, tmp_path)
    assert isinstance(staged, StagedSubmission), staged
    files = [d["file"] for d in staged.documents]
    assert files == [
        "attachments/m/QD.pdf",
        "attachments/m/phu-luc.zip-files/du-toan.xlsx",
        "attachments/m/bang-ke.xlsx",
    ]
    assert not (staged.payload_root / "attachments/m/phu-luc.zip").exists()
    assert staged.documents[1]["sha256"] == sha256(xlsx)
    mismatch = [f for f in staged.findings if f.code == "edxml.content_type_mismatch"]
    assert [f.path for f in mismatch] == ["attachments/m/bang-ke.xlsx"]
    assert staged.dossier["totalDoc"] == 3


def test_several_recipients_are_kept_and_pick_the_common_agency_mapping(
    tmp_path: Path, fully_signed: Path
) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "000.00.12.H54.toml").write_text(
        '[dossier]\nmaintenance = "04"\nmode = "01"\n', encoding="utf-8"
    )  # the Sở Nội vụ receives both messages: its archive's mapping applies
    folder = tmp_path / "ho-so"
    folder.mkdir()
    recipients = (("000.00.12.H54", "Sở Nội vụ"), ("000.00.13.H54", "Sở Tài chính"))
    write_message(folder / "a.edxml", Message(recipients=recipients, attachments=(Attachment(fully_signed),)))
    write_message(
        folder / "b.edxml",
        Message(organ_id="000.00.99.H54", number="16", date="2024/02/01", recipients=recipients[:1],
                attachments=(Attachment(fully_signed, name="tt.pdf"),)),
    )  # fmt: skip
    staged = _stage(folder, tmp_path, edxml_mappings=mappings)
    assert isinstance(staged, StagedSubmission), staged
    first = staged.documents[0]["_edxml"]
    assert [t["OrganId"] for t in first["to"]] == ["000.00.12.H54", "000.00.13.H54"]
    assert staged.dossier["maintenance"] == "04" and staged.dossier["mode"] == "01"
    assert (staged.dossier["startDate"], staged.dossier["endDate"]) == ("15/01/2024", "01/02/2024")
    assert len(staged.answers) == 2
    assert (
        "000.00.12.H54.toml"
        in next(f for f in staged.findings if f.code == "edxml.mapped_from_profile").message_en
    )


def test_a_status_message_is_refused_as_a_submission(tmp_path: Path) -> None:
    answer = {
        "OrganId": "000.00.00.H54",
        "Code": "15/QĐ-UBND",
        "DocumentId": "000.00.00.H54,2024/01/15,15/QĐ-UBND",
    }
    status = tmp_path / "status.edxml"
    status.write_bytes(
        build_status(answer, StatusCode.ACCEPTED, "Đã tiếp nhận", organ_id="H54.01", organ_name="Lưu trữ",
                     when=datetime(2024, 1, 16, 2, 0, tzinfo=UTC))
    )  # fmt: skip
    refused = _refused(_stage(status, tmp_path), tmp_path)
    [finding] = refused.findings
    assert finding.code == "edxml.status_not_document" and finding.evidence["status_code"] == "03"
    assert "thông điệp trạng thái" in finding.message_vi and "status message" in finding.message_en


def test_signed_envelope_is_verified_and_a_tampered_one_refused(
    tmp_path: Path, fully_signed: Path, pki: TestPki
) -> None:
    msg = write_message(
        tmp_path / "signed.edxml",
        Message(attachments=(Attachment(fully_signed),)),
        sign_with=pki.organisation,
    )
    staged = _stage(msg, tmp_path, trust_roots=[pki.root_cert])
    assert isinstance(staged, StagedSubmission), staged
    assert "edxml.signature_valid" in _codes(staged) and "edxml.signature_untrusted" not in _codes(staged)
    untrusted = _stage(msg, tmp_path)  # no trust roots configured: valid, but said untrusted
    assert {"edxml.signature_valid", "edxml.signature_untrusted"} <= _codes(untrusted)
    tampered = tmp_path / "tampered.edxml"
    tampered.write_bytes(
        msg.read_bytes().replace("Quyết định phê duyệt".encode(), "Quyết định hủy bỏ".encode())
    )
    refused = _refused(_stage(tampered, tmp_path, trust_roots=[pki.root_cert]), tmp_path)
    assert _codes(refused) == {"edxml.signature_invalid"}
    assert refused.answers and refused.answers[0]["Code"] == "15/QĐ-UBND"  # a status can still answer it


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
<Subject>&d;&d;&d;</Subject></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
<Subject>&x;</Subject></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>"""


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (BILLION_LAUGHS, "edxml.doctype_forbidden"),
        (EXTERNAL_ENTITY, "edxml.doctype_forbidden"),
        (
            b'<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope>',
            "edxml.malformed",
        ),
        (b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><Other/></edXML>', "edxml.not_a_message"),
    ],
    ids=["entity-expansion", "external-entity", "malformed", "no-header"],
)
def test_hostile_or_broken_xml_is_refused_with_a_clear_reason(
    tmp_path: Path, content: bytes, code: str
) -> None:
    msg = tmp_path / "bad.edxml"
    msg.write_bytes(content)
    refused = _refused(_stage(msg, tmp_path), tmp_path)
    assert code in _codes(refused)


def _with_payload(tmp_path: Path, pdf: Path, replace: tuple[bytes, bytes]) -> Path:
    msg = write_message(tmp_path / "m.edxml", Message(attachments=(Attachment(pdf),)))
    msg.write_bytes(msg.read_bytes().replace(*replace))
    return msg


def test_base64_that_does_not_decode_is_refused(tmp_path: Path, fully_signed: Path) -> None:
    head = base64.b64encode(fully_signed.read_bytes()[:30])[:20]
    msg = _with_payload(tmp_path, fully_signed, (head, head[:10] + b"!!!!" + head[14:]))
    refused = _refused(_stage(msg, tmp_path), tmp_path)
    assert _codes(refused) == {"edxml.base64_invalid"}
    assert refused.findings[0].path == "attachments/m/.part-1"


def test_attachment_over_the_limits_is_refused_while_decoding(tmp_path: Path, fully_signed: Path) -> None:
    msg = write_message(tmp_path / "m.edxml", Message(attachments=(Attachment(fully_signed),)))
    limits = IntakeLimits(max_file_bytes=fully_signed.stat().st_size - 1)
    refused = _refused(_stage(msg, tmp_path, limits=limits), tmp_path)
    assert _codes(refused) == {"intake.too_large"}


def test_zipped_attachment_bomb_is_refused_by_the_zip_rules(tmp_path: Path, fully_signed: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", io.BytesIO(b"\0" * (8 << 20)).getvalue())
    msg = write_message(
        tmp_path / "m.edxml",
        Message(attachments=(Attachment(fully_signed), Attachment(bomb, content_type="application/zip"))),
    )
    refused = _refused(_stage(msg, tmp_path), tmp_path)
    assert "intake.zip_bomb" in _codes(refused)


def test_manifest_naming_a_missing_attachment_is_refused(tmp_path: Path, fully_signed: Path) -> None:
    msg = _with_payload(
        tmp_path,
        fully_signed,
        (b"<edXML:ContentId>cid:1</edXML:ContentId>", b"<edXML:ContentId>cid:9</edXML:ContentId>"),
    )
    name = fully_signed.name.encode()  # the manifest also names a file the message does not carry
    msg.write_bytes(
        msg.read_bytes().replace(b"<edXML:AttachmentName>" + name, b"<edXML:AttachmentName>phu-luc.pdf")
    )
    refused = _refused(_stage(msg, tmp_path), tmp_path)
    assert _codes(refused) == {"edxml.attachment_missing"}
    assert refused.findings[0].evidence["reference"] == "cid:9"


# -- through the service and the CLI ------------------------------------------------------------
def _cli(env: dict[str, str], *args: str) -> dict[str, object]:
    import json

    from click.testing import CliRunner

    from luutru.cli.main import cli

    result = CliRunner().invoke(cli, ["ingest", *args, "--json"], env=env)
    assert result.exit_code in (0, 1), result.output
    return dict(json.loads(result.stdout))


def test_message_without_a_mapping_goes_to_review_naming_the_fields_to_complete(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str]
) -> None:
    msg = write_message(tmp_path / "qd.edxml", Message(attachments=(Attachment(fully_signed),)))
    out = _cli(archive_env, str(msg))  # the agency is the sender (From/OrganId)
    assert out["status"] == "review", out["findings"]
    to_complete = {f["field"] for f in out["findings"] if f["code"] == "intake.field_to_complete"}  # type: ignore[index, union-attr]
    assert {"fileCode", "title", "maintenance", "mode"} <= to_complete
    assert not [f for f in out["findings"] if f["severity"] == "error"]  # type: ignore[index, union-attr]
    [answer] = out["edxml_status"]  # type: ignore[misc]
    assert answer["status_code"] == "01" and "<edXML:StatusCode>01</edXML:StatusCode>" in answer["xml"]
    assert "000.00.00.H54,2024/01/15,15/QĐ-UBND" in answer["xml"]


def test_message_with_an_agency_mapping_is_archived_and_answered_accepted(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str], settings: object
) -> None:
    from lxml import etree
    from sqlalchemy import select

    from archive.catalog import Dossier, Package, Submission, SubmissionState
    from archive.schemas import validation_errors
    from luutru.config import Settings
    from luutru.services import Services

    mappings = tmp_path / "mappings"
    mappings.mkdir()
    msg = write_message(tmp_path / "qd.edxml", Message(attachments=(Attachment(fully_signed),)))
    (mappings / "000.00.00.H54.toml").write_text(
        '[dossier]\nmode = "01"\nmaintenance = "06"\n\n'
        '[[dossiers]]\nfileCode = "H54.2024.05.CCHC"\ntitle = "Hồ sơ cải cách hành chính năm 2024"\n'
        'documents = ["000.00.00.H54,2024/01/15,15/QĐ-UBND"]\n',
        encoding="utf-8",
    )
    env = {**archive_env, "LUUTRU_EDXML_MAPPINGS": str(mappings), "LUUTRU_EDXML_ORGAN_ID": "H54.LT"}
    out = _cli(env, str(msg))
    assert out["status"] == "accepted", [
        (f["code"], f["field"], f["message_en"]) for f in out["findings"] if f["severity"] != "info"
    ]  # type: ignore[index, union-attr]
    [answer] = out["edxml_status"]  # type: ignore[misc]
    assert answer["status_code"] == "03" and "<edXML:OrganId>H54.LT</edXML:OrganId>" in answer["xml"]
    assert isinstance(settings, Settings)
    svc = Services.build(settings)
    with svc.session() as s:
        dossier = s.scalars(select(Dossier)).one()
        assert dossier.code == "H54.2024.05.CCHC" and dossier.retention_years == 10
        [doc] = dossier.documents
        assert doc.code_number == "15" and doc.code_notation == "QĐ-UBND"
        sub = s.get(Submission, out["submission"])
        assert sub is not None and sub.state is SubmissionState.ARCHIVED
        assert (
            sub.metadata_doc["documents"][0]["_edxml"]["trace"]["TraceHeader"]["OrganId"] == "000.00.00.H54"
        )
        pkg = s.scalars(select(Package)).one()
    aip = Path(settings.replica_roots[0]) / pkg.storage_key / "data"
    premis = (aip / "metadata" / "preservation" / "PREMIS.xml").read_text(encoding="utf-8")
    assert (
        "edXML exchange (QCVN 102:2016): 000.00.00.H54,2024/01/15,15/QĐ-UBND passed 000.00.00.H54" in premis
    )
    assert not validation_errors("premis", etree.parse(str(aip / "metadata" / "preservation" / "PREMIS.xml")))


def test_message_refused_at_intake_is_answered_refused_with_the_reason(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str]
) -> None:
    head = base64.b64encode(fully_signed.read_bytes()[:30])[:20]
    msg = _with_payload(tmp_path, fully_signed, (head, head[:10] + b"!!!!" + head[14:]))
    out = _cli(archive_env, str(msg), "--agency", "000.00.00.H54")
    assert out["status"] == "rejected"
    [answer] = out["edxml_status"]  # type: ignore[misc]
    assert answer["status_code"] == "02" and "base64" in answer["xml"]


def test_api_takes_a_message_as_the_body_and_serves_its_status(
    tmp_path: Path, fully_signed: Path, pki: TestPki
) -> None:
    from lxml import etree

    from luutru.config import Settings
    from tests.api.harness import build_api

    api = build_api(Settings(data_dir=tmp_path / "data"), pki)
    try:
        msg = write_message(tmp_path / "qd.edxml", Message(attachments=(Attachment(fully_signed),)))
        created = api.call("POST", "/edxml-messages", data=msg.read_bytes(), content_type="application/xml")
        assert created.status_code == 201, created.get_json()
        out = created.get_json()
        assert out["status"] == "review" and out["receipt"]["file_count"] == 2
        where = f"/submissions/{out['id']}/edxml-status"
        assert created.headers["Location"].endswith(where)
        status = api.call("GET", where, "a-read")
        assert status.status_code == 200 and status.mimetype == "application/xml"
        root = etree.fromstring(status.data)
        ns = {"e": "http://www.mic.gov.vn/TBT/QCVN_102_2016"}
        assert root.findtext("e:edXMLHeader/e:Status/e:StatusCode", namespaces=ns) == "01"
        assert root.findtext("e:edXMLHeader/e:Status/e:ResponseFor/e:DocumentId", namespaces=ns) == (
            "000.00.00.H54,2024/01/15,15/QĐ-UBND"
        )
        assert api.call("GET", where + "?message=1", "a-read").status_code == 404
        assert api.call("GET", where, "b").status_code == 404  # another agency's
        broken = api.call("POST", "/edxml-messages", data=b"<edXML><oops>", content_type="application/xml")
        assert broken.status_code == 201 and broken.get_json()["status"] == "rejected"
        assert broken.get_json()["reasons"]
    finally:
        api.services.close()


def test_bulk_transfer_groups_by_a_dossier_list_resumes_and_reports(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str]
) -> None:
    import json

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from luutru.cli.main import cli

    export = tmp_path / "export"
    (export / "2024-01").mkdir(parents=True)
    for i in range(4):
        write_message(
            export / "2024-01" / f"vb-{i}.edxml",
            Message(number=str(20 + i), attachments=(Attachment(fully_signed, name=f"vb-{i}.pdf"),)),
        )
    (export / "2024-01" / "broken.edxml").write_bytes(
        b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope>'
    )
    listing = tmp_path / "danh-muc.csv"
    listing.write_text(
        "dossier,message\nHS-A,vb-0.edxml\nHS-A,vb-1.edxml\nHS-B,vb-2.edxml\nHS-C,broken.edxml\n",
        encoding="utf-8",
    )  # vb-3 is in no dossier: reported unassigned
    state, report = tmp_path / "state.jsonl", tmp_path / "bao-cao"
    args = ["transfer", "import", str(export), "--agency", "000.00.00.H54", "--by", "list", "--list", str(listing),
            "--state", str(state), "--report", str(report), "--json"]  # fmt: skip
    first = CliRunner().invoke(cli, args, env=archive_env)
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    by_group = {row["group"]: row for row in out["groups"]}
    assert by_group["HS-A"]["messages"] == ["2024-01/vb-0.edxml", "2024-01/vb-1.edxml"]
    assert by_group["HS-A"]["status"] == "review" and by_group["HS-B"]["status"] == "review"
    assert {r["code"] for r in by_group["HS-A"]["reasons"]} >= {"intake.field_to_complete"}
    assert (
        by_group["HS-C"]["status"] == "rejected"
        and by_group["HS-C"]["reasons"][0]["code"] == "edxml.malformed"
    )
    assert by_group["unassigned"]["messages"] == ["2024-01/vb-3.edxml"]
    assert len(state.read_text(encoding="utf-8").splitlines()) == 3
    sheet = load_workbook(report.with_suffix(".xlsx")).active
    assert sheet is not None and sheet.max_row == 1 + 4
    again = CliRunner().invoke(cli, args, env=archive_env)  # resumed: nothing ingested twice
    assert json.loads(again.stdout)["skipped"] == 3
    assert len(state.read_text(encoding="utf-8").splitlines()) == 3


def test_archivist_completes_the_missing_fields_and_the_message_is_archived(
    tmp_path: Path, fully_signed: Path, archive_env: dict[str, str]
) -> None:
    import json

    from click.testing import CliRunner

    from luutru.cli.main import cli

    msg = write_message(tmp_path / "qd.edxml", Message(attachments=(Attachment(fully_signed),)))
    first = _cli(archive_env, str(msg))
    assert first["status"] == "review"
    args = ["submission", "complete", str(first["submission"]), "--set", "fileCode=H54.2024.05.CCHC",
            "--set", "title=Hồ sơ cải cách hành chính năm 2024", "--set", "maintenance=06", "--set", "mode=01",
            "--doc", "1:mode=01", "--as", "archivist", "--json"]  # fmt: skip
    done = CliRunner().invoke(cli, args, env=archive_env)
    out = json.loads(done.stdout)
    assert out["status"] == "accepted", [f["code"] for f in out["findings"] if f["severity"] != "info"]
    assert out["dossier"] == "H54.2024.05.CCHC"
    assert out["edxml_status"][0]["status_code"] == "03"
    again = CliRunner().invoke(cli, args, env=archive_env)  # no longer in review
    assert again.exit_code != 0 and "only one in review" in again.output


def test_a_zip_of_the_messages_of_one_dossier_is_one_submission(tmp_path: Path, fully_signed: Path) -> None:
    folder = tmp_path / "HS-01"
    folder.mkdir()
    for i in range(2):
        write_message(
            folder / f"vb-{i}.edxml", Message(number=str(30 + i), attachments=(Attachment(fully_signed),))
        )
    zipped = tmp_path / "HS-01.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"HS-01/{path.name}")
    staged = _stage(zipped, tmp_path)
    assert isinstance(staged, StagedSubmission), staged
    assert staged.kind is SourceKind.EDXML
    assert [d["codeNumber"] for d in staged.documents] == ["30", "31"]
    assert [d["file"] for d in staged.documents] == [
        f"attachments/vb-{i}/{fully_signed.name}" for i in range(2)
    ]


def test_api_refuses_an_empty_body_and_a_wrong_media_type(tmp_path: Path, pki: TestPki) -> None:
    from luutru.config import Settings
    from tests.api.harness import build_api

    api = build_api(Settings(data_dir=tmp_path / "data"), pki)
    try:
        empty = api.call("POST", "/edxml-messages", data=b"", content_type="application/xml")
        assert empty.status_code == 400 and empty.get_json()["code"] == "request.empty_body"
        wrong = api.call("POST", "/edxml-messages", data=b"<x/>", content_type="application/json")
        assert wrong.status_code == 415
    finally:
        api.services.close()
