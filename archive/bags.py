"""BagIt bag validation (RFC 8493, and the earlier drafts 0.93–0.97).

Used by intake (a submission that arrives as a bag) and by fixity (an AIP is a bag). The
result is data: a :class:`BagReport` with coded issues, never an exception for a bad bag.

Checksums are computed by our own streaming loop: every file is read once in 1 MiB chunks
and fed to all the algorithms that list it, so memory does not grow with file size.

CLI contract (wired by ``luutru bag validate PATH [--json]``): :func:`bag_validate_main`
returns ``(exit_code, report)``; exit 0 = valid, 1 = invalid, 2 = usage or I/O error (the
path is not a readable directory). ``--json`` prints ``report.to_json()`` exactly.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.findings import Finding, Severity

CHUNK = 1024 * 1024  # 1 MiB
ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
WEAK_ALGORITHMS = frozenset({"md5", "sha1"})
SUPPORTED_VERSIONS = ("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")
_HEX_LEN = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_MANIFEST_RE = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_PERCENT_RE = re.compile(r"%(0A|0D|25)", re.IGNORECASE)
_PERCENT_DECODE = {"0a": "\n", "0d": "\r", "25": "%"}
_LINE_END = re.compile(r"\r\n|\n|\r")  # RFC 8493 §2: LF, CR LF or CR
_DECLARATION = (
    re.compile(r"BagIt-Version: [0-9]+\.[0-9]+"),
    re.compile(r"Tag-File-Character-Encoding: [A-Za-z0-9._:()+-]+"),
)
# RFC 8493 §2.1.3: the checksum, then one or more spaces or tabs, then the path.
_MANIFEST_LINE = re.compile(r"([0-9A-Fa-f]+)[ \t]+(.+)")

Progress = Callable[[int], None]


def _issue_json(f: Finding) -> dict[str, str]:
    """One entry of ``luutru bag validate --json``: ``code`` and ``message`` (English), ``message_vi``."""
    return {"code": f.code, "message": f.message_en, "message_vi": f.message_vi}


@dataclass(slots=True)
class BagReport:
    """Outcome of :func:`validate_bag`; ``valid`` is true exactly when ``errors`` is empty.

    ``errors`` and ``warnings`` are :class:`~archive.findings.Finding` (severity error and
    warning, ``path`` inside the bag). ``manifests`` holds each payload manifest as read —
    ``{algorithm: {path relative to the bag, normalised: lower-case checksum}}`` — so intake
    compares received files with them without parsing the manifests a second time.
    """

    valid: bool
    version: str
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    manifests: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [_issue_json(i) for i in self.errors],
            "warnings": [_issue_json(i) for i in self.warnings],
        }

    def findings(self) -> list[Finding]:
        """Return errors and warnings together (for an ingest receipt or a PREMIS event)."""
        return [*self.errors, *self.warnings]


def digest_file(path: Path, algorithms: Iterable[str], progress: Progress | None = None) -> dict[str, str]:
    """Return ``{algorithm: hexdigest}`` for ``path``, reading it once in 1 MiB chunks."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb") as fh:
        while n := fh.readinto(buf):
            chunk = view[:n]
            for h in hashers.values():
                h.update(chunk)
            if progress is not None:
                progress(n)
    return {name: h.hexdigest() for name, h in hashers.items()}


def encode_manifest_path(rel: str) -> str:
    """Percent-encode CR, LF and ``%`` in a manifest path (RFC 8493 §2.1.3)."""
    return rel.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def decode_manifest_path(text: str) -> str:
    """Undo :func:`encode_manifest_path`; other ``%`` sequences are left as they are."""
    return _PERCENT_RE.sub(lambda m: _PERCENT_DECODE[m.group(1).lower()], text)


def parse_tag_file(text: str) -> list[tuple[str, str]]:
    """Parse ``Label: Value`` lines (continuation lines start with whitespace)."""
    items: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and items:
            label, value = items[-1]
            items[-1] = (label, f"{value} {line.strip()}")
            continue
        label, sep, value = line.partition(":")
        if sep:
            items.append((label.strip(), value.strip()))
    return items


class _Checker:
    """State of one validation run; the public entry point is :func:`validate_bag`."""

    def __init__(self, root: Path, fast: bool, progress: Progress | None) -> None:
        self.root, self.fast, self.progress = root, fast, progress
        self.real_root = root.resolve()
        self.report = BagReport(valid=False, version="")
        self.encoding = "utf-8"
        self.old = False

    def error(self, code: str, en: str, vi: str, path: str | None = None) -> None:
        self.report.errors.append(Finding(code, Severity.ERROR, vi, en, path=path))

    def warn(self, code: str, en: str, vi: str, path: str | None = None) -> None:
        self.report.warnings.append(Finding(code, Severity.WARNING, vi, en, path=path))

    def run(self) -> BagReport:
        if not self.root.is_dir():
            self.error("bag.not_found", f"not a directory: {self.root}", f"không phải thư mục: {self.root}")
        elif self.read_declaration():
            self.check_body()
        self.report.valid = not self.report.errors
        return self.report

    def read_declaration(self) -> bool:
        """Check ``bagit.txt`` as RFC 8493 §2.1.1 says: UTF-8 without a BOM, exactly two lines
        ``BagIt-Version: M.N`` and ``Tag-File-Character-Encoding: ENCODING`` in this order, one
        space after each colon. A bag of an earlier draft (0.93–0.97) is accepted with a warning,
        and so is its declaration's loose spacing, which those drafts did not pin down."""
        decl = self.root / "bagit.txt"
        if not decl.is_file():
            self.error("bag.declaration_missing", "bagit.txt is missing", "thiếu tệp bagit.txt")
            return False
        with decl.open("rb") as fh:
            raw = fh.read(4097)
        if len(raw) > 4096:
            self.error("bag.declaration_invalid", "bagit.txt is too long", "bagit.txt quá dài")
            return False
        if raw.startswith(b"\xef\xbb\xbf"):
            self.error(
                "bag.declaration_bom",
                "bagit.txt starts with a byte-order mark (RFC 8493 §2.1.1: it must not)",
                "bagit.txt bắt đầu bằng BOM (RFC 8493 §2.1.1 không cho phép)",
                "bagit.txt",
            )
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.error("bag.declaration_invalid", "bagit.txt is not UTF-8", "bagit.txt không mã hóa UTF-8")
            return False
        items = dict(parse_tag_file(text))
        version = items.get("BagIt-Version", "")
        self.report.version = version
        if version not in SUPPORTED_VERSIONS:
            self.error(
                "bag.unsupported_version",
                f"unsupported BagIt-Version {version!r}",
                f"phiên bản BagIt không được hỗ trợ: {version!r}",
            )
            return False
        self.old = version != "1.0"
        if self.old:
            self.warn(
                "bag.old_version",
                f"old BagIt version {version} (current is 1.0, RFC 8493)",
                f"phiên bản BagIt cũ {version} (hiện hành là 1.0, RFC 8493)",
            )
        enc = items.get("Tag-File-Character-Encoding")
        if not enc:
            self.error(
                "bag.declaration_invalid",
                "bagit.txt lacks Tag-File-Character-Encoding",
                "bagit.txt thiếu Tag-File-Character-Encoding",
            )
            return False
        self.check_declaration_lines(text)
        try:
            "".encode(enc)
        except LookupError:
            self.error("bag.declaration_invalid", f"unknown encoding {enc!r}", f"bảng mã không rõ {enc!r}")
            return False
        if enc.replace("-", "").replace("_", "").upper() != "UTF8":
            self.warn(
                "bag.encoding_not_utf8",
                f"tag files are encoded in {enc}; RFC 8493 recommends UTF-8",
                f"tệp thẻ mã hóa {enc}; RFC 8493 khuyến nghị UTF-8",
                "bagit.txt",
            )
        self.encoding = enc
        return True

    def check_declaration_lines(self, text: str) -> None:
        """The exact two-line form; an error for 1.0, a warning for the earlier drafts."""
        lines = _LINE_END.split(text)
        if lines and lines[-1] == "":
            lines.pop()  # the line ending of the last line
        if len(lines) == 2 and _DECLARATION[0].fullmatch(lines[0]) and _DECLARATION[1].fullmatch(lines[1]):
            return
        report = self.warn if self.old else self.error
        report(
            "bag.declaration_invalid",
            "bagit.txt must be exactly the two lines 'BagIt-Version: M.N' and "
            "'Tag-File-Character-Encoding: ENCODING' (one space after each colon, nothing else)",
            "bagit.txt phải đúng hai dòng 'BagIt-Version: M.N' và "
            "'Tag-File-Character-Encoding: ENCODING' (một dấu cách sau dấu hai chấm, không gì khác)",
            "bagit.txt",
        )

    def read_text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding=self.encoding).removeprefix("\ufeff")
        except (UnicodeDecodeError, OSError) as exc:
            rel = path.relative_to(self.root).as_posix()
            self.error("bag.tag_file_unreadable", f"{rel}: {exc}", f"không đọc được {rel}: {exc}", rel)
            return None

    def check_body(self) -> None:
        fetch = self.root / "fetch.txt"
        if fetch.is_file():
            text = self.read_text(fetch) or ""
            if text.strip():
                self.error(
                    "bag.fetch_unsupported",
                    "fetch.txt lists remote files; holey bags are not accepted",
                    "fetch.txt liệt kê tệp ở xa; không nhận túi chưa đủ tệp",
                    "fetch.txt",
                )
        data = self.root / "data"
        if not data.is_dir():
            self.error("bag.payload_dir_missing", "data/ directory is missing", "thiếu thư mục data/")
            return
        payload_manifests: dict[str, dict[str, str]] = {}
        tag_manifests: dict[str, dict[str, str]] = {}
        for entry in sorted(self.root.iterdir()):
            m = _MANIFEST_RE.match(entry.name)
            if not m or not entry.is_file():
                continue
            alg = m.group(2).lower()
            if alg not in ALGORITHMS:
                self.warn(
                    "bag.unknown_algorithm",
                    f"{entry.name}: algorithm {alg!r} not supported, manifest ignored",
                    f"{entry.name}: thuật toán {alg!r} không được hỗ trợ, bỏ qua",
                    entry.name,
                )
                continue
            parsed = self.parse_manifest(entry, alg, tag=bool(m.group(1)))
            (tag_manifests if m.group(1) else payload_manifests)[alg] = parsed
        self.report.manifests = payload_manifests
        if not payload_manifests:
            self.error(
                "bag.no_payload_manifest",
                "no payload manifest (manifest-<alg>.txt)",
                "thiếu manifest tải trọng",
            )
            return
        if set(payload_manifests) <= WEAK_ALGORITHMS:
            self.warn(
                "bag.weak_algorithm",
                "payload manifests use only MD5/SHA-1; SHA-256 or SHA-512 expected",
                "manifest chỉ dùng MD5/SHA-1; cần SHA-256 hoặc SHA-512",
            )
        on_disk = self.payload_on_disk(data)
        self.check_oxum(on_disk)
        self.reconcile_normalization(payload_manifests, on_disk)
        self.check_completeness(payload_manifests, on_disk)
        self.check_tag_presence(tag_manifests)
        if not self.fast:
            self.verify_checksums(payload_manifests, on_disk, tag_manifests)

    def parse_manifest(self, path: Path, alg: str, *, tag: bool) -> dict[str, str]:
        entries: dict[str, str] = {}
        text = self.read_text(path)
        if text is None:
            return entries
        for lineno, line in enumerate(_LINE_END.split(text), 1):
            if not line.strip():
                continue
            if self.old:
                parts = line.strip().split(None, 1)
            else:
                match = _MANIFEST_LINE.fullmatch(line)
                parts = [match.group(1), match.group(2)] if match else []
            checksum = parts[0].lower() if parts else ""
            if len(parts) != 2 or len(checksum) != _HEX_LEN[alg] or not _is_hex(checksum):
                self.error(
                    "bag.manifest_malformed",
                    f"{path.name} line {lineno}: not '<checksum> <path>'",
                    f"{path.name} dòng {lineno}: sai định dạng '<checksum> <đường dẫn>'",
                    path.name,
                )
                continue
            rel = parts[1].lstrip("*") if self.old else decode_manifest_path(parts[1])
            rel = _without_dot_segments(rel.replace("\\", "/") if self.old else rel)
            if not self.safe_path(rel, path.name):
                continue
            if not tag and not rel.startswith("data/"):
                self.error(
                    "bag.unsafe_path",
                    f"{path.name}: {rel!r} is outside the payload directory data/",
                    f"{path.name}: {rel!r} nằm ngoài thư mục data/",
                    rel,
                )
                continue
            if rel in entries:
                self.warn(
                    "bag.manifest_duplicate",
                    f"{path.name}: {rel} listed twice",
                    f"{path.name}: {rel} bị liệt kê hai lần",
                    rel,
                )
            entries[rel] = checksum
        return entries

    def safe_path(self, rel: str, manifest: str) -> bool:
        parts = rel.split("/")
        bad = (
            rel.startswith(("/", "~"))
            or re.match(r"^[A-Za-z]:", rel) is not None
            or ".." in parts
            or "\x00" in rel
        )
        if not bad:
            try:
                (self.root / rel).resolve().relative_to(self.real_root)
            except ValueError:
                bad = True
        if bad:
            self.error(
                "bag.unsafe_path",
                f"{manifest}: unsafe path {rel!r} (absolute or escapes the bag)",
                f"{manifest}: đường dẫn không an toàn {rel!r} (tuyệt đối hoặc ra ngoài túi)",
                rel,
            )
        return not bad

    def payload_on_disk(self, data: Path) -> dict[str, int]:
        files: dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(data):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath, name)
                rel = full.relative_to(self.root).as_posix()
                try:
                    full.resolve().relative_to(self.real_root)
                except ValueError:
                    self.error(
                        "bag.unsafe_path",
                        f"{rel} is a link that points outside the bag",
                        f"{rel} là liên kết trỏ ra ngoài túi",
                        rel,
                    )
                    continue
                files[rel] = full.stat().st_size
        return files

    def check_oxum(self, on_disk: Mapping[str, int]) -> None:
        info_name = "bag-info.txt"
        if self.old and not (self.root / info_name).is_file():
            info_name = "package-info.txt"  # name used by BagIt 0.93–0.95
        info_path = self.root / info_name
        if not info_path.is_file():
            self.warn("bag.info_missing", "bag-info.txt is missing", "thiếu tệp bag-info.txt")
            return
        items = parse_tag_file(self.read_text(info_path) or "")
        oxum = [v for k, v in items if k.lower() == "payload-oxum"]
        if not oxum:
            self.warn(
                "bag.oxum_missing", "bag-info.txt has no Payload-Oxum", "bag-info.txt thiếu Payload-Oxum"
            )
            return
        m = re.fullmatch(r"(\d+)\.(\d+)", oxum[0])
        if not m:
            self.error(
                "bag.oxum_invalid",
                f"malformed Payload-Oxum {oxum[0]!r}",
                f"Payload-Oxum sai định dạng {oxum[0]!r}",
            )
            return
        octets, count = int(m.group(1)), int(m.group(2))
        actual_octets, actual_count = sum(on_disk.values()), len(on_disk)
        if (octets, count) != (actual_octets, actual_count):
            self.error(
                "bag.oxum_mismatch",
                f"Payload-Oxum {octets}.{count} but payload is {actual_octets}.{actual_count}",
                f"Payload-Oxum {octets}.{count} nhưng tải trọng thực tế là {actual_octets}.{actual_count}",
            )

    def reconcile_normalization(
        self, manifests: dict[str, dict[str, str]], on_disk: Mapping[str, int]
    ) -> None:
        """Match manifest paths to disk names that differ only in Unicode normalization (NFC/NFD)."""
        by_nfc = {unicodedata.normalize("NFC", rel): rel for rel in on_disk}
        warned: set[str] = set()
        for alg, entries in manifests.items():
            for rel in [r for r in entries if r not in on_disk]:
                disk = by_nfc.get(unicodedata.normalize("NFC", rel))
                if disk is None or disk in entries:
                    continue
                manifests[alg] = entries = {(disk if k == rel else k): v for k, v in entries.items()}
                if disk not in warned:
                    warned.add(disk)
                    self.warn(
                        "bag.unicode_normalization",
                        f"{rel!r} in the manifest and {disk!r} on disk differ in Unicode normalization",
                        f"{rel!r} trong manifest và {disk!r} trên đĩa khác dạng chuẩn hóa Unicode",
                        disk,
                    )

    def check_completeness(
        self, manifests: Mapping[str, Mapping[str, str]], on_disk: Mapping[str, int]
    ) -> None:
        listed: set[str] = set()
        for entries in manifests.values():
            listed.update(entries)
        for rel in sorted(listed - on_disk.keys()):
            self.error(
                "bag.missing_file",
                f"{rel} is in a manifest but missing",
                f"{rel} có trong manifest nhưng bị thiếu",
                rel,
            )
        for rel in sorted(on_disk):
            absent = [alg for alg, entries in sorted(manifests.items()) if rel not in entries]
            if absent:
                names = ", ".join(f"manifest-{a}.txt" for a in absent)
                self.error(
                    "bag.unlisted_file",
                    f"{rel} is not listed in {names}",
                    f"{rel} không được liệt kê trong {names}",
                    rel,
                )

    def check_tag_presence(self, manifests: Mapping[str, Mapping[str, str]]) -> None:
        for rel in sorted({r for entries in manifests.values() for r in entries}):
            if not (self.root / rel).is_file():
                self.error(
                    "bag.missing_file",
                    f"tag file {rel} is in a tag manifest but missing",
                    f"tệp thẻ {rel} có trong tagmanifest nhưng bị thiếu",
                    rel,
                )

    def verify_checksums(
        self,
        payload: Mapping[str, Mapping[str, str]],
        on_disk: Mapping[str, int],
        tags: Mapping[str, Mapping[str, str]],
    ) -> None:
        for manifests, is_tag in ((payload, False), (tags, True)):
            wanted: dict[str, dict[str, str]] = {}
            for alg, entries in manifests.items():
                for rel, checksum in entries.items():
                    wanted.setdefault(rel, {})[alg] = checksum
            for rel in sorted(wanted):
                present = (self.root / rel).is_file() if is_tag else rel in on_disk
                if not present:
                    continue
                try:
                    actual = digest_file(self.root / rel, wanted[rel], self.progress)
                except OSError as exc:
                    self.error("bag.unreadable_file", f"{rel}: {exc}", f"không đọc được {rel}: {exc}", rel)
                    continue
                for alg, expected in sorted(wanted[rel].items()):
                    if actual[alg] != expected:
                        kind = "tag file " if is_tag else ""
                        self.error(
                            "bag.checksum_mismatch",
                            f"{kind}{rel}: {alg} is {actual[alg]}, manifest says {expected}",
                            f"{rel}: {alg} thực tế {actual[alg]}, manifest ghi {expected}",
                            rel,
                        )


def _without_dot_segments(rel: str) -> str:
    """``./data/a.txt`` → ``data/a.txt``: drop ``.`` segments, as bagit-python's normpath does.

    RFC 8493 §2.1.3 asks for a path relative to the bag; ``./`` adds nothing to it. ``..``
    segments are kept, so :meth:`_Checker.safe_path` still refuses them.
    """
    if "./" not in rel and not rel.endswith("/."):
        return rel
    return "/".join(part for part in rel.split("/") if part != ".")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def validate_bag(path: Path, *, fast: bool = False, progress: Progress | None = None) -> BagReport:
    """Validate the bag at ``path`` against RFC 8493 (and BagIt 0.93–0.97, with a warning).

    ``fast`` checks structure, completeness and Payload-Oxum only, without reading payload
    bytes. ``progress`` receives the number of bytes read after each 1 MiB chunk. Never
    raises for a bad bag; every problem is a :class:`~archive.findings.Finding` in the report.
    """
    return _Checker(Path(path), fast, progress).run()


def bag_validate_main(path: Path, *, fast: bool = False) -> tuple[int, BagReport]:
    """Validate for the CLI: ``(0, report)`` valid, ``(1, report)`` invalid, ``(2, report)`` I/O error."""
    path = Path(path)
    if not path.exists() or not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
        report = BagReport(valid=False, version="")
        report.errors.append(
            Finding(
                "bag.not_found", Severity.ERROR, f"không phải thư mục đọc được: {path}",
                f"not a readable directory: {path}",
            )
        )  # fmt: skip
        return 2, report
    try:
        report = validate_bag(path, fast=fast)
    except OSError as exc:
        report = BagReport(valid=False, version="")
        report.errors.append(Finding("bag.io_error", Severity.ERROR, f"lỗi vào/ra: {exc}", str(exc)))
        return 2, report
    return (0 if report.valid else 1), report
