"""Every query has a bounded cost: the planner never expands combinatorially, a time budget
stops a slow search with the best results found so far, and long or adversarial input (many
frequent words, repeats, one letter 200 times, every operator) stays within time and memory.

Memory and time are measured in a child process under an address-space limit, so a regression
fails the test instead of exhausting the (shared) machine. Bounds are generous (a loaded
2-core machine): a query must not reach a second, where the old planner ran out of memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from archive.visibility import Visibility
from search.folding import MAX_QUERY_CHARS, MAX_QUERY_GROUPS, MAX_QUERY_TERMS, parse_query
from search.index.base import IndexDoc, SearchQuery
from search.index.fts5 import Fts5Index
from search.index.fts5_query import ALL_COLUMNS, META_COLUMNS, match_expression, relaxed_expression

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "bench" / "data" / "seed_articles.jsonl"
FREQUENT = (
    "Bộ Tư pháp chịu trách nhiệm trước Chính phủ thực hiện quản lý nhà nước về Trọng tài"  # from issue 21
)
ADVERSARIAL = [
    FREQUENT,
    " ".join(
        [
            "văn",
            "bản",
            "điện",
            "tử",
            "cơ",
            "quan",
            "nhà",
            "nước",
            "quản",
            "lý",
            "hệ",
            "thống",
            "thông",
            "tin",
            "trách",
            "nhiệm",
            "thực",
            "hiện",
            "quy",
            "định",
            "tổ",
            "chức",
            "đơn",
            "vị",
            "sở",
            "ban",
            "ngành",
            "tỉnh",
            "ủy",
            "nhân",
            "dân",
            "chủ",
            "tịch",
            "giao",
            "nhiệm",
            "vụ",
            "các",
            "của",
            "và",
            "được",
            "theo",
        ]
    )[:MAX_QUERY_CHARS],
    ("văn bản " * 40)[:MAX_QUERY_CHARS],  # repeated terms
    "a" * 200,  # one letter
    '"văn bản" AND (điện OR tử) NOT giấy NEAR(quản lý, 2) -mật quyet* * " ( ) ^ : {title_x} + \'',
    " ".join(
        f'"{w} {w}x"' for w in ["một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười"]
    ),  # many phrases
    "Người nghiện ma túy từ đủ 18 tuổi trở lên bị áp dụng biện pháp xử lý hành chính đưa vào cơ sở"
    " cai nghiện bắt buộc, đúng hay sai?",
    "!!! ??? ...",
    "x" * 5000,  # longer than any form allows: the engine reads the first MAX_QUERY_CHARS
]


def _units() -> list[IndexDoc]:
    units = [json.loads(line) for line in UNITS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        IndexDoc(id=f"doc:{i}", title=u["title"][:200], body=u["text"], access_mode=("01", "02", "03")[i % 3])
        for i, u in enumerate(units)
    ]


def test_parse_caps_terms_groups_and_repeats() -> None:
    many = parse_query(" ".join(f"từ{i}" for i in range(200)))
    assert len(many.terms) == MAX_QUERY_TERMS
    repeated = parse_query("văn bản " * 100)
    assert [t.folded for t in repeated.terms] == ["van", "ban"]  # each once
    assert len(repeated.groups[0].sequence) == 2 * MAX_QUERY_TERMS  # as typed, bounded: for pairs
    phrases = parse_query(" ".join(f'"a{i} b{i}"' for i in range(50)))
    assert len(phrases.groups) <= MAX_QUERY_GROUPS and len(phrases.terms) <= MAX_QUERY_TERMS
    assert parse_query("x" * 5000).terms[0].folded == "x" * MAX_QUERY_CHARS
    assert not parse_query('!!! ??? " * - ( )')
    ops = parse_query("AND OR NOT NEAR -mật")  # operators are words to FTS5 as well: quoted
    assert [t.folded for t in ops.terms] == ["and", "or", "not", "near", "mat"]


def test_expressions_grow_linearly_never_combinatorially() -> None:
    """The old fallback enumerated combinations: 42,785,596 characters for FREQUENT."""
    for text in ADVERSARIAL:
        parsed = parse_query(text)
        if not parsed:
            continue
        every = {(t.folded, t.prefix) for t in parsed.terms}
        for cols in (ALL_COLUMNS, META_COLUMNS):
            assert len(match_expression(parsed, cols)) < 20_000, text
            for rare in (every, set()):
                relaxed = relaxed_expression(parsed, cols, rare)
                assert relaxed is None or len(relaxed[0]) < 20_000, text


def test_a_question_finds_the_article_through_the_best_subset(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    units = [json.loads(line) for line in UNITS.read_text(encoding="utf-8").splitlines() if line.strip()]
    index.upsert(IndexDoc(id=u["id"], title=u["title"][:200], body=u["text"]) for u in units)
    question = "Văn bản điện tử có giá trị pháp lý như văn bản giấy không, đúng hay sai?"
    result = index.search(SearchQuery(text=question, per_page=5), Visibility.everything())
    # No article holds "đúng hay sai": the AND is empty; the best subset ranks the three
    # "Giá trị pháp lý của văn bản điện tử" articles first.
    assert index.explain(SearchQuery(text=question), Visibility.everything())["matches"] == 0
    assert {h.id for h in result.hits[:3]} == {"000-d3-2", "001-d4", "002-d5"}
    assert "<mark>giá trị pháp lý</mark>" in result.hits[0].title_html.lower()
    index.close()


def test_out_of_budget_returns_what_was_found_with_a_note(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db", time_budget_s=0.0)
    index.upsert(_units())
    for vis in (Visibility.everything(), Visibility.public()):
        result = index.search(SearchQuery(text=FREQUENT), vis)
        assert result.partial and not result.total_is_exact
        assert "interrupted" in index.explain(SearchQuery(text=FREQUENT), vis)
    index.close()
    roomy = Fts5Index(tmp_path / "search.db")
    assert not roomy.search(SearchQuery(text=FREQUENT), Visibility.public()).partial
    roomy.close()


_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from archive.visibility import Visibility
from search.index.base import SearchQuery
from search.index.fts5 import Fts5Index

queries = json.loads(sys.stdin.read())
out = []
for cap in (2000, 20):  # 20: most syllables count as frequent, as at a million records
    index = Fts5Index({db!r} + str(cap), count_cap=cap, rank_window=cap, scan_span=40)
    if index.count() == 0:
        from tests.search.test_query_bounds import _units
        index.upsert(_units())
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for text in queries:
        for vis in (Visibility.everything(), Visibility.public()):
            for sort in ("relevance", "date_desc"):
                t = time.perf_counter()
                r = index.search(SearchQuery(text=text, sort=sort), vis)
                out.append([cap, text[:40], sort, time.perf_counter() - t, r.total])
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss
    out.append(["rss_kib", cap, grown])
    index.close()
print(json.dumps(out))
"""


def _limit_memory() -> None:  # in the child: 1.5 GB of address space, then MemoryError
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))


def test_adversarial_queries_stay_within_time_and_memory(tmp_path: Path) -> None:
    script = _CHILD.format(root=str(ROOT), db=str(tmp_path / "bounds.db"))
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(ADVERSARIAL),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)
    timings = [r for r in rows if r[0] != "rss_kib"]
    assert len(timings) == 2 * len(ADVERSARIAL) * 4
    slow = [r for r in timings if r[3] > 2.0]
    assert slow == []  # wall time per query, generous for a loaded machine (budget: 0.8 s of SQL)
    for _tag, _cap, grown_kib in (r for r in rows if r[0] == "rss_kib"):
        assert grown_kib < 200 * 1024  # peak resident memory grew by less than 200 MB
    found = {r[1]: r[4] for r in timings if r[0] == 2000 and r[2] == "relevance"}
    assert found[FREQUENT[:40]] > 0  # the long question of the issue answers, with hits
