"""Record endpoints: the agency's own dossiers and documents, and search within what it may see.

Every read asks ``policies.access``; a dossier of another agency answers 404, not 403, so the
API never says that a record exists to someone who may not see it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import select

from archive.catalog import Agency, Document, Dossier, RecordState, TokenScope
from archive.errors import NotFound
from luutru.api.auth import ApiCaller, api_state, authenticate, require, services
from luutru.api.problems import Problem
from policies.access import RecordFacts, can_read_content, can_see_metadata, visibility_for
from search.errors import IndexUnavailable
from search.folding import MAX_QUERY_CHARS, searchable
from search.index.base import SearchQuery


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/dossiers/<code>", view_func=dossier, methods=["GET"])
    bp.add_url_rule("/dossiers/<code>/documents", view_func=documents, methods=["GET"])
    bp.add_url_rule("/search", view_func=search, methods=["GET"])


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _own_dossier(caller: ApiCaller, code: str) -> tuple[Dossier, bool]:
    """The dossier if the caller's agency owns it and may see it, and whether content is readable."""
    with services().session() as s:
        row = s.scalar(select(Dossier).where(Dossier.code == code))
        agency_code = s.scalar(select(Agency.code).where(Agency.id == row.agency_id)) if row else None
        if row is None or row.agency_id != caller.agency_id:
            raise NotFound("dossier", code)
        facts = RecordFacts(agency_code, row.access_mode, row.state, row.id)
        if not can_see_metadata(caller.actor, facts):
            raise NotFound("dossier", code)
        row.documents  # noqa: B018 — load the documents while the session is open
        return row, bool(can_read_content(caller.actor, facts))


def _dossier_json(d: Dossier, caller: ApiCaller) -> dict[str, Any]:
    destroyed = d.state is RecordState.DESTROYED
    return {
        "code": d.code,
        "arc_code": d.arc_code,
        "agency": caller.agency_code,
        "title": d.title,
        "profile": d.profile,
        "access_mode": d.access_mode.value,
        "state": d.state.value,
        "retention_years": d.retention_years,
        "retention_text": d.retention_text,
        "start_date": _day(d.start_date),
        "end_date": _day(d.end_date),
        "document_count": 0 if destroyed else len(d.documents),
        "links": {
            "self": url_for("api.dossier", code=d.code),
            "documents": url_for("api.documents", code=d.code),
        },
    }


@require(TokenScope.READ_OWN)
def dossier(code: str) -> Response:
    """Metadata of one dossier the agency submitted."""
    caller = authenticate()
    row, _ = _own_dossier(caller, code)
    return jsonify(_dossier_json(row, caller))


@require(TokenScope.READ_OWN)
def documents(code: str) -> Response:
    """Metadata of the documents of one dossier the agency submitted (none once destroyed)."""
    caller = authenticate()
    row, _ = _own_dossier(caller, code)
    docs: list[Document] = [] if row.state is RecordState.DESTROYED else list(row.documents)
    items = [
        {
            "ordinal": doc.ordinal,
            "doc_code": doc.doc_code,
            "type_code": doc.type_code,
            "code_number": doc.code_number,
            "code_notation": doc.code_notation,
            "issued_date": _day(doc.issued_date),
            "organ_name": doc.organ_name,
            "subject": doc.subject,
            "page_count": doc.page_count,
            "access_mode": doc.access_mode.value,
            "state": doc.state.value,
        }
        for doc in docs
    ]
    return jsonify(dossier=row.code, total=len(items), items=items)


@require(TokenScope.SEARCH)
def search() -> Response:
    """Full-text search over what the agency may see (its own records), filtered inside the query."""
    caller = authenticate()
    text = request.args.get("q", "")
    raw_page = request.args.get("page", "1")
    if (
        len(text) > MAX_QUERY_CHARS
        or not raw_page.isascii()
        or not raw_page.isdigit()
        or not 1 <= int(raw_page) <= 10_000
    ):
        raise Problem(
            400, "request.invalid_parameter",
            f"'q' is at most {MAX_QUERY_CHARS} characters; 'page' is 1–10000.",
            f"'q' tối đa {MAX_QUERY_CHARS} ký tự; 'page' từ 1 đến 10000.",
        )  # fmt: skip
    if text.strip() and not searchable(text):
        raise Problem(
            400, "search.no_words", "'q' holds punctuation only: give words or numbers (or no 'q' to list all).",
            "'q' chỉ có dấu câu: hãy nhập từ hoặc số (hoặc bỏ 'q' để liệt kê tất cả).",
        )  # fmt: skip
    query = SearchQuery(text=text, page=int(raw_page), facets=())
    try:
        result = api_state().search(services()).search(query, visibility_for(caller.actor))
    except IndexUnavailable:
        raise Problem(
            503, "search.unavailable", "The search index is not reachable; try again later.",
            "Chỉ mục tìm kiếm tạm thời không truy cập được; hãy thử lại sau.", headers={"Retry-After": "30"},
        ) from None  # fmt: skip
    items = [
        {
            "id": h.id,
            "dossier_code": h.dossier_code,
            "title": h.title,
            "snippet_html": h.snippet,
            "issued_date": _day(h.issued_date),
            "agency": h.agency_code,
            "doc_type": h.doc_type,
            "access_mode": h.access_mode,
            "content_visible": h.content_visible,
            "score": h.score,
        }
        for h in result.hits
    ]
    return jsonify(
        total=result.total,
        total_is_exact=result.total_is_exact,
        partial=result.partial,
        page=result.page,
        per_page=result.per_page,
        items=items,
    )


__all__ = ["register"]
