"""Candidates' satisfaction survey (满意度调查), answered once per roster entry after submitting;
feeds the satisfaction indicator (share of satisfied candidates, target ≥ 90 %)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models.batches import RosterEntry
from examsys.extensions import db


class SurveyResponse(db.Model):
    __tablename__ = "survey_responses"
    __audit_type__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("roster_entries.id", ondelete="CASCADE"),
                                                 nullable=False, unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    # {"q1": 1..5, …, "q5": 1..5}: 5 = 非常满意
    answers: Mapped[dict] = mapped_column(PortableJSON, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Derived when stored: the mean of the answers is at least 4 (满意 or better).
    satisfied: Mapped[bool] = mapped_column(Boolean, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    roster_entry: Mapped[RosterEntry] = relationship()

    @property
    def organisation_id(self) -> int:
        return self.roster_entry.batch.organisation_id
