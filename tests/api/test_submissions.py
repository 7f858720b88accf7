"""The submission path through the API on real signed PDFs: archived, idempotent, checksums, withdrawal, review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

from archive import events
from archive.catalog import Event, Submission, SubmissionState
from tests.api.harness import Api, folder_metadata, sha, small_metadata, submit_folder


def test_clean_dossier_is_received_validated_and_archived(api: Api, dossier_src: Path) -> None:
    out = submit_folder(api, dossier_src)
    assert out["state"] == "archived", out["findings"]
    assert out["receipt"]["file_count"] == 6 and out["receipt"]["received_at"].endswith("+07:00")
    assert out["dossier"] == "H54.2024.05.CCHC"
    again = api.call("GET", f"/submissions/{out['id']}", "a-read")
    assert again.status_code == 200 and again.get_json()["state"] == "archived"
    dossier = api.call("GET", "/dossiers/H54.2024.05.CCHC", "a-read")
    assert dossier.status_code == 200 and dossier.get_json()["document_count"] == 5
    docs = api.call("GET", "/dossiers/H54.2024.05.CCHC/documents", "a-read").get_json()
    assert [d["ordinal"] for d in docs["items"]] == [1, 2, 3, 4, 5]
    listing = api.call("GET", "/submissions?state=archived", "a-read").get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == out["id"]
    with api.services.session() as s:
        sub = s.get(Submission, out["submission_id"])
        assert sub is not None and sub.source == "api" and sub.token_id is not None
        kinds = {e.object_type for e in s.scalars(select(Event).where(Event.object_id == out["id"]))}
        assert kinds == {"api_upload"}  # the upload's own state changes are events too
        assert events.verify_chain(s).ok
    assert not (api.settings.data_dir / "uploads" / out["id"]).exists()  # parts cleaned up


def test_same_idempotency_key_gives_the_same_submission(api: Api) -> None:
    files = {"a.txt": b"Kinh gui So Noi vu\n"}
    body = {"metadata": small_metadata(files)}
    first = api.call("POST", "/submissions", json=body, headers={"Idempotency-Key": "k-1"})
    second = api.call("POST", "/submissions", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    other = {"metadata": small_metadata({"a.txt": b"khac"})}
    conflict = api.call("POST", "/submissions", json=other, headers={"Idempotency-Key": "k-1"})
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    # agency B may use the same key: keys are per agency
    assert (
        api.call("POST", "/submissions", "b", json=body, headers={"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    # without a key every POST opens a new session
    a = api.call("POST", "/submissions", json=body).get_json()["id"]
    assert a != first.get_json()["id"]


def test_retried_finalise_returns_the_same_submission(api: Api, dossier_src: Path) -> None:
    out = submit_folder(api, dossier_src, key="ho-so-05")
    again = api.call("POST", f"/submissions/{out['id']}/finalise")
    assert again.status_code == 200 and again.get_json()["submission_id"] == out["submission_id"]
    retry = api.call(
        "POST",
        "/submissions",
        json={"metadata": folder_metadata(dossier_src)},
        headers={"Idempotency-Key": "ho-so-05"},
    )
    assert retry.status_code == 200 and retry.get_json()["submission_id"] == out["submission_id"]
    with api.services.session() as s:
        assert len(s.scalars(select(Submission)).all()) == 1


def test_wrong_checksum_is_refused_and_the_file_must_be_sent_again(api: Api) -> None:
    good = b"Noi dung dung\n"
    plan = api.call(
        "POST", "/submissions", json={"metadata": small_metadata({"van-ban.txt": good})}
    ).get_json()
    url = f"/submissions/{plan['id']}/files/van-ban.txt"
    bad = api.call("PUT", url, data=b"Noi dung sai!\n")
    problem = bad.get_json()
    assert bad.status_code == 422 and problem["code"] == "intake.checksum_mismatch"
    assert problem["detail_vi"] and problem["title_vi"] and problem["received"] == sha(b"Noi dung sai!\n")
    head = api.call("HEAD", url)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    early = api.call("POST", f"/submissions/{plan['id']}/finalise")
    assert early.status_code == 409 and early.get_json()["missing"] == ["van-ban.txt"]
    ok = api.call("PUT", url, data=good)
    assert ok.status_code == 200 and ok.get_json()["complete"] is True


def test_withdraw_before_acceptance_and_not_after(api: Api, dossier_src: Path) -> None:
    plan = api.call("POST", "/submissions", json={"metadata": small_metadata({"x.txt": b"x"})}).get_json()
    r = api.call("POST", f"/submissions/{plan['id']}/withdraw", json={"reason": "nộp nhầm"})
    assert r.status_code == 200 and r.get_json()["state"] == "withdrawn"
    assert api.call("PUT", f"/submissions/{plan['id']}/files/x.txt", data=b"x").status_code == 409
    assert api.call("POST", f"/submissions/{plan['id']}/finalise").status_code == 409
    archived = submit_folder(api, dossier_src)
    late = api.call("POST", f"/submissions/{archived['id']}/withdraw")
    assert late.status_code == 409 and late.get_json()["code"] == "conflict"
    assert api.call("GET", f"/submissions/{archived['id']}").get_json()["state"] == "archived"


def test_withdraw_a_submission_waiting_for_review(api: Api, dossier_src: Path, tmp_path: Path) -> None:
    submit_folder(api, dossier_src)
    dup = _duplicate(dossier_src, tmp_path / "dup")
    out = submit_folder(api, dup)
    assert out["state"] == "in_review"
    r = api.call("POST", f"/submissions/{out['id']}/withdraw")
    assert r.status_code == 200 and r.get_json()["state"] == "withdrawn"
    with api.services.session() as s:
        sub = s.get(Submission, out["submission_id"])
        assert sub is not None and sub.state is SubmissionState.WITHDRAWN


def _duplicate(src: Path, dest: Path) -> Path:
    """The same documents under a new dossier code: duplicates the archivist must look at."""
    shutil.copytree(src, dest)
    meta = json.loads((dest / "metadata.json").read_text(encoding="utf-8"))
    meta["dossier"]["fileCode"] = "H54.2024.06.CCHC"
    for doc in meta["documents"]:
        doc["docCode"] = doc["docCode"].replace(".05.", ".06.")
    (dest / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return dest


def test_duplicate_goes_to_review_then_accepted_by_the_archivist(
    api: Api, dossier_src: Path, tmp_path: Path
) -> None:
    submit_folder(api, dossier_src)
    out = submit_folder(api, _duplicate(dossier_src, tmp_path / "dup"))
    assert out["state"] == "in_review" and out["status"] == "review"
    assert any(f["code"].startswith("duplicate.") for f in out["findings"])
    assert all(f["message_vi"] and f["message_en"] for f in out["findings"])
    listing = api.call("GET", "/submissions?state=in_review", "a-read").get_json()
    assert [i["id"] for i in listing["items"]] == [out["id"]]
    api.services.ingest.accept(out["submission_id"], actor=events.Agent.person("luutru_vien"))
    after = api.call("GET", f"/submissions/{out['id']}", "a-read").get_json()
    assert after["state"] == "archived" and after["decision_reason"]
    assert api.call("GET", "/dossiers/H54.2024.06.CCHC", "a-read").status_code == 200


def test_listing_pages_and_filters(api: Api) -> None:
    ids = []
    for i in range(3):
        files = {f"f{i}.txt": f"van ban {i}".encode()}
        plan = api.call(
            "POST", "/submissions", json={"metadata": small_metadata(files, f"H54.2024.{i}.T")}
        ).get_json()
        api.call("PUT", f"/submissions/{plan['id']}/files/f{i}.txt", data=files[f"f{i}.txt"])
        ids.append(api.call("POST", f"/submissions/{plan['id']}/finalise").get_json()["id"])
    page1 = api.call("GET", "/submissions?per_page=2&page=1", "a-read").get_json()
    page2 = api.call("GET", page1["links"]["next"].removeprefix("/api/v1"), "a-read").get_json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and len(page2["items"]) == 1
    assert {i["id"] for i in page1["items"] + page2["items"]} == set(ids)
    assert page2["links"]["next"] is None and page2["links"]["prev"]
    assert (
        api.call("GET", "/submissions?since=2999-01-01T00:00:00%2B07:00", "a-read").get_json()["total"] == 0
    )
    assert api.call("GET", "/submissions?state=nonsense", "a-read").status_code == 400
    assert api.call("GET", "/submissions?page=0", "a-read").status_code == 400
