"""FTS5 query plan for large indexes: capped totals, bm25 only when cheap, tiers, date walk, fallback.

Small caps stand in for the production ones (10,000 records would make the tests slow): every
path a million-record index takes is taken here with a dozen records.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.visibility import Visibility
from search import folding
from search.index.base import IndexDoc, SearchQuery
from search.index.fts5 import Fts5Index

EVERYTHING = Visibility.everything()
PUBLIC = Visibility.public()


def _doc(i: int, title: str, body: str, mode: str = "01", agency: str = "UBND-DL") -> IndexDoc:
    return IndexDoc(
        id=f"doc:{i}",
        title=title,
        body=body,
        agency_code=agency,
        issued_date=date(2010 + i, 1, 1),
        access_mode=mode,
    )


def _corpus() -> list[IndexDoc]:
    docs = [_doc(i, f"Biên bản họp số {i}", "Quy định về văn bản điện tử và lưu trữ.") for i in range(10)]
    docs.append(_doc(10, "Quy chế quản lý văn bản điện tử", "Nội dung quy chế."))  # phrase in the title
    docs.append(_doc(11, "Báo cáo mật", "Văn bản điện tử mật xylophonqua.", mode="03", agency="CA-DL"))
    return docs


def _index(tmp_path: Path, **caps: int) -> Fts5Index:
    index = Fts5Index(tmp_path / "search.db", **caps)
    index.upsert(_corpus())
    return index


def test_small_match_sets_are_exact_and_scored_with_bm25(tmp_path: Path) -> None:
    index = _index(tmp_path)
    result = index.search(SearchQuery(text="văn bản điện tử"), EVERYTHING)
    assert result.total == 12 and result.total_is_exact
    assert result.hits[0].id == "doc:10"  # title match outranks body matches
    assert index.explain(SearchQuery(text="văn bản điện tử"), EVERYTHING)["cheap"] is True
    index.close()


def test_above_the_cap_totals_are_lower_bounds_and_tiers_rank(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=4, rank_window=4)
    query = SearchQuery(text="văn bản điện tử")
    result = index.search(query, EVERYTHING)
    assert not result.total_is_exact
    assert result.total == 4
    assert sum(result.facets["year"].values()) == 4  # facets counted over the same matches
    assert result.hits[0].id == "doc:10"  # phrase in the title: first tier
    assert all(h.score <= result.hits[0].score for h in result.hits)
    trace = index.explain(query, EVERYTHING)
    assert trace["cheap"] is False and trace["capped"] is True
    index.close()


def test_pages_past_the_ranking_window_reach_the_cap(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=4, rank_window=2)
    pages = [index.search(SearchQuery(text="van ban", page=p, per_page=2), EVERYTHING) for p in (1, 2, 3)]
    seen = [h.id for page in pages for h in page.hits]
    assert len(seen) == 4 == len(set(seen))  # the window (2), then the rest of the capped matches
    assert pages[2].hits == () and pages[2].total == 4
    index.close()


def test_capped_scan_still_hides_restricted_content(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=2, rank_window=2)
    secret = index.search(SearchQuery(text="xylophonqua"), PUBLIC)
    assert secret.total == 0 and secret.hits == ()
    broad = index.search(SearchQuery(text="văn bản điện tử", per_page=50), PUBLIC)
    assert "doc:11" not in [h.id for h in broad.hits]
    assert "CA-DL" not in broad.facets["agency"]
    assert "doc:11" in [h.id for h in index.search(SearchQuery(text="xylophonqua"), EVERYTHING).hits]
    index.close()


def test_capped_scan_matches_metadata_only_records_on_metadata(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=4, rank_window=4)
    index.upsert([
        _doc(12, "Hồ sơ nhân sự", "Văn bản điện tử nội bộ", mode="02"),  # words in the hidden body only
        _doc(13, "Văn bản điện tử về nhân sự", "nội dung kín", mode="02"),  # words in the title
    ])  # fmt: skip
    result = index.search(SearchQuery(text="văn bản điện tử", per_page=50), PUBLIC)
    found = {h.id: h for h in result.hits}
    assert "doc:12" not in found
    assert not found["doc:13"].content_visible and "kín" not in found["doc:13"].snippet
    assert index.explain(SearchQuery(text="văn bản điện tử"), PUBLIC)["cheap"] is False
    index.close()


def test_date_sort_above_the_cap_walks_the_date_index(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=3, rank_window=3)
    newest = index.search(SearchQuery(text="van ban dien tu", sort="date_desc", per_page=3), PUBLIC)
    assert [h.id for h in newest.hits] == ["doc:10", "doc:9", "doc:8"]  # doc:11 (secret) skipped
    oldest = index.search(
        SearchQuery(text="van ban dien tu", sort="date_asc", per_page=2, page=2), EVERYTHING
    )
    assert [h.id for h in oldest.hits] == ["doc:2", "doc:3"]
    assert index.explain(SearchQuery(text="van ban", sort="date_desc"), EVERYTHING)["date_walk"] is True
    browse = index.search(SearchQuery(sort="date_desc", per_page=2), EVERYTHING)
    assert [h.id for h in browse.hits] == ["doc:11", "doc:10"] and not browse.total_is_exact
    index.close()


def test_scan_span_limits_frequent_word_queries_to_newest_records(tmp_path: Path) -> None:
    index = _index(tmp_path, count_cap=4, rank_window=4, scan_span=3)
    result = index.search(SearchQuery(text="văn bản", per_page=50), EVERYTHING)
    assert not result.total_is_exact
    assert {h.id for h in result.hits} <= {"doc:9", "doc:10", "doc:11"}
    by_date = index.search(SearchQuery(text="văn bản", sort="date_asc"), EVERYTHING)
    assert [h.id for h in by_date.hits] == ["doc:9", "doc:10", "doc:11"]  # sorted, not walked
    assert "date_walk" not in index.explain(SearchQuery(text="văn bản", sort="date_asc"), EVERYTHING)
    rare = index.search(SearchQuery(text="chế"), EVERYTHING)  # a rare word: whole index, exact
    assert rare.total_is_exact and [h.id for h in rare.hits] == ["doc:10"]
    index.close()


def test_short_and_result_is_widened_by_partial_matches(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    index.upsert([
        IndexDoc(id="doc:all", title="Kết nối liên thông văn bản"),
        IndexDoc(id="doc:two", title="Kết nối mạng", body="Liên thông dữ liệu"),
        IndexDoc(id="doc:one", title="Kết nối", body="khác"),
    ])  # fmt: skip
    result = index.search(SearchQuery(text="kết nối liên thông văn bản"), EVERYTHING)
    # Full match first; then the best subsets: 4 of 6 syllables (two pairs) before 2 of 6.
    assert [h.id for h in result.hits] == ["doc:all", "doc:two", "doc:one"]
    assert result.total == 3
    assert index.explain(SearchQuery(text="kết nối liên thông văn bản"), EVERYTHING)["relaxed"] == 2
    quoted = index.search(SearchQuery(text='"kết nối liên thông văn bản"'), EVERYTHING)
    assert [h.id for h in quoted.hits] == ["doc:all"]  # a phrase is never widened
    index.close()


def test_older_layout_starts_empty_and_rebuild_mode_restores_fsync(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    index = _index(tmp_path)
    index.begin_rebuild()
    assert index._db.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF while rebuilding
    index.commit_rebuild()
    assert index._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again
    index.upsert(_corpus())
    index.close()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM meta WHERE key = 'layout'")
    again = Fts5Index(path)
    assert again.count() == 0 and not again.needs_rebuild
    again.upsert(_corpus())
    assert again.search(SearchQuery(text="quy chế"), EVERYTHING).total == 1
    again.close()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aăâbđeêiôơưy ẠẶẦĐỆỌỢỰ\u0301\u0323,.-/_\t\n\u200b1Σς"), max_size=60))
def test_chunked_token_streams_equal_whole_text_analysis(text: str) -> None:
    exact = " ".join(folding._TOKEN_RE.findall(folding.normalize(text).casefold()))
    assert folding.token_streams(text) == (exact, folding.fold(exact))


# -- grants on every path of the plan ----------------------------------------------------------


def _granted_corpus() -> list[IndexDoc]:
    """The corpus, each record in its own dossier (id = its number), plus two conditional
    records whose bodies hold the query words: dossier 12 (granted below) and dossier 13."""
    docs = [replace(d, dossier_id=int(d.id.split(":")[1])) for d in _corpus()]
    for i in (12, 13):
        docs.append(
            replace(_doc(i, f"Hồ sơ nhân sự {i}", "Văn bản điện tử tuyển dụng", mode="02"), dossier_id=i)
        )
    return docs


GRANT_12 = Visibility.of(content_modes=["01"], metadata_modes=["01", "02"], granted_dossiers=[12])


def test_grants_hold_on_the_capped_scan_tiers_and_date_walk(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db", count_cap=3, rank_window=3)
    index.upsert(_granted_corpus())
    query = SearchQuery(text="văn bản điện tử", per_page=50)
    assert index.explain(query, GRANT_12)["cheap"] is False
    capped = {h.id: h for h in index.search(query, GRANT_12).hits}
    assert capped["doc:12"].content_visible and "doc:13" not in capped and "doc:11" not in capped
    assert "doc:12" not in {h.id for h in index.search(query, PUBLIC).hits}  # not without the grant
    walked = index.search(SearchQuery(text="van ban dien tu", sort="date_desc", per_page=3), GRANT_12)
    assert index.explain(SearchQuery(text="van ban dien tu", sort="date_desc"), GRANT_12)["date_walk"]
    assert [h.id for h in walked.hits] == ["doc:12", "doc:10", "doc:9"]  # 13 hidden, 11 secret
    assert walked.hits[0].content_visible
    listing = index.search(SearchQuery(sort="date_desc", per_page=3), GRANT_12)  # no text
    assert [(h.id, h.content_visible) for h in listing.hits] == [
        ("doc:13", False), ("doc:12", True), ("doc:10", True),
    ]  # fmt: skip
    index.close()


def test_grants_hold_when_every_term_is_rare(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    index.upsert(_granted_corpus())
    result = index.search(SearchQuery(text="tuyển dụng", facets=("access_mode",)), GRANT_12)
    assert [h.id for h in result.hits] == ["doc:12"] and result.total == 1 and result.total_is_exact
    assert "<mark>tuyển dụng</mark>" in result.hits[0].snippet
    assert result.facets["access_mode"] == {"02": 1}
    assert index.explain(SearchQuery(text="tuyển dụng"), GRANT_12)["cheap"] is True
    assert index.search(SearchQuery(text="tuyển dụng"), PUBLIC).total == 0
    index.close()


def test_an_index_from_before_grants_gets_its_dossier_index_on_open(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    index = Fts5Index(path)
    index.upsert(_granted_corpus())
    g = index.generation
    index.close()
    with sqlite3.connect(path) as db:
        db.execute(f"DROP INDEX docs_{g}_dossier")  # as a file written by the previous version
    again = Fts5Index(path)
    assert again.count() == len(_granted_corpus())  # kept, not rebuilt
    names = {r[0] for r in again._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert f"docs_{g}_dossier" in names
    plan = " ".join(
        str(r[3])
        for r in again._db.execute(
            f"EXPLAIN QUERY PLAN SELECT rowid FROM docs_{g} WHERE dossier_id IN (?, ?)", (12, 13)
        )
    )
    assert f"docs_{g}_dossier" in plan  # the grant subquery reads the index, not the table
    assert [h.id for h in again.search(SearchQuery(text="tuyển dụng"), GRANT_12).hits] == ["doc:12"]
    again.close()
