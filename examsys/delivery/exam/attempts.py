"""Candidate attempts: start, autosave with per-item sequence numbers, submit, and finalising
overdue attempts at their deadline (on every touch and by the sweeper).

Concurrency: every state change of an attempt is a conditional UPDATE (`... WHERE status =
'in_progress'`), so of any number of racing submits, sweeps or proctor actions exactly one
changes the row and records the one audit event; the others see rowcount 0 and return the
state the winner left. A save first runs such an UPDATE too (bookkeeping only, guarded by
status and deadline + grace): it takes the attempt's row lock (PostgreSQL) or the write lock
(SQLite), so a save and a submit are serialised and a save can never be acknowledged for an
attempt that a concurrent submit already closed.

Services flush and never commit: the API view commits, then replies, so an answer is
acknowledged only once it is durable.

Proctor actions (extensions, reopen, terminate) live in `attempts_admin`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from examsys import audit, clock
from examsys.assembly.models import Paper, PaperForm, PaperFormItem, PaperStatus
from examsys.delivery import answers, autosave, timing
from examsys.delivery.autosave import SaveResult, answer_spec, check_save_input
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, Extension, Response, RosterEntry
from examsys.errors import AttemptClosed, Conflict, NotFound
from examsys.extensions import db

STARTABLE_STATES = (BatchState.FILED, BatchState.OPEN)


def _conflict(message: str, code: str, **details) -> Conflict:
    exc = Conflict(message, details=details)
    exc.code = code
    return exc


# --- deadlines ---------------------------------------------------------------------------------


def extension_minutes(batch_id: int, attempt_id: int | None) -> tuple[int, int]:
    """(minutes granted to this attempt, minutes granted to the whole batch)."""
    batch_ext = db.session.scalar(select(func.coalesce(func.sum(Extension.minutes), 0)).where(
        Extension.batch_id == batch_id, Extension.attempt_id.is_(None))) or 0
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


def _transition(attempt: Attempt, to: AttemptStatus, *, finished_at, reason: str, action: str,
                data: dict | None = None, where=()) -> bool:
    """in_progress → `to`, atomically; True (and one audit event) only for the caller that won."""
    result = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS, *where)
        .values(status=to, finished_at=finished_at, finish_reason=reason, version=Attempt.version + 1)
        .execution_options(synchronize_session=False))
    db.session.refresh(attempt)
    if result.rowcount != 1:
        return False
    audit.record(action, obj=attempt, data={
        "status": to.value, "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
        "deadline_at": attempt.deadline_at.isoformat(), "answered": attempt.answered_count, **(data or {})})
    return True


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
    return _transition(attempt, AttemptStatus.TIMED_OUT, finished_at=Attempt.deadline_at,
                       reason="timeout", action="attempt.timeout", where=[Attempt.deadline_at < cutoff])


def sweep(now: datetime | None = None) -> int:
    """Finalise every open attempt past its deadline + grace; returns how many this run closed.
    A second run changes nothing."""
    now = now or clock.now()
    ids = db.session.scalars(select(Attempt.id).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at < now).order_by(Attempt.id)).all()
    closed = 0
    for attempt_id in ids:
        attempt = db.session.get(Attempt, attempt_id)
        if attempt is not None and finalise_if_overdue(attempt, now):
            closed += 1
    return closed


# --- start -------------------------------------------------------------------------------------


def _pick_form(entry: RosterEntry, paper: Paper) -> PaperForm:
    forms = sorted(paper.forms, key=lambda f: f.label)
    if not forms:
        raise _conflict("本场考试的试卷没有可用的试卷套", "no_paper")
    if entry.form_label:
        for form in forms:
            if form.label == entry.form_label:
                return form
        raise _conflict(f"准考证指定的试卷套 {entry.form_label} 不存在", "no_paper")
    # Round-robin by ticket order: neighbours in the roster (and usually in the room) differ.
    position = db.session.scalar(select(func.count(RosterEntry.id)).where(
        RosterEntry.batch_id == entry.batch_id, RosterEntry.ticket_no < entry.ticket_no)) or 0
    return forms[position % len(forms)]


def start_attempt(entry: RosterEntry, *, now: datetime | None = None) -> Attempt:
    """The candidate's attempt, created at the first call (the same one afterwards).

    Raises Conflict with code `not_started` (before window start + the entry's start delay;
    details.starts_at), `window_closed`, `not_available` (batch not filed/open) or `no_paper`."""
    now = now or clock.now()
    existing = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))
    if existing is not None:
        finalise_if_overdue(existing, now)
        return existing
    batch = entry.batch
    if batch.state not in STARTABLE_STATES:
        raise _conflict("本场考试当前不可作答", "not_available", state=batch.state.value)
    opens_at = batch.window_start + timedelta(seconds=entry.start_delay_seconds or 0)
    if now < opens_at:
        raise _conflict("考试尚未开始，请稍候", "not_started", starts_at=opens_at.isoformat())
    if now >= batch.window_end:
        raise _conflict("考试时间已结束", "window_closed")
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    if paper is None or paper.status != PaperStatus.FROZEN:
        raise _conflict("本场考试的试卷尚未定稿", "no_paper")
    form = _pick_form(entry, paper)
    attempt = Attempt(batch_id=batch.id, roster_entry_id=entry.id, form_id=form.id,
                      order_seed=entry.order_seed, status=AttemptStatus.IN_PROGRESS, started_at=now,
                      deadline_at=compute_deadline(batch, now), last_seen_at=now, answered_count=0)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        # A concurrent first start won (unique roster_entry_id): same attempt again.
        existing = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))
        if existing is None:
            raise
        return existing
    opened = db.session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.state == BatchState.FILED)
        .values(state=BatchState.OPEN, version=Batch.version + 1)
        .execution_options(synchronize_session=False))
    if opened.rowcount == 1:
        db.session.refresh(batch)
        audit.record("batch.open", obj=batch, data={"trigger": "first_start", "attempt_id": attempt.id})
    audit.record("attempt.start", obj=attempt, data={
        "ticket_no": entry.ticket_no, "form": form.label, "order_seed": attempt.order_seed,
        "started_at": now.isoformat(), "deadline_at": attempt.deadline_at.isoformat()})
    return attempt


# --- autosave ----------------------------------------------------------------------------------


def form_item_of(attempt: Attempt, form_item_id: int) -> PaperFormItem:
    """The form item `form_item_id` of this attempt's form; NotFound otherwise."""
    fi = db.session.get(PaperFormItem, form_item_id)
    if fi is None or fi.form_id != attempt.form_id:
        raise NotFound("试题不存在")
    return fi


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
                                 grace_seconds=attempt.batch.grace_seconds)
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
    if not _transition(attempt, AttemptStatus.SUBMITTED, finished_at=now, reason="submitted",
                       action="attempt.submit",
                       where=[Attempt.deadline_at >= now - timedelta(seconds=grace)]):
        finalise_if_overdue(attempt, now)
    return attempt


def responses_of(attempt: Attempt) -> list[Response]:
    return list(db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)
                                   .order_by(Response.form_item_id)))


# Proctor actions, re-exported so callers use one module (`attempts.grant_extension(...)`).
from examsys.delivery.attempts_admin import grant_extension, reopen, terminate  # noqa: E402

__all__ = ["SaveResult", "answer_spec", "check_save_input",
           "compute_deadline", "extension_minutes", "finalise_if_overdue",
           "grant_extension", "reopen", "terminate", "form_item_of", "responses_of", "save_response", "start_attempt",
           "submit", "sweep"]
