"""Legal holds, appraisal, disposal cases (council, review, decision, execution) and tombstones."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.catalog.base import Base, Timestamped, enum_column


class HoldScope(StrEnum):
    AGENCY = "agency"
    FONDS = "fonds"
    DOSSIER = "dossier"
    DOCUMENT = "document"


class LegalHold(Timestamped, Base):
    """Stops appraisal, disposal and destruction of everything in its scope (inspection, litigation)."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[HoldScope] = mapped_column(enum_column(HoldScope, 10))
    scope_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))  # inspection (thanh tra), litigation (tố tụng)…
    reason: Mapped[str]
    reference: Mapped[str | None] = mapped_column(String(200))  # the document ordering it
    placed_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None]


class AppraisalDecision(StrEnum):
    KEEP = "keep"  # giữ lại, with a reason and a new period
    EXTEND = "extend"  # kéo dài thời hạn
    PROPOSE = "propose"  # đề nghị hủy


class Appraisal(Timestamped, Base):  # xác định giá trị tài liệu
    __tablename__ = "appraisal"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    decision: Mapped[AppraisalDecision] = mapped_column(enum_column(AppraisalDecision, 10))
    reason: Mapped[str]
    new_years: Mapped[int | None]
    appraised_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    disposal_case_id: Mapped[int | None] = mapped_column(ForeignKey("disposal_case.id"))


class DisposalState(StrEnum):
    DRAFT = "draft"  # list being assembled
    COUNCIL = "council"  # Hội đồng xét hủy voting
    REVIEW = "review"  # thẩm định by the competent authority
    DECISION = "decision"  # waiting for the head's quyết định hủy
    APPROVED = "approved"  # decided: execute within the deadline
    EXECUTING = "executing"
    DESTROYED = "destroyed"  # done, biên bản hủy issued
    REJECTED = "rejected"  # council, reviewer or decider said no


class DisposalCase(Timestamped, Base):  # hồ sơ hủy tài liệu
    __tablename__ = "disposal_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    explanatory_note: Mapped[str | None]  # bản thuyết minh
    state: Mapped[DisposalState] = mapped_column(enum_column(DisposalState, 12), default=DisposalState.DRAFT)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    council_outcome: Mapped[str | None] = mapped_column(String(20))
    review_reference: Mapped[str | None] = mapped_column(String(300))  # văn bản thẩm định
    review_opinion: Mapped[str | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reference: Mapped[str | None] = mapped_column(String(300))  # số quyết định hủy
    decided_at: Mapped[datetime | None]
    deadline: Mapped[date | None]
    executed_at: Mapped[datetime | None]
    documents: Mapped[dict[str, Any]] = mapped_column(default=dict)  # generated files → package ids

    items: Mapped[list[DisposalItem]] = relationship(back_populates="case", cascade="all, delete-orphan")
    votes: Mapped[list[CouncilVote]] = relationship(back_populates="case", cascade="all, delete-orphan")


class DisposalItem(Base):
    __tablename__ = "disposal_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disposal_case.id", ondelete="CASCADE"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    destroyed_at: Mapped[datetime | None]  # set once gone from every replica and index

    case: Mapped[DisposalCase] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("case_id", "dossier_id", name="uq_disposal_item_case_dossier"),)


class Vote(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


class CouncilVote(Timestamped, Base):
    __tablename__ = "council_vote"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disposal_case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    vote: Mapped[Vote] = mapped_column(enum_column(Vote, 10))
    opinion: Mapped[str | None]  # dissent is kept, word for word

    case: Mapped[DisposalCase] = relationship(back_populates="votes")

    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_council_vote_case_user"),)


class Tombstone(Timestamped, Base):
    """What remains of a destroyed dossier: its summary and the evidence, never the content."""

    __tablename__ = "tombstone"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(1000))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    file_hashes: Mapped[list[Any]] = mapped_column(default=list)  # [{path, size, sha256}]
    disposal_case_id: Mapped[int] = mapped_column(ForeignKey("disposal_case.id"))
    decision_reference: Mapped[str | None] = mapped_column(String(300))
    destroyed_at: Mapped[datetime]
