"""Candidate attempts: autosave with per-item sequence numbers, submit, and finalising overdue
attempts at their deadline (on every touch and by the sweeper).

Concurrency: every state change of an attempt is a conditional UPDATE (`... WHERE status =
'in_progress'`), so of any number of racing submits, sweeps or proctor actions exactly one
changes the row and records the one audit event; the others see rowcount 0 and return the
state the winner left. A save first runs such an UPDATE too (bookkeeping only, guarded by
status and deadline + grace): it takes the attempt's row lock (PostgreSQL) or the write lock
(SQLite), so a save and a submit are serialised and a save can never be acknowledged for an
attempt that a concurrent submit already closed.

Services flush and never commit: the request commits, then replies, so an answer is
acknowledged only once it is durable (autosave's own transaction: `saving`).

Starting an attempt (and the one rule of whether an exam may start) lives in `starting`, proctor
actions (extensions, reopen, terminate) in `attempts_admin`. Signal: `attempt_finalised` by
whichever transition closes an attempt (submit, timeout, terminate).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from examsys import audit, clock, signals
from examsys.audit.actions import AuditAction
from examsys.delivery.exam import answers, autosave, timing
from examsys.delivery.exam.autosave import SaveResult, answer_spec, check_save_input
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    Extension,
    Response,
    still_open,
)
from examsys.errors import AttemptClosed
from examsys.extensions import db

# --- deadlines ---------------------------------------------------------------------------------


# The minutes granted to the whole batch (0 when none). Statements here are built once: building
# one (and its cache key) costs more than running it.
BATCH_EXTENSION = select(func.coalesce(func.sum(Extension.minutes), 0)).where(
    Extension.batch_id == bindparam("batch_id"), Extension.attempt_id.is_(None))


def extension_minutes(batch_id: int, attempt_id: int | None) -> tuple[int, int]:
    """(minutes granted to this attempt, minutes granted to the whole batch)."""
    batch_ext = db.session.scalar(BATCH_EXTENSION, {"batch_id": batch_id}) or 0
    attempt_ext = 0
    if attempt_id is not None:
        attempt_ext = db.session.scalar(select(func.coalesce(func.sum(Extension.minutes), 0)).where(
            Extension.attempt_id == attempt_id)) or 0
    return int(attempt_ext), int(batch_ext)


def compute_deadline(batch: Batch, started_at: datetime, attempt_id: int | None = None) -> datetime:
    attempt_ext, batch_ext = extension_minutes(batch.id, attempt_id)
    return timing.effective_deadline(started_at, batch.duration_minutes, batch.window_end,
                                     attempt_ext, batch_ext)


# --- transitions -------------------------------------------------------------------------------


def transition(attempt: Attempt, to: AttemptStatus, *, finished_at, reason: str, action: str,
               data: dict | None = None, where=()) -> bool:
    """in_progress → `to`, atomically; True (one audit event, one `attempt_finalised`) only for
    the caller that won."""
    row = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, still_open(*where))
        .values(status=to, finished_at=finished_at, finish_reason=reason, version=Attempt.version + 1)
        .returning(*ATTEMPT_COLUMNS.values())
        .execution_options(synchronize_session=False)).first()
    if row is None:  # another request closed it first (or it is not open): as that one left it
        db.session.refresh(attempt)
        return False
    # The row as the UPDATE left it (every column: others may have changed since it was loaded,
    # e.g. answered_count by saves on other connections), without reading it again.
    for key, value in zip(ATTEMPT_COLUMNS, row, strict=True):
        set_committed_value(attempt, key, value)
    link = audit.record(action, obj=attempt, data={
        "status": to.value, "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
        "deadline_at": attempt.deadline_at.isoformat(), "answered": attempt.answered_count, **(data or {})})
    signals.attempt_finalised.send(attempt, how=to)
    audit.seal_attempt(attempt, head=(link.seq, link.entry_hash))
    return True


# attribute name -> column of every column Attempt maps: what `transition`'s UPDATE and the first
# start's INSERT (`starting`) return, to set on the object without reading it again.
ATTEMPT_COLUMNS = {prop.key: prop.columns[0] for prop in Attempt.__mapper__.column_attrs}


def finalise_if_overdue(attempt: Attempt, now: datetime | None = None) -> bool:
    """Close an in-progress attempt whose deadline + grace has passed, with finish time = its
    deadline (not now) and the answers saved so far. True if this call closed it. Idempotent."""
    now = now or clock.now()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return False
    grace = attempt.batch.grace_seconds
    if timing.accepts_saves(attempt.deadline_at, grace, now):
        return False
    cutoff = now - timedelta(seconds=grace)
    return transition(attempt, AttemptStatus.TIMED_OUT, finished_at=Attempt.deadline_at,
                       reason="timeout", action=AuditAction.ATTEMPT_TIMED_OUT, where=[Attempt.deadline_at < cutoff])


SWEEP_CHUNK = 50  # attempts finalised per unit of work by `examsys delivery sweep`


def overdue_ids(now: datetime) -> list[int]:
    """Open attempts whose deadline has passed (grace not yet checked), oldest first."""
    return list(db.session.scalars(select(Attempt.id).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at < now).order_by(Attempt.id)))


def sweep(now: datetime | None = None, ids: list[int] | None = None) -> int:
    """Finalise every open attempt past its deadline + grace (or those of `ids` that are);
    returns how many this run closed. A second run changes nothing."""
    now = now or clock.now()
    ids = overdue_ids(now) if ids is None else ids
    closed = 0
    for attempt_id in ids:
        attempt = db.session.get(Attempt, attempt_id)
        if attempt is not None and finalise_if_overdue(attempt, now):
            closed += 1
    return closed


# --- autosave ----------------------------------------------------------------------------------


def save_response(attempt: Attempt, form_item_id: int, answer: Any, seq: int, *,
                  now: datetime | None = None, flagged: bool | None = None,
                  ip: str | None = None, user_agent: str | None = None,
                  spec: answers.AnswerSpec | None = None) -> SaveResult:
    """Store `answer` for one item if `seq` is newer than the stored one (`autosave.write`).

    Raises ValidationError (bad seq or answer shape), NotFound (item not on this attempt's
    form) or AttemptClosed (finished, or past deadline + grace: nothing stored). A seq not
    above the stored one changes nothing and returns the stored state (stored=False).
    `spec` (from `answer_spec`) spares the item lookup when the caller already did it."""
    now = now or clock.now()
    check_save_input(seq, flagged)
    if spec is None:
        spec = answer_spec(attempt, form_item_id)
    value = answers.normalise_spec(spec, answer)

    finalise_if_overdue(attempt, now)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise _closed(attempt)
    target = autosave.SaveTarget(attempt_id=attempt.id, started_at=attempt.started_at,
                                 last_seen_at=attempt.last_seen_at, last_ip=attempt.last_ip,
                                 last_user_agent=attempt.last_user_agent,
                                 grace_seconds=attempt.batch.grace_seconds,
                                 organisation_id=attempt.batch.organisation_id)
    written = autosave.write(target, form_item_id, value, seq, now=now, flagged=flagged, ip=ip,
                             user_agent=user_agent)
    if written.result is None:
        db.session.expire(attempt)
        finalise_if_overdue(attempt, now)
        raise _closed(attempt)
    # The in-memory attempt mirrors what was written, without a reload.
    for key, val in (("last_seen_at", now), ("last_ip", ip or target.last_ip),
                     ("last_user_agent", (user_agent or target.last_user_agent or "")[:255] or None),
                     ("answered_count", written.answered_count)):
        set_committed_value(attempt, key, val)
    return written.result


def _closed(attempt: Attempt) -> AttemptClosed:
    return AttemptClosed("本场考试已结束，答案未保存", details={"status": attempt.status.value})


# --- submit ------------------------------------------------------------------------------------


def submit(attempt: Attempt, *, now: datetime | None = None) -> Attempt:
    """The candidate hands in. Idempotent: an attempt already closed (submitted, timed out,
    terminated) is returned as it is; of racing submits exactly one makes the transition."""
    now = now or clock.now()
    if finalise_if_overdue(attempt, now) or attempt.status != AttemptStatus.IN_PROGRESS:
        return attempt
    grace = attempt.batch.grace_seconds
    if not transition(attempt, AttemptStatus.SUBMITTED, finished_at=now, reason="submitted",
                       action=AuditAction.ATTEMPT_SUBMITTED,
                       where=[Attempt.deadline_at >= now - timedelta(seconds=grace)]):
        finalise_if_overdue(attempt, now)
    return attempt


def responses_of(attempt: Attempt) -> list[Response]:
    return list(db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)
                                   .order_by(Response.form_item_id)))


__all__ = ["ATTEMPT_COLUMNS", "BATCH_EXTENSION", "SaveResult", "answer_spec", "check_save_input", "compute_deadline",
           "extension_minutes", "finalise_if_overdue", "responses_of", "save_response", "submit", "sweep",
           "transition"]
