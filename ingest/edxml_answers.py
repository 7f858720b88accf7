"""The edXML status answers of a submission, from its current state.

A submission made of edXML messages keeps, per message, what an answer refers to
(``metadata_doc["_edxml_answers"]``). The answer follows the submission: 01 (arrived) while
it is received, checked or in review; 03 (accepted) once accepted or archived; 02 (refused)
with the reasons when rejected, at intake or later; 15 (recall agreed) when withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.catalog import SubmissionState
from archive.findings import Finding, Severity
from ingest.intake.edxml_status import StatusCode, build_status

__all__ = ["ANSWERS_KEY", "EdxmlAnswer", "answers_for"]

ANSWERS_KEY = "_edxml_answers"
_CODES = {
    SubmissionState.RECEIVED: StatusCode.ARRIVED,
    SubmissionState.VALIDATING: StatusCode.ARRIVED,
    SubmissionState.IN_REVIEW: StatusCode.ARRIVED,
    SubmissionState.ACCEPTED: StatusCode.ACCEPTED,
    SubmissionState.ARCHIVED: StatusCode.ACCEPTED,
    SubmissionState.REJECTED: StatusCode.REFUSED,
    SubmissionState.WITHDRAWN: StatusCode.RECALL_AGREED,
}


@dataclass(frozen=True, slots=True)
class EdxmlAnswer:
    """One status message: for which message and ``DocumentId``, with which code, as XML."""

    message: str
    document_id: str
    status_code: StatusCode
    xml: str

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "document_id": self.document_id,
            "status_code": self.status_code.value,
            "xml": self.xml,
        }


def _description(state: SubmissionState, findings: Sequence[Finding], reason: str) -> str:
    if state is SubmissionState.REJECTED:
        errors = [f for f in findings if f.severity is Severity.ERROR]
        said = "; ".join(f"{f.message_vi} / {f.message_en}" for f in errors[:5])
        return f"Từ chối tiếp nhận / Refused: {said or reason}"[:2000]
    if state is SubmissionState.IN_REVIEW:
        return "Đã đến, chờ người làm lưu trữ xem xét / Arrived, awaiting an archivist's review"
    if state in (SubmissionState.ACCEPTED, SubmissionState.ARCHIVED):
        return "Đã tiếp nhận vào Lưu trữ / Accepted into the archive"
    if state is SubmissionState.WITHDRAWN:
        return "Đồng ý lấy lại / Withdrawal agreed"
    return "Đã đến, đang kiểm tra / Arrived, being checked"


def answers_for(
    answers: Sequence[Mapping[str, Any]],
    state: SubmissionState,
    findings: Sequence[Finding],
    *,
    reason: str,
    organ: tuple[str, str],
    when: datetime,
) -> list[EdxmlAnswer]:
    """One status message per message answered, for a submission now in ``state``."""
    code = _CODES[state]
    text = _description(state, findings, reason)
    return [
        EdxmlAnswer(
            message=str(answer.get("message") or ""),
            document_id=str(answer.get("DocumentId") or ""),
            status_code=code,
            xml=build_status(answer, code, text, organ_id=organ[0], organ_name=organ[1], when=when).decode(),
        )
        for answer in answers
    ]
