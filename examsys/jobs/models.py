"""The Job row: what was asked for, by whom, how far it got, and where its result lies.

A job's result is a file under the instance's job directory (EXAMSYS_JOB_DIR), named by the
job's id: the row holds only its name for the download and its size and SHA-256."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATE_LABELS = {JobState.QUEUED: "排队中", JobState.RUNNING: "进行中", JobState.DONE: "已完成",
                    JobState.FAILED: "失败"}


class Job(db.Model):
    __tablename__ = "jobs"
    __audit_type__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[JobState] = mapped_column(
        db.Enum(JobState, name="job_state", native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e], validate_strings=True),
        nullable=False, default=JobState.QUEUED)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # per cent
    stage: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    result_name: Mapped[str | None] = mapped_column(String(200))
    result_size: Mapped[int | None] = mapped_column(Integer)
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requested_by: Mapped[User] = relationship()

    __table_args__ = (Index("ix_jobs_requested_by", "requested_by_id", "created_at"),
                      Index("ix_jobs_object", "object_type", "object_id"))

    @property
    def state_label(self) -> str:
        return JOB_STATE_LABELS[self.state]

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
