"""Format identification: MIME type by libmagic, PRONOM id by FIDO, checked against the policy.

FIDO (opf-fido) is used as a library. Loading its PRONOM signatures takes a fraction of a
second, so one :class:`Identifier` is built lazily and reused; its container signatures
(for DOCX, XLSX, ODT, OLE2 .doc/.xls) are parsed once instead of once per file, which is
what ``Fido.identify_file`` would do. FIDO's own ``match_formats`` looks every pattern up in
the XML tree and recompiles it through ``re``'s 512-entry cache (thousands of patterns: a
miss every time) for every file; :class:`_SignatureTable` compiles them once and runs the
same loop, with the same priority rules, over plain tuples. Identification reads at most FIDO's buffers (128 KiB
from each end) plus the container's small index entries.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import magic
from fido import CONFIG_DIR
from fido.fido import Fido
from fido.package import OlePackage, ZipPackage
from fido.versions import get_local_versions

from archive.findings import Finding, warning

from .formats import EXTENSIONS_BY_MIME, FormatPolicy

__all__ = ["FileIdentity", "Identifier", "identify", "identify_many"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What a file is: MIME (libmagic), PRONOM ``puid``, format name and version (FIDO).

    ``extension`` is the lower-case extension without the dot (``""`` when none).
    ``basis`` says how FIDO matched: ``signature``, ``container``, ``extension`` or ``none``.
    """

    path: Path
    mime: str
    puid: str | None
    format: str | None
    version: str | None
    extension: str
    basis: str = "none"
    findings: tuple[Finding, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The shape printed by ``luutru identify --json``."""
        return {
            "path": str(self.path),
            "mime": self.mime,
            "puid": self.puid,
            "format": self.format,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class _Match:
    puid: str
    name: str
    version: str | None
    extensions: frozenset[str]
    basis: str


@dataclass(frozen=True, slots=True)
class _Signature:
    name: str | None
    # (position, compiled regex); None where FIDO would raise (no regex, or one that does not compile)
    patterns: tuple[tuple[str, re.Pattern[bytes] | None], ...]


class _SignatureTable:
    """FIDO's PRONOM signatures, compiled once; :meth:`match` is ``Fido.match_formats``."""

    def __init__(self, fido: Fido) -> None:
        self._priority: dict[str, set[str]] = fido.puid_has_priority_over_map
        self._rows: list[tuple[Any, str, tuple[_Signature, ...]]] = []
        for element in fido.formats:
            signatures = tuple(
                _Signature(sig.findtext("name"), tuple(_compile(p) for p in sig.findall("pattern")))
                for sig in element.findall("signature")
            )
            self._rows.append((element, element.find("puid").text, signatures))

    def _as_good_as_any(self, element: Any, puid: str, found: list[tuple[Any, str | None, str]]) -> bool:
        for other, _, other_puid in found:
            if other is not element and puid in self._priority[other_puid]:
                return False
        return True

    def match(self, bof: bytes, eof: bytes) -> list[tuple[Any, str | None]]:
        """The (format element, signature name) pairs FIDO's ``match_formats`` returns."""
        found: list[tuple[Any, str | None, str]] = []
        for element, puid, signatures in self._rows:
            if not self._as_good_as_any(element, puid, found):
                continue
            for sig in signatures:
                ok = True
                broken = False
                for position, regex in sig.patterns:
                    if regex is None:
                        broken = True  # FIDO: the exception ends this format's signatures
                        break
                    if position == "BOF":
                        hit = regex.match(bof) is not None
                    elif position == "EOF":
                        hit = regex.search(eof) is not None
                    elif position in ("VAR", "IFB"):
                        hit = regex.search(bof) is not None
                    else:
                        hit = True
                    if not hit:
                        ok = False
                        break
                if broken:
                    break
                if ok:
                    found.append((element, sig.name, puid))
        return [(e, name) for e, name, puid in found if self._as_good_as_any(e, puid, found)]


def _compile(pattern: Any) -> tuple[str, re.Pattern[bytes] | None]:
    position = pattern.findtext("position")
    text = pattern.findtext("regex")
    if position is None:
        return "", None
    try:
        return position, re.compile(text.encode("utf8")) if text is not None else None
    except re.error:
        return position, None


def _text(element: Any, tag: str) -> str | None:
    found = element.find(tag)
    value = found.text if found is not None else None
    return value.strip() if value and value.strip() else None


class Identifier:
    """A reusable FIDO + libmagic identifier. Thread-safe (one file at a time)."""

    def __init__(self) -> None:
        versions = get_local_versions(CONFIG_DIR)
        formats = [versions.pronom_signature, versions.fido_extension_signature]
        self._fido = Fido(quiet=True, nocontainer=True, format_files=formats, handle_matches=self._ignore)
        container_xml = ElementTree.parse(os.path.join(CONFIG_DIR, versions.pronom_container_signature))
        self._zip_signatures = self._fido.extract_signatures(container_xml, signature_type="ZIP")
        self._ole_signatures = self._fido.extract_signatures(container_xml, signature_type="OLE2")
        self._table = _SignatureTable(self._fido)
        self._magic = magic.Magic(mime=True)
        self._lock = threading.Lock()

    @staticmethod
    def _ignore(*_args: Any) -> None:
        """FIDO's match callback; this class reads the matches directly instead."""

    def _to_match(self, element: Any, basis: str) -> _Match:
        return _Match(
            puid=self._fido.get_puid(element),
            name=_text(element, "name") or "",
            version=_text(element, "version"),
            extensions=frozenset(e.text.lower() for e in element.findall("extension") if e.text),
            basis=basis,
        )

    def _pronom(self, path: Path) -> _Match | None:
        fido = self._fido
        size = path.stat().st_size
        with path.open("rb") as handle:
            bof, eof, _ = fido.get_buffers(handle, size, seekable=True)
        matches = self._table.match(bof, eof) if size else []
        container = fido.container_type(matches)
        if container in ("zip", "ole"):
            package = ZipPackage if container == "zip" else OlePackage
            signatures = self._zip_signatures if container == "zip" else self._ole_signatures
            puids = package(str(path), signatures).detect_formats()
            inner = [fido.puid_format_map[p] for p in puids if p in fido.puid_format_map]
            if inner:
                return self._to_match(inner[0], "container")
        if matches:
            return self._to_match(matches[0][0], "signature")
        by_name = fido.match_extensions(str(path))
        if by_name:
            return self._to_match(by_name[0][0], "extension")
        return None

    def identify(self, path: Path, policy: FormatPolicy | None = None) -> FileIdentity:
        """Identify ``path``; findings: ``format.extension_mismatch`` and the policy's.

        ``policy`` defaults to :meth:`FormatPolicy.default`. Raises OSError when the file
        cannot be read.
        """
        policy = policy or FormatPolicy.default()
        extension = path.suffix.lower().lstrip(".")
        with self._lock:
            mime = self._magic.from_file(str(path))
            match = self._pronom(path)
        identity = FileIdentity(
            path=path,
            mime=mime,
            puid=match.puid if match else None,
            format=match.name if match else None,
            version=match.version if match else None,
            extension=extension,
            basis=match.basis if match else "none",
        )
        findings = _extension_findings(identity, match)
        findings.extend(policy.check(identity))
        return FileIdentity(
            identity.path,
            identity.mime,
            identity.puid,
            identity.format,
            identity.version,
            identity.extension,
            identity.basis,
            tuple(findings),
        )


def _extension_findings(identity: FileIdentity, match: _Match | None) -> list[Finding]:
    """``format.extension_mismatch`` when the content says another format than the name."""
    if match is not None and match.basis in ("signature", "container") and match.extensions:
        expected = match.extensions
    else:
        expected = EXTENSIONS_BY_MIME.get(identity.mime, frozenset())
    if (
        not expected
        or identity.extension in expected
        or (identity.extension == "edxml" and "xml" in expected)
    ):
        return []  # an edXML message (QCVN 102:2016) is XML under its own extension
    shown = identity.path.name
    wanted = ", ".join(sorted(expected))
    return [
        warning(
            "format.extension_mismatch",
            f"Phần mở rộng .{identity.extension} của tệp {shown} không khớp nội dung "
            f"({identity.format or identity.mime}; phần mở rộng phù hợp: {wanted})",
            f"The .{identity.extension} extension of {shown} does not match its content "
            f"({identity.format or identity.mime}; expected: {wanted})",
            path=str(identity.path),
            evidence={"extension": identity.extension, "mime": identity.mime, "puid": identity.puid},
        )
    ]


@lru_cache(maxsize=1)
def shared_identifier() -> Identifier:
    """The process-wide identifier, built on first use (not at import)."""
    log.debug("loading PRONOM signatures for FIDO")
    return Identifier()


def identify(path: Path, policy: FormatPolicy | None = None) -> FileIdentity:
    """Identify one file with the shared :class:`Identifier`."""
    return shared_identifier().identify(path, policy)


def identify_many(paths: Iterable[Path], policy: FormatPolicy | None = None) -> list[FileIdentity]:
    """Identify files in order with one shared identifier (signatures loaded once)."""
    identifier = shared_identifier()
    chosen = policy or FormatPolicy.default()
    return [identifier.identify(path, chosen) for path in paths]
