"""Elasticsearch request bodies: index template, documents, queries, and response parsing.

Pure functions (no server): they are unit-tested without Elasticsearch and used by
:mod:`search.index.elastic`.

Analysis needs the ``analysis-icu`` plugin: ``vi_exact`` (ICU tokenizer + NFC case folding,
diacritics kept) on each text field and ``vi_folded`` (ICU folding, ``đ`` → ``d``) on its
``.folded`` sub-field. Visibility is the same rule as the FTS5 backend: one bool branch matches
every field of records whose content is visible, another matches metadata fields only for
records whose metadata alone is visible. A granted dossier's records (``Visibility.granted_dossiers``)
are content-visible: each visibility filter becomes ``should: [usual filters, terms dossier_id]``. Body highlights of records whose content is hidden
are dropped in :func:`parse_response` (the ``body`` source itself is never fetched).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from archive.visibility import Visibility
from search.folding import ParsedQuery, QueryGroup, parse_query
from search.highlight import highlight
from search.index.base import FACETS, Hit, IndexDoc, SearchQuery, SearchResult
from search.index.fts5_query import notation_key
from search.index.relax import min_should_match, pairs

META_FIELDS = {"title": 12.0, "subject": 6.0, "other": 4.0}
BODY_FIELDS = {"body": 1.5}
FOLDED_RATIO = 2.0 / 3.0  # a folded match weighs 2/3 of an exact one
FACET_FIELDS = {"agency": "agency_code", "year": "year", "doc_type": "doc_type", "access_mode": "access_mode"}
PAIR_BOOST = 1.0  # two query syllables side by side (a word): as for the embedded index's re-rank
MARK = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html"}

_TEXT = {
    "type": "text",
    "analyzer": "vi_exact",
    "fields": {"folded": {"type": "text", "analyzer": "vi_folded"}},
}
_KEYWORDS = (
    "id", "dossier_code", "agency_code", "doc_type", "code_number", "notation", "notation_key",
    "notation_only_key", "retention", "access_mode", "file_format", "language", "legacy_encoding",
)  # fmt: skip


def index_template(pattern: str, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Return the composable index template (``index_patterns`` + ``template``)."""
    properties: dict[str, Any] = {name: {"type": "keyword"} for name in _KEYWORDS}
    properties.update({name: dict(_TEXT) for name in ("title", "subject", "other", "body")})
    properties["agency_name"] = {"type": "keyword"}
    properties["dossier_id"] = {"type": "long"}
    properties["issued_date"] = {"type": "date", "format": "strict_date"}
    properties["year"] = {"type": "integer"}
    return {
        "index_patterns": [pattern],
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "analysis": {
                    "char_filter": {"d_stroke": {"type": "mapping", "mappings": ["đ=>d", "Đ=>D"]}},
                    "filter": {"nfc_cf": {"type": "icu_normalizer", "name": "nfkc_cf"}},
                    "analyzer": {
                        "vi_exact": {"type": "custom", "tokenizer": "icu_tokenizer", "filter": ["nfc_cf"]},
                        "vi_folded": {
                            "type": "custom",
                            "char_filter": ["d_stroke"],
                            "tokenizer": "icu_tokenizer",
                            "filter": ["icu_folding"],
                        },
                    },
                },
            },
            "mappings": {"dynamic": "strict", "properties": properties},
        },
    }


def document_source(doc: IndexDoc, body: str, legacy: str | None) -> dict[str, Any]:
    """Return the ``_source`` stored for ``doc`` (``body`` is empty when legacy-encoded)."""
    other = " ".join(filter(None, (doc.number_notation, doc.dossier_code, doc.agency_name)))
    return {
        "id": doc.id,
        "dossier_id": doc.dossier_id,
        "dossier_code": doc.dossier_code,
        "title": doc.title,
        "subject": doc.subject,
        "other": other,
        "body": body,
        "agency_code": doc.agency_code,
        "agency_name": doc.agency_name,
        "doc_type": doc.doc_type,
        "code_number": doc.code_number,
        "notation": doc.notation,
        "notation_key": notation_key(doc.number_notation),
        "notation_only_key": notation_key(doc.notation),
        "issued_date": doc.issued_date.isoformat() if doc.issued_date else None,
        "year": doc.effective_year,
        "retention": doc.retention,
        "access_mode": doc.access_mode,
        "file_format": doc.file_format,
        "language": doc.language,
        "legacy_encoding": legacy,
    }


def _fields(weights: dict[str, float], folded: bool) -> list[str]:
    if folded:
        return [f"{name}.folded^{w * FOLDED_RATIO:g}" for name, w in weights.items()]
    return [f"{name}^{w:g}" for name, w in weights.items()]


def _group_clause(group: QueryGroup, weights: dict[str, float]) -> dict[str, Any]:
    folded, exact = _fields(weights, True), _fields(weights, False)
    should: list[dict[str, Any]] = []
    if group.phrase and len(group.terms) > 1:
        kind = "phrase_prefix" if group.terms[-1].prefix else "phrase"
        must = [
            {
                "multi_match": {
                    "query": " ".join(t.folded for t in group.terms),
                    "type": kind,
                    "fields": folded,
                }
            }
        ]
        if any(t.accented for t in group.terms):
            text = " ".join(t.exact for t in group.terms)
            should.append({"multi_match": {"query": text, "type": kind, "fields": exact}})
        return {"bool": {"must": must, "should": should}}
    if len(group.terms) > 1 and not any(t.prefix for t in group.terms):
        return _loose_clause(group, folded, exact)
    must = []
    for term in group.terms:
        kind = "phrase_prefix" if term.prefix else "best_fields"
        must.append({"multi_match": {"query": term.folded, "type": kind, "fields": folded}})
        if term.accented:
            should.append({"multi_match": {"query": term.exact, "type": kind, "fields": exact}})
    return {"bool": {"must": must, "should": should}}


def _loose_clause(group: QueryGroup, folded: list[str], exact: list[str]) -> dict[str, Any]:
    """Several loose syllables: the best subset, as the embedded index ranks it.

    At least :func:`~search.index.relax.min_should_match` syllables must match (across fields:
    ``cross_fields``); all of them, the whole phrase, and each adjacent pair of syllables side
    by side (a Vietnamese word, mostly) add to the score. Linear in the number of syllables,
    which :func:`search.folding.parse_query` caps.
    """
    text = " ".join(t.folded for t in group.terms)
    least = min_should_match(len(group.terms))
    some = {"query": text, "type": "cross_fields", "fields": folded, "operator": "or"}
    should: list[dict[str, Any]] = [
        {
            "multi_match": {
                "query": text,
                "type": "cross_fields",
                "fields": folded,
                "operator": "and",
                "boost": 2.0,
            }
        },
        {"multi_match": {"query": text, "type": "phrase", "fields": folded, "boost": 2.0}},
    ]
    should += [
        {"multi_match": {"query": f"{a} {b}", "type": "phrase", "fields": folded, "boost": PAIR_BOOST}}
        for a, b in pairs(group.sequence)
    ]
    accented = [t.exact for t in group.terms if t.accented]
    if accented:
        should.append({"multi_match": {"query": " ".join(accented), "type": "cross_fields", "fields": exact}})
    return {
        "bool": {"must": [{"multi_match": {**some, "minimum_should_match": str(least)}}], "should": should}
    }


def text_clause(parsed: ParsedQuery, weights: dict[str, float]) -> dict[str, Any]:
    return {"bool": {"must": [_group_clause(g, weights) for g in parsed.groups if g.terms]}}


def _terms(field: str, values: frozenset[str] | tuple[str, ...]) -> dict[str, Any]:
    return {"terms": {field: sorted(values)}}


def _or_granted(filters: list[dict[str, Any]], vis: Visibility) -> list[dict[str, Any]]:
    """``filters`` (all must hold) widened by the granted dossiers' records (visibility rule 3):
    one ``bool`` whose ``should`` is the usual filters or a ``terms`` on ``dossier_id``."""
    if not vis.granted_dossiers or not filters:  # no grants, or everything is visible already
        return filters
    granted = {"terms": {"dossier_id": sorted(vis.granted_dossiers)}}
    return [{"bool": {"should": [{"bool": {"filter": filters}}, granted], "minimum_should_match": 1}}]


def _mode_filters(vis: Visibility, content: bool) -> list[dict[str, Any]]:
    out = []
    if vis.agencies is not None:
        out.append(_terms("agency_code", vis.agencies))
    if vis.metadata_modes is not None:
        out.append(_terms("access_mode", vis.metadata_modes))
    if content and vis.content_modes is not None:
        out.append(_terms("access_mode", vis.content_modes))
    return out


def metadata_filter(vis: Visibility) -> list[dict[str, Any]]:
    """Filter clauses for 'metadata visible' (grants included)."""
    return _or_granted(_mode_filters(vis, False), vis)


def content_filter(vis: Visibility) -> list[dict[str, Any]]:
    """Filter clauses for 'content visible' (implies metadata visible; grants included)."""
    return _or_granted(_mode_filters(vis, True), vis)


def field_filters(query: SearchQuery) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for field, values in (
        ("agency_code", query.agency),
        ("doc_type", query.doc_type),
        ("retention", query.retention),
        ("file_format", query.file_format),
        ("access_mode", query.access_mode),
    ):
        if values:
            out.append(_terms(field, tuple(values)))
    if query.notation:
        key = notation_key(query.notation)
        out.append(
            {"bool": {"should": [{"term": {"notation_key": key}}, {"term": {"notation_only_key": key}}]}}
        )
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        out.append({"range": {"issued_date": bounds}})
    return out


def search_body(query: SearchQuery, vis: Visibility) -> dict[str, Any]:
    """Return the ``_search`` request body for ``query`` under ``vis``."""
    parsed = parse_query(query.text)
    filters = field_filters(query) + metadata_filter(vis)
    if parsed:
        content_branch = {
            "bool": {
                "must": [text_clause(parsed, META_FIELDS | BODY_FIELDS)],
                "filter": content_filter(vis),
            }
        }
        meta_branch = {
            "bool": {
                "must": [text_clause(parsed, META_FIELDS)],
                "filter": metadata_filter(vis),
                "must_not": [{"bool": {"filter": content_filter(vis)}}],
            }
        }
        branches = [content_branch] if vis.unrestricted else [content_branch, meta_branch]
        main: dict[str, Any] = {"bool": {"should": branches, "minimum_should_match": 1, "filter": filters}}
    else:
        main = {"bool": {"filter": filters}}
    if query.sort == "relevance":
        sort: list[Any] = ["_score", {"issued_date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
    else:
        order = "desc" if query.sort == "date_desc" else "asc"
        sort = [{"issued_date": {"order": order, "missing": "_last"}}, {"id": "asc"}]
    return {
        "query": main,
        "sort": sort,
        "from": query.offset,
        "size": query.per_page,
        "track_total_hits": True,
        "_source": {"excludes": ["body", "other"]},
        "aggs": {name: {"terms": {"field": FACET_FIELDS[name], "size": 100}} for name in query.facets},
        "highlight": {
            **MARK,
            "fields": {
                "title.folded": {"number_of_fragments": 0},
                "subject.folded": {"number_of_fragments": 0},
                "body.folded": {"fragment_size": 240, "number_of_fragments": 1, "no_match_size": 240},
            },
        },
    }


def _marked(fragment: str, parsed: ParsedQuery) -> str:
    """An Elasticsearch fragment marked again by :func:`search.highlight.highlight`: whole words
    and phrases, as the embedded index marks them (ES marks every matching syllable)."""
    return highlight(html.unescape(fragment.replace("<mark>", "").replace("</mark>", "")), parsed)


def parse_response(response: dict[str, Any], query: SearchQuery, vis: Visibility) -> SearchResult:
    """Turn a ``_search`` response into a SearchResult, dropping hidden body highlights."""
    parsed = parse_query(query.text)
    hits = []
    for raw in response["hits"]["hits"]:
        src = raw.get("_source", {})
        lights = raw.get("highlight", {})
        visible = vis.content_visible(src.get("access_mode"), src.get("agency_code"), src.get("dossier_id"))
        snippet = ""
        body_marks = lights.get("body.folded", [])
        if visible and body_marks and ("<mark>" in body_marks[0] or not lights.get("subject.folded")):
            snippet = _marked(body_marks[0], parsed)
        elif lights.get("subject.folded"):
            snippet = _marked(lights["subject.folded"][0], parsed)
        elif src.get("subject"):
            snippet = html.escape(src["subject"])
        title = src.get("title", "")
        issued = src.get("issued_date")
        hits.append(
            Hit(
                id=src.get("id", raw.get("_id", "")),
                dossier_id=src.get("dossier_id"),
                dossier_code=src.get("dossier_code", ""),
                title=title,
                score=float(raw.get("_score") or 0.0),
                snippet=snippet,
                title_html=highlight(title, parsed),
                issued_date=date.fromisoformat(issued) if issued else None,
                agency_code=src.get("agency_code", ""),
                doc_type=src.get("doc_type", ""),
                access_mode=src.get("access_mode", ""),
                content_visible=visible,
            )
        )
    aggs = response.get("aggregations", {})
    facets = {
        name: {str(b["key"]): int(b["doc_count"]) for b in aggs.get(name, {}).get("buckets", [])}
        for name in query.facets
        if name in FACETS
    }
    total = response["hits"]["total"]
    return SearchResult(
        total=int(total["value"] if isinstance(total, dict) else total),
        hits=tuple(hits),
        facets=facets,
        page=query.page,
        per_page=query.per_page,
    )
