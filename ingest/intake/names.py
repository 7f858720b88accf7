"""Names inside a submission: decode, refuse unsafe ones, NFC-normalise, detect duplicates.

The same rules apply to a folder on disk and to the entries of a ZIP file, so both
unpackers pass every name through :func:`check_name` and :class:`NameRegistry`.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote

from archive.findings import Finding

from . import refusals

__all__ = ["NameRegistry", "SafeName", "check_name", "raw_zip_name", "shown_name"]

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 control characters
_ZIP_UTF8_FLAG = 0x800
MAX_COMPONENT_BYTES = 255  # NAME_MAX on Linux file systems


@dataclass(frozen=True, slots=True)
class SafeName:
    """A relative name that is safe to create under the staging folder.

    ``parts`` are NFC-normalised path components, none of them empty, ``.`` or ``..``.
    """

    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        """The name with ``/`` separators, as used in metadata and receipts."""
        return "/".join(self.parts)


def shown_name(raw: bytes) -> str:
    """Return ``raw`` as printable text for messages (undecodable bytes as ``\\xNN``)."""
    return raw.decode("utf-8", errors="backslashreplace")


def raw_zip_name(info: zipfile.ZipInfo) -> tuple[bytes, bool]:
    """Return the entry name's bytes as stored in the ZIP and whether the UTF-8 flag is set.

    Without the flag, :mod:`zipfile` decodes names as cp437, which maps every byte to a
    character; encoding back as cp437 gives the original bytes exactly.
    """
    if info.flag_bits & _ZIP_UTF8_FLAG:
        return info.orig_filename.encode("utf-8", errors="surrogateescape"), True
    return info.orig_filename.encode("cp437"), False


def check_name(raw: bytes) -> SafeName | Finding:
    """Decode ``raw`` as UTF-8 and refuse absolute, escaping or malformed names.

    Backslashes count as separators (ZIP files made on Windows), so ``..\\x`` is refused
    like ``../x``; so is a percent-encoded ``..`` (``%2e%2e/x``). Control characters and
    components that end in a space or a dot are refused too. Returns the NFC-normalised
    :class:`SafeName` or the refusal finding.
    """
    shown = shown_name(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return refusals.invalid_name_encoding(shown, raw)
    if _CONTROL.search(text):
        return refusals.invalid_name(shown.encode("unicode_escape").decode("ascii"), "control character")
    text = text.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        return refusals.absolute_path(text)
    pieces = text.split("/")
    if ".." in pieces or ".." in _percent_decoded(text).replace("\\", "/").split("/"):
        return refusals.path_traversal(text)
    parts = tuple(unicodedata.normalize("NFC", p) for p in pieces if p not in ("", "."))
    if not parts:
        return refusals.invalid_name(text, "empty name")
    if any(p != p.rstrip(" .") for p in parts):
        # Windows drops them (`a.pdf ` and `a.pdf` are one file there), and they hide in listings
        return refusals.invalid_name(text, "a component ends in a space or a dot")
    if any(len(p.encode("utf-8")) > MAX_COMPONENT_BYTES for p in parts):
        return refusals.invalid_name(text, f"a component is longer than {MAX_COMPONENT_BYTES} bytes")
    return SafeName(parts)


def _percent_decoded(text: str) -> str:
    """``text`` with percent-escapes undone until nothing changes (``%252e`` → ``%2e`` → ``.``).

    A name is never percent-decoded to be stored; this only shows what a web server or a
    tool that decodes it would see, so ``%2e%2e/x`` is refused like ``../x``.
    """
    for _ in range(4):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


@dataclass(slots=True)
class NameRegistry:
    """Remember staged names; refuse duplicates after NFC and file/folder clashes.

    Comparison is case-sensitive: ``A.pdf`` and ``a.pdf`` are two files (as on the
    archive's own storage), but ``Hồ sơ.pdf`` in NFC and in NFD are the same name.
    """

    files: dict[str, str] = field(default_factory=dict)  # NFC path -> name as submitted
    folders: set[str] = field(default_factory=set)

    def add(self, name: SafeName, original: str, *, is_dir: bool) -> Finding | None:
        """Record ``name``; return a finding when it collides with an earlier one."""
        for depth in range(1, len(name.parts)):
            parent = "/".join(name.parts[:depth])
            if parent in self.files:
                return refusals.path_conflict(parent)
            self.folders.add(parent)
        key = name.path
        if is_dir:
            if key in self.files:
                return refusals.path_conflict(key)
            self.folders.add(key)
            return None
        if key in self.folders:
            return refusals.path_conflict(key)
        earlier = self.files.get(key)
        if earlier is not None:
            if earlier == original:
                return refusals.duplicate_name(key)
            return refusals.unicode_duplicate(earlier, original)
        self.files[key] = original
        return None
