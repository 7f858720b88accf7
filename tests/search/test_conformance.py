"""One behaviour, every backend: the SearchIndex contract as tests (FTS5 always, ES when set)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from archive.visibility import Visibility
from search.index.base import IndexDoc, SearchIndex, SearchQuery, SearchResult

EVERYTHING = Visibility.everything()
PUBLIC = Visibility.public()

# A distinctive word that appears only in the content of secret and conditional records.
SECRET_WORD = "xylophonqua"

CORPUS = (
    IndexDoc(
        id="doc:1",
        dossier_id=1,
        dossier_code="H01.2019.01",
        title="Quyết định ban hành Quy chế quản lý văn bản điện tử",
        subject="Ban hành Quy chế tiếp nhận, xử lý văn bản điện tử",
        body="Quy chế này quy định việc tiếp nhận văn bản điện tử giữa các cơ quan hành chính nhà nước.",
        agency_code="UBND-DL",
        agency_name="Ủy ban nhân dân tỉnh Đắk Lắk",
        doc_type="01",
        code_number="16",
        notation="QĐ-UBND",
        issued_date=date(2019, 7, 30),
        retention="01",
        access_mode="01",
        file_format="pdf",
    ),
    IndexDoc(
        id="doc:2",
        dossier_id=1,
        dossier_code="H01.2019.01",
        title="Công văn về giao đất đai cho hộ gia đình",
        subject="Giao đất đai",
        body="Việc giao đất đai phải tuân theo luật. Hồ sơ đất đai được lưu trữ.",
        agency_code="UBND-DL",
        agency_name="Ủy ban nhân dân tỉnh Đắk Lắk",
        doc_type="02",
        code_number="215",
        notation="UBND-TNMT",
        issued_date=date(2020, 3, 5),
        retention="04",
        access_mode="01",
        file_format="pdf",
    ),
    IndexDoc(
        id="doc:3",
        dossier_id=2,
        dossier_code="H02.2021.07",
        title="Bao cao tong ket cong tac nam",
        subject="Bao cao",
        body="Kết quả thực hiện luat dat dai tai dia phuong va cong tac van thu.",
        agency_code="UBND-PT",
        agency_name="Ủy ban nhân dân tỉnh Phú Thọ",
        doc_type="03",
        code_number="12",
        notation="BC-UBND",
        issued_date=date(2021, 12, 20),
        retention="06",
        access_mode="01",
        file_format="docx",
    ),
    IndexDoc(
        id="doc:4",
        dossier_id=2,
        dossier_code="H02.2021.07",
        title="Tờ trình phê duyệt kinh phí",
        subject="Phê duyệt kinh phí",
        body="Văn phòng đề nghị phê duyệt. Nội dung dài " + "nội dung " * 30 + "bản chính kèm theo.",
        agency_code="UBND-PT",
        agency_name="Ủy ban nhân dân tỉnh Phú Thọ",
        doc_type="04",
        code_number="7",
        notation="TTr-VP",
        issued_date=date(2022, 6, 1),
        retention="05",
        access_mode="01",
        file_format="pdf",
    ),
    IndexDoc(
        id="doc:5",
        dossier_id=3,
        dossier_code="H03.2023.02",
        title="Báo cáo an ninh",
        subject="Báo cáo tình hình",
        body=f"Kế hoạch {SECRET_WORD} liên quan luật đất đai và văn bản điện tử.",
        agency_code="CA-DL",
        agency_name="Công an tỉnh Đắk Lắk",
        doc_type="03",
        code_number="9",
        notation="BC-CA",
        issued_date=date(2023, 2, 14),
        retention="01",
        access_mode="03",
        file_format="pdf",
    ),
    IndexDoc(
        id="doc:6",
        dossier_id=3,
        dossier_code="H03.2023.02",
        title="Hồ sơ nhân sự",
        subject="Danh sách cán bộ",
        body=f"Danh sách {SECRET_WORD} kèm lý lịch cán bộ.",
        agency_code="CA-DL",
        agency_name="Công an tỉnh Đắk Lắk",
        doc_type="05",
        code_number="3",
        notation="DS-CA",
        issued_date=date(2023, 5, 2),
        retention="02",
        access_mode="02",
        file_format="pdf",
    ),
)


@pytest.fixture
def index(backend: SearchIndex) -> SearchIndex:
    assert backend.upsert(CORPUS) == len(CORPUS)
    return backend


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def search(index: SearchIndex, text: str = "", vis: Visibility = EVERYTHING, **kw: object) -> SearchResult:
    return index.search(SearchQuery(text=text, **kw), vis)  # type: ignore[arg-type]


def test_count(index: SearchIndex) -> None:
    assert index.count() == len(CORPUS)


@pytest.mark.parametrize(("accented", "plain"), [("quyết định", "quyet dinh"), ("báo cáo", "bao cao")])
def test_diacritics_and_plain_match_the_same_records(index: SearchIndex, accented: str, plain: str) -> None:
    with_marks = set(ids(search(index, accented)))
    without = set(ids(search(index, plain)))
    assert with_marks == without
    assert with_marks


def test_plain_query_matches_plain_and_accented_documents(index: SearchIndex) -> None:
    found = set(ids(search(index, "bao cao")))
    assert {"doc:3", "doc:5"} <= found  # "Bao cao" (no marks) and "Báo cáo"


def test_d_stroke_folds_both_ways(index: SearchIndex) -> None:
    assert set(ids(search(index, "đất đai"))) == set(ids(search(index, "dat dai")))
    assert {"doc:2", "doc:3"} <= set(ids(search(index, "ĐẤT ĐAI")))


def test_exact_diacritics_rank_first(index: SearchIndex) -> None:
    found = ids(search(index, "luật"))
    assert "doc:2" in found and "doc:3" in found
    assert found.index("doc:2") < found.index("doc:3")  # "luật" before "luat"


def test_phrase_ranks_above_scattered_syllables(index: SearchIndex) -> None:
    found = ids(search(index, "văn bản"))
    # doc:1 holds the phrase; doc:4 has "Văn" (phòng) and "bản" (chính) far apart.
    assert "doc:1" in found and "doc:4" in found
    assert found.index("doc:1") < found.index("doc:4")
    assert ids(search(index, '"văn bản"')).count("doc:4") == 0


def test_prefix_search(index: SearchIndex) -> None:
    assert "doc:1" in ids(search(index, "quyet*"))


def test_notation_is_findable(index: SearchIndex) -> None:
    assert ids(search(index, "16/QĐ-UBND")) == ["doc:1"]
    assert ids(search(index, "16/QD-UBND")) == ["doc:1"]
    assert ids(search(index, notation="16/qđ-ubnd")) == ["doc:1"]


def test_highlight_marks_original_text_and_escapes(backend: SearchIndex) -> None:
    backend.upsert(
        [IndexDoc(id="doc:h", title="Luật <b>đất đai</b>", body="Điều 1. Luật đất đai & <script>")]
    )
    hit = search(backend, "dat dai").hits[0]
    assert "<mark>đất đai</mark>" in hit.snippet  # the word, whole
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet or "script" not in hit.snippet
    assert "<b>" not in hit.title_html
    assert re.search(r"&lt;b&gt;<mark>đất đai</mark>&lt;/b&gt;", hit.title_html)


def test_facets_count_the_match_set(index: SearchIndex) -> None:
    result = search(index, "ủy ban nhân dân")
    assert result.facets["agency"] == {"UBND-DL": 2, "UBND-PT": 2}
    assert result.facets["year"] == {"2019": 1, "2020": 1, "2021": 1, "2022": 1}
    assert sum(result.facets["access_mode"].values()) == result.total == 4
    assert result.total_is_exact  # small match sets are always counted exactly


def test_field_filters(index: SearchIndex) -> None:
    assert set(ids(search(index, agency=("UBND-PT",)))) == {"doc:3", "doc:4"}
    assert ids(search(index, "báo cáo", doc_type=("03",), agency=("UBND-PT",))) == ["doc:3"]
    assert set(ids(search(index, retention=("01",)))) == {"doc:1", "doc:5"}
    assert ids(search(index, file_format=("docx",))) == ["doc:3"]
    assert set(ids(search(index, access_mode=("02", "03")))) == {"doc:5", "doc:6"}


def test_date_range(index: SearchIndex) -> None:
    found = ids(search(index, date_from=date(2020, 1, 1), date_to=date(2021, 12, 31), sort="date_asc"))
    assert found == ["doc:2", "doc:3"]


def test_sort_by_date_and_pagination(index: SearchIndex) -> None:
    pages = [ids(search(index, sort="date_desc", page=p, per_page=4)) for p in (1, 2, 3)]
    assert pages[0] == ["doc:6", "doc:5", "doc:4", "doc:3"]
    assert pages[1] == ["doc:2", "doc:1"]
    assert pages[2] == []
    assert search(index, sort="date_desc", page=2, per_page=4).total == 6


def test_restricted_content_never_leaks(index: SearchIndex) -> None:
    public = search(index, SECRET_WORD, PUBLIC)
    assert public.total == 0 and public.hits == ()
    assert all(n == 0 for facet in public.facets.values() for n in facet.values())
    # A question mixing open words with the secret one finds exactly what it finds with a word
    # that is nowhere: partial matches come from the open words, the secret adds no hit or count.
    mixed = search(index, f"danh sách {SECRET_WORD}", PUBLIC)
    absent = search(index, "danh sách qwertyzzz", PUBLIC)
    assert ids(mixed) == ids(absent) and mixed.total == absent.total and mixed.facets == absent.facets
    assert all(SECRET_WORD not in h.snippet for h in mixed.hits)
    # Content words of a 02 record: no hit, though its metadata is visible.
    assert "doc:6" not in ids(search(index, "lý lịch", PUBLIC))
    everything = search(index, SECRET_WORD, EVERYTHING)
    assert set(ids(everything)) == {"doc:5", "doc:6"}
    assert any(SECRET_WORD in h.snippet for h in everything.hits)


def test_conditional_metadata_matches_without_content(index: SearchIndex) -> None:
    result = search(index, "danh sách cán bộ", PUBLIC)  # subject of the 02 record
    assert ids(result)[:1] == ["doc:6"]
    assert SECRET_WORD not in result.hits[0].snippet
    assert not result.hits[0].content_visible
    # 03: metadata hidden too (the open report may come as a partial match: "báo cáo")
    assert "doc:5" not in ids(search(index, "báo cáo an ninh", PUBLIC))


def test_public_totals_and_facets_exclude_secret_records(index: SearchIndex) -> None:
    result = search(index, "luật đất đai", PUBLIC)
    assert "doc:5" not in ids(result)
    assert result.total == len(result.hits)
    assert "03" not in result.facets["access_mode"]
    assert "CA-DL" not in result.facets["agency"]
    assert "doc:5" in ids(search(index, "luật đất đai", EVERYTHING))


def test_agency_restriction(index: SearchIndex) -> None:
    vis = Visibility.of(content_modes=None, metadata_modes=None, agencies=["CA-DL"])
    assert set(ids(search(index, vis=vis))) == {"doc:5", "doc:6"}
    assert search(index, "quyết định", vis).total == 0


def test_upsert_replaces_and_delete_removes(index: SearchIndex) -> None:
    index.upsert([IndexDoc(id="doc:1", title="Thông báo lịch họp", body="Họp giao ban")])
    assert index.count() == len(CORPUS)
    assert "doc:1" not in ids(search(index, "quy chế"))
    assert ids(search(index, "họp giao ban")) == ["doc:1"]
    assert index.delete(["doc:1", "doc:404"]) == 1
    assert search(index, "họp giao ban").total == 0
    assert index.count() == len(CORPUS) - 1


def test_rebuild_swaps_atomically(index: SearchIndex) -> None:
    index.begin_rebuild()
    index.upsert([IndexDoc(id="doc:new", title="Kế hoạch cải cách hành chính")])
    # Until commit, searches see the old generation.
    assert search(index, "cải cách").total == 0
    assert index.count() == len(CORPUS)
    index.commit_rebuild()
    assert ids(search(index, "cai cach")) == ["doc:new"]
    assert index.count() == 1
    assert index.rebuild(iter(CORPUS)) == len(CORPUS)
    assert index.count() == len(CORPUS)


def test_abort_rebuild_keeps_old(index: SearchIndex) -> None:
    index.begin_rebuild()
    index.upsert([IndexDoc(id="doc:new", title="Tạm")])
    index.abort_rebuild()
    assert index.count() == len(CORPUS)
    index.clear()
    assert index.count() == 0


# -- grants: an approved access request opens one dossier's content to one researcher ---------

GRANT_WORD = "zebravanthu"  # only in the bodies of the two conditional dossiers below
GRANTED = (
    IndexDoc(
        id="doc:7",
        dossier_id=4,
        dossier_code="H04.2024.01",
        title="Hồ sơ tuyển dụng công chức",
        subject="Kết quả tuyển dụng",
        body=f"Biên bản chấm thi {GRANT_WORD} của hội đồng tuyển dụng.",
        agency_code="SNV",
        agency_name="Sở Nội vụ",
        doc_type="20",
        issued_date=date(2024, 3, 1),
        access_mode="02",
    ),
    IndexDoc(
        id="doc:8",
        dossier_id=5,
        dossier_code="H05.2024.02",
        title="Hồ sơ thanh tra tài chính",
        subject="Kết luận thanh tra",
        body=f"Kết luận {GRANT_WORD} về thu chi ngân sách.",
        agency_code="STC",
        agency_name="Sở Tài chính",
        doc_type="07",
        issued_date=date(2024, 4, 1),
        access_mode="02",
    ),
)
RESEARCHER = Visibility.of(content_modes=["01"], metadata_modes=["01", "02"])


def granted(*dossiers: int) -> Visibility:
    return Visibility.of(content_modes=["01"], metadata_modes=["01", "02"], granted_dossiers=dossiers)


@pytest.fixture
def granted_index(index: SearchIndex) -> SearchIndex:
    index.upsert(GRANTED)
    return index


def test_without_a_grant_conditional_content_stays_hidden(granted_index: SearchIndex) -> None:
    result = search(granted_index, GRANT_WORD, RESEARCHER)
    assert result.total == 0 and result.hits == ()
    assert all(n == 0 for facet in result.facets.values() for n in facet.values())
    assert search(granted_index, GRANT_WORD, granted(99)).total == 0  # a grant on another dossier


def test_a_grant_opens_that_dossiers_content_only(granted_index: SearchIndex) -> None:
    result = search(granted_index, GRANT_WORD, granted(4))
    assert ids(result) == ["doc:7"] and result.total == 1  # dossier 5 (also 02) stays hidden
    hit = result.hits[0]
    assert hit.content_visible and f"<mark>{GRANT_WORD}</mark>" in hit.snippet
    assert result.facets["access_mode"] == {"02": 1} and result.facets["agency"] == {"SNV": 1}
    both = search(granted_index, GRANT_WORD, granted(4, 5))
    assert set(ids(both)) == {"doc:7", "doc:8"} and both.total == 2
    assert all(h.content_visible for h in both.hits)


def test_a_grant_keeps_every_other_restriction(granted_index: SearchIndex) -> None:
    vis = granted(4)
    # metadata of the other conditional dossier is still found, its content still is not
    other = search(granted_index, "kết luận thanh tra", vis)
    assert ids(other) == ["doc:8"] and not other.hits[0].content_visible
    assert GRANT_WORD not in other.hits[0].snippet
    # open records as before; secret ones (no grant) hidden with their metadata
    assert search(granted_index, SECRET_WORD, vis).total == 0
    assert "doc:5" not in ids(search(granted_index, "báo cáo an ninh", vis))
    # a phrase mixing the granted body with an open word matches only inside the grant
    assert ids(search(granted_index, f"chấm thi {GRANT_WORD}", vis)) == ["doc:7"]
    # no text: the listing counts the same records, by date
    listing = search(granted_index, vis=vis, sort="date_desc")
    assert "doc:5" not in ids(listing) and {"doc:7", "doc:8"} <= set(ids(listing))


def test_a_grant_on_a_secret_dossier_opens_it_as_the_policy_does(granted_index: SearchIndex) -> None:
    """``policies.access`` opens a granted dossier whatever its mode; search follows it."""
    result = search(granted_index, SECRET_WORD, granted(3))
    assert set(ids(result)) == {"doc:5", "doc:6"} and result.total == 2
    assert all(h.content_visible and SECRET_WORD in h.snippet for h in result.hits)
    assert result.facets["access_mode"] == {"02": 1, "03": 1}


def test_grants_under_an_agency_restriction(granted_index: SearchIndex) -> None:
    vis = Visibility.of(content_modes=None, metadata_modes=None, agencies=["SNV"], granted_dossiers=[5])
    assert set(ids(search(granted_index, GRANT_WORD, vis))) == {"doc:7", "doc:8"}
    assert search(granted_index, SECRET_WORD, vis).total == 0
