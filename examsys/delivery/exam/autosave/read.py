"""The fast path's one read: everything a save of the common case needs, in one query."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select

from examsys import rawsql
from examsys.assembly.models import PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.audit import chain
from examsys.delivery.exam import answers, timing
from examsys.delivery.exam.autosave.specs import spec_for
from examsys.delivery.exam.autosave.types import SaveTarget
from examsys.delivery.exam.candidate_auth import LAST_SEEN_EVERY, session_live
from examsys.delivery.models import Attempt, AttemptStatus, Batch, CandidateSession, Response

_fi = PaperFormItem.__table__
_cs, _a, _b, _r = CandidateSession.__table__, Attempt.__table__, Batch.__table__, Response.__table__
# The attempt chain's head (its last link), read with the rest: the save's link follows it
# without a read of its own (the unique (scope, seq) index answers it from its last entry).
_HEAD = chain.head_columns(bindparam("head_scope"))
_LOAD = (
    select(_cs.c.id.label("session_id"), _cs.c.ended_at, _cs.c.created_at,
           _cs.c.last_seen_at.label("session_seen_at"),
           _b.c.grace_seconds, _b.c.seb_config_key, _b.c.organisation_id,
           _a.c.id.label("attempt_id"), _a.c.status, _a.c.deadline_at, _a.c.form_id, _a.c.started_at,
           _a.c.last_seen_at, _a.c.last_ip, _a.c.last_user_agent, _a.c.answered_count,
           _fi.c.form_id.label("item_form_id"), EFFECTIVE_VERSION_ID.label("version_id"),
           _r.c.seq.label("stored_seq"), _r.c.answer.label("stored_answer"),
           _r.c.flagged.label("stored_flagged"),
           _HEAD[0].label("head_seq"), _HEAD[1].label("head_hash"))
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
        row = rawsql.fetch(conn, _LOAD, params)
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
