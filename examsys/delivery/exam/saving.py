"""The autosave service: storing one answer, the hottest request of an exam, and the ONE place in
delivery and the API that ends its own transaction.

Why it commits itself: an answer is acknowledged only once it is durable, and on SQLite the save
must commit while it still holds its writer turn (examsys.sqlite_writer) — committing after the
turn is given back (as the request wrapper would) lets the next writer queue in SQLite's busy
handler instead, which under a room's load costs hundreds of milliseconds per save. So a save
reads first (deferred transaction, no lock), then `write_phase` ends that read, takes the turn,
begins with BEGIN IMMEDIATE, writes and commits, and only then replies; nothing else runs in
the turn. On PostgreSQL the common
save is often a single statement (upsert, history row and link together), which then runs as its
own transaction in autocommit (`history.upsert_and_save(alone=True)`): one round trip instead of
BEGIN, statement, COMMIT, and the commit below finds nothing left to do. A fresh read
(`autosave.load`) runs outside a transaction too and brings the attempt chain's head, so a save
this worker has never seen (at scale, most: a candidate's saves land on any worker) is two
round trips, the read and that statement. Everything else in
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

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import current_app, g
from sqlalchemy import create_engine

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


class WritePhase:
    """The body's handle on its write phase: `abort()` when it wrote nothing that should stand."""

    aborted = False

    def abort(self) -> None:
        db.session.rollback()  # inside the turn: the database lock goes before the next writer does
        self.aborted = True


@contextmanager
def write_phase(touch_session_id: int | None = None) -> Iterator[WritePhase]:
    """The write transaction of a save, committed at the end of the block (unless the body
    calls `abort()`); the body must not commit. On SQLite: end the read transaction (loaded
    objects stay as they are — the writes re-check what matters, e.g. the attempt's guarded
    UPDATE), check out the connection, then wait for the writer turn (threads and worker
    processes queue for it) and, holding it, only BEGIN IMMEDIATE (which then finds the database
    free), the body's statements and the driver's COMMIT: the ORM session's own bookkeeping of
    the commit runs after the turn is given back, so the next writer does not wait for it. A
    failure rolls back at once, releasing the database lock before the next writer goes. On
    PostgreSQL: the body, then the commit (row locks do the job). `touch_session_id`: the
    candidate session whose deferred last-seen write is due."""
    phase = WritePhase()
    if db.engine.dialect.name != "sqlite":
        if touch_session_id is not None:
            candidate_auth.touch_id(touch_session_id)
        yield phase
        if not phase.aborted:
            db.session.commit()  # acknowledged only once durable: a failing commit answers 5xx
        return
    session = db.session()
    if session.in_transaction():
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()  # nothing written yet: only ends the read snapshot
        finally:
            session.expire_on_commit = expire
    g.sqlite_begin_in_turn = True  # examsys.web sends no BEGIN: it is sent below, in the turn
    try:
        driver = session.connection().connection.driver_connection
    finally:
        g.sqlite_begin_in_turn = False
    own = not driver.in_transaction  # else inside a transaction that is not ours (tests' outer one)
    with sqlite_writer.turn(db.engine.url.database):
        try:
            if own:
                driver.execute("BEGIN IMMEDIATE")
            if touch_session_id is not None:
                candidate_auth.touch_id(touch_session_id)
            yield phase
            if not phase.aborted and own:
                session.flush()
                driver.commit()  # acknowledged only once durable: a failing commit answers 5xx
        except BaseException:
            session.rollback()  # release the database lock before the next thread goes
            raise
    if not phase.aborted:
        try:  # the session's side of it; nothing is left to send (unless not `own`)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def own_connection() -> bool:
    """Whether a save (or the paper's fast read, examsys.delivery.exam.paperfast) may run on a
    pooled connection of its own, without the ORM session: PostgreSQL, and the request's session
    neither begun nor bound to an outer transaction (a test's `db` fixture binds it to one; its
    saves then take the session's connection)."""
    if db.engine.dialect.name != "postgresql" or db.session.session_factory.kw.get("bind") is not None:
        return False
    return not (db.session.registry.has() and db.session().in_transaction())


_ENGINE_KEY = "examsys.autosave_engine"
_ENGINE_LOCK = threading.Lock()


def autocommit_engine():
    """PostgreSQL: the app's database through a pool of its own whose connections stay in
    autocommit, for the saves that run without the ORM session. On the request session's pool
    each such save switched its connection to autocommit and back (two calls into the driver,
    under its lock); here the connections are made so once. Same URL and pool settings as the
    app's engine; nothing connects until the first save."""
    engine = current_app.extensions.get(_ENGINE_KEY)
    if engine is None:
        with _ENGINE_LOCK:
            engine = current_app.extensions.get(_ENGINE_KEY)
            if engine is None:
                engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT",
                                       **current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
                current_app.extensions[_ENGINE_KEY] = engine
    return engine


def save_fast(token_sha256: str, attempt_id: int, item_ref: int, answer: Any, seq: Any, *,
              flagged: bool | None, ip: str | None, user_agent: str | None, url: Callable[[], str],
              seb_header: str | None, hot: bool = True) -> Saved | None:
    """The common save, committed; None when the general path must answer (nothing written).
    `url`: the request's URL, asked for only when the batch needs the Safe Exam Browser. A
    remembered read (`hotsave`) that the write finds out of date is forgotten and the save read
    afresh, once (`hot=False`: without looking for a remembered read).

    On PostgreSQL the usual save (nothing for the attempt row's bookkeeping, no fact to record)
    runs without the ORM session, on a pooled connection of its own: the read (when nothing is
    remembered) and the one statement that is the save's transaction, both in autocommit. The
    session's connection and commit machinery cost more than that statement's round trip."""
    key = (token_sha256, attempt_id, item_ref)

    def seb_ok(config_key):
        return integrity.seb_ok(config_key, url(), seb_header)

    def again() -> Saved | None:
        # A remembered read that no longer holds: most often another worker process stored this
        # item's later saves (a candidate's requests reach whichever worker their connection
        # does). Read afresh once: the fast path still applies far more often than not.
        return save_fast(token_sha256, attempt_id, item_ref, answer, seq, flagged=flagged, ip=ip,
                         user_agent=user_agent, url=url, seb_header=seb_header, hot=False)

    # The read, before the write phase: on SQLite no writer waits behind this request's reading
    # (the writes below re-check what they rely on: deadline, session, stored seq).
    now = clock.now()
    fresh = False
    value = None
    fast = hotsave.lookup(key, seq, now=now, seb_ok=seb_ok) if hot else None
    if fast is not None:
        value = answers.normalise_spec(fast.spec, answer)
        if autosave.needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)[0]:
            fast = None  # the attempt row has something to record: read afresh (and re-check)
    if own_connection():
        # Read and write both in autocommit, on a connection that is always so.
        with autocommit_engine().connect() as conn:
            if fast is None:
                fast, fresh = autosave.load(conn, token_sha256, attempt_id, item_ref, seq, now=now,
                                            seb_ok=seb_ok), True
                if fast is None:
                    hotsave.forget(key)
                    return None
                value = answers.normalise_spec(fast.spec, answer)
            now = clock.now()
            facts = autosave.alone_facts(fast, value, now=now, ip=ip, user_agent=user_agent)
            if facts is not None:
                written = autosave.write_fast(conn, fast, item_ref, value, seq, now=now, flagged=flagged, ip=ip,
                                              user_agent=user_agent, facts=facts)
                if written.result is None:  # nothing written: it changed since the read
                    hotsave.forget(key)
                    return None if fresh else again()
                return _saved(key, fast, written, seq=seq, value=value, now=now, ip=ip, user_agent=user_agent,
                              fresh=fresh)
        # Something for the attempt row or the process record besides the save: the session's
        # transaction below, after the read just made (the write re-checks what it found).
    if fast is None:
        fast, fresh = autosave.load(db.session.connection(), token_sha256, attempt_id, item_ref, seq, now=now,
                                    seb_ok=seb_ok), True
        if fast is None:
            db.session.rollback()
            hotsave.forget(key)
            return None
        value = answers.normalise_spec(fast.spec, answer)
    # The save's moment and, on SQLite, its history row and link are worked out before the write
    # phase: nothing but the statements and the commit runs in the writer turn.
    now = clock.now()
    prepared = None
    if db.engine.dialect.name == "sqlite":
        prepared = autosave.prepare_link("sqlite", fast, item_ref, value, seq, now=now, flagged=flagged, ip=ip,
                                         user_agent=user_agent)
    with write_phase() as phase:
        conn = db.session.connection()
        if fast.touch_session:
            candidate_auth.touch_id(fast.session_id, now)
        written = autosave.write_fast(conn, fast, item_ref, value, seq, now=now, flagged=flagged, ip=ip,
                                      user_agent=user_agent, prepared=prepared)
        if written.result is None:
            phase.abort()  # it changed since the read
    if phase.aborted:
        hotsave.forget(key)
        return None if fresh else again()
    return _saved(key, fast, written, seq=seq, value=value, now=now, ip=ip, user_agent=user_agent, fresh=fresh)


def _saved(key, fast, written, *, seq: int, value: Any, now, ip: str | None, user_agent: str | None,
           fresh: bool) -> Saved:
    remember = partial(_remember, key, fast, written.link, seq=seq, value=value, flagged=written.result.flagged,
                       now=now, ip=ip, user_agent=user_agent, answered_count=written.answered_count,
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
    return Saved(result)


__all__ = ["Saved", "WritePhase", "autocommit_engine", "own_connection", "save", "save_fast", "write_phase"]
