"""A key fixed after the exam: the reviewer's confirmation of the right key for one item of one
batch's form, and when and by whom it was applied as a regrade. The regrade itself is score
corrections (scoring's records, originals untouched); this row says why they exist."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import User, _enum
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import Batch
from examsys.extensions import db


class KeyFixStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # a reviewer confirmed the key; not applied yet
    APPLIED = "applied"      # every affected attempt regraded


KEY_FIX_STATUS_LABELS = {KeyFixStatus.CONFIRMED: "已确认，待应用", KeyFixStatus.APPLIED: "已重新评分"}


class KeyFix(db.Model):
    __tablename__ = "key_fixes"
    __audit_type__ = "key_fix"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"), nullable=False, index=True)
    form_item_id: Mapped[int] = mapped_column(ForeignKey("paper_form_items.id", ondelete="RESTRICT"), nullable=False)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id", ondelete="RESTRICT"), nullable=False)
    old_key: Mapped[dict | list | str | bool | None] = mapped_column(PortableJSON, nullable=True)
    new_key: Mapped[dict | list | str | bool | None] = mapped_column(PortableJSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[KeyFixStatus] = mapped_column(_enum(KeyFixStatus, "key_fix_status"), nullable=False,
                                                 default=KeyFixStatus.CONFIRMED)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    affected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # item scores changed

    batch: Mapped[Batch] = relationship()
    confirmed_by: Mapped[User] = relationship(foreign_keys=[confirmed_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])

    @property
    def status_label(self) -> str:
        return KEY_FIX_STATUS_LABELS[self.status]

    __table_args__ = (
        # four eyes: who confirmed the key does not also apply it
        CheckConstraint("applied_by_id IS NULL OR applied_by_id <> confirmed_by_id", name="second_person"),
    )

    @property
    def organisation_id(self) -> int:
        return self.batch.organisation_id
