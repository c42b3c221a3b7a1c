"""The directory's answer to "may this organisation evaluate this occupation at this level?",
asked by delivery when a batch is created, edited or filed. Organisations without a filing record
(not in the directory, as before the directory existed) are not restricted here; those in it may
run batches only within their scope, while active and before their filing expires."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from examsys.extensions import db
from examsys.supervision.directory.models import DirectoryEntry, DirectoryStatus


def entry_of(organisation_id: int) -> DirectoryEntry | None:
    return db.session.scalar(select(DirectoryEntry).where(DirectoryEntry.organisation_id == organisation_id))


def refusal(organisation_id: int, occupation: str, occupation_name: str, level: int, on: date) -> str | None:
    """A Chinese reason the batch is refused, or None."""
    entry = entry_of(organisation_id)
    if entry is None:
        return None
    if entry.status != DirectoryStatus.ACTIVE:
        return f"本机构在评价机构目录中的状态为“{entry.status_label}”，不能组织评价"
    if entry.expires_on < on:
        return f"本机构的备案已于 {entry.expires_on.isoformat()} 到期，请先办理定期评估或续期"
    if not entry.covers(occupation, level):
        return (f"“{occupation_name}”（{occupation}）{level}级不在本机构备案的评价范围内"
                f"（备案范围：{entry.scope_label() or '无'}）")
    return None
