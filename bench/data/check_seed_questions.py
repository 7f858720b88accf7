"""Check bench/data/seed_questions.jsonl against bench/data/seed_articles.jsonl.

Run: python3 bench/data/check_seed_questions.py
Exits non-zero on any error and prints a summary of the set.
"""

import collections
import json
import pathlib
import re
import sys
import unicodedata

HERE = pathlib.Path(__file__).resolve().parent
ARTICLES = HERE / "seed_articles.jsonl"
QUESTIONS = HERE / "seed_questions.jsonl"

KEYS = {"id", "question", "relevant", "spelling"}
OPTIONAL = {"type"}
SPELLINGS = {"diacritics", "no-diacritics"}
TYPES = {"natural", "keyword", "paraphrase"}
MIN_QUESTIONS = 240


def strip_marks(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Case, diacritics and punctuation folded, to find near-copies."""
    text = strip_marks(text).lower()
    return " ".join(re.findall(r"\w+", text))


def main() -> int:
    errors: list[str] = []
    units = {}
    for line in ARTICLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            unit = json.loads(line)
            units[unit["id"]] = unit

    rows = []
    raw = QUESTIONS.read_bytes().decode("utf-8")
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            errors.append(f"line {number}: empty line")
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: invalid JSON ({exc})")
    if unicodedata.normalize("NFC", raw) != raw:
        errors.append("file is not Unicode NFC")

    seen_ids: set[str] = set()
    seen_text: dict[str, str] = {}
    for row in rows:
        qid = row.get("id", "?")
        keys = set(row)
        if not keys >= KEYS or keys - KEYS - OPTIONAL:
            errors.append(f"{qid}: keys {sorted(keys)}")
        if not re.fullmatch(r"q\d{3}", str(qid)):
            errors.append(f"{qid}: id is not qNNN")
        if qid in seen_ids:
            errors.append(f"{qid}: duplicate id")
        seen_ids.add(qid)
        question = row.get("question", "")
        if not isinstance(question, str) or not question.strip():
            errors.append(f"{qid}: empty question")
            continue
        if question != question.strip() or "  " in question:
            errors.append(f"{qid}: stray whitespace")
        folded = fold(question)
        if folded in seen_text:
            errors.append(f"{qid}: same question as {seen_text[folded]}")
        seen_text[folded] = qid
        spelling = row.get("spelling")
        if spelling not in SPELLINGS:
            errors.append(f"{qid}: spelling {spelling!r}")
        marked = strip_marks(question) != question
        if spelling == "no-diacritics" and marked:
            errors.append(f"{qid}: no-diacritics question has diacritics")
        if spelling == "diacritics" and not marked:
            errors.append(f"{qid}: diacritics question has no diacritics")
        if "type" in row and row["type"] not in TYPES:
            errors.append(f"{qid}: type {row['type']!r}")
        relevant = row.get("relevant")
        if not isinstance(relevant, list) or not relevant:
            errors.append(f"{qid}: relevant must be a non-empty list")
            continue
        if len(set(relevant)) != len(relevant):
            errors.append(f"{qid}: duplicate relevant ids")
        for unit_id in relevant:
            if unit_id not in units:
                errors.append(f"{qid}: unknown unit {unit_id!r}")

    if len(rows) < MIN_QUESTIONS:
        errors.append(f"only {len(rows)} questions, want at least {MIN_QUESTIONS}")

    spellings = collections.Counter(r.get("spelling") for r in rows)
    types = collections.Counter(r.get("type", "-") for r in rows)
    per_file: collections.Counter[str] = collections.Counter()
    per_unit: collections.Counter[str] = collections.Counter()
    sizes = collections.Counter(len(r.get("relevant", [])) for r in rows)
    for row in rows:
        for unit_id in set(row.get("relevant", [])):
            per_unit[unit_id] += 1
        for file_key in {u.split("-")[0] for u in row.get("relevant", [])}:
            per_file[file_key] += 1

    total = len(rows) or 1
    print(f"questions: {len(rows)}")
    for name, count in sorted(spellings.items()):
        print(f"  spelling {name}: {count} ({100 * count / total:.0f}%)")
    for name, count in sorted(types.items()):
        print(f"  type {name}: {count} ({100 * count / total:.0f}%)")
    print("  relevant units per question: " + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items())))
    print("questions citing each source file:")
    for file_key, count in sorted(per_file.items()):
        print(f"  {file_key}: {count}")
    covered = [u for u in units if per_unit[u]]
    print(f"units covered: {len(covered)} of {len(units)}")
    missing = [u for u in units if not per_unit[u]]
    if missing:
        print("  not covered: " + ", ".join(missing))
    if errors:
        print(f"{len(errors)} error(s):", file=sys.stderr)
        for error in errors:
            print("  " + error, file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
