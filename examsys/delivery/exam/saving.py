"""The autosave service: storing one answer, the hottest request of an exam, and the ONE place in
delivery and the API that ends its own transaction.

Why it commits itself: an answer is acknowledged only once it is durable, and on SQLite the save
must commit while it still holds its writer turn (examsys.sqlite_writer) — committing after the
turn is given back (as the request wrapper would) lets the next writer queue in SQLite's busy
handler instead, which under a room's load costs hundreds of milliseconds per save. So a save
reads first (deferred transaction, no lock), then `write_phase` ends that read, takes the turn,
begins with BEGIN IMMEDIATE, writes and commits, and only then replies. On PostgreSQL the common
save is often a single statement (upsert, history row and link together), which then runs as its
own transaction in autocommit (`history.upsert_and_save(alone=True)`): one round trip instead of
BEGIN, statement, COMMIT, and the commit below finds nothing left to do. Everything else in
delivery flushes and leaves the commit to the request (examsys.transaction).

- `save_fast`: the common case (live session, own open attempt, item on its form) read in one
  query (`autosave.load`, or a `hotsave` entry standing in for it) and written without ORM
  objects. None when it does not apply or the database changed since the read: nothing is
  written, and the caller takes the general path.
- `save`: the general path, with the ORM attempt; raises the right refusal.

Both return what must run after the commit (`Saved.after_commit`: the hotsave memory of this
save), so the process remembers only what is durable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import g

from examsys import clock, sqlite_writer
from examsys.audit import history
from examsys.delivery.exam import answers, attempts, autosave, candidate_auth, hotsave, integrity
from examsys.delivery.exam.autosave import SaveResult
from examsys.delivery.models import Attempt
from examsys.extensions import db


@dataclass
class Saved:
    """A committed save: its result, and what to run after the commit (None: nothing)."""

    result: SaveResult
    after_commit: Callable[[], None] | None = None

    def done(self) -> SaveResult:
        if self.after_commit is not None:
            self.after_commit()
        return self.result


@contextmanager
def write_phase(touch_session_id: int | None = None) -> Iterator[None]:
    """The write transaction of a save; the body commits. On SQLite: end the read transaction
    (loaded objects stay as they are — the writes re-check what matters, e.g. the attempt's
    guarded UPDATE), wait for the writer turn (threads and worker processes queue for it) and
    begin the next transaction with BEGIN IMMEDIATE, which then finds the database free; a
    failure rolls back at once, releasing the database lock before the next writer goes. On
    PostgreSQL: just the body (row locks do the job). `touch_session_id`: the candidate
    session whose deferred last-seen write is due."""
    if db.engine.dialect.name != "sqlite":
        if touch_session_id is not None:
            candidate_auth.touch_id(touch_session_id)
        yield
        return
    session = db.session()
    if session.in_transaction():
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()  # nothing written yet: only ends the read snapshot
        finally:
            session.expire_on_commit = expire
    with sqlite_writer.turn(db.engine.url.database):
        g.sqlite_begin_immediate = True
        try:
            if touch_session_id is not None:
                candidate_auth.touch_id(touch_session_id)
            yield
        except BaseException:
            db.session.rollback()  # release the database lock before the next thread goes
            raise
        finally:
            g.sqlite_begin_immediate = False


def save_fast(token_sha256: str, attempt_id: int, item_ref: int, answer: Any, seq: Any, *,
              flagged: bool | None, ip: str | None, user_agent: str | None, url: Callable[[], str],
              seb_header: str | None) -> Saved | None:
    """The common save, committed; None when the general path must answer (nothing written).
    `url`: the request's URL, asked for only when the batch needs the Safe Exam Browser."""
    key = (token_sha256, attempt_id, item_ref)

    def seb_ok(config_key):
        return integrity.seb_ok(config_key, url(), seb_header)

    with write_phase():
        now = clock.now()
        conn = db.session.connection()
        written = value = None
        fresh = False
        fast = hotsave.lookup(key, seq, now=now, seb_ok=seb_ok)
        if fast is not None:
            value = answers.normalise_spec(fast.spec, answer)
            if autosave.needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)[0]:
                fast = None  # the attempt row has something to record: read afresh (and re-check)
        if fast is None:
            fast, fresh = autosave.load(conn, token_sha256, attempt_id, item_ref, seq, now=now, seb_ok=seb_ok), True
            if fast is not None:
                value = answers.normalise_spec(fast.spec, answer)
        if fast is not None:
            if fast.touch_session:
                candidate_auth.touch_id(fast.session_id, now)
            written = autosave.write_fast(conn, fast, item_ref, value, seq, now=now, flagged=flagged, ip=ip,
                                          user_agent=user_agent)
        if written is None or written.result is None:
            db.session.rollback()  # not the common case, or it changed since the read
            hotsave.forget(key)
            return None
        db.session.commit()  # acknowledged only once durable: a failing commit answers 5xx
    remember = partial(_remember, key, fast, written.link, seq=seq, value=value, flagged=written.result.flagged,
                       now=now, ip=ip,
                       user_agent=user_agent, answered_count=written.answered_count,
                       bookkeeping=written.bookkeeping, touched_session=fast.touch_session, fresh=fresh)
    return Saved(written.result, remember)


def _remember(key, fast, link, **kwargs) -> None:
    """After a committed fast save: its read (hotsave) and its link, the attempt chain's head."""
    hotsave.remember(key, fast, **kwargs)
    if link is None:
        history.forget_head(fast.target.attempt_id)
    else:
        history.remember_head(fast.target.attempt_id, link)


def save(attempt: Attempt, item_ref: int, answer: Any, seq: int, *, flagged: bool | None, ip: str | None,
         user_agent: str | None, touch_session_id: int | None = None) -> Saved:
    """The general save, committed. Raises what `attempts.save_response` raises (ValidationError,
    NotFound, AttemptClosed)."""
    spec = attempts.answer_spec(attempt, item_ref)  # reads first: no lock on SQLite
    history.forget_head(attempt.id)  # the general path does not track the chain's head
    with write_phase(touch_session_id):
        result = attempts.save_response(attempt, item_ref, answer, seq, flagged=flagged, ip=ip,
                                        user_agent=user_agent, spec=spec)
        db.session.commit()  # acknowledged only once durable: a failing commit answers 5xx
    return Saved(result)


__all__ = ["Saved", "save", "save_fast", "write_phase"]
