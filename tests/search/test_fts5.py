"""FTS5 backend specifics: on-disk file, WAL, reopen, legacy text, analyzer version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive.textenc import encode_legacy
from archive.visibility import Visibility
from search.errors import IndexOutdated, RebuildStateError
from search.index.base import IndexDoc, SearchIndex, SearchQuery
from search.index.fts5 import Fts5Index

TEXT = "Quyết định về việc ban hành quy chế quản lý văn bản của Ủy ban nhân dân tỉnh"


def test_is_a_search_index_in_wal_mode(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "ix" / "search.db")
    assert isinstance(index, SearchIndex)
    mode = sqlite3.connect(tmp_path / "ix" / "search.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    index.close()


def test_survives_reopen_and_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    writer = Fts5Index(path)
    reader = Fts5Index(path)
    writer.upsert([IndexDoc(id="doc:1", title="Biên bản họp", body=TEXT)])
    assert reader.search(SearchQuery(text="bien ban"), Visibility.everything()).total == 1
    writer.rebuild([IndexDoc(id="doc:2", title="Quyết định", body="nội dung")])
    assert [h.id for h in reader.search(SearchQuery(), Visibility.everything()).hits] == ["doc:2"]
    writer.close()
    reader.close()
    again = Fts5Index(path)
    assert again.count() == 1
    again.delete(["doc:2"])
    assert again.count() == 0
    again.close()


def test_legacy_encoded_body_is_not_indexed(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    garbage = encode_legacy(TEXT, "tcvn3")
    index.upsert([IndexDoc(id="doc:1", title="Văn bản cũ", body=garbage)])
    everything = Visibility.everything()
    assert index.search(SearchQuery(text="van ban cu"), everything).total == 1  # title still found
    assert index.search(SearchQuery(text=garbage.split()[0]), everything).total == 0
    flag = sqlite3.connect(index.path).execute("SELECT legacy_encoding FROM docs_1").fetchone()[0]
    assert flag == "tcvn3"
    index.close()


def test_other_analyzer_version_requires_rebuild(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    index.upsert([IndexDoc(id="doc:1", title="Quyết định")])
    with sqlite3.connect(index.path) as db:
        db.execute("UPDATE meta SET value = 'vi-0' WHERE key = 'analyzer'")
    assert index.needs_rebuild
    with pytest.raises(IndexOutdated):
        index.upsert([IndexDoc(id="doc:2", title="Công văn")])
    assert index.search(SearchQuery(text="quyet dinh"), Visibility.everything()).total == 1
    index.rebuild([IndexDoc(id="doc:2", title="Công văn")])
    assert not index.needs_rebuild
    assert index.count() == 1
    index.close()


def test_rebuild_calls_out_of_order_are_refused(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    with pytest.raises(RebuildStateError):
        index.commit_rebuild()
    index.begin_rebuild()
    with pytest.raises(RebuildStateError):
        index.begin_rebuild()
    index.abort_rebuild()
    index.close()


def test_failed_rebuild_leaves_old_index(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db", batch_size=2)
    index.upsert([IndexDoc(id="doc:1", title="Quyết định")])

    def broken() -> object:
        yield IndexDoc(id="doc:2", title="a")
        yield IndexDoc(id="doc:3", title="b")
        raise OSError("catalog went away")

    seen: list[int] = []
    with pytest.raises(OSError):
        index.rebuild(broken(), progress=seen.append)  # type: ignore[arg-type]
    assert seen == [2]
    assert index.count() == 1
    assert index.search(SearchQuery(text="quyết định"), Visibility.everything()).total == 1
    index.close()
