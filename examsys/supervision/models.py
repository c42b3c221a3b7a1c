"""The authority's supervision of batches: who supervises which batch (assignments), the
organisations a supervisor declared a conflict of interest with, the supervisor's findings, and
the internal supervision form (内部督导表), frozen once signed (a later change is a new version).

Supervisors are users of the authority (Role.SUPERVISOR, organisation of kind AUTHORITY);
`Batch.supervision_assignments` is the backref the access rules read
(examsys.permissions.is_assigned_supervisor)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import Attempt, Batch
from examsys.extensions import db


class SupervisionAssignment(db.Model):
    """The authority assigns a supervisor to a batch of any organisation; `ended_at` closes the
    assignment (a replaced or withdrawn supervisor), and only running ones open the batch."""

    __tablename__ = "supervision_assignments"
    __audit_type__ = "supervision_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False,
                                               index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    batch: Mapped[Batch] = relationship(backref=backref("supervision_assignments",
                                                        order_by="SupervisionAssignment.assigned_at"))
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])


class ConflictDeclaration(db.Model):
    """A supervisor's own declaration of a conflict of interest with an organisation (former
    employer, relatives, training ties): no assignment to that organisation's batches."""

    __tablename__ = "conflict_declarations"
    __audit_type__ = "conflict_declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    supervisor: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (UniqueConstraint("supervisor_id", "organisation_id"),)


class FindingCategory(enum.StrEnum):
    PROCEDURE = "procedure"
    STAFF = "staff"
    DISCIPLINE = "discipline"
    RECORD = "record"
    SCORING = "scoring"
    OTHER = "other"


FINDING_CATEGORY_LABELS = {
    FindingCategory.PROCEDURE: "考务程序", FindingCategory.STAFF: "人员资质与配备",
    FindingCategory.DISCIPLINE: "考场纪律与作答异常", FindingCategory.RECORD: "过程记录",
    FindingCategory.SCORING: "阅卷、复核与公示", FindingCategory.OTHER: "其他",
}


class SupervisionFinding(db.Model):
    """What a supervisor found in a batch (or one candidate's attempt of it)."""

    __tablename__ = "supervision_findings"
    __audit_type__ = "supervision_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="RESTRICT"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    supervisor: Mapped[User] = relationship()
    attempt: Mapped[Attempt | None] = relationship()

    @property
    def category_label(self) -> str:
        return FINDING_CATEGORY_LABELS.get(FindingCategory(self.category), self.category)


# The checks of the internal supervision form (内部督导表), in the order of the exam's life.
CHECKS: dict[str, str] = {
    "filing": "评价前备案材料齐全，备案变更均有原因和记录",
    "staff": "考评员持证上岗，考场人员配比符合要求",
    "identity": "考生身份核验与登录记录（IP、设备）无异常",
    "proctoring": "考场纪律、考场记录与延时、终止等处理有据",
    "integrity": "作答异常记录（切屏、复制粘贴、重复登录等）已逐项核查",
    "answers": "抽查考生作答过程（逐次保存记录）",
    "marking": "阅卷（双评、仲裁）与成绩更正符合规定",
    "review": "成绩复核由计算成绩以外的第二人完成",
    "publication": "成绩公示与考生复核申请按期处理",
}


class FormStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class SupervisionForm(db.Model):
    """The internal supervision form (内部督导表) of one supervisor for one batch, in versions.
    A draft holds the checks done and the conclusion; signing freezes it with a snapshot of the
    certificate, the flags reviewed and the findings (`content`). A signed version is never
    edited: a correction is the next version."""

    __tablename__ = "supervision_forms"
    __audit_type__ = "supervision_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=FormStatus.DRAFT.value)
    checks: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    conclusion: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    supervisor: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("batch_id", "supervisor_id", "version"),
                      Index("ix_supervision_forms_batch", "batch_id"))

    @property
    def signed(self) -> bool:
        return self.status == FormStatus.SIGNED
