"""The answer history: every acknowledged save, written with the save itself, and its link in
the attempt's chain (`attempt.answer_saved`, holding the answer's digest, so an edited history
row no longer matches its event).

The hottest path of an exam calls `saved` with the statements built once and with the chain's
head as the save's read found it (`autosave.load`) or, when this process stored the attempt's
previous link, that link (`known_head`): then a save costs two INSERTs and no read. A head that
is no longer the chain's head (another worker appended: under several workers a candidate's
saves alternate between them) makes the event's INSERT a no-op and nothing else; the link is
then appended after the head read from the chain (`chain.append`), in the same transaction --
the save itself stands, so rolling it back and redoing it on the general path would only double
its cost."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import psycopg
from sqlalchemy import insert

from examsys import rawsql
from examsys.audit import chain
from examsys.audit.actions import AuditAction
from examsys.audit.models import AnswerHistory

CANDIDATE_ROLE = "candidate"
_INSERT_HISTORY = insert(AnswerHistory.__table__)
_ACTION = AuditAction.ATTEMPT_ANSWER_SAVED.value

# attempt id → (seq, entry_hash) of the last link this process committed to its chain. Only a
# shortcut: a stale entry costs one rolled-back try (see the module's docstring).
_HEADS: OrderedDict[int, tuple[int, str]] = OrderedDict()
_HEADS_SIZE = 20_000
_LOCK = threading.Lock()


def known_head(attempt_id: int) -> tuple[int, str] | None:
    with _LOCK:
        return _HEADS.get(attempt_id)


def remember_head(attempt_id: int, link: tuple[int, str]) -> None:
    """After the commit of a save: its link is the attempt chain's head (as far as we know)."""
    with _LOCK:
        _HEADS[attempt_id] = link
        _HEADS.move_to_end(attempt_id)
        while len(_HEADS) > _HEADS_SIZE:
            _HEADS.popitem(last=False)


def forget_head(attempt_id: int) -> None:
    with _LOCK:
        _HEADS.pop(attempt_id, None)


def event_values(*, attempt_id: int, organisation_id: int | None, form_item_id: int, seq: int, answer: Any,
                 flagged: bool | None, now: datetime, ip: str | None, user_agent: str | None) -> dict:
    return {"occurred_at": now, "action": _ACTION, "actor_user_id": None, "actor_label": None,
            "actor_roles": CANDIDATE_ROLE, "organisation_id": organisation_id, "object_type": "attempt",
            "object_id": str(attempt_id),
            "data": {"item": form_item_id, "seq": seq, "answer_sha256": chain.answer_digest(answer),
                     "flagged": flagged},
            "ip": ip, "user_agent": (user_agent or "")[:255] or None}


# The two INSERTs of the common save, as the drivers take them: SQLAlchemy's statement handling
# costs more than the statements themselves on the hottest path of an exam. Values are written
# as SQLAlchemy writes them (SQLite: naive UTC text with microseconds, JSON text; PostgreSQL:
# timestamptz, jsonb), so every reader sees the same rows either way.
_HISTORY_COLUMNS = ("attempt_id", "form_item_id", "seq", "answer", "flagged", "saved_at", "ip")
_EVENT_COLUMNS = ("occurred_at", "action", "actor_user_id", "actor_label", "actor_roles", "organisation_id",
                  "object_type", "object_id", "data", "ip", "user_agent", "scope", "seq", "prev_hash", "entry_hash")


def _sql(dialect: str) -> tuple[str, ...]:
    """The statements, in order, each taking its share of the values. PostgreSQL gets both
    INSERTs as ONE statement (the history row in a data-modifying WITH): one round trip to the
    server fewer on every save."""
    mark = "?" if dialect == "sqlite" else "%s"
    json_mark = mark if dialect == "sqlite" else "%s::jsonb"
    history = ", ".join(json_mark if c == "answer" else mark for c in _HISTORY_COLUMNS)
    event = ", ".join(json_mark if c == "data" else mark for c in _EVENT_COLUMNS)
    # Constant table and column names; every value is bound.
    insert_history = f"INSERT INTO answer_history ({', '.join(_HISTORY_COLUMNS)}) VALUES ({history})"  # noqa: S608
    insert_event = (f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({event}) "  # noqa: S608
                    "ON CONFLICT (scope, seq) DO NOTHING RETURNING id")
    if dialect == "postgresql":
        return (f"WITH saved AS ({insert_history}) {insert_event}",)
    return insert_history, insert_event


_SQL = {"sqlite": _sql("sqlite"), "postgresql": _sql("postgresql")}


def _time(dialect: str, moment: datetime):
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else moment


@dataclass(frozen=True, slots=True)
class Prepared:
    """A save's history row and link, worked out ahead of the write (on SQLite: before the
    writer turn, so that other writers do not queue behind this Python work) for the stored
    flag `flagged` after the chain's head `head`. `saved` uses it only when both still hold."""

    head: tuple[int, str]
    flagged: bool
    link: tuple[int, str]
    row: tuple
    event: tuple


def prepare(*, dialect: str, attempt_id: int, organisation_id: int | None, form_item_id: int, seq: int,
            answer: Any, flagged: bool, now: datetime, ip: str | None, user_agent: str | None,
            head: tuple[int, str]) -> Prepared:
    """The history row and the link of a save after `head`, its stored flag being `flagged`."""
    values = event_values(attempt_id=attempt_id, organisation_id=organisation_id, form_item_id=form_item_id,
                          seq=seq, answer=answer, flagged=flagged, now=now, ip=ip, user_agent=user_agent)
    scope = chain.attempt_scope(attempt_id)
    link_seq = head[0] + 1
    link = chain.entry_hash(values, scope=scope, seq=link_seq, prev=head[1])
    at = _time(dialect, now)
    row = (attempt_id, form_item_id, seq, orjson.dumps(answer).decode(), flagged, at, ip)
    event = (at, values["action"], None, None, values["actor_roles"], organisation_id, "attempt", values["object_id"],
             orjson.dumps(values["data"]).decode(), ip, values["user_agent"], scope, link_seq, head[1], link)
    return Prepared(head, flagged, (link_seq, link), row, event)


def saved(conn, *, attempt_id: int, organisation_id: int | None, form_item_id: int, seq: int, answer: Any,
          flagged: bool | None, now: datetime, ip: str | None, user_agent: str | None,
          head: tuple[int, str] | None = None, prepared: Prepared | None = None) -> tuple[int, str]:
    """Write one acknowledged save's history row and chain link (flushes, never commits);
    returns the link (seq, entry_hash). With `head` (a remembered link) the event is written
    after it without reading the chain; when it is no longer the chain's head, and without
    `head`, the head is read and appending retries under contention (chain.append, which
    raises ConcurrentChange if the chain stays contended). `prepared`: this save's row and link
    as `prepare` worked them out, used when made for this `head` and stored flag."""
    dialect = conn.dialect.name
    sql = _SQL.get(dialect)
    if head is None or sql is None:
        conn.execute(_INSERT_HISTORY, {"attempt_id": attempt_id, "form_item_id": form_item_id, "seq": seq,
                                       "answer": answer, "flagged": flagged, "saved_at": now, "ip": ip})
        return _append(conn, attempt_id, organisation_id, form_item_id, seq, answer, flagged, now, ip, user_agent)
    if prepared is None or prepared.head != head or prepared.flagged != flagged:
        prepared = prepare(dialect=dialect, attempt_id=attempt_id, organisation_id=organisation_id,
                           form_item_id=form_item_id, seq=seq, answer=answer, flagged=flagged, now=now, ip=ip,
                           user_agent=user_agent, head=head)
    cursor = conn.connection.driver_connection.cursor()
    try:
        if len(sql) == 1:
            cursor.execute(sql[0], prepared.row + prepared.event)
        else:
            cursor.execute(sql[0], prepared.row)
            cursor.execute(sql[1], prepared.event)
        inserted = cursor.fetchone()
    finally:
        cursor.close()
    if inserted is not None:
        return prepared.link
    return _append(conn, attempt_id, organisation_id, form_item_id, seq, answer, flagged, now, ip, user_agent)


def _append(conn, attempt_id, organisation_id, form_item_id, seq, answer, flagged, now, ip, user_agent):
    """The link appended after the head read from the chain (chain.append)."""
    values = event_values(attempt_id=attempt_id, organisation_id=organisation_id, form_item_id=form_item_id,
                          seq=seq, answer=answer, flagged=flagged, now=now, ip=ip, user_agent=user_agent)
    return chain.append(conn, chain.attempt_scope(attempt_id), values)[2:]


# PostgreSQL: the save's own upsert, its history row and its link as ONE statement (the upsert in
# a data-modifying WITH, the two INSERTs selecting from what it returned, so that neither is
# written unless the upsert was). Named parameters, as the upsert compiled for psycopg has them.
# A value the upsert binds already (attempt, item, seq, the save's time) is that same parameter
# here, and what is the same for every save (the action, the candidate's role, the object type,
# no staff actor) is written into the SQL: psycopg converts each parameter on every execution,
# and the save is the hottest statement of an exam.
def _literal(value: str) -> str:
    if not value.replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


_H = {"attempt_id": "%(attempt_id)s", "form_item_id": "%(form_item_id)s", "seq": "%(seq)s",
      "answer": "%(h_answer)s::jsonb", "flagged": "up.flagged", "saved_at": "%(saved_at)s", "ip": "%(ip)s"}
_E = {"occurred_at": "%(saved_at)s", "action": _literal(_ACTION), "actor_user_id": "NULL::integer",
      "actor_label": "NULL::varchar", "actor_roles": _literal(CANDIDATE_ROLE), "organisation_id": "%(e_org)s",
      "object_type": _literal("attempt"), "object_id": "%(e_object_id)s", "data": "%(e_data)s::jsonb",
      "ip": "%(ip)s", "user_agent": "%(e_ua)s", "scope": "%(e_scope)s", "seq": "%(e_seq)s",
      "prev_hash": "%(e_prev_hash)s", "entry_hash": "%(e_entry_hash)s"}
_H_VALUES = ", ".join(_H[c] for c in _HISTORY_COLUMNS)
_E_VALUES = ", ".join(_E[c] for c in _EVENT_COLUMNS)
_SAVED = f"INSERT INTO answer_history ({', '.join(_HISTORY_COLUMNS)}) SELECT {_H_VALUES} FROM up"  # noqa: S608
_LINK = (f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) SELECT {_E_VALUES} FROM up "  # noqa: S608
         "WHERE up.flagged = %(e_flagged)s ON CONFLICT (scope, seq) DO NOTHING RETURNING id")
# The same link as a statement that stands alone (its own transaction, `alone=True`): written or
# the whole statement fails. A head that moved breaks the chain's unique (scope, seq); a stored
# flag other than the one the link was computed for leaves entry_hash NULL, which its NOT NULL
# refuses. Either way the upsert and the history row are undone with it. Its scope and seq are
# the upsert's own "alone" guard's (next_scope, next_seq).
_E_STRICT = (_E_VALUES.replace(_E["entry_hash"], "CASE WHEN up.flagged = %(e_flagged)s THEN %(e_entry_hash)s END")
             .replace(_E["scope"], "%(next_scope)s").replace(_E["seq"], "%(next_seq)s"))
_LINK_STRICT = (f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608
                f"SELECT {_E_STRICT} FROM up RETURNING id")
_WITH_UPSERT_SQL: dict[tuple[str, bool, str, str], str] = {}

# Standing alone, the statement answers a row even when it wrote nothing because the head it was
# given had moved (the upsert's "alone" guard then held everything back): the chain's real head.
# Its fifth column is the value of the caller's `extra` (see `tail`), NULL in that row.
_MOVED = (", NULL::integer, NULL::varchar, {extra} FROM up UNION ALL SELECT NULL, NULL, h.seq, h.entry_hash, NULL "
          "FROM (SELECT seq, entry_hash FROM audit_events WHERE scope = %(next_scope)s ORDER BY seq DESC LIMIT 1) "
          "AS h WHERE NOT EXISTS (SELECT 1 FROM up) AND h.seq >= %(next_seq)s")


class Stored(NamedTuple):
    """What upsert_and_save wrote: the stored flag, the link (seq, entry hash) and the value of
    its `extra` expression (None without one)."""

    flagged: bool
    link: tuple[int, str]
    extra: Any = None


def upsert_and_save(conn, upsert_sql: str, upsert_params: dict, *, expect_flagged: bool, attempt_id: int,
                    organisation_id: int | None, form_item_id: int, seq: int, answer: Any, now: datetime,
                    ip: str | None, user_agent: str | None, head: tuple[int, str],
                    alone: bool = False, tail: str = "", extra: str = "NULL::integer") -> Stored | HeadMoved | None:
    """PostgreSQL, with a remembered `head`: run the save's upsert (`upsert_sql`, compiled for
    psycopg with named parameters, RETURNING the stored flag; its attempt_id, form_item_id, seq and
    saved_at are this save's, which the history row and the link take from it, and in `alone` mode
    its next_scope and next_seq are the link's) together with its history row and link, in one
    statement. None when the upsert wrote nothing (nor did anything else); else
    (stored flag, link). The link is written after `head` as computed for `expect_flagged`; when
    the head is no longer the chain's (or the flag came out otherwise) it is appended after the
    chain's real head instead, in the same transaction.

    `alone`: the statement is the save's whole transaction, run in autocommit on the connection,
    which must not be inside a transaction yet: one round trip instead of three (BEGIN, the
    statement, COMMIT), durable when it returns (synchronous commit, as every commit here). It
    then writes all three or nothing: the upsert must be compiled in autosave's "alone" mode
    (nothing unless the chain has no event yet after `head`), and HeadMoved gives the chain's
    real head when the one given was no longer it (the caller may try again after it); None when
    the flag came out otherwise or a concurrent link took the place, and the caller takes the
    general path.

    `tail` (with `alone` only): further data-modifying parts of the same WITH (", name AS (…)",
    constant SQL whose values are bound in `upsert_params`), which may refer to `up` (to run only
    if the upsert wrote); `extra`: a scalar SQL expression over them, whose value comes back as
    `Stored.extra`. They commit, or not, with the rest."""
    values = event_values(attempt_id=attempt_id, organisation_id=organisation_id, form_item_id=form_item_id,
                          seq=seq, answer=answer, flagged=expect_flagged, now=now, ip=ip, user_agent=user_agent)
    scope = chain.attempt_scope(attempt_id)
    link_seq = head[0] + 1
    link = chain.entry_hash(values, scope=scope, seq=link_seq, prev=head[1])
    if tail and not alone:
        raise ValueError("upsert_and_save: a tail only with alone=True")
    sql = _WITH_UPSERT_SQL.get((upsert_sql, alone, tail, extra))
    if sql is None:  # constant table and column names and the constants above; every value is bound
        parts = ("WITH up AS (", upsert_sql, "), saved AS (", _SAVED, "), link AS (",
                 _LINK_STRICT if alone else _LINK, ")", tail, " SELECT up.flagged, (SELECT id FROM link)",
                 _MOVED.format(extra=extra) if alone else " FROM up")
        sql = _WITH_UPSERT_SQL.setdefault((upsert_sql, alone, tail, extra), "".join(parts))
    params = {**upsert_params, "h_answer": orjson.dumps(answer).decode(), "ip": ip, "e_org": organisation_id,
              "e_object_id": values["object_id"], "e_data": orjson.dumps(values["data"]).decode(),
              "e_ua": values["user_agent"], "e_prev_hash": head[1], "e_entry_hash": link, "e_flagged": expect_flagged}
    if alone:  # the link's scope and seq are the upsert's guard's own next_scope and next_seq
        return _alone(conn, sql, params, (link_seq, link))
    params.update(e_scope=scope, e_seq=link_seq)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    flagged = bool(row[0])
    if row[1] is not None:
        return Stored(flagged, (link_seq, link))
    if flagged != expect_flagged:
        values = event_values(attempt_id=attempt_id, organisation_id=organisation_id, form_item_id=form_item_id,
                              seq=seq, answer=answer, flagged=flagged, now=now, ip=ip, user_agent=user_agent)
    return Stored(flagged, chain.append(conn, scope, values)[2:])


@dataclass(frozen=True)
class HeadMoved:
    """upsert_and_save(alone=True) wrote nothing: the chain's head is `head`, not the one given."""

    head: tuple[int, str]


def _alone(conn, sql: str, params: dict, link: tuple[int, str]):
    """`sql` as its own transaction (psycopg autocommit): Stored; HeadMoved (with
    the real head) when it wrote nothing because the chain has moved on past the head it was
    given; None when it wrote nothing otherwise (the upsert's guard, or a constraint refusing the
    link: see `_LINK_STRICT`)."""
    try:
        with rawsql.autocommit(conn), conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except (psycopg.errors.UniqueViolation, psycopg.errors.NotNullViolation):
        return None  # the statement, and with it the upsert and the history row, did not happen
    if row is None:
        return None
    if row[0] is None:
        return HeadMoved((row[2], row[3]))
    return Stored(bool(row[0]), link, row[4])


__all__ = ["HeadMoved", "Prepared", "Stored", "forget_head", "known_head", "prepare", "remember_head", "saved",
           "upsert_and_save"]
