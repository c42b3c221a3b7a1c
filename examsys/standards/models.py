"""Occupational standards, their knowledge tree (鉴定要素细目表): nested ranges with weights per
level, and assessment points (鉴定点) with importance X/Y/Z; mappings between editions.

Standards are national, not owned by one organisation: every organisation writes items against
the same tree; the provincial admin maintains them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db

# 职业技能等级: level number → label. Five is the entry level.
LEVELS: dict[int, str] = {
    5: "五级/初级工",
    4: "四级/中级工",
    3: "三级/高级工",
    2: "二级/技师",
    1: "一级/高级技师",
}


class StandardStatus(enum.StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"


class Importance(enum.StrEnum):
    X = "X"  # core 核心要素
    Y = "Y"  # general 一般要素
    Z = "Z"  # auxiliary 辅助要素


IMPORTANCE_LABELS = {Importance.X: "X 核心", Importance.Y: "Y 一般", Importance.Z: "Z 辅助"}


class Standard(db.Model):
    __tablename__ = "standards"
    __audit_type__ = "standard"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)  # e.g. 6-31-01-03
    name: Mapped[str] = mapped_column(String(100), nullable=False)  # e.g. 电工
    edition: Mapped[str] = mapped_column(String(16), nullable=False)  # e.g. 2018
    status: Mapped[StandardStatus] = mapped_column(
        _enum(StandardStatus, "standard_status"), nullable=False, default=StandardStatus.CURRENT)
    levels: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("standards.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    ranges: Mapped[list[KnowledgeRange]] = relationship(
        back_populates="standard", order_by="KnowledgeRange.position", cascade="all, delete-orphan")
    points: Mapped[list[AssessmentPoint]] = relationship(
        back_populates="standard", order_by="AssessmentPoint.position", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("code", "edition"),)

    @property
    def title(self) -> str:
        return f"{self.name}（{self.code}，{self.edition}版）"


class KnowledgeRange(db.Model):
    """鉴定范围: a node of the knowledge tree; weights are percent of the theory paper per level."""

    __tablename__ = "knowledge_ranges"
    __audit_type__ = "knowledge_range"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="CASCADE"), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_ranges.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    weights: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)  # {"4": 30}

    standard: Mapped[Standard] = relationship(back_populates="ranges")
    parent: Mapped[KnowledgeRange | None] = relationship(remote_side="KnowledgeRange.id",
                                                         back_populates="children")
    children: Mapped[list[KnowledgeRange]] = relationship(back_populates="parent",
                                                          order_by="KnowledgeRange.position")
    points: Mapped[list[AssessmentPoint]] = relationship(back_populates="range",
                                                         order_by="AssessmentPoint.position")

    __table_args__ = (UniqueConstraint("standard_id", "code"),)

    def weight(self, level: int) -> float | None:
        value = self.weights.get(str(level))
        return None if value is None else float(value)


class AssessmentPoint(db.Model):
    """鉴定点: the unit items are written against."""

    __tablename__ = "assessment_points"
    __audit_type__ = "assessment_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="CASCADE"), nullable=False)
    range_id: Mapped[int] = mapped_column(ForeignKey("knowledge_ranges.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    importance: Mapped[Importance] = mapped_column(_enum(Importance, "importance"), nullable=False)
    levels: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)  # [5, 4]
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    standard: Mapped[Standard] = relationship(back_populates="points")
    range: Mapped[KnowledgeRange] = relationship(back_populates="points")

    __table_args__ = (UniqueConstraint("standard_id", "code"),)


class PointChange(enum.StrEnum):
    SAME = "same"  # carried over unchanged
    CHANGED = "changed"  # carried over, content changed: items need revision
    REMOVED = "removed"  # no successor: items need revision


class PointMapping(db.Model):
    """How an assessment point of an old edition maps to the new edition."""

    __tablename__ = "point_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_point_id: Mapped[int] = mapped_column(ForeignKey("assessment_points.id", ondelete="CASCADE"),
                                              nullable=False, unique=True)
    new_point_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_points.id", ondelete="CASCADE"))
    change: Mapped[PointChange] = mapped_column(_enum(PointChange, "point_change"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    old_point: Mapped[AssessmentPoint] = relationship(foreign_keys=[old_point_id])
    new_point: Mapped[AssessmentPoint | None] = relationship(foreign_keys=[new_point_id])
