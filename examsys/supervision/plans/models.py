"""Sampling plans and draws. A draw's seed is made and committed (its SHA-256 published) before
the draw, kept unpublished until the draw is performed, then revealed with the exact plan input
the draw ran on (`inputs`) and its result, so anyone can repeat it with
`examsys supervision draw`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class SupervisionPlan(db.Model):
    """The province's plan for one year: the minimum rates per organisation kind."""

    __tablename__ = "supervision_plans"
    __audit_type__ = "supervision_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    rates: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    authority: Mapped[Organisation] = relationship()
    draws: Mapped[list[SupervisionDraw]] = relationship(back_populates="plan", order_by="SupervisionDraw.number")

    __table_args__ = (UniqueConstraint("authority_id", "year"),)


class SupervisionDraw(db.Model):
    """One draw of a plan: number 1 is the year's draw, later ones are rolling draws."""

    __tablename__ = "supervision_draws"
    __audit_type__ = "supervision_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("supervision_plans.id", ondelete="RESTRICT"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    seed_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # Secret until the draw is performed; never shown before (the page shows only seed_sha256).
    seed_hex: Mapped[str] = mapped_column(String(128), nullable=False)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    inputs: Mapped[dict | None] = mapped_column(PortableJSON)
    result: Mapped[dict | None] = mapped_column(PortableJSON)

    plan: Mapped[SupervisionPlan] = relationship(back_populates="draws")
    committed_by: Mapped[User | None] = relationship(foreign_keys=[committed_by_id])

    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    @property
    def performed(self) -> bool:
        return self.drawn_at is not None

    @property
    def revealed_seed(self) -> str | None:
        return self.seed_hex if self.performed else None
