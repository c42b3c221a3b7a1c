"""Paper blueprints (细目表), assembled papers and their forms.

A frozen paper pins item versions and never changes: its form items are immutable rows, and a
faulty item found later is handled by a PaperReplacement (recorded and audited) that delivery
applies on top, never by editing the pinned row."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class PaperBlueprint(db.Model):
    """The rules a paper must meet; counts are per form. (Flask blueprints are always `bp`.)"""

    __tablename__ = "paper_blueprints"
    __audit_type__ = "paper_blueprint"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="RESTRICT"), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    total_points: Mapped[float] = mapped_column(Float, nullable=False, default=100)
    pass_mark: Mapped[float] = mapped_column(Float, nullable=False, default=60)
    forms: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    max_shared_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # [{"type": "single", "count": 70, "points": 1}]
    sections: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    # [{"kp_prefix": "B-02", "types": ["single"] | null, "min": 5, "max": 8}]
    content_rules: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    # [{"level": 3, "min": 30, "max": 50}]
    difficulty_rules: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    # [{"importance": "X", "min": 60}]
    importance_rules: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    exclude_recent_papers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_exposure: Mapped[int | None] = mapped_column(Integer)
    # Multiple choice: 少选得部分分，错选不得分 when on; all-or-nothing otherwise.
    partial_credit: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Where assembly takes each item's difficulty level from: "declared" (the writer's) or
    # "estimated" (from the pooled exam statistics where they suffice, the declared one elsewhere).
    difficulty_source: Mapped[str] = mapped_column(String(16), nullable=False, default="declared",
                                                   server_default="declared")
    # Percent: every form's test information at the pass mark within ± this of the forms' mean
    # (2PL from exam data where it suffices); None: not matched. Only with two or more forms.
    info_tolerance: Mapped[float | None] = mapped_column(Float)
    # One form per candidate (千人千卷): papers of this blueprint get as many forms as asked for
    # (labelled 1..N), drawn by ``per_candidate``; ``max_shared_items`` caps any two forms' overlap.
    per_candidate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    created_by: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}


class PaperStatus(enum.StrEnum):
    DRAFT = "draft"  # assembled, under inspection; may be re-assembled or discarded
    FROZEN = "frozen"  # pinned; may be used by batches; never changes
    RETIRED = "retired"


class Paper(db.Model):
    __tablename__ = "papers"
    __audit_type__ = "paper"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("paper_blueprints.id", ondelete="RESTRICT"),
                                              nullable=False)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id", ondelete="RESTRICT"), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[PaperStatus] = mapped_column(_enum(PaperStatus, "paper_status"), nullable=False,
                                                default=PaperStatus.DRAFT)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    # The blueprint as it was when this paper was assembled (the blueprint may change later).
    blueprint_snapshot: Mapped[dict] = mapped_column(PortableJSON, nullable=False)
    # Per-rule target vs actual per form, from the independent checker.
    compliance: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    solve_stats: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    blueprint: Mapped[PaperBlueprint] = relationship()
    forms: Mapped[list[PaperForm]] = relationship(back_populates="paper", order_by="PaperForm.label",
                                                  cascade="all, delete-orphan")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def per_candidate(self) -> bool:
        """Assembled as one form per candidate (forms labelled 1..N), per its blueprint snapshot."""
        return bool((self.blueprint_snapshot or {}).get("per_candidate"))


class PaperForm(db.Model):
    """One form (A, B, …) of a paper."""

    __tablename__ = "paper_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), nullable=False)
    label: Mapped[str] = mapped_column(String(4), nullable=False)

    paper: Mapped[Paper] = relationship(back_populates="forms")
    items: Mapped[list[PaperFormItem]] = relationship(back_populates="form", order_by="PaperFormItem.position",
                                                      cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("paper_id", "label"),)


class PaperFormItem(db.Model):
    """An item version pinned at a position of a form (position order = the reference order;
    each candidate's order derives from a recorded seed)."""

    __tablename__ = "paper_form_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("paper_forms.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    section: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="RESTRICT"), nullable=False)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="RESTRICT"),
                                                 nullable=False)
    points: Mapped[float] = mapped_column(Float, nullable=False)

    form: Mapped[PaperForm] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("form_id", "position"), UniqueConstraint("form_id", "item_id"))


class PaperReplacement(db.Model):
    """A faulty pinned item replaced after freezing: recorded, audited, applied by delivery."""

    __tablename__ = "paper_replacements"
    __audit_type__ = "paper_replacement"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_item_id: Mapped[int] = mapped_column(ForeignKey("paper_form_items.id", ondelete="RESTRICT"),
                                              nullable=False, index=True)
    new_item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="RESTRICT"),
                                                     nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    replaced_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)


def _paper_of(target) -> Paper | None:
    form = target.form if isinstance(target, PaperFormItem) else target
    return form.paper if form is not None else None


@event.listens_for(PaperFormItem, "before_update")
@event.listens_for(PaperFormItem, "before_delete")
@event.listens_for(PaperForm, "before_update")
@event.listens_for(PaperForm, "before_delete")
def _refuse_change_when_frozen(_mapper, _conn, target) -> None:
    paper = _paper_of(target)
    if paper is not None and paper.status != PaperStatus.DRAFT:
        raise ValueError(f"paper {paper.id} is frozen: its forms cannot change")
