"""The first start's fast path: a candidate's first start of an open batch, authenticated from
one Core read instead of the ORM.

Every candidate of a start storm starts once. The general path loads the session, roster entry,
batch and (none yet) attempt as ORM objects to authenticate -- about a third of the request's
CPU -- before `starting.start_attempt` runs; this path reads the columns starting needs in one
statement and runs the same `start_attempt` on plain records of them. It covers the common case
only: a live session whose last-seen touch is not due, the bearer's own batch, open (the first
start of a filed batch opens it: the general path does that), without the Safe Exam Browser,
no attempt yet, and startable now. Anything else answers None, and the general path answers it
(refusals, evidence and all), as for autosave and the paper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g
from sqlalchemy import bindparam, select

from examsys import clock, rawsql
from examsys.delivery.exam import starting
from examsys.delivery.exam.candidate_auth import audit_context, session_live, touch_due_at
from examsys.delivery.models import Attempt, Batch, BatchState, CandidateSession, RosterEntry
from examsys.extensions import db

_cs, _re, _b, _a = CandidateSession.__table__, RosterEntry.__table__, Batch.__table__, Attempt.__table__
_READ = (
    select(_cs.c.ended_at, _cs.c.created_at, _cs.c.last_seen_at,
           _re.c.id.label("entry_id"), _re.c.ticket_no, _re.c.order_seed, _re.c.start_delay_seconds,
           _re.c.form_label, _re.c.batch_id, _b.c.state, _b.c.window_start, _b.c.window_end, _b.c.paper_id,
           _b.c.duration_minutes, _b.c.grace_seconds, _b.c.seb_config_key, _b.c.organisation_id,
           _a.c.id.label("attempt_id"))
    .select_from(_cs.join(_re, _re.c.id == _cs.c.roster_entry_id).join(_b, _b.c.id == _re.c.batch_id)
                 .outerjoin(_a, _a.c.roster_entry_id == _re.c.id))
    .where(_cs.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """What starting reads of the batch (as `Batch` has them)."""

    id: int
    state: BatchState
    window_start: datetime
    window_end: datetime
    paper_id: int | None
    duration_minutes: int
    organisation_id: int


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What starting reads of the roster entry (as `RosterEntry` has them)."""

    id: int
    ticket_no: str
    order_seed: int
    start_delay_seconds: int | None
    form_label: str | None
    batch_id: int
    batch: BatchFacts


def start_fast(token_sha256: str, exam_id: int, *, ip: str | None,
               user_agent: str | None) -> tuple[Attempt, int] | None:
    """(the new attempt, the batch's grace seconds), or None: the general path then answers.
    Raises what `starting.start_attempt` raises past the checks above: Conflict `no_paper` (the
    batch's paper not frozen, or no form for the candidate), as the general path would."""
    now = clock.now()
    row = rawsql.fetch(db.session.connection(), _READ, {"token_hash": token_sha256})
    if row is None or not session_live(row.ended_at, row.created_at, now) or touch_due_at(row.last_seen_at, now):
        return None
    if row.batch_id != exam_id or row.attempt_id is not None or row.seb_config_key or row.state != BatchState.OPEN:
        return None
    entry = EntryFacts(row.entry_id, row.ticket_no, row.order_seed, row.start_delay_seconds, row.form_label,
                       row.batch_id, BatchFacts(row.batch_id, row.state, row.window_start, row.window_end,
                                                row.paper_id, row.duration_minutes, row.organisation_id))
    if starting.exam_status(entry, None, now).refusal is not None:
        return None
    g.audit_context = audit_context(row.ticket_no, row.organisation_id, ip=ip, user_agent=user_agent)
    return starting.start_attempt(entry, now=now, existing=None), row.grace_seconds


__all__ = ["start_fast"]
