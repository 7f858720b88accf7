"""Visibility: what one user may see, as data passed from ``policies`` to ``search``.

``policies`` computes a :class:`Visibility` for a user; ``search`` applies it inside the query
(never by filtering results afterwards), so totals, facets and snippets are computed only over
what the user may see.

Modes are the TT 05/2025/TT-BNV ``mode`` codes (chế độ sử dụng):

* ``"01"`` Công khai (open),
* ``"02"`` Sử dụng có điều kiện (conditional use),
* ``"03"`` Mật (secret).

Rules a backend must keep:

1. A record is visible at all only when its metadata is visible: its ``mode`` is in
   ``metadata_modes`` (or that is None) and its agency is in ``agencies`` (or that is None).
2. Its content (full text) is visible only when, in addition, its mode is in ``content_modes``
   (or that is None). Content that is not visible never matches a query and never appears in a
   snippet, a facet count or a total.
3. A record of a dossier in ``granted_dossiers`` (an approved, unexpired access request, see
   ``policies.access``) is visible, metadata and content, whatever its mode and agency: rules 1
   and 2 widen by exactly those dossiers, as the per-record decision does. Which modes a grant
   may open is for ``policies`` to decide when it builds the set, not for the backend.
4. ``None`` means unrestricted; an empty set means nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MODE_PUBLIC = "01"  # Công khai
MODE_CONDITIONAL = "02"  # Sử dụng có điều kiện
MODE_SECRET = "03"  # Mật
MODES: frozenset[str] = frozenset({MODE_PUBLIC, MODE_CONDITIONAL, MODE_SECRET})


def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _ids(values: Iterable[int]) -> frozenset[int]:
    return frozenset(int(v) for v in values)


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a user may see: modes whose content / metadata are visible, and which agencies.

    ``content_modes``: modes whose full text may be searched and shown; None = all.
    ``metadata_modes``: modes whose title, subject and codes may be searched and shown; None = all.
    ``agencies``: agency codes whose records are visible at all; None = all agencies.
    ``granted_dossiers``: dossier ids whose records are visible, metadata and content, on top of
    the three above (rule 3 of the module docstring); empty = none.
    """

    content_modes: frozenset[str] | None
    metadata_modes: frozenset[str] | None
    agencies: frozenset[str] | None = None
    granted_dossiers: frozenset[int] = frozenset()

    @classmethod
    def everything(cls) -> Visibility:
        """All records, metadata and content: archivists."""
        return cls(content_modes=None, metadata_modes=None, agencies=None)

    @classmethod
    def public(cls) -> Visibility:
        """Anonymous researchers: content and metadata of 01, metadata of 02, nothing of 03."""
        return cls(
            content_modes=frozenset({MODE_PUBLIC}),
            metadata_modes=frozenset({MODE_PUBLIC, MODE_CONDITIONAL}),
            agencies=None,
        )

    @classmethod
    def of(
        cls,
        content_modes: Iterable[str] | None,
        metadata_modes: Iterable[str] | None,
        agencies: Iterable[str] | None = None,
        granted_dossiers: Iterable[int] = (),
    ) -> Visibility:
        """Build from any iterables (lists, sets); None stays unrestricted."""
        return cls(_frozen(content_modes), _frozen(metadata_modes), _frozen(agencies), _ids(granted_dossiers))

    @property
    def unrestricted(self) -> bool:
        """Everything is visible (grants then add nothing)."""
        return self.content_modes is None and self.metadata_modes is None and self.agencies is None

    def granted(self, dossier_id: int | None) -> bool:
        """Whether ``dossier_id`` is opened by a grant (rule 3)."""
        return dossier_id is not None and dossier_id in self.granted_dossiers

    def _agency_ok(self, agency_code: str | None) -> bool:
        return self.agencies is None or (agency_code is not None and agency_code in self.agencies)

    def metadata_visible(
        self, mode: str | None, agency_code: str | None, dossier_id: int | None = None
    ) -> bool:
        """Whether a record's metadata (title, subject, codes) may be seen."""
        if self.granted(dossier_id):
            return True
        if not self._agency_ok(agency_code):
            return False
        return self.metadata_modes is None or (mode is not None and mode in self.metadata_modes)

    def content_visible(
        self, mode: str | None, agency_code: str | None, dossier_id: int | None = None
    ) -> bool:
        """Whether a record's content (full text, file) may be seen; implies metadata visible."""
        if self.granted(dossier_id):
            return True
        if not self.metadata_visible(mode, agency_code):
            return False
        return self.content_modes is None or (mode is not None and mode in self.content_modes)
