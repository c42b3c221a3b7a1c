"""The spot checks' tables: the check, its findings, and each finding's thread of answers,
closings and reopenings (never edited: every step is a new row)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import Batch
from examsys.extensions import db


class CheckMode(enum.StrEnum):
    LIVE = "live"  # 评价中抽查: while the batch runs
    AFTER = "after"  # 事后检查: from the record


CHECK_MODE_LABELS = {CheckMode.LIVE: "评价中现场抽查", CheckMode.AFTER: "事后资料检查"}


class Severity(enum.StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    SERIOUS = "serious"


SEVERITY_LABELS = {Severity.MINOR: "一般", Severity.MAJOR: "较重", Severity.SERIOUS: "严重"}
# Days to rectify, by severity, unless the supervisor sets a deadline.
DEFAULT_DAYS = {Severity.MINOR: 30, Severity.MAJOR: 15, Severity.SERIOUS: 7}


class FindingStatus(enum.StrEnum):
    OPEN = "open"  # 待整改
    ANSWERED = "answered"  # 已答复，待销号
    CLOSED = "closed"  # 已销号


FINDING_STATUS_LABELS = {FindingStatus.OPEN: "待整改", FindingStatus.ANSWERED: "已答复待核验",
                         FindingStatus.CLOSED: "已销号"}


class SpotCheck(db.Model):
    """A supervisor's check of one batch. `checklist`: [{"code": indicator code, "ok": bool,
    "note": str}] over the indicators of the checklist."""

    __tablename__ = "spot_checks"
    __audit_type__ = "spot_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False,
                                                 index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    checked_on: Mapped[date] = mapped_column(Date, nullable=False)
    checklist: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    batch: Mapped[Batch] = relationship()
    organisation: Mapped[Organisation] = relationship()
    supervisor: Mapped[User] = relationship()
    findings: Mapped[list[SpotFinding]] = relationship(back_populates="check", order_by="SpotFinding.id")

    @property
    def mode_label(self) -> str:
        return CHECK_MODE_LABELS[CheckMode(self.mode)]


class SpotFinding(db.Model):
    """A problem found by a check, with its severity, photos (bank assets, by SHA-256) and the
    deadline for rectification."""

    __tablename__ = "spot_findings"
    __audit_type__ = "spot_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False,
                                                 index=True)
    indicator: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    photos: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=FindingStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    check: Mapped[SpotCheck] = relationship(back_populates="findings")
    steps: Mapped[list[FindingStep]] = relationship(back_populates="finding", order_by="FindingStep.id")

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[Severity(self.severity)]

    @property
    def status_label(self) -> str:
        return FINDING_STATUS_LABELS[FindingStatus(self.status)]

    def overdue(self, today: date) -> bool:
        """Not closed and past its deadline (an answer not yet accepted does not stop the clock)."""
        return self.status != FindingStatus.CLOSED and self.due_on < today


class StepKind(enum.StrEnum):
    ANSWER = "answer"
    CLOSE = "close"
    REOPEN = "reopen"


STEP_KIND_LABELS = {StepKind.ANSWER: "整改答复", StepKind.CLOSE: "销号", StepKind.REOPEN: "重新打开"}


class FindingStep(db.Model):
    """One step of a finding's rectification: the organisation's answer with its evidence
    (photos), or the supervisor closing or reopening it with a note."""

    __tablename__ = "finding_steps"
    __audit_type__ = "finding_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("spot_findings.id", ondelete="RESTRICT"), nullable=False,
                                            index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    finding: Mapped[SpotFinding] = relationship(back_populates="steps")
    by: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return STEP_KIND_LABELS[StepKind(self.kind)]
