"""Proctors' actions on attempts: extra time, reopen, terminate for misconduct (违纪).

Each needs a reason, records one audit event for its state change and an Incident row in the
room's exam record (考场记录) — callers (the proctor console) must not add another Incident.
Permission checks are the caller's (the console's route decorator and object policy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.delivery.exam.attempts import compute_deadline, finalise_if_overdue, transition
from examsys.delivery.models import Attempt, AttemptStatus, Batch, Extension, Incident, IncidentKind
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db

MAX_EXTENSION_MINUTES = 240


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写原因", field="reason")
    if len(reason) > 1000:
        raise ValidationError("原因不能超过 1000 个字", field="reason")
    return reason


def _incident(actor, batch: Batch, attempt: Attempt | None, kind: IncidentKind, reason: str,
              data: dict) -> Incident:
    room_id = attempt.roster_entry.room_id if attempt is not None else None
    incident = Incident(batch_id=batch.id, room_id=room_id, attempt_id=attempt.id if attempt else None,
                        kind=kind, reason=reason, data=data, recorded_by_id=actor.id,
                        recorded_at=clock.now())
    db.session.add(incident)
    return incident


def recompute_deadline(attempt: Attempt) -> datetime:
    """Store the attempt's deadline from its start, the batch window and every extension."""
    deadline = compute_deadline(attempt.batch, attempt.started_at, attempt.id)
    if deadline != attempt.deadline_at:
        db.session.execute(update(Attempt).where(Attempt.id == attempt.id)
                           .values(deadline_at=deadline, version=Attempt.version + 1)
                           .execution_options(synchronize_session=False))
        db.session.refresh(attempt)
    return deadline


def grant_extension(actor, *, batch: Batch, attempt: Attempt | None = None, minutes: int,
                    reason: str) -> Extension:
    """Extra time for one attempt, or (attempt=None) for the whole batch (which also moves the
    window's end for deadlines). Attempts already past deadline + grace are finalised first:
    an extension never revives them (reopen does, explicitly). Raises ValidationError."""
    reason = _reason(reason)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_EXTENSION_MINUTES:
        raise ValidationError(f"延长时间应为 1 至 {MAX_EXTENSION_MINUTES} 分钟", field="minutes")
    if attempt is not None and attempt.batch_id != batch.id:
        raise ValidationError("该考生不属于本批次", field="attempt")
    now = clock.now()
    targets = [attempt] if attempt is not None else list(db.session.scalars(
        select(Attempt).where(Attempt.batch_id == batch.id, Attempt.status == AttemptStatus.IN_PROGRESS)))
    for target in targets:
        finalise_if_overdue(target, now)
    ext = Extension(batch_id=batch.id, attempt_id=attempt.id if attempt else None, minutes=minutes,
                    reason=reason, granted_by_id=actor.id, granted_at=now)
    db.session.add(ext)
    db.session.flush()
    changed = {}
    for target in targets:
        if target.status != AttemptStatus.IN_PROGRESS:
            continue  # a finished attempt keeps the deadline it finished under; reopen applies it
        before = target.deadline_at
        after = recompute_deadline(target)
        if after != before:
            changed[str(target.id)] = after.isoformat()
    _incident(actor, batch, attempt, IncidentKind.EXTRA_TIME, reason,
              {"minutes": minutes, "extension_id": ext.id})
    audit.record(AuditAction.ATTEMPT_EXTENDED if attempt is not None else AuditAction.BATCH_EXTENDED,
                 obj=attempt if attempt is not None else batch,
                 data={"minutes": minutes, "reason": reason, "extension_id": ext.id, "deadlines": changed})
    return ext


def reopen(actor, attempt: Attempt, *, reason: str) -> Attempt:
    """Let a finished attempt continue until its effective deadline, recomputed from its start,
    the window and the extensions granted (grant one first to give more time). One past that
    deadline is finalised again at once, finish time = the
    deadline: it is never given new time by accident. Raises ValidationError or Conflict."""
    reason = _reason(reason)
    if attempt.status == AttemptStatus.IN_PROGRESS:
        raise Conflict("该考生仍在作答，无需重新开放")
    previous = attempt.status
    result = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == previous)
        .values(status=AttemptStatus.IN_PROGRESS, finished_at=None, finish_reason=None,
                version=Attempt.version + 1)
        .execution_options(synchronize_session=False))
    db.session.refresh(attempt)
    if result.rowcount != 1:
        raise Conflict("该考生的作答状态已被他人修改，请刷新后重试")
    before = attempt.deadline_at
    recompute_deadline(attempt)  # extensions granted while it was finished apply now, and only those
    _incident(actor, attempt.batch, attempt, IncidentKind.REOPEN, reason, {"previous": previous.value})
    audit.record(AuditAction.ATTEMPT_REOPENED, obj=attempt, data={"reason": reason, "previous": previous.value,
                                                      "deadline_before": before.isoformat(),
                                                      "deadline_at": attempt.deadline_at.isoformat()})
    now = clock.now()
    if now >= attempt.deadline_at:
        transition(attempt, AttemptStatus.TIMED_OUT, finished_at=Attempt.deadline_at, reason="timeout",
                    action=AuditAction.ATTEMPT_TIMED_OUT, data={"after": "reopen"})
    return attempt


def terminate(actor, attempt: Attempt, *, reason: str) -> Attempt:
    """End an in-progress attempt for misconduct (违纪). Raises ValidationError or Conflict
    (attempt already finished)."""
    reason = _reason(reason)
    now = clock.now()
    finalise_if_overdue(attempt, now)
    if not transition(attempt, AttemptStatus.TERMINATED, finished_at=now, reason="terminated",
                       action=AuditAction.ATTEMPT_TERMINATED, data={"reason": reason}):
        raise Conflict("该考生已结束作答，不能再终止")
    _incident(actor, attempt.batch, attempt, IncidentKind.TERMINATE, reason, {})
    db.session.flush()
    return attempt


__all__ = ["grant_extension", "recompute_deadline", "reopen", "terminate"]
