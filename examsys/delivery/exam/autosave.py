"""Autosave: storing one answer of an open attempt — the hottest path of an exam (every change of
every candidate in a room).

One implementation of the write (`write`), used by both callers (`saving` runs them):
- `attempts.save_response` (ORM attempt in hand: services, tests, the general path);
- the fast path: `load` reads, in ONE query and without ORM objects, everything a save of
  the common case needs (live session, own attempt in progress inside deadline + grace, the item
  on the attempt's form and its effective version, the batch's grace and SEB key). Any other
  case returns None and the caller takes the general path, which raises the right error and
  records what must be recorded (finalising an overdue attempt, a stale session, a failed SEB
  check). So the fast path decides nothing the general path would decide differently.

Both writes are fixed statements built once (bound parameters, compiled-statement cache hits).
`write` (general): the guarded bookkeeping UPDATE of the attempt (doubles as the lock: only an
open attempt inside deadline + grace matches, so a save never gets in after a submit), the stored
response's seq, the conditional upsert (newer seq only) and, when answered-ness changed, the
count. `write_fast`: usually ONE guarded upsert that re-checks in the database everything the
read relied on; the bookkeeping UPDATE only when there is something to record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from examsys import rawsql
from examsys.assembly.models import PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.audit import chain, history
from examsys.audit.models import AuditEvent
from examsys.bank.models import ItemVersion
from examsys.delivery.exam import answers, integrity, timing
from examsys.delivery.exam.candidate_auth import LAST_SEEN_EVERY, session_live
from examsys.delivery.models import Attempt, AttemptStatus, Batch, CandidateSession, Response
from examsys.errors import NotFound, ValidationError
from examsys.extensions import db

MAX_SEQ = 2**31 - 1
# How stale an attempt's last-seen time may get while its candidate keeps saving (the proctor
# console shows minutes; a long silence is minutes): saves in between skip that UPDATE.
ATTEMPT_SEEN_EVERY = timedelta(seconds=15)


@dataclass
class SaveResult:
    """`stored`: this call changed the response. Otherwise the stored state is returned: for a
    replay of the stored seq with the same answer (`duplicate`), or a stale seq (API: 409)."""

    stored: bool
    seq: int
    saved_at: datetime
    answer: Any
    flagged: bool = False
    duplicate: bool = False


@dataclass(slots=True)
class SaveTarget:
    """What a save needs to know about its attempt, as read before the write."""

    attempt_id: int
    started_at: datetime
    last_seen_at: datetime | None
    last_ip: str | None
    last_user_agent: str | None
    grace_seconds: int
    organisation_id: int | None = None


@dataclass(slots=True)
class Written:
    """The outcome of `write`: None `result` when the attempt was no longer open (nothing stored);
    `answered_count` after the write."""

    result: SaveResult | None
    answered_count: int = 0
    bookkeeping: bool = False  # the attempt row was updated (last seen, address, browser, count)
    # The save's link in the attempt's chain when it is the chain's head at commit (no other
    # event was appended after it in this transaction), else None.
    link: tuple[int, str] | None = None


def check_save_input(seq: Any, flagged: Any) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise ValidationError("seq 应为正整数", field="seq")
    if flagged is not None and not isinstance(flagged, bool):
        raise ValidationError("flagged 应为 true 或 false", field="flagged")


# --- answer specs --------------------------------------------------------------------------------

# Per-process cache of what answer checking needs, keyed by (form item, effective version): item
# versions on a frozen paper never change, and a replacement changes the key, so an entry can
# never be stale. Bounded; correctness never depends on it (a miss just reads the version).
_SPEC_CACHE: OrderedDict[tuple[int, int], answers.AnswerSpec] = OrderedDict()
_SPEC_CACHE_SIZE = 4096
_SPEC_LOCK = threading.Lock()

_fi = PaperFormItem.__table__
_ITEM = select(_fi.c.form_id, EFFECTIVE_VERSION_ID).where(_fi.c.id == bindparam("item_ref"))


def spec_for(form_item_id: int, version_id: int) -> answers.AnswerSpec:
    key = (form_item_id, version_id)
    with _SPEC_LOCK:
        spec = _SPEC_CACHE.get(key)
        if spec is not None:
            _SPEC_CACHE.move_to_end(key)
            return spec
    version = db.session.get(ItemVersion, version_id)
    spec = answers.spec_of(version.qtype.value, version.content or {})
    with _SPEC_LOCK:
        _SPEC_CACHE[key] = spec
        while len(_SPEC_CACHE) > _SPEC_CACHE_SIZE:
            _SPEC_CACHE.popitem(last=False)
    return spec


def answer_spec(attempt: Attempt, form_item_id: int) -> answers.AnswerSpec:
    """The AnswerSpec of item `form_item_id` of this attempt's form (NotFound otherwise)."""
    row = db.session.connection().execute(_ITEM, {"item_ref": form_item_id}).first()
    if row is None or row[0] != attempt.form_id:
        raise NotFound("试题不存在")
    return spec_for(form_item_id, row[1])


# --- the fast path's one read ----------------------------------------------------------------------

_cs, _a, _b, _r, _ev = (CandidateSession.__table__, Attempt.__table__, Batch.__table__, Response.__table__,
                        AuditEvent.__table__)
# The attempt chain's head (its last link), read with the rest: the save's link follows it
# without a read of its own (the unique (scope, seq) index answers it from its last entry).
_HEAD = select(_ev.c.seq).where(_ev.c.scope == bindparam("head_scope")).order_by(_ev.c.seq.desc()).limit(1)
_LOAD = (
    select(_cs.c.id.label("session_id"), _cs.c.ended_at, _cs.c.created_at,
           _cs.c.last_seen_at.label("session_seen_at"),
           _b.c.grace_seconds, _b.c.seb_config_key, _b.c.organisation_id,
           _a.c.id.label("attempt_id"), _a.c.status, _a.c.deadline_at, _a.c.form_id, _a.c.started_at,
           _a.c.last_seen_at, _a.c.last_ip, _a.c.last_user_agent, _a.c.answered_count,
           _fi.c.form_id.label("item_form_id"), EFFECTIVE_VERSION_ID.label("version_id"),
           _r.c.seq.label("stored_seq"), _r.c.answer.label("stored_answer"),
           _r.c.flagged.label("stored_flagged"),
           _HEAD.with_only_columns(_ev.c.seq).scalar_subquery().label("head_seq"),
           _HEAD.with_only_columns(_ev.c.entry_hash).scalar_subquery().label("head_hash"))
    .select_from(_cs.join(_a, and_(_a.c.roster_entry_id == _cs.c.roster_entry_id,
                                   _a.c.id == bindparam("attempt_id")))
                 .join(_b, _b.c.id == _a.c.batch_id)
                 .outerjoin(_fi, _fi.c.id == bindparam("item_ref"))
                 .outerjoin(_r, and_(_r.c.attempt_id == _a.c.id, _r.c.form_item_id == bindparam("item_ref"))))
    .where(_cs.c.token_hash == bindparam("token_hash"))
)


@dataclass(slots=True)
class FastSave:
    """A save the fast path may handle: the target and the item's spec, the stored response's
    seq and answered-ness as read (the write is conditional on them), the session to touch."""

    target: SaveTarget
    spec: answers.AnswerSpec
    session_id: int
    touch_session: bool
    answered_count: int
    stored_seq: int | None
    was_answered: bool
    stored_flagged: bool = False  # the stored response's flag (False: none stored)
    # What `hotsave` needs to reuse this read for the next save of the same item.
    version_id: int = 0
    session_created_at: datetime | None = None
    session_seen_at: datetime | None = None
    deadline_at: datetime | None = None
    seb_config_key: str | None = None
    # The attempt chain's head (seq, entry_hash) as this read found it; None when not read (a
    # `hotsave` entry: history.known_head stands in for it).
    head: tuple[int, str] | None = None


def load(conn, token_hash: str, attempt_id: int, item_ref: int, seq: Any, *, now: datetime,
         seb_ok=None) -> FastSave | None:
    """The common case of a save, read in one query; None for anything else (the caller then
    takes the general path): no live session, not the bearer's attempt, attempt not open or past
    deadline + grace, Safe Exam Browser check failing (`seb_ok(config_key)`), item not on the
    attempt's form, or `seq` not above the stored one (a replay or a stale save). `conn`: the
    request session's connection.

    On PostgreSQL, with nothing sent on `conn` yet, the read runs outside a transaction
    (autocommit): no BEGIN for it, and the write after it may then be its own transaction in one
    statement (`write_fast`). The write re-checks everything the read found, so the read needs
    no transaction around it."""
    params = {"token_hash": token_hash, "attempt_id": attempt_id, "item_ref": item_ref,
              "head_scope": chain.attempt_scope(attempt_id)}
    alone = conn.dialect.name == "postgresql" and rawsql.idle(conn)
    with rawsql.autocommit(conn) if alone else nullcontext():
        row = conn.execute(_LOAD, params).first()
    if row is None or not session_live(row.ended_at, row.created_at, now):
        return None
    if row.status != AttemptStatus.IN_PROGRESS or not timing.accepts_saves(row.deadline_at, row.grace_seconds, now):
        return None
    if row.seb_config_key and (seb_ok is None or not seb_ok(row.seb_config_key)):
        return None
    if row.item_form_id is None or row.item_form_id != row.form_id:
        return None
    if not isinstance(seq, int) or (row.stored_seq is not None and seq <= row.stored_seq):
        return None
    target = SaveTarget(attempt_id=row.attempt_id, started_at=row.started_at, last_seen_at=row.last_seen_at,
                        last_ip=row.last_ip, last_user_agent=row.last_user_agent,
                        grace_seconds=row.grace_seconds, organisation_id=row.organisation_id)
    return FastSave(target=target, spec=spec_for(item_ref, row.version_id), session_id=row.session_id,
                    touch_session=now - row.session_seen_at > LAST_SEEN_EVERY,
                    answered_count=row.answered_count, stored_seq=row.stored_seq,
                    was_answered=row.stored_seq is not None and answers.is_answered(row.stored_answer),
                    stored_flagged=bool(row.stored_flagged),
                    version_id=row.version_id, session_created_at=row.created_at,
                    session_seen_at=row.session_seen_at, deadline_at=row.deadline_at,
                    seb_config_key=row.seb_config_key,
                    head=(row.head_seq, row.head_hash) if row.head_seq is not None else None)


# --- the writes ------------------------------------------------------------------------------------

# The attempt's bookkeeping, guarded: only an open attempt inside deadline + grace matches. It
# takes the attempt's row lock (PostgreSQL) or runs under the write lock (SQLite), so saves of
# one attempt and its submit are serialised (a save never gets in after a submit) and
# answered_count stays exact. No version bump: proctors' optimistic locks should not trip over
# every autosave.
_TOUCH_ATTEMPT = (
    update(_a)
    .where(_a.c.id == bindparam("p_attempt"), _a.c.status == AttemptStatus.IN_PROGRESS,
           _a.c.deadline_at >= bindparam("p_cutoff"))
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
    `keep_flag` leaves the stored flag alone (the save did not say)."""
    stmt = _UPSERTS.get((dialect, keep_flag, mode))
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        names = ("attempt_id", "form_item_id", "answer", "seq", "flagged", "saved_at")
        if mode in ("guarded", "alone"):
            session_live_ = (select(_cs.c.id).where(_cs.c.id == bindparam("session_id"), _cs.c.ended_at.is_(None),
                                                    _cs.c.roster_entry_id == _a.c.roster_entry_id).exists())
            checks = [_a.c.id == bindparam("attempt_id"), _a.c.status == AttemptStatus.IN_PROGRESS,
                      _a.c.deadline_at >= bindparam("cutoff"), session_live_,
                      bindparam("version_id") == _ITEM_VERSION]
            if mode == "alone":
                checks.append(~select(_ev.c.id).where(_ev.c.scope == bindparam("next_scope"),
                                                      _ev.c.seq == bindparam("next_seq")).exists())
            is_open = select(_a.c.id).where(*checks).with_for_update(read=True, of=_a).exists()
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
             ip: str | None, user_agent: str | None, head: tuple[int, str] | None) -> tuple[int, str]:
    return history.saved(conn, attempt_id=target.attempt_id, organisation_id=target.organisation_id,
                         form_item_id=form_item_id, seq=seq, answer=value, flagged=flagged, now=now, ip=ip,
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


def write_fast(conn, fast: FastSave, form_item_id: int, value: Any, seq: int, *, now: datetime,
               flagged: bool | None, ip: str | None, user_agent: str | None) -> Written:
    """The fast write, conditional on what `load` read (flushes, never commits, except: on
    PostgreSQL the one statement that is all the save writes runs, with nothing sent before it,
    as its own transaction, `history.upsert_and_save(alone=True)`): one guarded upsert when the
    attempt's bookkeeping has nothing to record (answered count unchanged, seen within
    ATTEMPT_SEEN_EVERY from the same address and browser), else the bookkeeping UPDATE and the
    upsert. Result None when the attempt closed or the response changed since the read (or,
    alone, the link could not follow its head): nothing was written, and the caller rolls back
    and takes the general path."""
    target = fast.target
    bookkeeping, delta = needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)
    params = {"attempt_id": target.attempt_id, "form_item_id": form_item_id, "answer": value, "seq": seq,
              "flagged": bool(flagged), "saved_at": now, "expect_seq": fast.stored_seq}
    answered_count = fast.answered_count + delta
    if bookkeeping:
        touched = conn.execute(_TOUCH_ATTEMPT, _touch_params(target, now, ip, user_agent, delta)).first()
        if touched is None:
            return Written(result=None)
        answered_count = touched[0]
        upsert = _upsert(conn.dialect.name, flagged is None, "expect")
    else:
        params.update(cutoff=now - timedelta(seconds=target.grace_seconds), session_id=fast.session_id,
                      version_id=fast.version_id)
        upsert = _upsert(conn.dialect.name, flagged is None, "guarded")
    head = fast.head or history.known_head(target.attempt_id)
    facts = _facts(target, now, answered_count, ip, user_agent)  # known before the write
    if head is not None and conn.dialect.name == "postgresql":
        # One statement for the upsert, its history row and its link (one round trip fewer); when
        # it is all the save writes and nothing was sent yet, that statement is the transaction.
        alone = not bookkeeping and facts == [] and rawsql.idle(conn)
        for _try in range(2):  # alone, a head moved by another worker comes back: once more after it
            if alone:
                params.update(next_scope=chain.attempt_scope(target.attempt_id), next_seq=head[0] + 1)
                upsert = _upsert(conn.dialect.name, flagged is None, "alone")
            sql, args = rawsql.bound(conn, upsert, params)
            out = history.upsert_and_save(
                conn, sql, args, expect_flagged=fast.stored_flagged if flagged is None else bool(flagged),
                attempt_id=target.attempt_id, organisation_id=target.organisation_id, form_item_id=form_item_id,
                seq=seq, answer=value, now=now, ip=ip, user_agent=user_agent, head=head, alone=alone)
            if not isinstance(out, history.HeadMoved):
                break
            head = out.head
        if out is None or isinstance(out, history.HeadMoved):
            return Written(result=None)  # nothing written
        stored_flag, link = out
    else:
        written = rawsql.run(conn, upsert, params)
        if written is None:
            return Written(result=None)
        stored_flag = bool(written[0])  # on the driver's cursor: SQLite gives 0/1
        link = _history(conn, target, form_item_id, value, seq, stored_flag, now, ip, user_agent, head=head)
    integrity.record_facts(target.attempt_id, facts)
    return Written(SaveResult(stored=True, seq=seq, saved_at=now, answer=value, flagged=stored_flag), answered_count,
                   bookkeeping, link=None if facts else link)


__all__ = ["FastSave", "SaveResult", "SaveTarget", "Written", "answer_spec", "check_save_input",
           "load", "needs_bookkeeping", "spec_for", "write", "write_fast"]
