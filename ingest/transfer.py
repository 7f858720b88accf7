"""Bulk transfer from a QLVBĐH export: a folder of many edXML messages, grouped into dossiers,
each group ingested as one submission; resumable, with one report.

Grouping (:class:`Grouping`):

* ``message`` — each message its own submission;
* ``list`` — a dossier file list (CSV or XLSX, columns ``dossier`` and ``message`` or
  ``document_id``): the rows name which messages form which dossier;
* ``mapping`` — the agency's mapping profile: its ``[[dossiers]]`` entries list DocumentIds.

A message no group claims is reported ``unassigned`` (never silently dropped). Progress is kept
in a state file (JSON lines, one per finished group, flushed as it goes): run again with the same
state file and finished groups are skipped. The report (JSON and XLSX) lists every group: its
messages, submission, outcome and the reasons (codes and messages) when it went to review or
was refused.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from archive import events
from archive.findings import Severity
from ingest.intake.edxml import is_edxml, peek_header
from ingest.intake.edxml_mapping import load_mapping
from ingest.service import BatchItem, BatchSource, IngestService

__all__ = ["Grouping", "TransferReport", "import_edxml_folder"]

UNASSIGNED = "unassigned"


class Grouping(StrEnum):
    MESSAGE = "message"
    LIST = "list"
    MAPPING = "mapping"


@dataclass
class TransferReport:
    """One row per group (dossier): what went in, what went to review or was refused, and why."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # groups already done in an earlier run (state file)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row["status"]] = out.get(row["status"], 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts(), "skipped": self.skipped, "groups": self.rows}

    def write(self, prefix: Path) -> tuple[Path, Path]:
        """Write ``<prefix>.json`` and ``<prefix>.xlsx``; return both paths."""
        from openpyxl import Workbook

        json_path, xlsx_path = prefix.with_suffix(".json"), prefix.with_suffix(".xlsx")
        json_path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        book = Workbook(write_only=True)
        sheet = book.create_sheet("chuyen-giao")
        sheet.append(["Nhóm / group", "Thông điệp / messages", "Lần nộp / submission", "Kết quả / status",
                      "Hồ sơ / dossier", "Lý do / reasons"])  # fmt: skip
        for row in self.rows:
            reasons = "; ".join(f"{r['code']}: {r['message_vi']} / {r['message_en']}" for r in row["reasons"])
            sheet.append([row["group"], ", ".join(row["messages"]), row["submission"] or "", row["status"],
                          row["dossier"] or "", reasons[:32000]])  # fmt: skip
        book.save(xlsx_path)
        return json_path, xlsx_path


def _messages(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if name.lower().endswith((".edxml", ".xml")) and is_edxml(path):
                found.append(path)
    return found


def _document_id(path: Path) -> str:
    header = peek_header(path) or {}
    return str(header.get("DocumentId") or "")


def _read_list(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = book.active.iter_rows(values_only=True) if book.active is not None else iter(())
            header = [str(h or "").strip() for h in next(rows, ())]
            return [{h: str(v or "").strip() for h, v in zip(header, row, strict=False)} for row in rows]
        finally:
            book.close()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def group_messages(
    messages: Iterable[Path], grouping: Grouping, *, dossier_list: Path | None = None,
    agency_code: str = "", mapping_dir: Path | None = None,
) -> dict[str, list[Path]]:  # fmt: skip
    """Group message files into dossiers (key → messages, in order); unclaimed go under ``unassigned``."""
    paths = list(messages)
    groups: dict[str, list[Path]] = {}
    if grouping is Grouping.MESSAGE:
        return {p.stem: [p] for p in paths}
    if grouping is Grouping.LIST:
        if dossier_list is None:
            raise ValueError("grouping by list needs a dossier file list (CSV or XLSX)")
        by_name: dict[str, str] = {}
        by_id: dict[str, str] = {}
        for row in _read_list(dossier_list):
            if row.get("dossier") and row.get("message"):
                by_name[row["message"]] = row["dossier"]
            if row.get("dossier") and row.get("document_id"):
                by_id[row["document_id"]] = row["dossier"]
        for p in paths:
            key = by_name.get(p.name) or (by_id.get(_document_id(p)) if by_id else None)
            groups.setdefault(key or UNASSIGNED, []).append(p)
        return groups
    mapping = load_mapping(agency_code, mapping_dir)
    owners = {
        str(doc_id): str(d.get("fileCode") or "")
        for d in mapping.dossiers
        for doc_id in d.get("documents") or []
    }
    for p in paths:
        groups.setdefault(owners.get(_document_id(p)) or UNASSIGNED, []).append(p)
    return groups


def _done(state: Path) -> dict[str, dict[str, Any]]:
    if not state.is_file():
        return {}
    done = {}
    for line in state.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by an interruption: that group runs again
        done[row["group"]] = row
    return done


def import_edxml_folder(
    service: IngestService,
    folder: Path,
    agency_code: str,
    *,
    actor: events.Agent,
    grouping: Grouping = Grouping.MESSAGE,
    dossier_list: Path | None = None,
    state: Path,
    progress: Callable[[int, int], None] | None = None,
) -> TransferReport:
    """Ingest every edXML message under ``folder``, one submission per group; resumable via ``state``.

    Each group is linked (hard links, no copy) into a work folder beside the staging area; the
    groups are ingested by ``service.ingest_many`` (the next group is received and its file
    checks started while this one is packaged), each outcome appended to ``state`` as it ends.
    ``progress(done, total)`` is called after each group.
    """
    groups = group_messages(
        _messages(folder), grouping, dossier_list=dossier_list, agency_code=agency_code,
        mapping_dir=service.config.edxml_mappings,
    )  # fmt: skip
    done = _done(state)
    report = TransferReport()
    work = service.config.staging_root / "transfer.work"
    pending: list[tuple[str, list[str], BatchSource]] = []
    rows: dict[str, dict[str, Any]] = {}
    for index, (key, members) in enumerate(groups.items()):
        names = [str(p.relative_to(folder)) for p in members]
        if key in done:
            rows[key] = done[key]
            report.skipped += 1
        elif key == UNASSIGNED:
            rows[key] = _row(key, names, None, "unassigned", None, [
                {"code": "transfer.unassigned", "message_vi": "Không thuộc hồ sơ nào trong danh mục.",
                 "message_en": "Not in any dossier of the list or mapping."}])  # fmt: skip
        else:
            group_dir = _link_group(members, work / f"{index:06d}")
            pending.append((key, names, BatchSource(group_dir, agency_code, actor)))
    finished = len(rows)
    if progress:
        progress(finished, len(groups))
    try:
        with (
            state.open("a", encoding="utf-8") as log,
            closing(
                service.ingest_many((source for _, _, source in pending), source_kind="transfer")
            ) as items,
        ):
            for (key, names, source), item in zip(pending, items, strict=True):
                rows[key] = _outcome(key, names, item)
                log.write(json.dumps(rows[key], ensure_ascii=False) + "\n")
                log.flush()
                shutil.rmtree(source.path, ignore_errors=True)
                finished += 1
                if progress:
                    progress(finished, len(groups))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.rows = [rows[key] for key in groups if key in rows]
    return report


def _row(key: str, names: list[str], sid: str | None, status: str, dossier: str | None,
         reasons: Sequence[Mapping[str, Any]]) -> dict[str, Any]:  # fmt: skip
    return {"group": key, "messages": names, "submission": sid, "status": status, "dossier": dossier,
            "reasons": list(reasons)}  # fmt: skip


def _link_group(members: list[Path], folder: Path) -> Path:
    """Hard-link (or copy, across file systems) the group's messages into ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for index, path in enumerate(members):
        target = folder / path.name
        if target.exists():  # the same name in two subfolders of the export
            target = folder / f"{index}-{path.name}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return folder


def _outcome(key: str, names: list[str], item: BatchItem) -> dict[str, Any]:
    if item.result is None:
        error = item.error
        text = str(error) if error is not None else "no result"
        return _row(key, names, item.submission_id, "error", None,
                    [{"code": type(error).__name__, "message_vi": text, "message_en": text}])  # fmt: skip
    result = item.result
    reasons = [
        {"code": f.code, "field": f.field, "message_vi": f.message_vi, "message_en": f.message_en}
        for f in result.findings
        if f.severity in (Severity.ERROR, Severity.WARNING)
    ]
    return _row(key, names, result.submission_id, result.status, result.dossier_code, reasons)
