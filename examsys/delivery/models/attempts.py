"""Candidate sessions, attempts and their responses, time extensions, integrity events and
proctors' incident records.

The server decides time: an attempt's deadline is stored and recomputed whenever an extension
is granted; the browser's timer only displays it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models.batches import Batch, BatchRoom, RosterEntry
from examsys.extensions import db

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CandidateSession(db.Model):
    """A candidate's API session (Bearer token; only its SHA-256 is stored). One live session per
    roster entry: a new login ends the older one."""

    __tablename__ = "candidate_sessions"
    __audit_type__ = "candidate_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))  # replaced | logout | expired | closed
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    roster_entry: Mapped[RosterEntry] = relationship()


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # by the candidate
    TIMED_OUT = "timed_out"  # finalised at its deadline (sweeper or any later touch)
    TERMINATED = "terminated"  # ended by a proctor for misconduct (违纪)


ATTEMPT_STATUS_LABELS = {
    AttemptStatus.IN_PROGRESS: "作答中", AttemptStatus.SUBMITTED: "已交卷",
    AttemptStatus.TIMED_OUT: "超时收卷", AttemptStatus.TERMINATED: "违纪终止",
}


class Attempt(db.Model):
    __tablename__ = "attempts"
    __audit_type__ = "attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="RESTRICT"),
                                                 nullable=False, unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("paper_forms.id", ondelete="RESTRICT"), nullable=False)
    order_seed: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus, "attempt_status"), nullable=False,
                                                  default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # started_at + duration + extensions, capped by the window's end (+ batch extensions).
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finish_reason: Mapped[str | None] = mapped_column(String(32))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ip: Mapped[str | None] = mapped_column(String(64))
    last_user_agent: Mapped[str | None] = mapped_column(String(255))
    answered_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    batch: Mapped[Batch] = relationship()
    roster_entry: Mapped[RosterEntry] = relationship()
    responses: Mapped[list[Response]] = relationship(back_populates="attempt", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_attempts_status_deadline", "status", "deadline_at"),)

    @property
    def organisation_id(self) -> int:
        return self.batch.organisation_id

    @property
    def status_label(self) -> str:
        return ATTEMPT_STATUS_LABELS[self.status]


def still_open(*conditions) -> ColumnElement[bool]:
    """`Attempt` is in progress (and meets `conditions`, e.g. a deadline), as a filter beside a
    lookup by id, never as the way to the row: the conditions are wrapped (`(…) IS true`) so that
    no planner reads them as a range over ix_attempts_status_deadline. PostgreSQL did, with the
    statistics of a table taken before an exam's attempts existed (every attempt then looks like
    the one open attempt): each save scanned every open attempt of the day, and a prepared
    statement kept that plan for the rest of the connection's life."""
    return and_(Attempt.status == AttemptStatus.IN_PROGRESS, *conditions).is_(true())


class Response(db.Model):
    """The latest acknowledged answer to one item of an attempt. `seq` is the client's per-item
    sequence number: a repeated or older seq changes nothing."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False)
    form_item_id: Mapped[int] = mapped_column(ForeignKey("paper_form_items.id", ondelete="RESTRICT"),
                                              nullable=False)
    answer: Mapped[dict | list | str | bool | None] = mapped_column(PortableJSON, nullable=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    flagged: Mapped[bool] = mapped_column(default=False, nullable=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    attempt: Mapped[Attempt] = relationship(back_populates="responses")

    __table_args__ = (UniqueConstraint("attempt_id", "form_item_id"),)


class Extension(db.Model):
    """Extra time with a reason: for one attempt, or (attempt_id null) for the whole batch."""

    __tablename__ = "extensions"
    __audit_type__ = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    granted_by: Mapped[User] = relationship()


class IntegrityEvent(db.Model):
    """Evidence, not verdicts: client-reported (page hidden, focus lost, copy/paste, fullscreen
    exit) and server-observed (IP or browser change, concurrent login, long silence, timing)."""

    __tablename__ = "integrity_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)  # client | server
    data: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)  # client's claim or server time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)


class IncidentKind(enum.StrEnum):
    NOTE = "note"  # 考场情况记录
    EXTRA_TIME = "extra_time"
    REOPEN = "reopen"
    TERMINATE = "terminate"  # 违纪终止


class Incident(db.Model):
    """A proctor's entry in the room's exam record (考场记录); every action has a reason."""

    __tablename__ = "incidents"
    __audit_type__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("batch_rooms.id", ondelete="SET NULL"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    kind: Mapped[IncidentKind] = mapped_column(_enum(IncidentKind, "incident_kind"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    room: Mapped[BatchRoom | None] = relationship()
    recorded_by: Mapped[User] = relationship()
