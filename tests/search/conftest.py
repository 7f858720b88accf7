"""Fixtures for search tests: every backend behind the same SearchIndex protocol."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.index.base import SearchIndex
from search.index.fts5 import Fts5Index

ES_URL = os.environ.get("LUUTRU_ES_URL")


def _make_index(kind: str, tmp_path: Path) -> Iterator[SearchIndex]:
    if kind == "fts5":
        index = Fts5Index(tmp_path / "search.db")
        yield index
        index.close()
        return
    if not ES_URL:
        pytest.skip("Elasticsearch not configured: set LUUTRU_ES_URL (needs the analysis-icu plugin)")
    from elasticsearch import Elasticsearch

    from search.index.elastic import ElasticIndex

    client = Elasticsearch(ES_URL)
    alias = f"luutru-test-{uuid.uuid4().hex[:8]}"
    es_index = ElasticIndex(client, alias=alias, refresh="wait_for")
    yield es_index
    es_index.drop()
    client.close()


@pytest.fixture(params=["fts5", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    yield from _make_index(request.param, tmp_path)
