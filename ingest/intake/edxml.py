"""Read one edXML message (QCVN 102:2016/BTTTT) as a stream: its header as data, its attachments
decoded from base64 straight into the staging folder.

A message is ``edXML`` › ``edXMLEnvelope`` › ``edXMLHeader`` (``MessageHeader`` or ``Status``,
``TraceHeaderList``, ``Signature``) and ``edXMLBody`` (``edXMLManifest``), then
``AttachmentEncoded`` › ``Attachment`` (``ContentId``, ``AttachmentName``, ``ContentType``,
``ContentTransferEncoded``). Producers differ in where they put the namespace (prefixed,
default, or none at all on ``AttachmentEncoded``) and whether the envelope is the root, so
elements are matched by local name; see docs/submission-format.md.

The parser is lxml's push parser with a target (no tree): entities are never resolved, no DTD
is loaded, nothing is fetched, a DOCTYPE is refused outright (edXML has none; a DOCTYPE is
how entity bombs and external entities arrive), and the text of every element except
``ContentTransferEncoded`` is bounded. Attachment text is decoded 4 characters at a time as it
arrives and written, hashed and counted against the intake limits, so a message of any size
needs a few MiB of memory.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from archive.findings import Finding
from archive.fixity.hashing import Digests, remember_digests

from . import edxml_refusals as refuse
from .copying import ALGORITHMS, ByteBudget
from .errors import SubmissionRefused
from .names import check_name
from .submission import StagedFile

__all__ = ["EDXML_NS", "EdxmlAttachment", "EdxmlMessage", "is_edxml", "peek_header", "read_message"]

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
FEED_BYTES = 1024 * 1024
MAX_HEADER_TEXT = 1024 * 1024  # all header text of one message together
_ENCODED = "ContentTransferEncoded"
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class EdxmlAttachment:
    """One decoded attachment: as labelled by the producer, and the staged file."""

    content_id: str
    name: str
    declared_type: str
    description: str
    file: StagedFile


@dataclass(frozen=True, slots=True)
class EdxmlMessage:
    """What one message says: ``kind`` is ``document`` (MessageHeader) or ``status`` (Status).

    ``header`` is the MessageHeader (or Status) as nested dicts by local name, a repeated
    element becoming a list; ``trace`` the TraceHeaderList the same way; ``manifest`` the
    edXMLManifest references. ``signed`` tells whether the envelope carries a Signature.
    """

    path: str
    kind: str
    namespace: str
    header: Mapping[str, Any]
    trace: Mapping[str, Any]
    manifest: tuple[Mapping[str, Any], ...]
    attachments: tuple[EdxmlAttachment, ...]
    signed: bool


def is_edxml(path: Path) -> bool:
    """Tell whether ``path`` looks like an edXML message: an XML file that names the edXML
    envelope, header or namespace in its first 64 KiB."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    return any(
        mark in head for mark in (EDXML_NS.encode(), b"edXMLEnvelope", b"edXMLHeader", b"MessageHeader")
    )


class _Base64Sink:
    """Decode base64 text as it arrives and write it to ``target``, hashed and counted."""

    def __init__(self, target: Path, rel: str, budget: ByteBudget) -> None:
        self.target, self.rel, self.budget = target, rel, budget
        self.digests = Digests(ALGORITHMS)
        self.size = 0
        self.pending = b""
        fd = os.open(target, _OPEN_FLAGS, 0o640)
        self.out: IO[bytes] = os.fdopen(fd, "wb")

    def feed(self, text: str) -> None:
        raw = self.pending + text.encode("ascii", "replace").translate(None, b" \t\r\n")
        cut = len(raw) - len(raw) % 4
        self.pending = raw[cut:]
        if cut:
            self._write(raw[:cut])

    def _write(self, chunk: bytes) -> None:
        try:
            data = binascii.a2b_base64(chunk, strict_mode=True)
        except binascii.Error as exc:
            raise SubmissionRefused([refuse.base64_invalid(self.rel, str(exc))]) from exc
        limits = self.budget.limits
        self.size += len(data)
        self.budget.bytes += len(data)
        if self.size > limits.max_file_bytes:
            raise SubmissionRefused([refuse.attachment_too_large(self.rel, self.size, limits.max_file_bytes)])
        if self.budget.bytes > limits.max_bytes:
            raise SubmissionRefused([refuse.attachment_too_large(None, self.budget.bytes, limits.max_bytes)])
        self.digests.update(data)
        self.out.write(data)

    def finish(self) -> StagedFile:
        if self.pending:
            raise SubmissionRefused(
                [
                    refuse.base64_invalid(
                        self.rel, f"{len(self.pending)} characters left after the last group of 4"
                    )
                ]
            )
        self.out.close()
        found = self.digests.hexdigests()
        remember_digests(self.target, found)
        return StagedFile(self.rel, self.size, found["sha256"])

    def abandon(self) -> None:
        self.out.close()


class _Enough(Exception):
    """Stops a header-only read once the body starts."""


class _Target:
    """lxml parser target: header fields into nested dicts, attachments into files."""

    def __init__(
        self, message: str, folder: Path, rel_folder: str, budget: ByteBudget | None, *, peek: bool = False
    ) -> None:
        self.message, self.folder, self.rel_folder, self.budget = message, folder, rel_folder, budget
        self.peek = peek
        self.path: list[str] = []
        self.stack: list[dict[str, Any]] = [{}]
        self.text: list[str] = []
        self.text_bytes = 0
        self.sink: _Base64Sink | None = None
        self.attachments: list[tuple[dict[str, Any], StagedFile]] = []
        self.namespace = ""
        self.signed = False
        self.started = False

    def doctype(self, *_args: Any) -> None:
        raise SubmissionRefused([refuse.doctype(self.message)])

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if not self.started:
            self.started, self.namespace = True, ns
        if local == "Signature" and "edXMLHeader" in self.path:
            self.signed = True
        if self.peek and local in ("edXMLBody", "AttachmentEncoded"):
            raise _Enough
        self.path.append(local)
        self.stack.append({})
        self.text = []
        if local == _ENCODED and self.budget is not None:
            index = len(self.attachments) + 1
            rel = f"{self.rel_folder}/.part-{index}"
            self.sink = _Base64Sink(self.folder / f".part-{index}", rel, self.budget)

    def data(self, text: str) -> None:
        if self.sink is not None:
            self.sink.feed(text)
            return
        self.text_bytes += len(text)
        if self.text_bytes > MAX_HEADER_TEXT:
            raise SubmissionRefused([refuse.header_too_large(self.message, MAX_HEADER_TEXT)])
        self.text.append(text)

    def end(self, _tag: str) -> None:
        local = self.path.pop()
        node = self.stack.pop()
        value: Any
        if local == _ENCODED and self.sink is not None:
            value = self.sink.finish()
            self.sink = None
        elif node:
            value = node
        else:
            value = "".join(self.text).strip()
        self.text = []
        if local == "Attachment" and isinstance(value, dict):
            staged = value.pop(_ENCODED, None)
            if isinstance(staged, StagedFile):
                self.attachments.append((value, staged))
            else:
                raise SubmissionRefused(
                    [refuse.attachment_empty(self.message, str(value.get("AttachmentName", "")))]
                )
            value = {k: v for k, v in value.items()}
        parent = self.stack[-1]
        if local in parent:
            before = parent[local]
            parent[local] = [*before, value] if isinstance(before, list) else [before, value]
        else:
            parent[local] = value

    def close(self) -> dict[str, Any]:
        return self.stack[0]

    def abandon(self) -> None:
        if self.sink is not None:
            self.sink.abandon()


def _find(tree: Mapping[str, Any], name: str) -> Any:
    """The first value named ``name`` anywhere under ``tree`` (breadth first)."""
    queue: list[Any] = [tree]
    while queue:
        node = queue.pop(0)
        if isinstance(node, list):
            queue.extend(node)
        elif isinstance(node, dict):
            if name in node:
                return node[name]
            queue.extend(node.values())
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _attachment(
    message: str,
    folder: Path,
    rel_folder: str,
    labels: Mapping[str, Any],
    staged: StagedFile,
    taken: set[str],
) -> EdxmlAttachment:
    """Give a decoded attachment its own (checked) name in the message's folder."""
    wanted = str(labels.get("AttachmentName") or labels.get("Description") or "").strip()
    wanted = wanted.replace("\\", "/").rsplit("/", 1)[-1] or f"attachment-{len(taken) + 1}"
    name = check_name(wanted.encode("utf-8", "surrogateescape"))
    if isinstance(name, Finding):
        raise SubmissionRefused([name])
    final = name.path
    if final.casefold() in taken or final.startswith(".part-"):
        final = f"{len(taken) + 1}-{final}"
    taken.add(final.casefold())
    (folder / staged.path.rsplit("/", 1)[-1]).rename(folder / final)
    remembered = StagedFile(f"{rel_folder}/{final}", staged.size, staged.sha256)
    return EdxmlAttachment(
        content_id=str(labels.get("ContentId") or ""),
        name=final,
        declared_type=str(labels.get("ContentType") or ""),
        description=str(labels.get("Description") or ""),
        file=remembered,
    )


def peek_header(source: Path) -> Mapping[str, Any] | None:
    """The MessageHeader of a message, read up to its body only; None if there is none to read."""
    target = _Target(source.name, source.parent, "", None, peek=True)
    parser = etree.XMLParser(
        target=target, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        with source.open("rb") as handle:
            while chunk := handle.read(64 * 1024):
                parser.feed(chunk)
        parser.close()
    except (_Enough, etree.XMLSyntaxError, SubmissionRefused, OSError):
        pass
    header = _find({"open": target.stack}, "MessageHeader")
    return header if isinstance(header, dict) else None


def read_message(
    source: Path, message: str, folder: Path, rel_folder: str, budget: ByteBudget
) -> EdxmlMessage:
    """Parse the message file ``source`` (shown as ``message``); decode its attachments into
    ``folder`` (an empty folder, ``rel_folder`` relative to the payload).

    Raises :class:`SubmissionRefused` for XML that is malformed or carries a DOCTYPE, base64
    that does not decode, an attachment beyond the limits, a message that is neither a
    document nor a status message. The caller removes the staging folder.
    """
    target = _Target(message, folder, rel_folder, budget)
    parser = etree.XMLParser(
        target=target, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        with source.open("rb") as handle:
            while chunk := handle.read(FEED_BYTES):
                parser.feed(chunk)
        tree = parser.close()
    except etree.XMLSyntaxError as exc:
        target.abandon()
        raise SubmissionRefused([refuse.malformed(message, str(exc))]) from exc
    except BaseException:
        target.abandon()
        raise
    header = _find(tree, "MessageHeader")
    status = _find(tree, "Status")
    if isinstance(header, dict):
        kind = "document"
    elif isinstance(status, dict) and "StatusCode" in status:
        kind, header = "status", status
    else:
        raise SubmissionRefused([refuse.not_a_message(message)])
    taken: set[str] = set()
    attachments = tuple(
        _attachment(message, folder, rel_folder, labels, staged, taken)
        for labels, staged in target.attachments
    )
    manifest = tuple(
        r
        for r in _as_list(_find(tree, "edXMLManifest") and _find(_find(tree, "edXMLManifest"), "Reference"))
        if isinstance(r, dict)
    )
    trace = _find(tree, "TraceHeaderList")
    return EdxmlMessage(
        path=message,
        kind=kind,
        namespace=target.namespace,
        header=header,
        trace=trace if isinstance(trace, dict) else {},
        manifest=manifest,
        attachments=attachments,
        signed=target.signed,
    )
