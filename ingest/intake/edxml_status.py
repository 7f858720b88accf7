"""The edXML status message (``Status``) with which the archive answers each message it receives.

Structure as built by the public SDKs of the exchange: ``Status`` › ``ResponseFor`` (OrganId,
Code = số/ký hiệu, PromulgationDate, DocumentId of the message answered), ``From`` (the
archive), ``StatusCode``, ``Description``, ``Timestamp``, ``StaffInfo``. Codes
(:class:`StatusCode`) follow the exchange's list: 01 arrived, 02 refused, 03 accepted, …, 15
recall agreed. See docs/submission-format.md for what each luutru state answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from lxml import etree

from archive.vntime import as_utc, to_vn

from .edxml import EDXML_NS

__all__ = ["StatusCode", "build_status"]


class StatusCode(StrEnum):
    """edXML StatusCode values the archive sends."""

    ARRIVED = "01"  # Đã đến: received, being checked or in review
    REFUSED = "02"  # Từ chối tiếp nhận (with the reason in Description)
    ACCEPTED = "03"  # Đã tiếp nhận: accepted into the archive
    RECALL_AGREED = "15"  # Đồng ý lấy lại: the agency withdrew the submission


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{EDXML_NS}}}{name}")
    if text is not None:
        node.text = text
    return node


def build_status(
    answer: Mapping[str, Any],
    code: StatusCode,
    description: str,
    *,
    organ_id: str,
    organ_name: str,
    when: datetime,
    staff: str = "",
    department: str = "",
) -> bytes:
    """Return the UTF-8 XML of the status answering the message described by ``answer``
    (as made by ``edxmlsource.answer_for``). ``when`` is aware; written in Vietnam time as
    ``YYYY/MM/DD HH:MM:SS``, the edXML date style."""
    root = etree.Element(f"{{{EDXML_NS}}}edXMLEnvelope", nsmap={"edXML": EDXML_NS})
    status = _add(_add(root, "edXMLHeader"), "Status")
    response = _add(status, "ResponseFor")
    for key in ("OrganId", "Code", "PromulgationDate", "DocumentId"):
        _add(response, key, str(answer.get(key) or ""))
    sender = _add(status, "From")
    _add(sender, "OrganId", organ_id)
    _add(sender, "OrganName", organ_name)
    _add(status, "StatusCode", code.value)
    _add(status, "Description", description)
    _add(status, "Timestamp", to_vn(as_utc(when)).strftime("%Y/%m/%d %H:%M:%S"))
    info = _add(status, "StaffInfo")
    _add(info, "Department", department)
    _add(info, "Staff", staff)
    _add(root, "edXMLBody")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
