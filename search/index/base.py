"""The index interface every search backend implements, and the data it exchanges.

A backend receives :class:`IndexDoc` records (one per document or dossier), answers a
:class:`SearchQuery` under a :class:`~archive.visibility.Visibility` with a
:class:`SearchResult`, and can be rebuilt atomically: ``begin_rebuild()`` starts a new
generation that ``upsert`` fills while searches keep reading the old one, ``commit_rebuild()``
swaps it in at once, ``abort_rebuild()`` throws it away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol, runtime_checkable

from archive.visibility import Visibility

Sort = Literal["relevance", "date_desc", "date_asc"]
FACETS: tuple[str, ...] = ("agency", "year", "doc_type", "access_mode")
MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """One searchable record: a document (văn bản, ``"doc:123"``) or a dossier (``"dossier:45"``).

    ``subject`` is the trích yếu; ``body`` the extracted full text (content: shown only when the
    record's content is visible); ``code_number`` and ``notation`` the số and ký hiệu
    (``"15"``, ``"QĐ-BNV"``); ``doc_type`` the TT 05/2025 typeName code; ``retention`` the
    maintenance code; ``access_mode`` the mode code (01/02/03).
    """

    id: str
    title: str
    dossier_id: int | None = None
    dossier_code: str = ""  # mã hồ sơ
    subject: str = ""  # trích yếu
    body: str = ""
    agency_code: str = ""
    agency_name: str = ""
    doc_type: str = ""  # typeName
    code_number: str = ""  # số
    notation: str = ""  # ký hiệu
    issued_date: date | None = None
    year: int | None = None
    retention: str = ""  # maintenance
    access_mode: str = "01"  # mode
    file_format: str = ""
    language: str = "vi"

    @property
    def effective_year(self) -> int | None:
        if self.year is not None:
            return self.year
        return self.issued_date.year if self.issued_date else None

    @property
    def number_notation(self) -> str:
        """``"15/QĐ-BNV"``: số and ký hiệu as printed on the document."""
        if self.code_number and self.notation:
            return f"{self.code_number}/{self.notation}"
        return self.code_number or self.notation


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a researcher asked: text, field filters, sort, page and the facets wanted.

    Each tuple filter is any-of (empty = no filter). ``notation`` matches the full number
    (``"15/QĐ-BNV"``) or the ký hiệu alone, ignoring case and diacritics.
    """

    text: str = ""
    agency: tuple[str, ...] = ()
    doc_type: tuple[str, ...] = ()
    notation: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    retention: tuple[str, ...] = ()
    file_format: tuple[str, ...] = ()
    access_mode: tuple[str, ...] = ()
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = FACETS

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page starts at 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        if self.sort not in ("relevance", "date_desc", "date_asc"):
            raise ValueError(f"unknown sort {self.sort!r}")
        unknown = set(self.facets) - set(FACETS)
        if unknown:
            raise ValueError(f"unknown facets {sorted(unknown)}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class Hit:
    """One result. ``snippet`` and ``title_html`` are HTML: escaped, matches in ``<mark>``."""

    id: str
    dossier_id: int | None
    dossier_code: str
    title: str
    score: float
    snippet: str
    title_html: str
    issued_date: date | None = None
    agency_code: str = ""
    doc_type: str = ""
    access_mode: str = ""
    content_visible: bool = False


@dataclass(frozen=True, slots=True)
class SearchResult:
    """``total`` counts every visible match; ``facets`` maps facet → value → count.

    ``total_is_exact`` is False when a backend stopped counting at a cap: ``total`` and the
    facet counts are then lower bounds ("hơn N kết quả" / "more than N results").
    """

    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    total_is_exact: bool = True
    partial: bool = False  # the query ran out of its time budget: the best results found so far


Progress = Callable[[int], None]


@runtime_checkable
class SearchIndex(Protocol):
    """A search backend. Visibility is applied inside the query, never after it."""

    def upsert(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace ``docs`` (by id); return how many were written."""
        ...

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove the records with these ids; return how many existed."""
        ...

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult: ...

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def begin_rebuild(self) -> None: ...

    def commit_rebuild(self) -> None: ...

    def abort_rebuild(self) -> None: ...

    def rebuild(self, docs: Iterable[IndexDoc], progress: Progress | None = None) -> int: ...

    def close(self) -> None: ...


def rebuild_with(index: SearchIndex, docs: Iterable[IndexDoc], progress: Progress | None, batch: int) -> int:
    """Rebuild ``index`` from ``docs`` atomically, in batches; shared by the backends."""
    index.begin_rebuild()
    written = 0
    try:
        chunk: list[IndexDoc] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= batch:
                written += index.upsert(chunk)
                chunk.clear()
                if progress:
                    progress(written)
        if chunk:
            written += index.upsert(chunk)
            if progress:
                progress(written)
    except BaseException:
        index.abort_rebuild()
        raise
    index.commit_rebuild()
    return written
