"""Search index backends: the embedded SQLite FTS5 index and Elasticsearch."""

from search.index.base import Hit, IndexDoc, SearchIndex, SearchQuery, SearchResult

__all__ = ["Hit", "IndexDoc", "SearchIndex", "SearchQuery", "SearchResult"]
