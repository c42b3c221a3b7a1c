"""The paper's fast path: a candidate's paper request read in one Core statement.

In a start storm every candidate loads the paper once, right after starting. The general path
authenticates with the ORM (session, attempt, roster entry and batch as objects: about half the
request's CPU) before `candidate_paper` reads anything of its own; this path reads only the
columns the paper needs, with the session's checks, in one statement (on PostgreSQL on the
autosave's own autocommit pool: no BEGIN, no COMMIT), then builds the same paper. Anything it
does not cover -- no live session, not the bearer's attempt, an overdue attempt to finalise, a
failing Safe Exam Browser check, a last-seen touch due -- answers None, and the general path
answers it (and records what must be recorded), as for autosave."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from sqlalchemy import and_, bindparam, select

from examsys import clock, rawsql
from examsys.delivery.exam import papers, saving, timing
from examsys.delivery.exam.candidate_auth import session_live, touch_due_at
from examsys.delivery.models import Attempt, AttemptStatus, Batch, CandidateSession
from examsys.extensions import db

_cs, _a, _b = CandidateSession.__table__, Attempt.__table__, Batch.__table__
_READ = (
    select(_cs.c.ended_at, _cs.c.created_at, _cs.c.last_seen_at,
           _a.c.id.label("attempt_id"), _a.c.status, _a.c.deadline_at, _a.c.form_id, _a.c.order_seed,
           _b.c.id.label("batch_id"), _b.c.name, _b.c.duration_minutes, _b.c.grace_seconds,
           _b.c.shuffle_items, _b.c.shuffle_options, _b.c.seb_config_key)
    .select_from(_cs.join(_a, and_(_a.c.roster_entry_id == _cs.c.roster_entry_id,
                                   _a.c.id == bindparam("attempt_id")))
                 .join(_b, _b.c.id == _a.c.batch_id))
    .where(_cs.c.token_hash == bindparam("token_hash"))
)


def paper_fast(token_sha256: str, attempt_id: int, *, seb_ok: Callable[[str], bool]) -> dict | None:
    """The paper response's body for the bearer's own attempt, or None (the general path then
    answers). `seb_ok(config_key)`: whether the request passes the batch's Safe Exam Browser check.
    Raises nothing of its own: every refusal is the general path's."""
    now = clock.now()
    own = saving.own_connection()
    with saving.autocommit_engine().connect() if own else nullcontext(db.session.connection()) as conn:
        row = rawsql.fetch(conn, _READ, {"token_hash": token_sha256, "attempt_id": attempt_id})
        if row is None or not session_live(row.ended_at, row.created_at, now) or touch_due_at(row.last_seen_at, now):
            return None
        if row.status == AttemptStatus.IN_PROGRESS and not timing.accepts_saves(row.deadline_at, row.grace_seconds,
                                                                                  now):
            return None  # overdue: the general path finalises it first
        if row.seb_config_key and not seb_ok(row.seb_config_key):
            return None
        paper = papers.paper_of(row.form_id, row.order_seed, shuffle_items=bool(row.shuffle_items),
                                shuffle_options=bool(row.shuffle_options), conn=conn)
    return {"attempt_id": row.attempt_id, "exam_id": row.batch_id, "title": row.name,
            "duration_minutes": row.duration_minutes, **paper}


__all__ = ["paper_fast"]
