"""The Elasticsearch backend (official client; needs the ``analysis-icu`` plugin).

Searches and writes go through an alias (``luutru-docs``). A rebuild creates a new concrete
index (``luutru-docs-<utc stamp>-<random>``) from the template, fills it with bulk requests,
then swaps the alias in one ``_aliases`` call and deletes the old index, so readers never see
a half-built index. Request bodies live in :mod:`search.index.elastic_body`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from archive.visibility import Visibility
from archive.vntime import utcnow
from search.errors import IndexUnavailable, RebuildStateError
from search.folding import legacy_encoding
from search.index.base import IndexDoc, Progress, SearchQuery, SearchResult, rebuild_with
from search.index.elastic_body import document_source, index_template, parse_response, search_body

log = logging.getLogger(__name__)

Refresh = bool | str  # False, True or "wait_for" (tests: "wait_for", so writes are searchable)


class ElasticIndex:
    """SearchIndex on Elasticsearch. ``client`` is an ``elasticsearch.Elasticsearch``."""

    def __init__(
        self,
        client: Any,
        *,
        alias: str = "luutru-docs",
        refresh: Refresh = False,
        shards: int = 1,
        replicas: int = 0,
        chunk_size: int = 500,
    ) -> None:
        self.client = client
        self.alias = alias
        self.refresh = refresh
        self.chunk_size = chunk_size
        self._building: str | None = None
        try:
            client.indices.put_index_template(
                name=f"{alias}-template", **index_template(f"{alias}-*", shards=shards, replicas=replicas)
            )
            if not client.indices.exists_alias(name=alias):
                first = self._new_index_name()
                client.indices.create(index=first, aliases={alias: {}})
        except _transport_errors() as exc:
            raise IndexUnavailable(f"Elasticsearch unavailable: {exc}") from exc

    def _new_index_name(self) -> str:
        return f"{self.alias}-{utcnow():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"

    def _live_indices(self) -> list[str]:
        if not self.client.indices.exists_alias(name=self.alias):
            return []
        return sorted(self.client.indices.get_alias(name=self.alias).keys())

    @property
    def _target(self) -> str:
        return self._building or self.alias

    # -- writing --------------------------------------------------------------------------

    def _actions(self, docs: Iterable[IndexDoc], index: str) -> Iterator[dict[str, Any]]:
        for doc in docs:
            legacy = legacy_encoding(doc.body) if doc.body else None
            if legacy:
                log.warning("legacy-encoded body not indexed", extra={"doc_id": doc.id, "encoding": legacy})
            source = document_source(doc, "" if legacy else doc.body, legacy)
            yield {"_op_type": "index", "_index": index, "_id": doc.id, "_source": source}

    def upsert(self, docs: Iterable[IndexDoc]) -> int:
        from elasticsearch import helpers

        written, _errors = helpers.bulk(
            self.client,
            self._actions(docs, self._target),
            chunk_size=self.chunk_size,
            refresh=self.refresh,
        )
        return int(written)

    def delete(self, doc_ids: Iterable[str]) -> int:
        from elasticsearch import helpers

        ids = list(doc_ids)
        targets = [self.alias] + ([self._building] if self._building else [])
        removed = 0
        for target in targets:
            actions = ({"_op_type": "delete", "_index": target, "_id": i} for i in ids)
            deleted = 0
            for ok, item in helpers.streaming_bulk(
                self.client, actions, raise_on_error=False, refresh=self.refresh, chunk_size=self.chunk_size
            ):
                if ok and item.get("delete", {}).get("result") == "deleted":
                    deleted += 1
            removed = max(removed, deleted)
        return removed

    def count(self) -> int:
        return int(self.client.count(index=self.alias)["count"])

    def clear(self) -> None:
        self.begin_rebuild()
        self.commit_rebuild()

    def begin_rebuild(self) -> None:
        if self._building is not None:
            raise RebuildStateError("a rebuild is already in progress")
        name = self._new_index_name()
        self.client.indices.create(index=name, settings={"index": {"refresh_interval": "-1"}})
        self._building = name

    def commit_rebuild(self) -> None:
        """Swap the alias to the rebuilt index in one atomic ``_aliases`` call; drop the old ones."""
        if self._building is None:
            raise RebuildStateError("no rebuild in progress")
        new, old = self._building, self._live_indices()
        self.client.indices.put_settings(index=new, settings={"index": {"refresh_interval": None}})
        self.client.indices.refresh(index=new)
        actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)
        self._building = None
        for name in old:
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def abort_rebuild(self) -> None:
        if self._building is not None:
            self.client.indices.delete(index=self._building, ignore_unavailable=True)
        self._building = None

    def rebuild(self, docs: Iterable[IndexDoc], progress: Progress | None = None) -> int:
        return rebuild_with(self, docs, progress, self.chunk_size)

    def drop(self) -> None:
        """Delete every index behind the alias and the template (tests, uninstall)."""
        self.abort_rebuild()
        for name in self._live_indices():
            self.client.indices.delete(index=name, ignore_unavailable=True)
        self.client.indices.delete_index_template(name=f"{self.alias}-template")

    def close(self) -> None:
        """The client belongs to the caller; nothing to release here."""

    # -- reading --------------------------------------------------------------------------

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        body = search_body(query, visibility)
        kwargs = {
            ("from_" if key == "from" else "source" if key == "_source" else key): v
            for key, v in body.items()
        }
        try:
            response = self.client.search(index=self.alias, **kwargs)
        except _transport_errors() as exc:
            raise IndexUnavailable(f"Elasticsearch search failed: {exc}") from exc
        raw = response.body if hasattr(response, "body") else response
        return parse_response(raw, query, visibility)


def _transport_errors() -> tuple[type[Exception], ...]:
    from elasticsearch import ApiError, TransportError

    return (ApiError, TransportError)
