"""Validate a whole dossier (the ``metadata.json`` shape) or a metadata file.

The shape is ``{"profile": "...", "dossier": {...fields...}, "documents": [{...fields...,
"file": "relative/path.pdf", "sha256": "..."}]}``; a document may name its record kind with
``"kind"`` (NĐ 30: ``outgoing`` / ``incoming``). Document findings carry ``path`` = its file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from archive.boundedjson import JsonRefused
from archive.errors import ArchiveError
from archive.findings import Finding, error, info, warning
from archive.metadata.profile import Profile, available_profiles, load_profile
from archive.metadata.validate import ordinal_of, validate_record

_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_dossier(profile: Profile, data: Mapping[str, Any]) -> list[Finding]:
    """Check a dossier with its documents (the ``metadata.json`` shape); return the findings."""
    findings: list[Finding] = []
    declared = data.get("profile")
    if declared is not None and declared != profile.name:
        findings.append(
            warning(
                "metadata.profile_mismatch",
                f"Tệp khai báo hồ sơ theo {declared!r} nhưng được kiểm tra theo {profile.name!r}.",
                f"The file declares profile {declared!r} but is checked against {profile.name!r}.",
                evidence={"declared": str(declared), "used": profile.name},
            )
        )
    dossier = data.get("dossier")
    documents = data.get("documents", [])
    if not isinstance(dossier, Mapping) or not isinstance(documents, Sequence) or isinstance(documents, str):
        return [*findings, _structure()]
    findings += validate_record(profile, profile.dossier_kind, dossier, counts={"documents": len(documents)})
    seen: set[str] = set()
    for index, doc in enumerate(documents, start=1):
        if not isinstance(doc, Mapping):
            findings.append(_structure(index))
            continue
        findings += _check_document(profile, dossier, doc, index, seen)
    return findings


def _check_document(
    profile: Profile, dossier: Mapping[str, Any], doc: Mapping[str, Any], index: int, seen: set[str]
) -> list[Finding]:
    path = doc.get("file")
    path = str(path) if path else None
    findings: list[Finding] = []
    if path is None:
        findings.append(
            warning(
                "metadata.file_missing",
                f"Tài liệu thứ {index} không ghi tệp (file).",
                f"Document {index} names no file.",
                evidence={"index": index},
            )
        )
    elif path in seen:
        findings.append(
            error(
                "metadata.duplicate_file",
                f"Tệp {path} được khai hai lần.",
                f"File {path} is listed twice.",
                path=path,
            )
        )
    else:
        seen.add(path)
    digest = doc.get("sha256")
    if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest.lower())):
        findings.append(
            error(
                "metadata.sha256_invalid",
                "Giá trị băm SHA-256 không hợp lệ (cần 64 chữ số hệ 16).",
                "Invalid SHA-256 value (64 hexadecimal digits expected).",
                path=path,
                field="sha256",
            )
        )
    kind_name = str(doc.get("kind") or profile.document_kind)
    if kind_name not in profile.kinds:
        findings.append(
            error(
                "metadata.kind_unknown",
                f"Loại bản ghi {kind_name!r} không có trong {profile.name}.",
                f"Record kind {kind_name!r} is not part of {profile.name}.",
                path=path,
                field="kind",
            )
        )
        return findings
    ordinal = ordinal_of(profile.kind(kind_name), doc) or index
    findings += validate_record(profile, kind_name, doc, path=path, dossier=dossier, ordinal=ordinal)
    return findings


def _structure(index: int | None = None) -> Finding:
    if index is None:
        return error(
            "metadata.structure",
            "Dữ liệu phải có dạng {profile, dossier: {...}, documents: [...]}.",
            "Data must look like {profile, dossier: {...}, documents: [...]}.",
        )
    return error(
        "metadata.structure",
        f"Tài liệu thứ {index} phải là một nhóm trường.",
        f"Document {index} must be an object of fields.",
        evidence={"index": index},
    )


def validate_file(path: Path, profile: str | None = None, overrides: Path | None = None) -> list[Finding]:
    """Read a JSON, XLSX or CSV metadata file (or a directory of EAD files) and validate it.

    The profile is ``profile`` if given, else the file's ``"profile"`` key (listings: guessed
    from the headers), else TT 05/2025 (with an info finding). A listing may hold several
    dossiers; then findings without a file carry ``path="dossier <n>"``. A file that cannot be
    read gives a ``metadata.unreadable`` error.
    """
    from archive.metadata.io import read_listing, read_metadata

    try:
        if path.suffix.casefold() in (".xlsx", ".csv"):
            batch = read_listing(path, profile)
        else:
            batch = [read_metadata(path)]
    except (ArchiveError, OSError, ValueError, KeyError) as exc:
        vi, en = (exc.message_vi, exc.message_en) if isinstance(exc, JsonRefused) else (exc, exc)
        return [
            error(
                "metadata.unreadable",
                f"Không đọc được tệp dữ liệu đặc tả: {vi}",
                f"Cannot read the metadata file: {en}",
                path=path.name,
                evidence={"error": type(exc).__name__},
            )
        ]
    if not batch:
        return [
            error(
                "metadata.empty",
                "Tệp không có hồ sơ nào (không tìm thấy dòng tiêu đề cột).",
                "The file holds no dossier (no header row found).",
                path=path.name,
            )
        ]
    findings: list[Finding] = []
    for number, data in enumerate(batch, start=1):
        found = _validate_one(data, profile, overrides)
        if len(batch) > 1:
            found = [f if f.path else replace(f, path=f"dossier {number}") for f in found]
        findings += found
    return findings


def _validate_one(data: Mapping[str, Any], profile: str | None, overrides: Path | None) -> list[Finding]:
    findings: list[Finding] = []
    name = profile or data.get("profile")
    if not name:
        name = "tt05-2025"
        findings.append(
            info(
                "metadata.profile_default",
                "Tệp không ghi chuẩn dữ liệu; kiểm tra theo TT 05/2025.",
                "The file names no profile; checked against TT 05/2025.",
            )
        )
    if name not in available_profiles():
        return [
            error(
                "metadata.profile_unknown",
                f"Chuẩn dữ liệu {name!r} không được hỗ trợ ({', '.join(available_profiles())}).",
                f"Profile {name!r} is not supported ({', '.join(available_profiles())}).",
                evidence={"profile": str(name)},
            )
        ]
    return findings + validate_dossier(load_profile(str(name), overrides), data)
