"""Filing changes (备案变更): the only way a filed batch changes. Each change states its reason,
is checked again (持证上岗, staffing ratio, window), and is kept as a FilingChange row with every
field's before and after, plus an audit event in the same transaction.

Allowed after filing: name, venue, window, duration and the timing settings, the proctors of
each room and the markers. Never allowed: the paper, the occupation (standard) and level, the
organisation; the roster changes only by re-filing (not supported once filed). The supervisor is
the authority's to assign (examsys.supervision), never the organisation's to change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import User
from examsys.audit.actions import AuditAction
from examsys.delivery.batches.checks import staff_problems
from examsys.delivery.batches.common import SETTINGS_BOUNDS, markers_of, proctors_of
from examsys.delivery.batches.lifecycle import diff, set_staff, snapshot
from examsys.delivery.models import Batch, BatchState, FilingChange
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_staff_batch

SCALAR = {"name", "venue", "window_start", "window_end", "duration_minutes", "grace_seconds",
          "start_jitter_seconds", "require_access_code", "seb_config_key", "notice_days",
          "review_apply_days", "review_answer_days", "candidates_per_proctor", "min_proctors_per_room"}
STAFF = {"proctors", "marker_ids"}
NEVER = {"paper_id": "试卷", "standard_id": "职业（工种）", "level": "等级", "organisation_id": "机构",
         "roster": "考生名单"}
CHANGEABLE_STATES = (BatchState.FILED, BatchState.OPEN)


def change(actor: User, batch: Batch, reason: str, **changes) -> FilingChange | None:
    """Apply `changes` to a filed (or open) batch and record them. `proctors` is {room_id: [user
    ids]}, `marker_ids` a list of user ids, the rest are Batch columns. Returns the FilingChange,
    or None when nothing actually changed. Raises ValidationError (no reason, bad values, or the
    change would break a filing rule) or Conflict (not filed; a field that never changes)."""
    if batch.state not in CHANGEABLE_STATES:
        if batch.state == BatchState.PLANNED:
            raise Conflict("批次尚未备案，请直接编辑")
        raise Conflict(f"批次当前状态为“{batch.state_label}”，不能再变更备案")
    if not (reason or "").strip():
        raise ValidationError("备案变更须填写变更原因", field="reason")
    for key in changes:
        if key == "supervisor_id":
            raise Conflict("督导员由省级人社部门委派，机构不能变更")
        if key in NEVER:
            raise Conflict(f"备案后不能变更{NEVER[key]}；如确需更换，请撤销本批次后重新备案")
        if key not in SCALAR | STAFF:
            raise ValidationError(f"不支持变更的项目：{key}")
    before = snapshot(batch)
    errors: list[str] = []
    values: dict = {}
    for key in SCALAR & changes.keys():
        value = changes[key]
        if key in SETTINGS_BOUNDS:
            low, high, label = SETTINGS_BOUNDS[key]
            if not (low <= int(value) <= high):
                errors.append(f"{label}须在 {low}～{high} 之间")
                continue
            value = int(value)
        if key in ("window_start", "window_end") and not isinstance(value, datetime):
            errors.append("考试时间格式不正确")
            continue
        if key == "name" and not str(value).strip():
            errors.append("批次名称不能为空")
            continue
        values[key] = value
    start = values.get("window_start", batch.window_start)
    end = values.get("window_end", batch.window_end)
    if end <= start:
        errors.append("考试结束时间须晚于开始时间")
    if start != batch.window_start:
        if batch.state == BatchState.OPEN:
            errors.append("考试已开始，不能变更开始时间")
        elif start <= clock.now():
            errors.append("新的考试开始时间须晚于当前时间")
    if errors:
        raise ValidationError("；".join(errors), details={"errors": errors})
    for key, value in values.items():
        setattr(batch, key, value)
    if "proctors" in changes or "marker_ids" in changes:
        _change_staff(batch, changes)
    db.session.flush()
    problems = staff_problems(batch)
    if problems:
        raise ValidationError("变更后不符合备案要求：" + "；".join(problems), details={"errors": problems})
    changed = diff(before, snapshot(batch))
    if not changed:
        return None
    row = FilingChange(batch_id=batch.id, reason=reason.strip(), changes=changed, changed_by_id=actor.id,
                       changed_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.BATCH_FILING_CHANGED, obj=batch, data={"filing_change_id": row.id, "reason": row.reason,
                                                         "changes": changed})
    return row


def _change_staff(batch: Batch, changes: dict) -> None:
    rooms = {r.id: r for r in batch.rooms}
    current = {r.id: [s.user_id for s in proctors_of(batch, r)] for r in batch.rooms}
    proctors = {int(k): [int(u) for u in v] for k, v in (changes.get("proctors") or {}).items()}
    unknown = set(proctors) - set(rooms)
    if unknown:
        raise ValidationError("考场不属于本批次")
    merged = current | proctors
    markers = [int(u) for u in changes["marker_ids"]] if "marker_ids" in changes else \
        [s.user_id for s in markers_of(batch)]
    errors = []
    seen: dict[int, int] = {}
    for rid, uids in merged.items():
        for uid in uids:
            user = db.session.get(User, uid)
            if user is None:
                errors.append(f"{uid} 不是本机构的考评员")
            elif not (allowed := may_staff_batch(user, batch.organisation_id)):
                errors.append(allowed.message)
            elif uid in seen and seen[uid] != rid:
                errors.append(f"考评员 {user.display_name} 不能同时安排在两个考场")
            seen[uid] = rid
    if errors:
        raise ValidationError("；".join(errors), details={"errors": errors})
    set_staff(batch, merged, markers)
    db.session.expire(batch, ["staff"])


def history(batch: Batch) -> list[FilingChange]:
    return list(db.session.scalars(select(FilingChange).where(FilingChange.batch_id == batch.id)
                                   .order_by(FilingChange.changed_at.desc(), FilingChange.id.desc())))
