"""One assessment per organisation and filing period; `entries` holds the on-site, document and
third-party results ([{"method", "by", "text", "score"}]); `dossier` is frozen at the decision."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class Method(enum.StrEnum):
    DOCUMENTS = "documents"  # 资料审查
    MONITORING = "monitoring"  # 系统监测
    ONSITE = "onsite"  # 实地核查
    THIRD_PARTY = "third_party"  # 第三方评估


METHOD_LABELS = {Method.DOCUMENTS: "资料审查", Method.MONITORING: "系统监测", Method.ONSITE: "实地核查",
                 Method.THIRD_PARTY: "第三方评估"}


class Decision(enum.StrEnum):
    CONTINUE = "continue"
    WIDEN = "widen"
    NARROW = "narrow"
    EXIT = "exit"


DECISION_LABELS = {Decision.CONTINUE: "继续保留", Decision.WIDEN: "扩大评价范围", Decision.NARROW: "缩小评价范围",
                   Decision.EXIT: "退出目录"}


class Assessment(db.Model):
    __tablename__ = "assessments"
    __audit_type__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)  # the filing expiry assessed
    entries: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    indicator_set: Mapped[str | None] = mapped_column(String(16))  # the version scored against, at the decision
    decision: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text, nullable=False, default="")
    dossier: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    organisation: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("organisation_id", "expires_on"),)

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[Decision(self.decision)] if self.decision else "待评估"
