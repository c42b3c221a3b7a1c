"""Items and their immutable versions, reviews, fault reports and stored assets.

An Item is the stable identity a paper refers to; every saved edit is a new ItemVersion whose
content never changes afterwards (a guard below refuses any UPDATE of content columns). The
item's `active_version` is the approved version currently in the bank (入库); its
`latest_version` is the newest one, possibly a draft under revision.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history

from examsys import clock
from examsys.accounts.models import User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class QType(enum.StrEnum):
    JUDGE = "judge"  # 判断题
    SINGLE = "single"  # 单项选择题
    MULTI = "multi"  # 多项选择题
    FILL = "fill"  # 填空题
    SHORT = "short"  # 简答题
    CALC = "calc"  # 计算题
    ESSAY = "essay"  # 论述题
    CASE = "case"  # 案例分析题


class ItemStatus(enum.StrEnum):
    """Where the item stands as a whole (derived from its versions, stored for fast filtering)."""

    DRAFT = "draft"  # never approved, latest version is a draft
    SUBMITTED = "submitted"  # latest version awaits review
    RETURNED = "returned"  # latest version was returned to the writer
    APPROVED = "approved"  # in the bank (active version approved)
    RETIRED = "retired"  # withdrawn from the bank


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    SUPERSEDED = "superseded"  # an approved version replaced by a newer approved one
    WITHDRAWN = "withdrawn"  # a draft/submitted version abandoned by a newer edit


class Item(db.Model):
    __tablename__ = "items"
    __audit_type__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="RESTRICT"), nullable=False)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_points.id", ondelete="RESTRICT"))
    qtype: Mapped[QType] = mapped_column(_enum(QType, "qtype"), nullable=False)
    levels: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    # Denormalised from the level list for indexed filtering: bit (1 << level) per level.
    level_mask: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    difficulty: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus, "item_status"), nullable=False,
                                               default=ItemStatus.DRAFT)
    active_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("item_versions.id", ondelete="RESTRICT", use_alter=True))
    latest_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("item_versions.id", ondelete="RESTRICT", use_alter=True))
    needs_revision: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revision_reason: Mapped[str | None] = mapped_column(Text)
    exposure: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enemy_group: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    # Plain, normalised text of the latest version (stem + options), for substring search.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    active_version: Mapped[ItemVersion | None] = relationship(foreign_keys=[active_version_id],
                                                              post_update=True)
    latest_version: Mapped[ItemVersion | None] = relationship(foreign_keys=[latest_version_id],
                                                              post_update=True)
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", foreign_keys="ItemVersion.item_id", order_by="ItemVersion.number")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_items_org_std_status", "organisation_id", "standard_id", "status"),
        Index("ix_items_point", "point_id"),
        Index("ix_items_org_updated", "organisation_id", "updated_at"),
    )


class ItemVersion(db.Model):
    """One immutable state of an item's content. Only `status` (workflow) may change later."""

    __tablename__ = "item_versions"
    __audit_type__ = "item_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    qtype: Mapped[QType] = mapped_column(_enum(QType, "qtype"), nullable=False)
    content: Mapped[dict] = mapped_column(PortableJSON, nullable=False)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_points.id", ondelete="RESTRICT"))
    levels: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    difficulty: Mapped[int] = mapped_column(Integer, nullable=False)
    points: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    note: Mapped[str] = mapped_column(Text, nullable=False)  # why this version was made
    source: Mapped[dict | None] = mapped_column(PortableJSON)  # import origin {file, row}
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus, "version_status"), nullable=False,
                                                  default=VersionStatus.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[Item] = relationship(back_populates="versions", foreign_keys=[item_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviews: Mapped[list[Review]] = relationship(back_populates="version", order_by="Review.id")

    __table_args__ = (
        UniqueConstraint("item_id", "number"),
        Index("ix_item_versions_status", "status"),
    )

    @property
    def organisation_id(self) -> int:
        return self.item.organisation_id


IMMUTABLE_VERSION_FIELDS = ("item_id", "number", "qtype", "content", "point_id", "levels",
                            "difficulty", "points", "note", "source", "content_hash", "author_id",
                            "created_at")


@event.listens_for(ItemVersion, "before_update")
def _refuse_content_change(_mapper, _conn, target: ItemVersion) -> None:
    for name in IMMUTABLE_VERSION_FIELDS:
        if get_history(target, name).has_changes():
            raise ValueError(f"item version {target.id} is immutable: {name} cannot change")


class ReviewDecision(enum.StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class Review(db.Model):
    __tablename__ = "reviews"
    __audit_type__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    decision: Mapped[ReviewDecision] = mapped_column(_enum(ReviewDecision, "review_decision"), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Per-field comments when returning: [{"field": "options", "comment": "..."}]
    field_comments: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    version: Mapped[ItemVersion] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("version_id", "reviewer_id"),)


class FaultReport(db.Model):
    """An approved item reported as faulty (by anyone who sees it, or from exam statistics)."""

    __tablename__ = "fault_reports"
    __audit_type__ = "fault_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(32), nullable=False, default="user")  # user | statistics
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Asset(db.Model):
    """An uploaded image, stored on disk by the SHA-256 of its re-encoded bytes. Stored once
    however many organisations upload it: `organisation_id` is the first one, `holders` all."""

    __tablename__ = "assets"
    __audit_type__ = "asset"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    mime: Mapped[str] = mapped_column(String(32), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)


class AssetHolder(db.Model):
    """An organisation that uploaded an image (`Asset`): its staff may see it (examsys.bank.assets)."""

    __tablename__ = "asset_holders"

    sha256: Mapped[str] = mapped_column(ForeignKey("assets.sha256", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
