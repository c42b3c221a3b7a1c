"""The process record's hash chains: scopes, the canonical form of an event, and appending.

Every event belongs to one scope and is the next link of that scope's chain:

- `attempt/<id>`: what a candidate (or the system on the candidate's behalf: the sweeper, the
  scorer) did in one attempt: start, every acknowledged save, integrity signals, submit or
  timeout. One chain per attempt, so candidates saving at once never wait on each other.
- `entry/<id>`: a candidate's sign-ins for one roster entry (sessions opened, replaced, closed):
  what the candidate did outside the attempt. One chain per roster entry, so a start storm of
  thousands signing in at once never queues on one chain (a shared chain's next link is held
  from its insert to its commit).
- `batch/<id>`: what staff did to one batch and everything in it (filing, roster, rooms,
  proctor actions, marks, 复核, publication), and the seal of each attempt's chain and its roster
  entry's chain (`attempt.sealed`: their sizes and head hashes) when the attempt closes.
- `org/<id>`: the rest of an organisation's events (bank, papers, users, logins).
- `province`: events of no organisation (the authority's own work, refused anonymous requests).

An event's link: `seq` (1, 2, … in its scope, no gaps), `prev_hash` (the previous link's
entry_hash; GENESIS for seq 1) and `entry_hash` = SHA-256 (hex) of the event's canonical form:
the UTF-8 JSON object below, keys sorted, no insignificant whitespace, non-ASCII characters as
themselves, which is RFC 8785 (JCS) for every value an event holds (integers, strings, booleans,
null, arrays and objects with ASCII keys; tests check it against an RFC 8785 implementation):

    {"v": 1, "scope": …, "seq": …, "prev": prev_hash, "at": "2026-12-03T08:00:00.123456Z",
     "action": …, "actor": {"id": …, "label": …, "roles": …}, "org": organisation id,
     "object": {"type": …, "id": …}, "data": {…}, "ip": …, "ua": …}

Appending reads the scope's head and inserts the next link with ON CONFLICT (scope, seq) DO
NOTHING: a concurrent appender that took the slot first makes the insert a no-op, and the head
is read again (PostgreSQL waits for that appender's commit). So links stay contiguous without a
table lock, and a rolled-back event frees its slot.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import String, bindparam, cast, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite

from examsys.audit.models import AuditEvent
from examsys.errors import ConcurrentChange

GENESIS = "0" * 64
FORMAT_VERSION = 1
PROVINCE = "province"
MAX_TRIES = 200  # links taken by others before giving up (each try waits for one commit)


class Link(NamedTuple):
    """Where an appended event stands: its row id, scope, seq and entry_hash."""

    id: int
    scope: str
    seq: int
    entry_hash: str


def attempt_scope(attempt_id: int) -> str:
    return f"attempt/{attempt_id}"


def entry_scope(roster_entry_id: int) -> str:
    return f"entry/{roster_entry_id}"


def entry_scope_sql(roster_entry_id):
    """`entry_scope` as a SQL expression of a roster-entry id column (to read a chain's head in a
    query that finds the entry)."""
    return literal_column("'entry/'") + cast(roster_entry_id, String)


def batch_scope(batch_id: int) -> str:
    return f"batch/{batch_id}"


def org_scope(organisation_id: int | None) -> str:
    return PROVINCE if organisation_id is None else f"org/{organisation_id}"


def parse_scope(scope: str) -> tuple[str, int | None]:
    """("attempt" | "entry" | "batch" | "org" | "province", id)."""
    kind, _, ident = scope.partition("/")
    return kind, int(ident) if ident else None


def iso_utc(moment: datetime) -> str:
    """The canonical time: UTC, microseconds, `Z` (`isoformat`: the same text as strftime's
    "%Y-%m-%dT%H:%M:%S.%fZ" for every year from 1000, in half its time; each save computes one)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def canonical_of_fields(scope, seq, prev, at: str, action, actor_id, actor_label, actor_roles, org, object_type,
                        object_id, data, ip, ua) -> bytes:
    """The canonical form itself (see the module's docstring), `at` already its canonical
    string; positional, because verification calls it once per stored event."""
    return _dumps({"v": FORMAT_VERSION, "scope": scope, "seq": seq, "prev": prev, "at": at, "action": action,
                   "actor": {"id": actor_id, "label": actor_label, "roles": actor_roles}, "org": org,
                   "object": {"type": object_type, "id": object_id}, "data": data, "ip": ip, "ua": ua},
                  option=_SORTED)


_dumps, _SORTED = orjson.dumps, orjson.OPT_SORT_KEYS


def canonical(*, scope: str, seq: int, prev: str, at: datetime | str, action: str, actor_id: int | None,
              actor_label: str | None, actor_roles: str | None, org: int | None, object_type: str | None,
              object_id: str | None, data: Any, ip: str | None, ua: str | None) -> bytes:
    """The bytes an event's entry_hash is taken over (see the module's docstring). `at`: the
    time, or its canonical string already."""
    return canonical_of_fields(scope, seq, prev, at if isinstance(at, str) else iso_utc(at), action, actor_id,
                               actor_label, actor_roles, org, object_type, object_id, data, ip, ua)


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def entry_hash(values: dict, *, scope: str, seq: int, prev: str) -> str:
    """entry_hash of an event given as audit_events column values."""
    return digest(canonical(
        scope=scope, seq=seq, prev=prev, at=values["occurred_at"], action=values["action"],
        actor_id=values.get("actor_user_id"), actor_label=values.get("actor_label"),
        actor_roles=values.get("actor_roles"), org=values.get("organisation_id"),
        object_type=values.get("object_type"), object_id=values.get("object_id"), data=values.get("data") or {},
        ip=values.get("ip"), ua=values.get("user_agent")))


def answer_digest(answer: Any) -> str:
    """SHA-256 of an answer's canonical JSON: what a save's event holds of the answer, so the
    answer history is covered by the attempt's chain."""
    return digest(orjson.dumps(answer, option=orjson.OPT_SORT_KEYS))


# --- appending -------------------------------------------------------------------------------------

_ev = AuditEvent.__table__


def _head_of(scope):
    return select(_ev.c.seq, _ev.c.entry_hash).where(_ev.c.scope == scope).order_by(_ev.c.seq.desc()).limit(1)


HEAD = _head_of(bindparam("scope"))


def head_columns(scope) -> tuple:
    """`head` as two scalar subqueries (seq, entry_hash; NULL for an empty scope) to add to
    another query; `scope` a SQL expression (e.g. `entry_scope_sql`)."""
    query = _head_of(scope)
    return (query.with_only_columns(_ev.c.seq).scalar_subquery(),
            query.with_only_columns(_ev.c.entry_hash).scalar_subquery())


_INSERTS: dict[str, Any] = {}


def insert_link(dialect: str):
    """INSERT of one link, a no-op when its (scope, seq) slot is taken; RETURNING id."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _INSERTS[dialect] = (insert(_ev).on_conflict_do_nothing(index_elements=[_ev.c.scope, _ev.c.seq])
                                    .returning(_ev.c.id))
    return stmt


def head(conn, scope: str) -> tuple[int, str]:
    """(seq, entry_hash) of the scope's last link; (0, GENESIS) for an empty scope."""
    row = conn.execute(HEAD, {"scope": scope}).first()
    return (0, GENESIS) if row is None else (row[0], row[1])


_QUEUE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
PRIVATE = ("attempt/", "entry/")  # one candidate's chains: hardly ever two appenders at once


def append(conn, scope: str, values: dict, *, known: tuple[int, str] | None = None) -> Link:
    """Insert `values` (audit_events columns without the link) as the next link of `scope`.
    Raises ConcurrentChange if the scope stays contended. `known`: the scope's head as already
    read in this transaction (or (0, GENESIS) for a chain that cannot have begun, e.g. of a row
    inserted by it), tried first without reading it again; a slot taken since costs one head read.

    On PostgreSQL, appenders to a shared chain (a batch's, an organisation's) first queue on a
    transaction-level advisory lock of the scope: each then finds the slot free when its turn
    comes, instead of every waiter retrying (head read, insert, conflict) after each commit."""
    stmt = insert_link(conn.dialect.name)
    if conn.dialect.name == "postgresql" and not scope.startswith(PRIVATE):
        conn.execute(_QUEUE, {"key": f"chain:{scope}"})
    for _ in range(MAX_TRIES):
        seq, prev = known if known is not None else head(conn, scope)
        known = None
        seq += 1
        link = entry_hash(values, scope=scope, seq=seq, prev=prev)
        row = conn.execute(stmt, {**values, "scope": scope, "seq": seq, "prev_hash": prev,
                                  "entry_hash": link}).first()
        if row is not None:
            return Link(row[0], scope, seq, link)
    raise ConcurrentChange("过程记录写入繁忙，请稍后重试")


__all__ = ["FORMAT_VERSION", "GENESIS", "PROVINCE", "Link", "answer_digest", "append", "attempt_scope", "batch_scope",
           "canonical", "canonical_of_fields",
           "digest", "entry_hash", "entry_scope", "entry_scope_sql", "head", "head_columns", "insert_link",
           "iso_utc", "org_scope", "parse_scope"]
