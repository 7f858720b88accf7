"""Split the five seed regulations (shared/seeds) into retrieval units for the search evaluation.

Articles (``Điều N.``) where a text has them, else ~600-character groups of paragraphs. The
output, ``bench/data/seed_articles.jsonl``, is committed: the judged questions in
``bench/data/seed_questions.jsonl`` name these ids, so the split must not change under them.

    python bench/seed_corpus.py ../shared/seeds bench/data/seed_articles.jsonl
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

ARTICLE = re.compile(r"^(?:#+\s*)?\**\s*Điều\s+(\d+)\s*\.", re.M)
CHUNK_CHARS = 600


def split(path: Path) -> list[dict[str, str]]:
    """Return the retrieval units of one seed text, in order."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    stem = path.stem.split("_")[0]
    heads = list(ARTICLE.finditer(text))
    units: list[dict[str, str]] = []
    if len(heads) >= 5:
        seen: dict[str, int] = {}
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[m.start() : end].strip()
            n = m.group(1)
            seen[n] = seen.get(n, 0) + 1
            uid = f"{stem}-d{n}" + (f"-{seen[n]}" if seen[n] > 1 else "")
            title = body.splitlines()[0].strip("#* ").strip()
            units.append({"id": uid, "file": path.name, "title": title[:200], "text": body})
        return units
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    chunk: list[str] = []
    for i, block in enumerate(blocks):
        chunk.append(block)
        if sum(len(c) for c in chunk) >= CHUNK_CHARS or i == len(blocks) - 1:
            body = "\n\n".join(chunk)
            chunk = []
            uid = f"{stem}-p{sum(1 for u in units) + 1}"
            units.append({"id": uid, "file": path.name, "title": body.splitlines()[0][:200], "text": body})
    return units


def main(seeds: Path, out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for path in sorted(seeds.glob("*.txt")):
            for unit in split(path):
                fh.write(json.dumps(unit, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
