"""The workforce's tables: training courses and who attended them, qualification records
(资格认定, each creating or renewing a certificate) and dispatch records (派遣) of certified
examiners and supervisors to batches."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import CERT_KIND_LABELS, CertificateKind, City, User
from examsys.dbtypes import UTCDateTime
from examsys.delivery.models import Batch
from examsys.extensions import db


class Audience(enum.StrEnum):
    MANAGEMENT = "management"  # 各市评价管理人员
    EXAMINER = "examiner"  # 考评员
    SUPERVISOR = "supervisor"  # 督导员


AUDIENCE_LABELS = {Audience.MANAGEMENT: "评价管理人员培训", Audience.EXAMINER: "考评员培训",
                   Audience.SUPERVISOR: "督导员培训"}


class TrainingCourse(db.Model):
    """One training session: held by the province (city None) or a city, for one audience."""

    __tablename__ = "training_courses"
    __audit_type__ = "training_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    audience: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    city: Mapped[City | None] = relationship()
    attendance: Mapped[list[TrainingAttendance]] = relationship(back_populates="course",
                                                                order_by="TrainingAttendance.id")

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[Audience(self.audience)]

    @property
    def present(self) -> int:
        return sum(1 for a in self.attendance if a.attended)


class TrainingAttendance(db.Model):
    """A person on a course's list: present or absent."""

    __tablename__ = "training_attendance"
    __audit_type__ = "training_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    attended: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    course: Mapped[TrainingCourse] = relationship(back_populates="attendance")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("course_id", "user_id"),)


class Qualification(db.Model):
    """资格认定: a person recognised as examiner or supervisor; it created or renewed
    `certificate` (its number and validity are copied here, so the record survives a later renewal)."""

    __tablename__ = "qualifications"
    __audit_type__ = "qualification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    qualified_on: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    renewal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def kind_label(self) -> str:
        return CERT_KIND_LABELS[CertificateKind(self.kind)]


class Dispatch(db.Model):
    """派遣: a certified examiner or supervisor sent to a batch (only with a certificate of the
    role valid on the batch's date)."""

    __tablename__ = "dispatches"
    __audit_type__ = "dispatch"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # a CertificateKind value
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    batch: Mapped[Batch] = relationship()

    __table_args__ = (UniqueConstraint("user_id", "batch_id", "kind"),)

    @property
    def kind_label(self) -> str:
        return {"examiner": "考评员", "supervisor": "督导员"}[self.kind]
