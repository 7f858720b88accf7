"""PDF/A file-structure rules (ISO 19005-1 §6.1, 19005-2/3 §6.1) and image/XObject limits.

* header ``%PDF-1.n`` at byte 0, followed by a comment line of at least four bytes ≥ 128;
* the trailer has an ``/ID``; nothing but an end-of-line after the last ``%%EOF``;
* a cross-reference table qpdf could read without reconstructing it;
* no encryption; no LZW (streams and inline images); no external streams (F/FFilter/FDecodeParms);
* images: no Alternates, no OPI, Interpolate false; PDF/A-1: no JPX; no PostScript XObjects or
  PS operator; no reference XObjects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pikepdf

from archive.findings import Finding
from ingest.checks.pdfa_walk import ContentUsage, Profile, rule_finding

HEADER = re.compile(rb"^%PDF-1\.[0-7]\r?\n?")
XREF_DAMAGE = ("reconstruct", "xref not found", "file is damaged", "invalid xref", "xref table")
TAIL_BYTES = 1024


def _c(profile: Profile, part1: str, part2: str) -> str:
    return part1 if profile.part == 1 else part2


def _header_ok(head: bytes) -> bool:
    match = HEADER.match(head)
    if not match:
        return False
    rest = head[match.end() :].lstrip(b"\r\n")
    if not rest.startswith(b"%"):
        return False
    comment = re.split(rb"[\r\n]", rest[1:], maxsplit=1)[0]
    return len(comment) >= 4 and all(b >= 128 for b in comment[:4])


def check_file(
    pdf: pikepdf.Pdf, profile: Profile, path: str, file: Path | None, warnings: Sequence[str]
) -> list[Finding]:
    """Header, trailer, xref and encryption; ``warnings`` are qpdf's warnings on opening."""
    found: list[Finding] = []
    if file is not None:
        with file.open("rb") as f:
            head = f.read(64)
            size = f.seek(0, 2)
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read()
        if not _header_ok(head):
            found.append(
                rule_finding(
                    "file_header",
                    "Đầu tệp không đúng: cần %PDF-1.n và một dòng chú thích có ít nhất 4 byte nhị phân.",
                    "The file header is wrong: %PDF-1.n then a comment of at least four binary bytes.",
                    path,
                    "6.1.2",
                )
            )
        eof = tail.rfind(b"%%EOF")
        if eof < 0 or tail[eof + 5 :] not in (b"", b"\n", b"\r\n", b"\r"):
            found.append(
                rule_finding(
                    "trailing_data",
                    "Có dữ liệu sau dấu kết thúc tệp %%EOF cuối cùng.",
                    "Data follows the last %%EOF marker.",
                    path,
                    "6.1.3",
                )
            )
    if "/ID" not in pdf.trailer:
        found.append(
            rule_finding(
                "trailer_id_missing",
                "Phần trailer của tệp không có định danh tệp (/ID).",
                "The file trailer has no file identifier (/ID).",
                path,
                "6.1.3",
            )
        )
    damage = [w for w in warnings if any(d in w.lower() for d in XREF_DAMAGE)]
    if damage:
        found.append(
            rule_finding(
                "xref_damaged",
                "Bảng tham chiếu chéo (xref) bị hỏng, phải dựng lại khi đọc.",
                "The cross-reference table is damaged and had to be rebuilt to read the file.",
                path,
                _c(profile, "6.1.4", "6.1.4"),
                warnings=[d[:200] for d in damage[:5]],
            )
        )
    if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
        found.append(
            rule_finding(
                "encrypted", "PDF/A không được mã hóa.", "PDF/A files must not be encrypted.", path, "6.1.3"
            )
        )
    return found


def _filters(obj: pikepdf.Object) -> list[str]:
    filters = obj.get("/Filter")
    return (
        [str(f) for f in filters]
        if isinstance(filters, pikepdf.Array)
        else ([str(filters)] if filters else [])
    )


def check_objects(pdf: pikepdf.Pdf, usage: ContentUsage, profile: Profile, path: str) -> list[Finding]:
    """Stream filters, external streams, image and XObject restrictions, over every object."""
    lzw = external = jpx = 0
    image_keys: set[str] = set()
    postscript: set[str] = set(usage.operators_forbidden)
    reference = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        filters = _filters(obj)
        if "/LZWDecode" in filters:
            lzw += 1
        if any(k in obj for k in ("/F", "/FFilter", "/FDecodeParms")):
            external += 1
        subtype = obj.get("/Subtype")
        if subtype == pikepdf.Name.Image:
            if profile.part == 1 and "/JPXDecode" in filters:
                jpx += 1
            for key in ("/Alternates", "/OPI"):
                if key in obj:
                    image_keys.add(key.lstrip("/"))
            if obj.get("/Interpolate", False) is True:
                image_keys.add("Interpolate")
        elif subtype == pikepdf.Name.PS or obj.get("/Subtype2") == pikepdf.Name.PS:
            postscript.add("PostScript XObject")
        elif subtype == pikepdf.Name.Form:
            if "/Ref" in obj:
                reference += 1
            if "/OPI" in obj:
                image_keys.add("OPI")
    if usage.inline_filters & {"/LZWDecode", "/LZW"}:
        lzw += 1
    found: list[Finding] = []
    if lzw:
        found.append(
            rule_finding(
                "lzw",
                "Tệp dùng nén LZW, không được phép trong PDF/A.",
                "The file uses LZWDecode compression, which PDF/A forbids.",
                path,
                _c(profile, "6.1.10", "6.1.7.2"),
                streams=lzw,
            )
        )
    if external:
        found.append(
            rule_finding(
                "stream_external",
                "Luồng dữ liệu tham chiếu tệp bên ngoài (F/FFilter/FDecodeParms).",
                "A stream refers to external data (F/FFilter/FDecodeParms).",
                path,
                _c(profile, "6.1.7", "6.1.7.1"),
                streams=external,
            )
        )
    if jpx:
        found.append(
            rule_finding(
                "jpx_part1",
                "PDF/A-1 không cho phép ảnh nén JPEG 2000 (JPXDecode).",
                "PDF/A-1 does not allow JPEG 2000 (JPXDecode) images.",
                path,
                "6.1.10",
                images=jpx,
            )
        )
    if image_keys:
        found.append(
            rule_finding(
                "image_forbidden_key",
                "Ảnh hoặc XObject có khóa không được phép (Alternates, OPI, Interpolate).",
                "An image or XObject has a key PDF/A forbids (Alternates, OPI, Interpolate).",
                path,
                _c(profile, "6.2.4", "6.2.8"),
                keys=sorted(image_keys),
            )
        )
    if postscript:
        found.append(
            rule_finding(
                "postscript",
                "Tệp chứa mã PostScript (XObject PS hoặc toán tử PS).",
                "The file contains PostScript (a PS XObject or the PS operator).",
                path,
                _c(profile, "6.2.7", "6.2.9"),
                where=sorted(postscript),
            )
        )
    if reference:
        found.append(
            rule_finding(
                "reference_xobject",
                "Tệp dùng XObject tham chiếu (Ref) tới tài liệu khác.",
                "The file uses reference XObjects that point to other documents.",
                path,
                _c(profile, "6.2.6", "6.2.9"),
            )
        )
    return found
