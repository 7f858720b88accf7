"""JSON from outside the archive, parsed within declared limits of size and nesting depth.

Python's :mod:`json` decoder recurses once per nested array or object, so a document nested
100,000 levels deep raises ``RecursionError`` (or worse, exhausts the C stack) before any check
of ours could run. Every JSON entry point — ``metadata.json`` at intake, ``luutru metadata
validate``, the REST API's request bodies and the upload plan — therefore goes through
:func:`loads`, which first scans the text *iteratively* (a regular expression that skips
strings and counts brackets, no recursion), refuses it when it is nested deeper than
``max_depth`` or larger than ``max_bytes``, and only then hands it to :func:`json.loads`.

A refusal is :class:`JsonRefused`, a ``ValueError`` (callers that already catch
``json.JSONDecodeError`` keep working) with a stable ``code`` and a message in Vietnamese and
English, so each entry point can turn it into a finding, a problem+json or a CLI exit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

__all__ = [
    "MAX_DEPTH",
    "MAX_METADATA_BYTES",
    "JsonRefused",
    "check_depth",
    "load_file",
    "loads",
    "too_large",
]

MAX_DEPTH = 64  # nesting of arrays/objects; metadata.json needs 4, the API bodies 5
MAX_METADATA_BYTES = 16 * 1024 * 1024  # a metadata.json of 10,000 documents is about 5 MiB

# A JSON string (skipped whole: brackets inside it do not count) or one bracket. Unrolled so the
# regular expression engine never backtracks over a long string.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)

PairsHook = Callable[[list[tuple[str, Any]]], Any]


class JsonRefused(ArchiveError, ValueError):
    """JSON text refused before or while parsing; ``code`` is stable, messages are vi/en.

    Codes: ``json.too_large``, ``json.too_deep``, ``json.invalid`` (not JSON, or not UTF-8).
    """

    def __init__(self, code: str, message_vi: str, message_en: str, **evidence: object) -> None:
        super().__init__(message_en)
        self.code, self.message_vi, self.message_en = code, message_vi, message_en
        self.evidence = evidence


def too_large(size: int, max_bytes: int) -> JsonRefused:
    """The refusal for ``size`` bytes of JSON over the ``max_bytes`` limit."""
    return JsonRefused(
        "json.too_large",
        f"Dữ liệu JSON dài {size} byte, vượt giới hạn {max_bytes} byte.",
        f"The JSON is {size} bytes, over the limit of {max_bytes} bytes.",
        size=size,
        limit=max_bytes,
    )


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JsonRefused` (``json.too_deep``) when arrays/objects nest deeper than ``max_depth``.

    Runs in constant stack space and linear time; brackets inside strings are not counted.
    Unbalanced brackets are left for the JSON parser to report.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonRefused(
                    "json.too_deep",
                    f"Dữ liệu JSON lồng nhau quá {max_depth} cấp.",
                    f"The JSON nests arrays/objects more than {max_depth} levels deep.",
                    limit=max_depth,
                    offset=match.start(),
                )
        elif char in "]}":
            depth -= 1


def loads(
    data: str | bytes,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: PairsHook | None = None,
) -> Any:
    """Parse ``data`` (bytes are UTF-8, a BOM is allowed) after checking its size and depth.

    Raises :class:`JsonRefused` for every way the text can be refused — too large, too deep,
    not UTF-8, not JSON, or a ``ValueError`` raised by ``object_pairs_hook`` — never
    ``RecursionError``.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise too_large(size, max_bytes)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonRefused(
                "json.invalid", f"Dữ liệu JSON không mã hóa UTF-8: {exc}", f"The JSON is not UTF-8: {exc}"
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    check_depth(text, max_depth)
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:  # cannot happen after check_depth; kept so no caller ever sees one
        raise JsonRefused(
            "json.too_deep", "Dữ liệu JSON lồng nhau quá sâu.", "The JSON nests too deeply."
        ) from None
    except ValueError as exc:  # JSONDecodeError, or the hook's refusal (a duplicate key…)
        raise JsonRefused(
            "json.invalid", f"Dữ liệu JSON không hợp lệ: {exc}", f"The JSON is not valid: {exc}"
        ) from None


def load_file(
    path: Path,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: PairsHook | None = None,
) -> Any:
    """Read and parse the JSON file ``path`` within the limits (its size is checked before reading).

    Raises :class:`JsonRefused` for refused content and ``OSError`` when the file cannot be read.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise too_large(size, max_bytes)
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    return loads(data, max_bytes=max_bytes, max_depth=max_depth, object_pairs_hook=object_pairs_hook)
