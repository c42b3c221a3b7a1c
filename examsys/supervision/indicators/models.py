"""Indicator scores: one row per organisation, set version, indicator, year and context
(the authority's supervision or the organisation's own internal supervision); re-scoring adds a
row, the latest counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class IndicatorScore(db.Model):
    __tablename__ = "indicator_scores"
    __audit_type__ = "indicator_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False)
    set_version: Mapped[str] = mapped_column(String(16), nullable=False)
    indicator: Mapped[str] = mapped_column(String(32), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    context: Mapped[str] = mapped_column(String(16), nullable=False)  # "authority" | "self"
    score: Mapped[float] = mapped_column(Float, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)
    photos: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    by: Mapped[User] = relationship()

    __table_args__ = (Index("ix_indicator_scores_org_year", "organisation_id", "year"),)
