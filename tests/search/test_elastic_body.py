"""Elasticsearch backend, pure parts: template, query bodies and response parsing (no server)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from archive.visibility import Visibility
from search.folding import parse_query
from search.index.base import IndexDoc, SearchQuery
from search.index.elastic_body import (
    content_filter,
    document_source,
    index_template,
    metadata_filter,
    parse_response,
    search_body,
)


def fields_in(node: Any) -> set[str]:
    """Every field name referenced by multi_match clauses under ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "multi_match" in node:
            found |= {f.split("^")[0] for f in node["multi_match"]["fields"]}
        for value in node.values():
            found |= fields_in(value)
    elif isinstance(node, list):
        for value in node:
            found |= fields_in(value)
    return found


def test_template_uses_icu_analysis_with_folded_subfields() -> None:
    template = index_template("luutru-docs-*")
    assert template["index_patterns"] == ["luutru-docs-*"]
    analysis = template["template"]["settings"]["analysis"]
    assert analysis["analyzer"]["vi_exact"]["tokenizer"] == "icu_tokenizer"
    assert "icu_folding" in analysis["analyzer"]["vi_folded"]["filter"]
    assert "đ=>d" in analysis["char_filter"]["d_stroke"]["mappings"]
    props = template["template"]["mappings"]["properties"]
    assert props["title"]["analyzer"] == "vi_exact"
    assert props["title"]["fields"]["folded"]["analyzer"] == "vi_folded"
    assert props["access_mode"]["type"] == "keyword"
    assert props["issued_date"]["type"] == "date"


def test_public_query_matches_hidden_content_on_metadata_only() -> None:
    body = search_body(SearchQuery(text="đất đai"), Visibility.public())
    content, meta = body["query"]["bool"]["should"]
    assert "body.folded" in fields_in(content)
    assert fields_in(meta) and not any(f.startswith("body") for f in fields_in(meta))
    assert content["bool"]["filter"] == [
        {"terms": {"access_mode": ["01", "02"]}},
        {"terms": {"access_mode": ["01"]}},
    ]
    assert meta["bool"]["must_not"] == [{"bool": {"filter": content["bool"]["filter"]}}]
    assert body["query"]["bool"]["filter"] == [{"terms": {"access_mode": ["01", "02"]}}]
    assert body["_source"]["excludes"] == ["body", "other"]
    json.dumps(body)  # serialisable as sent


def test_archivist_query_has_one_branch_and_no_filters() -> None:
    body = search_body(SearchQuery(text="quyet dinh"), Visibility.everything())
    assert len(body["query"]["bool"]["should"]) == 1
    assert body["query"]["bool"]["filter"] == []


def test_accented_terms_score_exact_fields_and_phrases_are_boosted() -> None:
    accented = json.dumps(
        search_body(SearchQuery(text="văn bản"), Visibility.everything()), ensure_ascii=False
    )
    assert '"query": "văn bản", "type": "cross_fields"' in accented
    assert '"query": "van ban", "type": "phrase"' in accented
    plain = json.dumps(search_body(SearchQuery(text="van ban"), Visibility.everything()))
    assert "title^12" not in plain and "title.folded^8" in plain


def _loose(body: dict[str, Any]) -> dict[str, Any]:
    """The loose-words clause of an archivist's query (one branch, one group)."""
    branch = body["query"]["bool"]["should"][0]["bool"]["must"][0]
    return dict(branch["bool"]["must"][0]["bool"])


def test_a_question_needs_the_best_subset_and_ranks_pairs_and_the_whole_higher() -> None:
    question = "Người nghiện ma túy có bị đưa vào cơ sở cai nghiện bắt buộc không, đúng hay sai?"
    clause = _loose(search_body(SearchQuery(text=question), Visibility.everything()))
    (need,) = clause["must"]
    assert need["multi_match"]["type"] == "cross_fields" and need["multi_match"]["operator"] == "or"
    assert need["multi_match"]["minimum_should_match"] == "2"  # not every syllable: the best subset
    kinds = [
        (c["multi_match"]["type"], c["multi_match"].get("operator"), c["multi_match"]["query"])
        for c in clause["should"]
    ]
    assert (
        "cross_fields",
        "and",
        " ".join(t.folded for t in parse_query(question).terms),  # each syllable once
    ) in kinds  # all of them: boosted
    assert ("phrase", None, "cai nghien") in kinds and ("phrase", None, "bat buoc") in kinds  # words
    assert ("phrase", None, "nghien nghien") not in kinds  # only pairs the question holds
    # Linear, never combinatorial: 32 distinct syllables at most, one pair clause per neighbour.
    long = " ".join(f"từ{i}" for i in range(200))
    clause = _loose(search_body(SearchQuery(text=long), Visibility.everything()))
    pairs = [c for c in clause["should"] if c["multi_match"]["type"] == "phrase"]
    assert len(clause["must"][0]["multi_match"]["query"].split()) == 32 and len(pairs) == 32  # 31 + whole
    assert len(json.dumps(search_body(SearchQuery(text=long), Visibility.public()))) < 60_000


def test_filters_sort_paging_and_facets() -> None:
    query = SearchQuery(
        text="",
        agency=("UBND-DL",),
        notation="16/QĐ-UBND",
        date_from=date(2020, 1, 1),
        date_to=date(2020, 12, 31),
        sort="date_asc",
        page=3,
        per_page=10,
        facets=("agency", "year"),
    )
    body = search_body(query, Visibility.everything())
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"agency_code": ["UBND-DL"]}} in filters
    assert {"range": {"issued_date": {"gte": "2020-01-01", "lte": "2020-12-31"}}} in filters
    assert {"term": {"notation_key": "16/qd-ubnd"}} in filters[1]["bool"]["should"]
    assert body["sort"][0] == {"issued_date": {"order": "asc", "missing": "_last"}}
    assert (body["from"], body["size"]) == (20, 10)
    assert set(body["aggs"]) == {"agency", "year"}


def test_document_source_keeps_notation_keys() -> None:
    doc = IndexDoc(id="doc:1", title="T", code_number="16", notation="QĐ-UBND", issued_date=date(2019, 7, 30))
    source = document_source(doc, "nội dung", None)
    assert source["notation_key"] == "16/qd-ubnd" and source["year"] == 2019
    assert "16/QĐ-UBND" in source["other"]


def test_parse_response_drops_body_highlights_of_hidden_content() -> None:
    response = {
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "hits": [
                {
                    "_id": "doc:1",
                    "_score": 3.5,
                    "_source": {"id": "doc:1", "title": "Luật", "access_mode": "01", "agency_code": "A"},
                    "highlight": {"body.folded": ["theo <mark>Luật</mark> đất đai"]},
                },
                {
                    "_id": "doc:6",
                    "_score": 1.0,
                    "_source": {"id": "doc:6", "title": "Hồ sơ", "subject": "Danh sách", "access_mode": "02"},
                    "highlight": {"body.folded": ["bí mật <mark>luật</mark>"]},
                },
            ],
        },
        "aggregations": {"year": {"buckets": [{"key": 2019, "doc_count": 2}]}},
    }
    result = parse_response(response, SearchQuery(text="luat", facets=("year",)), Visibility.public())
    first, second = result.hits
    assert first.snippet == "theo <mark>Luật</mark> đất đai" and first.content_visible
    assert "bí mật" not in second.snippet and second.snippet == "Danh sách"
    assert not second.content_visible
    assert result.total == 2 and result.facets == {"year": {"2019": 2}}


def holds(clause: dict[str, Any], src: dict[str, Any]) -> bool:
    """Whether ``src`` satisfies ``clause``, for the Query DSL subset the visibility filters use
    (``bool`` with must/filter/should/must_not/minimum_should_match, ``terms``, ``term``)."""
    ((kind, spec),) = clause.items()
    if kind == "terms":
        ((field, values),) = spec.items()
        return src.get(field) in values
    if kind == "term":
        ((field, value),) = spec.items()
        return bool(src.get(field) == value)
    assert kind == "bool", kind
    ok = all(holds(c, src) for c in spec.get("must", []) + spec.get("filter", []))
    ok = ok and not any(holds(c, src) for c in spec.get("must_not", []))
    should = spec.get("should", [])
    default = 0 if spec.get("must") or spec.get("filter") else 1
    need = spec.get("minimum_should_match", default if should else 0)
    return ok and sum(holds(c, src) for c in should) >= need


GRANT_SOURCES = [
    {"access_mode": mode, "agency_code": agency, "dossier_id": dossier}
    for mode in ("01", "02", "03")
    for agency in ("SNV", "STC")
    for dossier in (4, 5, None)
]
GRANT_VISIBILITIES = [
    Visibility.public(),
    Visibility.of(content_modes=["01"], metadata_modes=["01", "02"], granted_dossiers=[4]),
    Visibility.of(content_modes=["01"], metadata_modes=None, granted_dossiers=[4, 5]),
    Visibility.of(content_modes=None, metadata_modes=None, agencies=["SNV"], granted_dossiers=[5]),
    Visibility.of(content_modes=[], metadata_modes=[], granted_dossiers=[5]),
]


def test_visibility_filters_select_what_the_contract_says() -> None:
    """The bool/terms clauses sent to Elasticsearch, evaluated on every kind of record, agree
    with ``Visibility.metadata_visible`` / ``content_visible`` (grants included)."""
    for vis in GRANT_VISIBILITIES:
        meta, content = metadata_filter(vis), content_filter(vis)
        for src in GRANT_SOURCES:
            facts = (src["access_mode"], src["agency_code"], src["dossier_id"])
            assert all(holds(c, src) for c in meta) is vis.metadata_visible(*facts), (vis, src)
            assert all(holds(c, src) for c in content) is vis.content_visible(*facts), (vis, src)


def test_a_grant_widens_both_branches_by_dossier_id() -> None:
    vis = Visibility.of(content_modes=["01"], metadata_modes=["01", "02"], granted_dossiers=[5, 4])
    body = search_body(SearchQuery(text="tuyển dụng"), vis)
    content, meta = body["query"]["bool"]["should"]
    usual = [{"terms": {"access_mode": ["01", "02"]}}, {"terms": {"access_mode": ["01"]}}]
    assert content["bool"]["filter"] == [
        {
            "bool": {
                "should": [{"bool": {"filter": usual}}, {"terms": {"dossier_id": [4, 5]}}],
                "minimum_should_match": 1,
            }
        }
    ]
    assert meta["bool"]["must_not"] == [{"bool": {"filter": content["bool"]["filter"]}}]
    assert "body.folded" in fields_in(content) and not any(f.startswith("body") for f in fields_in(meta))
    top = body["query"]["bool"]["filter"]
    assert top == [
        {
            "bool": {
                "should": [
                    {"bool": {"filter": [{"terms": {"access_mode": ["01", "02"]}}]}},
                    {"terms": {"dossier_id": [4, 5]}},
                ],
                "minimum_should_match": 1,
            }
        }
    ]
    json.dumps(body)
    # no grants: the body is exactly the public one; everything: grants add nothing
    plain = Visibility.of(content_modes=["01"], metadata_modes=["01", "02"])
    assert search_body(SearchQuery(text="a"), plain) == search_body(
        SearchQuery(text="a"), Visibility.public()
    )
    staff = Visibility.of(None, None, None, granted_dossiers=[4])
    assert search_body(SearchQuery(text="a"), staff) == search_body(
        SearchQuery(text="a"), Visibility.everything()
    )


def test_parse_response_keeps_body_highlights_of_granted_dossiers() -> None:
    response = {
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "hits": [
                {
                    "_id": f"doc:{n}",
                    "_score": 1.0,
                    "_source": {
                        "id": f"doc:{n}",
                        "title": "Hồ sơ",
                        "subject": "Tóm tắt",
                        "access_mode": "02",
                        "agency_code": "SNV",
                        "dossier_id": n,
                    },
                    "highlight": {"body.folded": [f"biên bản <mark>chấm thi</mark> {n}"]},
                }
                for n in (4, 5)
            ],
        }
    }
    vis = Visibility.of(content_modes=["01"], metadata_modes=["01", "02"], granted_dossiers=[4])
    granted, other = parse_response(response, SearchQuery(text="cham thi"), vis).hits
    assert granted.content_visible and granted.snippet == "biên bản <mark>chấm thi</mark> 4"
    assert not other.content_visible and other.snippet == "Tóm tắt"


def test_unreachable_server_raises_index_unavailable() -> None:
    import pytest
    from elasticsearch import Elasticsearch

    from search.errors import IndexUnavailable
    from search.index.elastic import ElasticIndex

    client = Elasticsearch("http://127.0.0.1:9", max_retries=0)  # port 9 (discard): refused
    with pytest.raises(IndexUnavailable):
        ElasticIndex(client, alias="luutru-unreachable")
    client.close()
