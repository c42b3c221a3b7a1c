"""Grading tables: per-item scores of an attempt, markers' marks (double marking and arbitration),
score corrections (four eyes), results with their review (复核), and candidates' score review
requests (成绩复核申请) during the public-notice period (公示).

Nothing here is ever overwritten to change a score: an item's `final_score` is set once (by the
registry or by marking), and every later change is a ScoreCorrection row approved by a second
person. `Result.total` is the original sum; `Result.final_total` is that sum with approved
corrections applied, kept for listing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models.attempts import Attempt
from examsys.delivery.models.batches import Batch, RosterEntry
from examsys.extensions import db


class ItemScore(db.Model):
    """The score of one item of one attempt. Open items wait for marking (`needs_marking`) and
    carry an anonymous `marking_code`: markers see that code, never the candidate."""

    __tablename__ = "item_scores"
    __audit_type__ = "item_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"), nullable=False,
                                            index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    form_item_id: Mapped[int] = mapped_column(ForeignKey("paper_form_items.id", ondelete="RESTRICT"),
                                              nullable=False)
    # The effective version the candidate saw (pinned, or its replacement).
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="RESTRICT"),
                                                 nullable=False)
    section: Mapped[int] = mapped_column(Integer, nullable=False)
    max_points: Mapped[float] = mapped_column(Float, nullable=False)
    auto_score: Mapped[float | None] = mapped_column(Float)  # by the registry; None for open items
    final_score: Mapped[float | None] = mapped_column(Float)  # None until marked
    needs_marking: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    marking_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    attempt: Mapped[Attempt] = relationship()
    marks: Mapped[list[Mark]] = relationship(back_populates="item_score", order_by="Mark.round",
                                             cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("attempt_id", "form_item_id"),)

    @property
    def organisation_id(self) -> int:
        return self.attempt.batch.organisation_id


class Mark(db.Model):
    """One marker's mark of one open item: round 1 and 2 are independent, round 3 arbitrates."""

    __tablename__ = "marks"
    __audit_type__ = "mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_score_id: Mapped[int] = mapped_column(ForeignKey("item_scores.id", ondelete="RESTRICT"),
                                               nullable=False, index=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    item_score: Mapped[ItemScore] = relationship(back_populates="marks")
    marker: Mapped[User] = relationship()

    @property
    def batch_id(self) -> int:
        """The batch whose chain of the process record holds this mark."""
        return self.item_score.batch_id

    __table_args__ = (
        # A marker marks an item once (so never arbitrates their own); a round is taken once,
        # so two markers racing for round 1 cannot both get it.
        UniqueConstraint("item_score_id", "marker_id"),
        UniqueConstraint("item_score_id", "round"),
        CheckConstraint("round IN (1, 2, 3)", name="round_valid"),
    )


class CorrectionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


CORRECTION_STATUS_LABELS = {CorrectionStatus.PENDING: "待审批", CorrectionStatus.APPROVED: "已批准",
                            CorrectionStatus.REJECTED: "已驳回"}


class ScoreCorrection(db.Model):
    """A correction of one item's score (item_score_id set) or of the total (null), requested by
    one person and approved by another (four eyes). The original score is recorded here and
    never overwritten where it came from."""

    __tablename__ = "score_corrections"
    __audit_type__ = "score_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"), nullable=False,
                                            index=True)
    item_score_id: Mapped[int | None] = mapped_column(ForeignKey("item_scores.id", ondelete="RESTRICT"))
    original_score: Mapped[float | None] = mapped_column(Float)
    corrected_score: Mapped[float] = mapped_column(Float, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[CorrectionStatus] = mapped_column(_enum(CorrectionStatus, "correction_status"),
                                                     nullable=False, default=CorrectionStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    review_request_id: Mapped[int | None] = mapped_column(ForeignKey("score_review_requests.id",
                                                                     ondelete="SET NULL"))

    attempt: Mapped[Attempt] = relationship()
    item_score: Mapped[ItemScore | None] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def batch_id(self) -> int:
        """The batch whose chain of the process record holds this correction."""
        return self.attempt.batch_id

    __table_args__ = (
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id",
                        name="second_person"),
    )

    @property
    def organisation_id(self) -> int:
        return self.attempt.batch.organisation_id

    @property
    def status_label(self) -> str:
        return CORRECTION_STATUS_LABELS[self.status]


class Result(db.Model):
    """An attempt's result. `total` is the original sum of item scores; `final_total` and
    `passed` include approved corrections. Pass = final_total ≥ the pass mark of the paper's
    blueprint snapshot."""

    __tablename__ = "results"
    __audit_type__ = "result"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"), nullable=False,
                                            unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    total: Mapped[float] = mapped_column(Float, nullable=False)
    final_total: Mapped[float] = mapped_column(Float, nullable=False)
    section_scores: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    pass_mark: Mapped[float] = mapped_column(Float, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attempt: Mapped[Attempt] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def organisation_id(self) -> int:
        return self.attempt.batch.organisation_id


class ResultReview(db.Model):
    """复核 of a batch's score list by a second person: the checks run (adding, recording,
    unmarked parts) and what they found. A review with findings does not pass the batch."""

    __tablename__ = "result_reviews"
    __audit_type__ = "result_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    checked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # results checked
    findings: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    batch: Mapped[Batch] = relationship()
    reviewer: Mapped[User] = relationship()


class ReviewScope(enum.StrEnum):
    """What a score review may look at (the usual scope of 成绩复核)."""

    UNMARKED = "unmarked"  # 漏评（未评阅部分）
    ADDING = "adding"  # 合分错误
    RECORDING = "recording"  # 登分错误
    ZERO_OR_ABSENT = "zero_or_absent"  # 机评试卷：零分或无成绩


REVIEW_SCOPE_LABELS = {ReviewScope.UNMARKED: "未评阅部分", ReviewScope.ADDING: "合分错误",
                       ReviewScope.RECORDING: "登分错误", ReviewScope.ZERO_OR_ABSENT: "零分或无成绩"}


class ReviewOutcome(enum.StrEnum):
    UNCHANGED = "unchanged"  # 成绩无误
    CORRECTED = "corrected"  # 成绩有误，已更正（ScoreCorrection）
    REFUSED = "refused"  # 不予受理（超出范围等）


REVIEW_OUTCOME_LABELS = {ReviewOutcome.UNCHANGED: "成绩无误", ReviewOutcome.CORRECTED: "已更正",
                         ReviewOutcome.REFUSED: "不予受理"}


class ScoreReviewRequest(db.Model):
    """A candidate's application for a score review during 公示, answered by staff within the
    batch's `review_answer_days` working days (examsys.delivery.scoring.workdays)."""

    __tablename__ = "score_review_requests"
    __audit_type__ = "score_review_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"))
    scope: Mapped[ReviewScope] = mapped_column(_enum(ReviewScope, "review_scope"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[ReviewOutcome | None] = mapped_column(_enum(ReviewOutcome, "review_outcome"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    batch: Mapped[Batch] = relationship()
    roster_entry: Mapped[RosterEntry] = relationship()
    answered_by: Mapped[User | None] = relationship()

    @property
    def organisation_id(self) -> int:
        return self.batch.organisation_id

    @property
    def overdue(self) -> bool:
        """Unanswered past its due time, or answered late."""
        if self.answered_at is not None:
            return self.answered_at > self.due_at
        return clock.now() > self.due_at

    @property
    def scope_label(self) -> str:
        return REVIEW_SCOPE_LABELS[self.scope]

    @property
    def outcome_label(self) -> str:
        return REVIEW_OUTCOME_LABELS[self.outcome] if self.outcome else ""
