"""The writes: `write` (general, under the attempt's lock) and `write_fast` (conditional on
what `read.load` found)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from examsys import rawsql
from examsys.assembly.models import PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.audit import chain, history
from examsys.audit.models import AuditEvent
from examsys.delivery.exam import answers, integrity
from examsys.delivery.exam.autosave.read import FastSave
from examsys.delivery.exam.autosave.types import ATTEMPT_SEEN_EVERY, SaveResult, SaveTarget, Written
from examsys.delivery.models import Attempt, CandidateSession, Response, still_open
from examsys.extensions import db

_cs, _a, _r, _ev = CandidateSession.__table__, Attempt.__table__, Response.__table__, AuditEvent.__table__
_fi = PaperFormItem.__table__
# The attempt's bookkeeping, guarded: only an open attempt inside deadline + grace matches. It
# takes the attempt's row lock (PostgreSQL) or runs under the write lock (SQLite), so saves of
# one attempt and its submit are serialised (a save never gets in after a submit) and
# answered_count stays exact. No version bump: proctors' optimistic locks should not trip over
# every autosave.
_TOUCH_ATTEMPT = (
    update(_a)
    .where(_a.c.id == bindparam("p_attempt"), still_open(_a.c.deadline_at >= bindparam("p_cutoff")))
    .values(last_seen_at=bindparam("p_now"), last_ip=bindparam("p_ip"), last_user_agent=bindparam("p_ua"),
            answered_count=_a.c.answered_count + bindparam("p_delta"))
    .returning(_a.c.answered_count)
)
_STORED = select(_r.c.seq, _r.c.answer, _r.c.flagged, _r.c.saved_at).where(
    _r.c.attempt_id == bindparam("attempt_id"), _r.c.form_item_id == bindparam("form_item_id"))
_COUNT = (update(_a).where(_a.c.id == bindparam("p_attempt"))
          .values(answered_count=_a.c.answered_count + bindparam("p_delta")))
_ITEM_VERSION = select(EFFECTIVE_VERSION_ID).where(_fi.c.id == bindparam("form_item_id")).scalar_subquery()
_UPSERTS: dict[tuple[str, bool, str], Any] = {}


def _upsert(dialect: str, keep_flag: bool, mode: str):
    """INSERT … ON CONFLICT (attempt, item) DO UPDATE … RETURNING flagged. `mode`:
    - "newer": the update happens only for a newer seq (the general path, under the attempt lock);
    - "expect": only over the stored seq `expect_seq` that was read — never over a row that
      changed since (NULL: there was none);
    - "guarded": as "expect", and nothing at all unless the attempt is open inside deadline +
      grace (`cutoff`), the session `session_id` is still live and the item still shows version
      `version_id`: the attempt row is read FOR SHARE (PostgreSQL: a submit waits for this
      save's commit, or this save sees the submit), under the write lock on SQLite. One
      statement for the common save, with no bookkeeping UPDATE of the attempt; it re-checks
      everything a read earlier in the request (or a `hotsave` entry) relied on.
    - "alone": as "guarded", and nothing unless the attempt's chain has no event yet at
      `next_seq` (the link this save will add after the head this process remembers): the
      statement that stands alone as its own transaction writes nothing when that head moved.
    - "alone_row": as "alone", the attempt row locked FOR NO KEY UPDATE instead of FOR SHARE:
      the statement also updates that row or the session's (`BOOKKEEPING_TAIL`, `SESSION_TAIL`).
      Two saves of one attempt then queue on the lock; each holding a shared lock and wanting to
      raise it, they would deadlock.
    `keep_flag` leaves the stored flag alone (the save did not say)."""
    stmt = _UPSERTS.get((dialect, keep_flag, mode))
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        names = ("attempt_id", "form_item_id", "answer", "seq", "flagged", "saved_at")
        if mode in ("guarded", "alone", "alone_row"):
            session_live_ = (select(_cs.c.id).where(_cs.c.id == bindparam("session_id"), _cs.c.ended_at.is_(None),
                                                    _cs.c.roster_entry_id == _a.c.roster_entry_id).exists())
            checks = [_a.c.id == bindparam("attempt_id"), still_open(_a.c.deadline_at >= bindparam("cutoff")),
                      session_live_, bindparam("version_id") == _ITEM_VERSION]
            if mode in ("alone", "alone_row"):
                checks.append(~select(_ev.c.id).where(_ev.c.scope == bindparam("next_scope"),
                                                      _ev.c.seq == bindparam("next_seq")).exists())
            locked = select(_a.c.id).where(*checks)
            locked = (locked.with_for_update(key_share=True, of=_a) if mode == "alone_row"
                      else locked.with_for_update(read=True, of=_a))
            is_open = locked.exists()
            ins = insert(_r).from_select(
                list(names), select(*(bindparam(n, type_=_r.c[n].type) for n in names)).where(is_open))
        else:
            ins = insert(_r).values({n: bindparam(n) for n in names})
        stmt = ins.on_conflict_do_update(
            index_elements=[_r.c.attempt_id, _r.c.form_item_id],
            set_={"answer": ins.excluded.answer, "seq": ins.excluded.seq, "saved_at": ins.excluded.saved_at,
                  "flagged": _r.c.flagged if keep_flag else ins.excluded.flagged},
            where=(_r.c.seq < ins.excluded.seq) if mode == "newer" else (_r.c.seq == bindparam("expect_seq")),
        ).returning(_r.c.flagged)
        _UPSERTS[(dialect, keep_flag, mode)] = stmt
    return stmt


# PostgreSQL, a save standing alone (`write_fast`) that has the attempt row's bookkeeping to
# record (answered count, last seen, address, browser: `needs_bookkeeping`) or whose session's
# last-seen time is due: those UPDATEs are further parts of the save's one statement, run only if
# its upsert wrote (`up`, history.upsert_and_save's), so that all of it or none is committed.
# Their parameters are the upsert's (attempt_id, session_id, saved_at) and the bookkeeping's own.
BOOKKEEPING_TAIL = (f", att AS (UPDATE {_a.name} SET last_seen_at = %(saved_at)s, last_ip = %(p_ip)s, "  # noqa: S608
                    "last_user_agent = %(p_ua)s, answered_count = answered_count + %(p_delta)s "
                    "WHERE id = %(attempt_id)s AND EXISTS (SELECT 1 FROM up) RETURNING answered_count)")
SESSION_TAIL = (f", ses AS (UPDATE {_cs.name} SET last_seen_at = %(saved_at)s "  # noqa: S608
                "WHERE id = %(session_id)s AND EXISTS (SELECT 1 FROM up))")
_ANSWERED = "(SELECT answered_count FROM att)"


def _stored_state(stored, seq: int, value: Any, flagged: bool | None) -> SaveResult:
    return SaveResult(stored=False, seq=stored.seq, saved_at=stored.saved_at, answer=stored.answer,
                      flagged=stored.flagged,
                      duplicate=(seq == stored.seq and stored.answer == value
                                 and (flagged is None or flagged == stored.flagged)))


def _touch_params(target: SaveTarget, now: datetime, ip: str | None, user_agent: str | None, delta: int) -> dict:
    return {"p_attempt": target.attempt_id, "p_cutoff": now - timedelta(seconds=target.grace_seconds),
            "p_now": now, "p_ip": ip or target.last_ip,
            "p_ua": (user_agent or target.last_user_agent or "")[:255] or None, "p_delta": delta}


def _facts(target: SaveTarget, now: datetime, answered: int, ip, user_agent) -> list:
    return integrity.save_facts(target.attempt_id, now=now, started_at=target.started_at, answered=answered,
                                previous_seen=target.last_seen_at, previous_ip=target.last_ip,
                                previous_user_agent=target.last_user_agent, ip=ip, user_agent=user_agent)


def write(target: SaveTarget, form_item_id: int, value: Any, seq: int, *, now: datetime,
          flagged: bool | None, ip: str | None, user_agent: str | None) -> Written:
    """The general write: store the normalised `value` if `seq` is newer than the stored one
    (flushes, never commits). Result None: the attempt is no longer open inside deadline +
    grace, nothing was written. A stale or repeated seq gets the stored state back."""
    conn = db.session.connection()
    touched = conn.execute(_TOUCH_ATTEMPT, _touch_params(target, now, ip, user_agent, 0)).first()
    if touched is None:
        return Written(result=None)
    answered_count = touched[0]
    key = {"attempt_id": target.attempt_id, "form_item_id": form_item_id}
    stored = conn.execute(_STORED, key).first()
    if stored is not None and seq <= stored.seq:
        return Written(_stored_state(stored, seq, value, flagged), answered_count)
    written = conn.execute(_upsert(conn.dialect.name, flagged is None, "newer"), {
        **key, "answer": value, "seq": seq, "flagged": bool(flagged), "saved_at": now}).first()
    if written is None:  # a newer seq got in first (not expected under the attempt lock)
        return Written(_stored_state(conn.execute(_STORED, key).first(), seq, value, flagged), answered_count)
    was_answered = stored is not None and answers.is_answered(stored.answer)
    delta = int(answers.is_answered(value)) - int(was_answered)
    if delta:
        conn.execute(_COUNT, {"p_attempt": target.attempt_id, "p_delta": delta})
    link = _history(conn, target, form_item_id, value, seq, written[0], now, ip, user_agent, head=None)
    facts = _facts(target, now, answered_count + delta, ip, user_agent)
    integrity.record_facts(target.attempt_id, facts)
    return Written(SaveResult(stored=True, seq=seq, saved_at=now, answer=value, flagged=written[0]),
                   answered_count + delta, link=None if facts else link)


def _history(conn, target: SaveTarget, form_item_id: int, value: Any, seq: int, flagged: bool, now: datetime,
             ip: str | None, user_agent: str | None, head: tuple[int, str] | None,
             prepared: history.Prepared | None = None) -> tuple[int, str]:
    return history.saved(conn, attempt_id=target.attempt_id, organisation_id=target.organisation_id,
                         form_item_id=form_item_id, seq=seq, answer=value, flagged=flagged, now=now, ip=ip,
                         user_agent=user_agent, head=head, prepared=prepared)


def prepare_link(dialect: str, fast: FastSave, form_item_id: int, value: Any, seq: int, *, now: datetime,
                 flagged: bool | None, ip: str | None, user_agent: str | None) -> history.Prepared | None:
    """The save's history row and link worked out before its write, for `write_fast(prepared=…)`:
    on SQLite, outside the writer turn (its Python work, slowed there by every other thread of
    the process, would hold up every writer queued behind it). For the flag the save will leave
    stored and the chain's head as known now; None when the head is not known."""
    head = fast.head or history.known_head(fast.target.attempt_id)
    if head is None:
        return None
    target = fast.target
    return history.prepare(dialect=dialect, attempt_id=target.attempt_id, organisation_id=target.organisation_id,
                           form_item_id=form_item_id, seq=seq, answer=value,
                           flagged=fast.stored_flagged if flagged is None else bool(flagged), now=now, ip=ip,
                           user_agent=user_agent, head=head)


def needs_bookkeeping(fast: FastSave, value: Any, *, now: datetime, ip: str | None,
                      user_agent: str | None) -> tuple[bool, int]:
    """(whether the attempt row must be updated, answered-count delta): the count changes, the
    last-seen time is ATTEMPT_SEEN_EVERY old, or the address or browser changed."""
    target = fast.target
    delta = int(answers.is_answered(value)) - int(fast.was_answered)
    ua = (user_agent or target.last_user_agent or "")[:255] or None
    return (delta != 0 or target.last_seen_at is None or now - target.last_seen_at >= ATTEMPT_SEEN_EVERY
            or (ip or target.last_ip) != target.last_ip or ua != target.last_user_agent), delta


def alone_facts(fast: FastSave, value: Any, *, now: datetime, ip: str | None,
                user_agent: str | None) -> list | None:
    """PostgreSQL: the server facts of a save that can be its one standalone statement (see
    `write_fast`), i.e. [] -- or None when it cannot: a fact is to be recorded, or the attempt
    chain's head is not known. The attempt row's bookkeeping and the session's last-seen time
    are parts of that statement."""
    if (fast.head or history.known_head(fast.target.attempt_id)) is None:
        return None
    delta = needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)[1]
    facts = _facts(fast.target, now, fast.answered_count + delta, ip, user_agent)
    return None if facts else facts


def write_fast(conn, fast: FastSave, form_item_id: int, value: Any, seq: int, *, now: datetime,
               flagged: bool | None, ip: str | None, user_agent: str | None, facts: list | None = None,
               prepared: history.Prepared | None = None) -> Written:
    """The fast write, conditional on what `load` read (flushes, never commits, except: on
    PostgreSQL the one statement that is all the save writes runs, with nothing sent before it,
    as its own transaction, `history.upsert_and_save(alone=True)`, the attempt row's bookkeeping
    and the session's last-seen time included: `BOOKKEEPING_TAIL`): one guarded upsert when the
    attempt's bookkeeping has nothing to record (answered count unchanged, seen within
    ATTEMPT_SEEN_EVERY from the same address and browser), else the bookkeeping UPDATE and the
    upsert. The session's last-seen time, when due (`fast.touch_session`), is written by the
    caller unless the save stands alone. Result None when the attempt closed or the response
    changed since the read (or, alone, the link could not follow its head): nothing was written,
    and the caller rolls back and takes the general path. `facts`: the save's server facts when already known
    (`alone_facts`). `prepared`: the history row and link from `prepare_link` (used when they
    still fit)."""
    target = fast.target
    bookkeeping, delta = needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)
    params = {"attempt_id": target.attempt_id, "form_item_id": form_item_id, "answer": value, "seq": seq,
              "flagged": bool(flagged), "saved_at": now, "expect_seq": fast.stored_seq}
    answered_count = fast.answered_count + delta
    head = fast.head or history.known_head(target.attempt_id)
    pg = conn.dialect.name == "postgresql"
    if facts is None and not bookkeeping:
        facts = _facts(target, now, answered_count, ip, user_agent)  # known before the write
    # One statement for the upsert, its history row and its link (one round trip fewer); when it
    # is all the save writes and nothing was sent yet, that statement is the transaction, and the
    # attempt row's bookkeeping and the session's last-seen time, when due, are parts of it.
    alone = pg and head is not None and facts == [] and rawsql.idle(conn)
    if bookkeeping and not alone:
        touched = conn.execute(_TOUCH_ATTEMPT, _touch_params(target, now, ip, user_agent, delta)).first()
        if touched is None:
            return Written(result=None)
        answered_count = touched[0]
        upsert = _upsert(conn.dialect.name, flagged is None, "expect")
        facts = _facts(target, now, answered_count, ip, user_agent)  # known before the write
    else:
        params.update(cutoff=now - timedelta(seconds=target.grace_seconds), session_id=fast.session_id,
                      version_id=fast.version_id)
        upsert = _upsert(conn.dialect.name, flagged is None, "guarded")
    tail, extra = "", "NULL::integer"
    if alone and bookkeeping:
        touch = _touch_params(target, now, ip, user_agent, delta)
        params.update(p_ip=touch["p_ip"], p_ua=touch["p_ua"], p_delta=delta)
        tail, extra = BOOKKEEPING_TAIL, _ANSWERED
    if alone and fast.touch_session:
        tail += SESSION_TAIL
    if head is not None and pg:
        for _try in range(2):  # alone, a head moved by another worker comes back: once more after it
            if alone:
                params.update(next_scope=chain.attempt_scope(target.attempt_id), next_seq=head[0] + 1)
                upsert = _upsert(conn.dialect.name, flagged is None, "alone_row" if tail else "alone")
            sql, args = rawsql.bound(conn, upsert, params)
            out = history.upsert_and_save(
                conn, sql, args, expect_flagged=fast.stored_flagged if flagged is None else bool(flagged),
                attempt_id=target.attempt_id, organisation_id=target.organisation_id, form_item_id=form_item_id,
                seq=seq, answer=value, now=now, ip=ip, user_agent=user_agent, head=head, alone=alone,
                tail=tail, extra=extra)
            if not isinstance(out, history.HeadMoved):
                break
            head = out.head
        if out is None or isinstance(out, history.HeadMoved):
            return Written(result=None)  # nothing written
        stored_flag, link = out.flagged, out.link
        if out.extra is not None:
            answered_count = out.extra  # the count as the statement left it
    else:
        written = rawsql.run(conn, upsert, params)
        if written is None:
            return Written(result=None)
        stored_flag = bool(written[0])  # on the driver's cursor: SQLite gives 0/1
        link = _history(conn, target, form_item_id, value, seq, stored_flag, now, ip, user_agent, head=head,
                        prepared=prepared)
    integrity.record_facts(target.attempt_id, facts)
    return Written(SaveResult(stored=True, seq=seq, saved_at=now, answer=value, flagged=stored_flag), answered_count,
                   bookkeeping, link=None if facts else link)
