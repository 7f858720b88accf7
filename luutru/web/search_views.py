"""Portal search (tìm kiếm): full text in Vietnamese with or without diacritics, field filters,
facets, sort and pages, for everyone including anonymous visitors.

The view parses the query string into a :class:`search.index.base.SearchQuery`, asks
``Services.search`` under ``policies.access.visibility_for(actor)`` (visibility is applied
inside the index query, so totals, facets and snippets only count what the actor may see; a
researcher's approved, unexpired access requests are part of it, so a granted dossier is found
by its content words too),
and links each hit to the page the actor may open: a document whose content the actor may
read → its reading-room page; anything else → the record page, which carries the
access-request link. Only ``Hit.snippet`` and ``Hit.title_html`` (escaped by ``search``, with
``<mark>`` highlights) are rendered unescaped.

With htmx (``HX-Request``), only the results fragment is returned; without JavaScript the
form is a plain GET and the whole page renders.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from flask import Blueprint, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from archive.catalog import Agency, Document, Dossier
from archive.metadata import load_profile
from luutru.web.auth import current_actor, web_services
from luutru.web.portal import MODE_LABELS
from policies.access import Actor, RecordFacts, can_read_content, can_see_metadata, visibility_for
from search.errors import IndexUnavailable
from search.folding import MAX_QUERY_CHARS, searchable
from search.index.base import Hit, SearchQuery, SearchResult, Sort

log = logging.getLogger(__name__)
bp = Blueprint("search_views", __name__, url_prefix="/portal")

PER_PAGE = 20
MAX_PAGE = 500
MAX_TEXT = 200  # notation and dates; the words (q) may be MAX_QUERY_CHARS long
SORTS: dict[str, Sort] = {"relevance": "relevance", "newest": "date_desc", "oldest": "date_asc"}
FILTERS = ("agency", "doc_type", "access_mode")  # any-of filters, repeated in the query string
SCALARS = ("q", "notation", "date_from", "date_to", "sort")
MODE_CODES = {m.value: label for m, label in MODE_LABELS.items()}


@dataclass(frozen=True, slots=True)
class Form:
    """The parsed query string, as the form shows it again (raw strings, not parsed values)."""

    args: MultiDict[str, str]
    query: SearchQuery | None  # None: nothing asked yet → the friendly prompt
    errors: tuple[str, ...]

    def value(self, name: str) -> str:
        return self.args.get(name, "")

    def selected(self, name: str) -> list[str]:
        return self.args.getlist(name)


@dataclass(frozen=True, slots=True)
class Link:
    """Where a hit leads the actor and whether its content can be read there."""

    url: str | None
    readable: bool
    kind: str  # "document" | "dossier"


def _day(raw: str, *, end: bool) -> date:
    """``YYYY`` (the first or last day of that year) or ``YYYY-MM-DD``; ValueError otherwise."""
    raw = raw.strip()
    if len(raw) == 4 and raw.isascii() and raw.isdigit():
        return date(int(raw), 12, 31) if end else date(int(raw), 1, 1)
    return date.fromisoformat(raw)


def parse_form(args: MultiDict[str, str]) -> Form:
    """Read the search form; bad values are reported and left out, never a server error."""
    clean: MultiDict[str, str] = MultiDict()
    errors: list[str] = []
    for name in SCALARS:
        value = args.get(name, "").strip()
        if name != "q":
            value = value[:MAX_TEXT]
        elif len(value) > MAX_QUERY_CHARS:  # never cut silently: say so, and ask again
            errors.append(_("Your search is too long: at most %(n)s characters.", n=MAX_QUERY_CHARS))
            continue
        elif value and not searchable(value):  # "!!! ???": nothing to look for
            errors.append(_("Punctuation alone finds nothing: type some words or numbers."))
            continue
        if value:
            clean[name] = value
    for name in FILTERS:
        for value in dict.fromkeys(v.strip()[:64] for v in args.getlist(name) if v.strip()):
            clean.add(name, value)
    dates: dict[str, date | None] = {"date_from": None, "date_to": None}
    for name in dates:
        if name in clean:
            try:
                dates[name] = _day(clean[name], end=name == "date_to")
            except ValueError:
                errors.append(_("Dates are a year (2024) or a day (2024-03-31)."))
                del clean[name]
    raw_page = args.get("page", "1").strip()
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
    page = min(max(page, 1), MAX_PAGE)
    sort = SORTS.get(clean.get("sort", "relevance"), "relevance")
    if clean.get("sort") not in SORTS:
        clean.pop("sort", None)
    asked = any(k in clean for k in ("q", "notation", "date_from", "date_to", *FILTERS))
    if not asked:
        return Form(clean, None, tuple(dict.fromkeys(errors)))
    query = SearchQuery(
        text=clean.get("q", ""),
        agency=tuple(clean.getlist("agency")),
        doc_type=tuple(clean.getlist("doc_type")),
        access_mode=tuple(clean.getlist("access_mode")),
        notation=clean.get("notation") or None,
        date_from=dates["date_from"],
        date_to=dates["date_to"],
        sort=sort,
        page=page,
        per_page=PER_PAGE,
    )
    return Form(clean, query, tuple(dict.fromkeys(errors)))


def _url(args: MultiDict[str, str]) -> str:
    values: dict[str, Any] = args.to_dict(flat=False)
    return url_for("search_views.search", **values)


def search_url(args: MultiDict[str, str], **changes: str | None) -> str:
    """This search with some parameters changed (None removes one); the page goes back to 1."""
    out = MultiDict(args)
    out.pop("page", None)
    for name, value in changes.items():
        out.pop(name, None)
        if value is not None:
            out[name] = value
    return _url(out)


def toggle_url(args: MultiDict[str, str], name: str, value: str) -> str:
    """This search with ``value`` added to or removed from the any-of filter ``name``."""
    out = MultiDict(args)
    out.pop("page", None)
    values = out.poplist(name)
    values = [v for v in values if v != value] if value in values else [*values, value]
    for v in values:
        out.add(name, v)
    return _url(out)


def year_url(args: MultiDict[str, str], year: str) -> str:
    """This search limited to one year (a facet click), or widened again if it already is."""
    if args.get("date_from") == year and args.get("date_to") == year:
        return search_url(args, date_from=None, date_to=None)
    return search_url(args, date_from=year, date_to=year)


def page_url(args: MultiDict[str, str], page: int) -> str:
    out = MultiDict(args)
    out["page"] = str(page)
    return _url(out)


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to link: first, last and ``width`` around ``page``; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    out: list[int | None] = []
    for n in shown:
        last = out[-1] if out else None
        if last is not None and n - last > 1:
            out.append(None)
        out.append(n)
    return out


@lru_cache(maxsize=1)
def doc_type_labels() -> Mapping[str, str]:
    """TT 05/2025 typeName codes → their Vietnamese names (tên loại văn bản)."""
    lists = load_profile("tt05-2025").codelists
    return dict(lists["typeName"].codes) if "typeName" in lists else {}


def _links(s: Session, actor: Actor, hits: Sequence[Hit]) -> dict[str, Link]:
    """For each hit, the page ``actor`` may open, decided by ``policies.access`` per record."""
    dossier_ids = {h.dossier_id for h in hits if h.dossier_id is not None}
    doc_ids = {int(h.id.split(":", 1)[1]) for h in hits if h.id.startswith("doc:")}
    rows = s.execute(
        select(Dossier.id, Dossier.access_mode, Dossier.state, Agency.code)
        .join(Agency, Agency.id == Dossier.agency_id)
        .where(Dossier.id.in_(dossier_ids))
    ).all()
    dossiers = {r[0]: RecordFacts(r[3], r[1], r[2], r[0]) for r in rows}
    docs = {
        r[0]: r
        for r in s.execute(
            select(Document.id, Document.dossier_id, Document.access_mode, Document.state).where(
                Document.id.in_(doc_ids)
            )
        )
    }
    links: dict[str, Link] = {}
    for hit in hits:
        kind = "document" if hit.id.startswith("doc:") else "dossier"
        record = dossiers.get(hit.dossier_id) if hit.dossier_id is not None else None
        if record is None or not can_see_metadata(actor, record).allowed:
            links[hit.id] = Link(None, False, kind)
            continue
        dossier_url = url_for("reading.record", dossier_id=record.dossier_id)
        readable = can_read_content(actor, record).allowed
        if kind == "document":
            doc = docs.get(int(hit.id.split(":", 1)[1]))
            if doc is None or doc[1] != record.dossier_id:
                links[hit.id] = Link(dossier_url, False, kind)
                continue
            doc_facts = RecordFacts(record.agency_code, doc[2], doc[3], record.dossier_id)
            readable = readable and can_read_content(actor, doc_facts).allowed
            if readable:
                url = url_for("reading.document", dossier_id=record.dossier_id, document_id=doc[0])
                links[hit.id] = Link(url, True, kind)
                continue
        links[hit.id] = Link(dossier_url, readable, kind)
    return links


def _agency_names(s: Session, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = s.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes)))
    return {code: name for code, name in rows}


@bp.get("/search")
def search() -> ResponseReturnValue:
    """The search page; the results fragment alone for htmx requests."""
    actor = current_actor()
    form = parse_form(request.args)
    result: SearchResult | None = None
    links: dict[str, Link] = {}
    names: dict[str, str] = {}
    status = 200
    unavailable = False
    svc = web_services()
    if form.query is not None:
        try:
            result = svc.search.search(form.query, visibility_for(actor))
        except IndexUnavailable:
            log.warning("search index unavailable")
            unavailable, status = True, 503
    with svc.session() as s:
        if result is not None:
            links = _links(s, actor, result.hits)
            codes = {*result.facets.get("agency", {}), *form.selected("agency")}
            names = _agency_names(s, sorted(codes))
        agencies = [
            (code, name) for code, name in s.execute(select(Agency.code, Agency.name).order_by(Agency.code))
        ]
    pages = max(1, math.ceil(result.total / result.per_page)) if result is not None else 1
    context = {
        "form": form,
        "result": result,
        "links": links,
        "agency_names": names,
        "agencies": agencies,
        "doc_types": doc_type_labels(),
        "modes": MODE_CODES,
        "sorts": tuple(SORTS),
        "max_query": MAX_QUERY_CHARS,
        "pages": pages,
        "window": page_window(result.page, pages) if result is not None else [],
        "unavailable": unavailable,
        "search_url": search_url,
        "toggle_url": toggle_url,
        "year_url": year_url,
        "page_url": page_url,
    }
    template = "search/_results.html" if request.headers.get("HX-Request") else "search/index.html"
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")  # the fragment and the page must not share a cache entry
    return response


__all__ = ["bp", "page_window", "parse_form", "search_url", "toggle_url"]
