"""The directory's tables: one filing record per organisation, and its change history."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.extensions import db


class DirectoryStatus(enum.StrEnum):
    ACTIVE = "active"  # 在册
    SUSPENDED = "suspended"  # 暂停
    WITHDRAWN = "withdrawn"  # 退出


DIRECTORY_STATUS_LABELS = {DirectoryStatus.ACTIVE: "在册", DirectoryStatus.SUSPENDED: "暂停评价",
                           DirectoryStatus.WITHDRAWN: "已退出目录"}


class DirectoryEntry(db.Model):
    """An organisation's filing (备案) in the directory. `scope` is the evaluation scope:
    [{"occupation": standard code, "name": occupation name, "levels": [level, …]}, …]; a batch
    of an occupation and level outside it is refused."""

    __tablename__ = "directory_entries"
    __audit_type__ = "directory_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, unique=True)
    filing_no: Mapped[str] = mapped_column(String(64), nullable=False)
    scope: Mapped[list] = mapped_column(PortableJSON, nullable=False, default=list)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DirectoryStatus.ACTIVE.value)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    organisation: Mapped[Organisation] = relationship()
    changes: Mapped[list[DirectoryChange]] = relationship(
        back_populates="entry", order_by=lambda: (DirectoryChange.changed_at.desc(), DirectoryChange.id.desc()))

    @property
    def status_label(self) -> str:
        return DIRECTORY_STATUS_LABELS[DirectoryStatus(self.status)]

    def covers(self, occupation: str, level: int) -> bool:
        return any(s.get("occupation") == occupation and level in (s.get("levels") or []) for s in self.scope)

    def scope_label(self) -> str:
        return "；".join(f"{s.get('name') or s.get('occupation')}（{'、'.join(str(v) for v in s.get('levels', []))}级）"
                        for s in self.scope)


class ChangeKind(enum.StrEnum):
    FILED = "filed"
    STATUS = "status"
    SCOPE = "scope"
    EXPIRY = "expiry"


CHANGE_KIND_LABELS = {ChangeKind.FILED: "备案", ChangeKind.STATUS: "目录状态变更", ChangeKind.SCOPE: "评价范围变更",
                      ChangeKind.EXPIRY: "有效期变更"}


class DirectoryChange(db.Model):
    """One change of a filing record: what it was, what it became, who changed it and why."""

    __tablename__ = "directory_changes"
    __audit_type__ = "directory_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("directory_entries.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    before: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    after: Mapped[dict] = mapped_column(PortableJSON, nullable=False, default=dict)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    entry: Mapped[DirectoryEntry] = relationship(back_populates="changes")
    actor: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return CHANGE_KIND_LABELS[ChangeKind(self.kind)]
