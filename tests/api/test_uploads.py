"""Chunked, resumable uploads in process: offsets, path checks, sizes, formats, plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from luutru.config import Settings
from luutru.samples.pki import TestPki
from tests.api.harness import Api, build_api, sha, small_metadata


def _open(api: Api, files: dict[str, bytes], **doc_extra: object) -> str:
    meta = small_metadata(files)
    for doc in meta["documents"]:
        doc.update(doc_extra)
    r = api.call("POST", "/submissions", json={"metadata": meta})
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert plan["chunk_size"] > 0 and r.headers["Location"].endswith(plan["id"])
    assert [f["upload_url"] for f in plan["files"]] == [
        f"/api/v1/submissions/{plan['id']}/files/{p}" for p in files
    ]
    upload_id: str = plan["id"]
    return upload_id


def test_chunks_append_at_the_offset_only(api: Api) -> None:
    data = bytes(range(256)) * 40  # 10 240 bytes
    uid = _open(api, {"bang/so-lieu.csv": data})
    url = f"/submissions/{uid}/files/bang/so-lieu.csv"
    r = api.call("PUT", url, data=data[:4000], headers={"Content-Range": "bytes 0-3999/10240"})
    assert r.status_code == 200 and r.headers["Upload-Offset"] == "4000" and not r.get_json()["complete"]
    wrong = api.call("PUT", url, data=data[5000:6000], headers={"Content-Range": "bytes 5000-5999/10240"})
    assert wrong.status_code == 409 and wrong.get_json()["offset"] == 4000
    again = api.call("PUT", url, data=data[:4000], headers={"Content-Range": "bytes 0-3999/10240"})
    assert again.status_code == 409 and again.get_json()["code"] == "upload.offset_mismatch"
    head = api.call("HEAD", url)
    assert head.headers["Upload-Offset"] == "4000" and head.headers["Upload-Length"] == "10240"
    last = api.call("PUT", url, data=data[4000:], headers={"Content-Range": "bytes 4000-10239/10240"})
    assert last.status_code == 200 and last.get_json()["complete"] is True
    done = api.call("PUT", url, data=b"x", headers={"Content-Range": "bytes 10240-10240/10241"})
    assert done.status_code == 409 and done.get_json()["offset"] == 10240  # complete files take no more bytes


def test_unknown_total_completes_once_the_total_is_sent(api: Api) -> None:
    data = b"Bao cao tong hop\n" * 100
    meta = small_metadata({"bc.txt": data})
    del meta["documents"][0]["size"]
    uid = api.call("POST", "/submissions", json={"metadata": meta}).get_json()["id"]
    url = f"/submissions/{uid}/files/bc.txt"
    r = api.call("PUT", url, data=data[:1000], headers={"Content-Range": "bytes 0-999/*"})
    assert r.status_code == 200 and not r.get_json()["complete"] and r.get_json()["expected_size"] is None
    r = api.call(
        "PUT", url, data=data[1000:], headers={"Content-Range": f"bytes 1000-{len(data) - 1}/{len(data)}"}
    )
    assert r.get_json()["complete"] is True


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("%2E%2E/%2E%2E/etc/passwd", 400),
        ("a%5C..%5Cb.txt", 400),
        ("a%00.txt", 400),
        ("khong-khai-bao.txt", 404),
    ],
)
def test_paths_are_checked(api: Api, path: str, status: int) -> None:
    uid = _open(api, {"a.txt": b"abc"})
    r = api.call("PUT", f"/submissions/{uid}/files/{path}", data=b"abc")
    assert r.status_code == status and r.mimetype == "application/problem+json"
    assert not list((api.settings.data_dir / "uploads").rglob("passwd*"))


def test_declared_paths_are_checked_at_opening(api: Api) -> None:
    for bad in ("../x.txt", "/etc/x.txt", "a\\b.txt", "metadata.json"):
        meta = small_metadata({"a.txt": b"a"})
        meta["documents"][0]["file"] = bad
        r = api.call("POST", "/submissions", json={"metadata": meta})
        assert r.status_code in (400, 422), bad
    meta = small_metadata({"a.txt": b"a", "b.txt": b"b"})
    meta["documents"][1]["file"] = "a.txt"
    assert (
        api.call("POST", "/submissions", json={"metadata": meta}).get_json()["code"] == "upload.plan_invalid"
    )


def test_bigger_than_declared_is_413_and_the_chunk_is_dropped(api: Api) -> None:
    uid = _open(api, {"a.txt": b"abcd"})
    url = f"/submissions/{uid}/files/a.txt"
    r = api.call("PUT", url, data=b"abcdef")
    assert r.status_code == 413 and r.get_json()["code"] == "upload.too_large"
    r = api.call("PUT", url, data=b"ab", headers={"Content-Range": "bytes 0-1/6"})
    assert r.status_code == 413
    assert api.call("HEAD", url).headers["Upload-Offset"] == "0"


def test_limits_from_settings(tmp_path: Path, pki: TestPki) -> None:
    api = build_api(
        Settings(data_dir=tmp_path / "d", max_file_bytes=1000, accepted_formats=("txt", "pdf")), pki
    )
    try:
        too_big = small_metadata({"a.txt": b"a"})
        too_big["documents"][0]["size"] = 5000
        assert api.call("POST", "/submissions", json={"metadata": too_big}).status_code == 413
        r = api.call("POST", "/submissions", json={"metadata": small_metadata({"virus.exe": b"MZ"})})
        assert r.status_code == 415 and r.get_json()["code"] == "format.not_accepted"
        meta = small_metadata({"a.txt": b"x" * 1500})
        del meta["documents"][0]["size"]  # undeclared size: the archive's limit still holds while streaming
        uid = api.call("POST", "/submissions", json={"metadata": meta}).get_json()["id"]
        r = api.call("PUT", f"/submissions/{uid}/files/a.txt", data=b"x" * 1500)
        assert r.status_code == 413
    finally:
        api.services.close()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": "not an object"},
        {"metadata": {"documents": []}},
        {"metadata": {"documents": [{"file": "a.txt", "sha256": "XYZ"}]}},
        {"metadata": {"documents": [{"file": "a.txt", "sha256": "0" * 64, "size": -1}]}},
    ],
)
def test_bad_plans_are_refused(api: Api, body: dict[str, object]) -> None:
    r = api.call("POST", "/submissions", json=body)
    assert r.status_code in (400, 422) and r.get_json()["detail_vi"]


def test_bad_content_range_is_400(api: Api) -> None:
    uid = _open(api, {"a.txt": b"abc"})
    url = f"/submissions/{uid}/files/a.txt"
    for header in ("bytes=0-2/3", "bytes 2-0/3", "bytes 0-3/3", "bytes 0-9/*"):
        r = api.call("PUT", url, data=b"abc", headers={"Content-Range": header})
        assert r.status_code == 400, header
    assert api.call("PUT", url, data=b"abc", headers={"Content-Range": "bytes 0-2/3"}).status_code == 200
    assert sha(b"abc") == api.call("GET", f"/submissions/{uid}").get_json()["files"][0]["sha256"]


def test_a_file_being_written_is_busy_for_a_second_writer(api: Api) -> None:
    import fcntl

    uid = _open(api, {"a.txt": b"abc"})
    part = api.settings.data_dir / "uploads" / uid / "parts" / "a.txt.part"
    part.parent.mkdir(parents=True)
    with part.open("a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another request (or process) is writing
        r = api.call("PUT", f"/submissions/{uid}/files/a.txt", data=b"abc")
        assert r.status_code == 409 and r.get_json()["code"] == "upload.busy"
    assert api.call("PUT", f"/submissions/{uid}/files/a.txt", data=b"abc").get_json()["complete"] is True


def test_migration_0002_adds_and_removes_the_upload_tables(tmp_path: Path) -> None:
    from alembic import command

    from archive import db

    url = f"sqlite:///{tmp_path / 'c.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    assert {"api_upload", "api_upload_file"} <= set(db.table_names(engine))
    command.downgrade(db.alembic_config(url), "0001")
    assert not {"api_upload", "api_upload_file"} & set(db.table_names(engine))
    db.upgrade(url)
    assert {"api_upload", "api_upload_file"} <= set(db.table_names(engine))
    engine.dispose()
