"""Evaluation batches (评价批次), their rooms, staff, filing changes and roster (准考证)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Candidate, User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class BatchState(enum.StrEnum):
    PLANNED = "planned"  # being prepared; everything editable
    FILED = "filed"  # 备案: roster, paper and staff locked; changes are filing changes
    OPEN = "open"  # the window is running
    CLOSED = "closed"  # no more attempts; marking may start
    MARKED = "marked"  # every open item marked
    REVIEWED = "reviewed"  # 复核 done by a second person
    PUBLISHED = "published"  # results public (公示 period runs)
    ARCHIVED = "archived"


BATCH_STATE_LABELS = {
    BatchState.PLANNED: "计划中", BatchState.FILED: "已备案", BatchState.OPEN: "考试中",
    BatchState.CLOSED: "已结束", BatchState.MARKED: "已阅卷", BatchState.REVIEWED: "已复核",
    BatchState.PUBLISHED: "已发布", BatchState.ARCHIVED: "已归档",
}


class Batch(db.Model):
    __tablename__ = "batches"
    __audit_type__ = "batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="RESTRICT"), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    venue: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    paper_id: Mapped[int | None] = mapped_column(ForeignKey("papers.id", ondelete="RESTRICT"))
    state: Mapped[BatchState] = mapped_column(_enum(BatchState, "batch_state"), nullable=False,
                                              default=BatchState.PLANNED)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    # Saves arriving up to this many seconds after the deadline still count (network latency).
    grace_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    # Candidates of a large batch start with a random delay up to this, so a room doesn't hit
    # the server in the same second.
    start_jitter_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    candidates_per_proctor: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    min_proctors_per_room: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    require_access_code: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    shuffle_items: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Safe Exam Browser: SHA-256 hex of the config key; when set, requests must carry the header.
    seb_config_key: Mapped[str | None] = mapped_column(String(64))
    notice_days: Mapped[int] = mapped_column(Integer, nullable=False, default=5)  # 公示 period
    review_apply_days: Mapped[int] = mapped_column(Integer, nullable=False, default=10)  # working days
    review_answer_days: Mapped[int] = mapped_column(Integer, nullable=False, default=10)  # working days
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    rooms: Mapped[list[BatchRoom]] = relationship(back_populates="batch", order_by="BatchRoom.position",
                                                  cascade="all, delete-orphan")
    staff: Mapped[list[BatchStaff]] = relationship(back_populates="batch", cascade="all, delete-orphan")
    roster: Mapped[list[RosterEntry]] = relationship(back_populates="batch", order_by="RosterEntry.ticket_no",
                                                     cascade="all, delete-orphan")
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return BATCH_STATE_LABELS[self.state]


class BatchRoom(db.Model):
    __tablename__ = "batch_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    # Shown by the proctor in the room; required at login when the batch asks for it.
    access_code: Mapped[str] = mapped_column(String(12), nullable=False)

    batch: Mapped[Batch] = relationship(back_populates="rooms")

    __table_args__ = (UniqueConstraint("batch_id", "name"),)


class StaffRole(enum.StrEnum):
    PROCTOR = "proctor"  # 考评员（监考）
    MARKER = "marker"  # 阅卷
    CHIEF = "chief"  # 主考


class BatchStaff(db.Model):
    __tablename__ = "batch_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("batch_rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), nullable=False)

    batch: Mapped[Batch] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()
    room: Mapped[BatchRoom | None] = relationship()

    __table_args__ = (UniqueConstraint("batch_id", "user_id", "role"),)


class FilingChange(db.Model):
    """备案变更: a change to a filed batch, with its reason (also in the audit trail)."""

    __tablename__ = "filing_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    changes: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)


class RosterEntry(db.Model):
    """A candidate admitted to a batch: the admission ticket (准考证)."""

    __tablename__ = "roster_entries"
    __audit_type__ = "roster_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="RESTRICT"), nullable=False)
    # Unique across the system: with the ID number it is the candidate's login.
    ticket_no: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("batch_rooms.id", ondelete="SET NULL"))
    seat_no: Mapped[int | None] = mapped_column(Integer)
    form_label: Mapped[str | None] = mapped_column(String(4))
    # Item and option order of this candidate derive from this seed alone (reproducible).
    order_seed: Mapped[int] = mapped_column(Integer, nullable=False)
    start_delay_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    batch: Mapped[Batch] = relationship(back_populates="roster")
    candidate: Mapped[Candidate] = relationship()
    room: Mapped[BatchRoom | None] = relationship()

    __table_args__ = (UniqueConstraint("batch_id", "candidate_id"),)

    @property
    def organisation_id(self) -> int:
        return self.batch.organisation_id
