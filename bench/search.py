"""Search benchmarks, run by hand (never by the test suite).

(a) relevance, tuning set A: the five seed texts split into articles (Điều …), the graded
    queries in ``bench/data/search_queries.json`` typed with and without diacritics; nDCG@10
    and Recall@10 of the FTS5 backend versus BM25 (rank_bm25) tokenised as the engine does
    (NFC, case-folded, split at punctuation; folded too for the unaccented spelling).
(a') questions: the 88 retrieval units of ``bench/data/seed_articles.jsonl`` indexed through
    Fts5Index; tuning set B (``tuning_queries.jsonl``, written while tuning) and the held-out
    set (``seed_questions.jsonl``, written by someone else, never tuned on) reported apart,
    per spelling, against the same BM25.
(b) speed: N synthetic administrative documents; indexing docs/s, index size, query
    p50/p95 over a fixed set of 200 queries.

    .venv/bin/python bench/search.py relevance
    .venv/bin/python bench/search.py questions [--held-out PATH]
    .venv/bin/python bench/search.py speed --docs 100000 [--db /tmp/bench.db] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.visibility import Visibility
from search.folding import fold
from search.index.base import IndexDoc, SearchQuery
from search.index.fts5 import Fts5Index

SEEDS = Path("/work/shared/seeds")
QUERIES = Path(__file__).resolve().parent / "data" / "search_queries.json"
K = 10


# -- (a) relevance -----------------------------------------------------------------------------


def seed_articles(seeds: Path = SEEDS) -> dict[str, str]:
    """Split each seed file at "Điều N" (or numbered items "1. ") into ``<file>-<nn>`` chunks."""
    docs: dict[str, str] = {}
    for path in sorted(seeds.glob("0*.txt")):
        text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8", errors="replace"))
        starts = [m.start() for m in re.finditer(r"^\W*Điều\s+\d+", text, re.M)]
        if not starts:
            starts = [m.start() for m in re.finditer(r"^\d+\.\s", text, re.M)] or [0]
        if starts[0] > 0:
            starts.insert(0, 0)
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(text)
            docs[f"{path.name[:3]}-{i:02d}"] = text[start:end].strip()
    return docs


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def relevance() -> None:
    """Tuning set A: the 35 graded queries of ``search_queries.json`` over the seeds split at
    "Điều N" (the set the ranking was first tuned on), against BM25 tokenised like the engine."""
    from rank_bm25 import BM25Okapi

    articles = seed_articles()
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        index = Fts5Index(Path(tmp) / "rel.db")
        index.upsert(
            IndexDoc(id=key, title=text.splitlines()[0][:200], body=text) for key, text in articles.items()
        )
        keys = list(articles)
        models = {
            fold_: BM25Okapi([bm25_tokens(articles[k], fold_) for k in keys]) for fold_ in (False, True)
        }
        rows: dict[str, list[tuple[float, float]]] = {}
        for q in queries:
            for variant, text in (("accented", q["text"]), ("plain", fold(q["text"]))):
                found = index.search(SearchQuery(text=text, per_page=K, facets=()), Visibility.everything())
                ours = [h.id for h in found.hits]
                base = _bm25_top(models[variant == "plain"], keys, bm25_tokens(text, variant == "plain"))
                for name, ranked in ((f"fts5/{variant}", ours), (f"bm25/{variant}", base)):
                    rows.setdefault(name, []).append(
                        (ndcg(ranked, q["relevant"]), recall(ranked, q["relevant"]))
                    )
        index.close()
    print(f"tuning set A: {len(articles)} articles; {len(queries)} queries x 2 spellings")
    print(f"{'system':<16} {'nDCG@10':>8} {'Recall@10':>10}")
    for name, values in sorted(rows.items()):
        print(
            f"{name:<16} {statistics.mean(v[0] for v in values):8.3f} {statistics.mean(v[1] for v in values):10.3f}"
        )


# -- questions over the 88 retrieval units (tuning set B, held-out set) -------------------------

UNITS = Path(__file__).resolve().parent / "data" / "seed_articles.jsonl"
TUNING = Path(__file__).resolve().parent / "data" / "tuning_queries.jsonl"
HELD_OUT = Path(__file__).resolve().parent / "data" / "seed_questions.jsonl"
_WORDS = re.compile(r"[^\W_]+")


def bm25_tokens(text: str, folded: bool) -> list[str]:
    """The baseline's tokens, made the way the engine makes them: NFC, case-folded, split at
    punctuation; ``folded`` also strips diacritics (query and documents alike)."""
    words = _WORDS.findall(unicodedata.normalize("NFC", text).casefold())
    return [fold(w) for w in words] if folded else words


def _bm25_top(model: Any, keys: list[str], query: list[str]) -> list[str]:
    scores = model.get_scores(query)
    return [keys[i] for i in sorted(range(len(keys)), key=lambda i: -scores[i])[:K] if scores[i] > 0]


def load_questions(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line: id, question, relevant (unit ids), spelling."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                q = json.loads(line)
                if not q.get("question") or not q.get("relevant"):
                    raise SystemExit(f"{path}:{n}: a question needs 'question' and 'relevant'")
                out.append(q)
    return out


def evaluate(questions: list[dict[str, Any]], label: str) -> None:
    """Recall@10 and nDCG@10 of the engine (the 88 units indexed through Fts5Index, as the
    product indexes records) and of BM25, per spelling; and the engine's p50/p95 latency."""
    from rank_bm25 import BM25Okapi

    units = [json.loads(line) for line in UNITS.read_text(encoding="utf-8").splitlines() if line.strip()]
    keys = [u["id"] for u in units]
    known = set(keys)
    models = {f: BM25Okapi([bm25_tokens(u["text"], f) for u in units]) for f in (False, True)}
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Fts5Index(Path(tmp) / "units.db")
        index.upsert(IndexDoc(id=u["id"], title=u["title"][:300], body=u["text"]) for u in units)
        for q in questions:
            relevant = {r: 1 for r in q["relevant"] if r in known}
            if not relevant:
                continue
            spelling = q.get("spelling", "diacritics")
            text = q["question"]
            t = time.perf_counter()
            found = index.search(SearchQuery(text=text, per_page=K, facets=()), Visibility.everything())
            times.append((time.perf_counter() - t) * 1000)
            base = _bm25_top(
                models[spelling != "diacritics"], keys, bm25_tokens(text, spelling != "diacritics")
            )
            for system, ranked in (("engine", [h.id for h in found.hits]), ("bm25", base)):
                rows.setdefault((spelling, system), []).append(
                    (ndcg(ranked, relevant), recall(ranked, relevant))
                )
        index.close()
    times.sort()
    print(f"\n{label}: {len(questions)} questions over {len(units)} units")
    print(f"{'spelling':<15} {'system':<7} {'n':>4} {'nDCG@10':>8} {'Recall@10':>10}")
    for (spelling, system), values in sorted(rows.items()):
        print(
            f"{spelling:<15} {system:<7} {len(values):4d} {statistics.mean(v[0] for v in values):8.3f}"
            f" {statistics.mean(v[1] for v in values):10.3f}"
        )
    if times:
        print(
            f"engine latency: p50 {times[len(times) // 2]:.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms"
        )


def questions(path: Path | None) -> None:
    """Tuning set B (``tuning_queries.jsonl``) and the held-out set, kept apart."""
    evaluate(load_questions(TUNING), f"tuning set B ({TUNING.name})")
    held = path or HELD_OUT
    if not held.exists():
        print(f"\nheld-out set: {held} is absent (it is written by someone who does not tune the"
              " ranking); nothing evaluated")  # fmt: skip
        return
    evaluate(load_questions(held), f"held-out set ({held.name})")


# -- (b) speed ---------------------------------------------------------------------------------

TYPES = [("01", "Quyết định", "QĐ"), ("02", "Công văn", ""), ("03", "Báo cáo", "BC"), ("04", "Tờ trình", "TTr"),
         ("05", "Kế hoạch", "KH"), ("06", "Thông báo", "TB"), ("07", "Biên bản", "BB")]  # fmt: skip
AGENCIES = [("UBND-DL", "Ủy ban nhân dân tỉnh Đắk Lắk", "UBND"), ("SNV-PT", "Sở Nội vụ tỉnh Phú Thọ", "SNV"),
            ("STTTT-LS", "Sở Thông tin và Truyền thông tỉnh Lạng Sơn", "STTTT"),
            ("STC-QN", "Sở Tài chính tỉnh Quảng Ngãi", "STC"), ("UBND-TQ", "Ủy ban nhân dân tỉnh Tuyên Quang", "UBND"),
            ("STNMT-DL", "Sở Tài nguyên và Môi trường tỉnh Đắk Lắk", "STNMT")]  # fmt: skip
TOPICS = ["giao đất đai cho hộ gia đình", "phê duyệt kinh phí sự nghiệp", "tuyển dụng viên chức giáo dục",
          "cải cách hành chính năm", "phòng chống thiên tai và tìm kiếm cứu nạn", "xây dựng nông thôn mới",
          "quản lý văn bản điện tử", "ứng dụng chữ ký số", "chuyển đổi số trong cơ quan nhà nước",
          "bảo vệ môi trường khu công nghiệp", "thi đua khen thưởng", "kiện toàn tổ chức bộ máy",
          "lưu trữ hồ sơ tài liệu", "an toàn thông tin mạng", "quy hoạch sử dụng đất", "đầu tư công trung hạn",
          "giải quyết khiếu nại tố cáo", "tiếp công dân định kỳ", "phòng chống dịch bệnh", "bồi thường giải phóng mặt bằng"]  # fmt: skip


def _sentences(rng: random.Random) -> Iterator[str]:
    articles = list(seed_articles().values())
    lines = [ln.strip("*# ") for text in articles for ln in text.splitlines() if len(ln) > 40]
    while True:
        yield rng.choice(lines)


def synthetic_docs(n: int, seed: int = 42) -> Iterator[IndexDoc]:
    """Yield ``n`` administrative documents built from real seed sentences and vocabulary."""
    rng = random.Random(seed)
    sentences = _sentences(rng)
    start = date(2005, 1, 1)
    for i in range(n):
        code, type_name, short = rng.choice(TYPES)
        agency, agency_name, agency_short = rng.choice(AGENCIES)
        topic = rng.choice(TOPICS)
        issued = start + timedelta(days=rng.randrange(7300))
        notation = f"{short}-{agency_short}" if short else agency_short
        body = " ".join(next(sentences) for _ in range(rng.randint(3, 12)))
        yield IndexDoc(
            id=f"doc:{i}",
            dossier_id=i // 20,
            dossier_code=f"H{i // 20:06d}",
            title=f"{type_name} về việc {topic}",
            subject=f"V/v {topic} của {agency_name}",
            body=body,
            agency_code=agency,
            agency_name=agency_name,
            doc_type=code,
            code_number=str(rng.randint(1, 5000)),
            notation=notation,
            issued_date=issued,
            retention=rng.choice(["01", "02", "04", "06"]),
            access_mode=rng.choices(["01", "02", "03"], weights=[80, 15, 5])[0],
            file_format="pdf",
        )


def fixed_queries(n: int = 200, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    base = [t for t in TOPICS] + [
        q["text"] for q in json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    ]
    out = []
    for i in range(n):
        text = rng.choice(base)
        words = text.split()
        if i % 4 == 1:
            text = fold(text)
        elif i % 4 == 2:
            text = " ".join(words[: max(1, len(words) // 2)])
        elif i % 4 == 3:
            text = fold(words[0])[:4] + "*" if len(fold(words[0])) >= 4 else words[0]
        out.append(text)
    return out


class _Timed:
    """Wraps a document generator and adds up the time spent generating (kept out of indexing)."""

    def __init__(self, docs: Iterator[IndexDoc]) -> None:
        self.docs, self.spent = docs, 0.0

    def __iter__(self) -> Iterator[IndexDoc]:
        return self

    def __next__(self) -> IndexDoc:
        t = time.perf_counter()
        try:
            return next(self.docs)
        finally:
            self.spent += time.perf_counter() - t


def _build(index: Fts5Index, n: int) -> None:
    docs = _Timed(synthetic_docs(n))
    t0 = time.perf_counter()
    index.rebuild(docs)  # merges the new generation (optimize) before it goes live
    index.checkpoint()
    took = time.perf_counter() - t0 - docs.spent
    size = sum(
        Path(f"{index.path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{index.path}{s}").exists()
    )
    pages = [
        index._db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
    ]
    in_use = (pages[0] - pages[1]) * pages[2]
    print(
        f"indexed {n} docs in {took:.1f} s (+{docs.spent:.1f} s generating, not counted):"
        f" {n / took:,.0f} docs/s; index file {size / 2**20:,.1f} MiB, {in_use / 2**20:,.1f} MiB in use"
    )


def long_questions(n: int = 50, seed: int = 11) -> list[str]:
    """Questions as people type them: tuning set B, the two of issue 21, and questions built
    from the benchmark's topics (half of them without diacritics)."""
    rng = random.Random(seed)
    out = [q["question"] for q in load_questions(TUNING)]
    out += [
        "Bộ Tư pháp chịu trách nhiệm trước Chính phủ thực hiện quản lý nhà nước về Trọng tài",
        "Người nghiện ma túy từ đủ 18 tuổi trở lên bị áp dụng biện pháp xử lý hành chính đưa vào cơ sở"
        " cai nghiện bắt buộc, đúng hay sai?",
    ]
    forms = ["Cơ quan nào chịu trách nhiệm {t} tại {a}?", "{T} về việc {t} có phải xin ý kiến không?",
             "Thủ tục {t} của {a} năm nay thực hiện thế nào, đúng hay sai?"]  # fmt: skip
    while len(out) < n:
        _code, type_name, _short = rng.choice(TYPES)
        text = rng.choice(forms).format(t=rng.choice(TOPICS), a=rng.choice(AGENCIES)[1], T=type_name)
        out.append(fold(text) if len(out) % 2 else text)
    return out[:n]


def speed(n: int, db: Path | None, reuse: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "speed.db"
        if not (reuse and path.exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        index = Fts5Index(path, batch_size=5000)
        if index.count() != n:
            _build(index, n)
        print(f"{index.count()} docs in {path}")
        sets = {"keywords": fixed_queries(), "questions": long_questions()}
        sets["all"] = sets["keywords"] + sets["questions"]
        for label, vis in (("archivist", Visibility.everything()), ("public", Visibility.public())):
            timed: dict[str, float] = {}
            partial = 0
            for text in sets["all"]:
                t = time.perf_counter()
                partial += index.search(SearchQuery(text=text), vis).partial
                timed[text] = (time.perf_counter() - t) * 1000
            for name, texts in sets.items():
                times = sorted(timed[t] for t in texts)
                p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
                print(
                    f"{label:<9} {name:<9} ({len(times)}, 4 facets + snippets): p50 {p50:.1f} ms,"
                    f" p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
                )
            print(f"{label:<9} partial (time budget spent): {partial}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of the bench process: {rss:,.0f} MiB")
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("relevance")
    qp = sub.add_parser("questions")
    qp.add_argument("--held-out", type=Path, default=None, help=f"default {HELD_OUT}")
    sp = sub.add_parser("speed")
    sp.add_argument("--docs", type=int, default=100_000)
    sp.add_argument("--db", type=Path, default=None)
    sp.add_argument("--reuse", action="store_true", help="keep an index of --docs records already in --db")
    args = parser.parse_args()
    if args.cmd == "relevance":
        relevance()
    elif args.cmd == "questions":
        questions(args.held_out)
    else:
        speed(args.docs, args.db, args.reuse)


if __name__ == "__main__":
    main()
