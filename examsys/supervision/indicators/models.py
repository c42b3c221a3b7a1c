"""The indicator system's versions (`IndicatorSetVersion`) and indicator scores: one score row
per organisation, set version, indicator, year and context (the authority's supervision or the
organisation's own internal supervision); re-scoring adds a row, the latest counts."""

from __future__ import annotations

import enum
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


class IndicatorSetStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


INDICATOR_SET_STATUS_LABELS = {IndicatorSetStatus.DRAFT: "草稿", IndicatorSetStatus.PUBLISHED: "已发布"}


class IndicatorSetVersion(db.Model):
    """One version of the indicator system. `content` is the whole set as a document
    ({"dimensions": [{key, name}], "indicators": [{code, dimension, name, weight, kind, source,
    direction, full, zero, rule, evidence, key_tasks}]}); a published version never changes, the
    latest published one is in force, and at most one draft exists at a time."""

    __tablename__ = "indicator_sets"
    __audit_type__ = "indicator_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=IndicatorSetStatus.DRAFT.value)
    content: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_sets.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    based_on: Mapped[IndicatorSetVersion | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return INDICATOR_SET_STATUS_LABELS[IndicatorSetStatus(self.status)]

    @property
    def is_draft(self) -> bool:
        return self.status == IndicatorSetStatus.DRAFT
