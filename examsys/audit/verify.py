"""Verifying the process record: every chain link by link, the answer history against the saves'
links, each attempt's seal against its chain, and optionally a signed checkpoint.

`check_rows` is pure (rows in, report out) so the same code verifies the database and, offline,
the events inside a batch archive. What it finds, per scope, is the first link that does not
hold, and why:

- its content no longer gives its entry_hash (the row was edited, or rows were swapped);
- its seq is not the next one (a row before it was deleted, or rows were renumbered);
- its prev_hash is not the previous link's entry_hash (a row was inserted or replaced before it).

Against a checkpoint (examsys.audit.checkpoints) a chain shorter than the checkpoint's size is
a truncated tail or a restored older database, and a link at the checkpoint's size with another
hash means the history was rewritten after the checkpoint was taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import String, Text, cast, select, text, type_coerce

from examsys.audit import chain
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.extensions import db

FETCH = 5000  # rows per round trip
# Per statement: Connection.execution_options() would change the (request's) connection itself.
STREAM = {"stream_results": True, "max_row_buffer": FETCH}


class EventRow(NamedTuple):
    """An audit_events row as the canonical form needs it (`at`: canonical UTC string)."""

    id: int
    scope: str
    seq: int
    prev_hash: str
    entry_hash: str
    at: str
    action: str
    actor_user_id: int | None
    actor_label: str | None
    actor_roles: str | None
    organisation_id: int | None
    object_type: str | None
    object_id: str | None
    data: Any
    ip: str | None
    user_agent: str | None


def canonical_of(row: EventRow) -> bytes:
    """The canonical bytes of a stored event (its entry_hash's input; a Merkle leaf's data)."""
    return chain.canonical(scope=row.scope, seq=row.seq, prev=row.prev_hash, at=row.at, action=row.action,
                           actor_id=row.actor_user_id, actor_label=row.actor_label, actor_roles=row.actor_roles,
                           org=row.organisation_id, object_type=row.object_type, object_id=row.object_id,
                           data=row.data if row.data is not None else {}, ip=row.ip, ua=row.user_agent)


def row_as_dict(row: EventRow) -> dict:
    return row._asdict()


def row_from_dict(values: dict) -> EventRow:
    return EventRow(**{name: values.get(name) for name in EventRow._fields})


@dataclass
class Failure:
    scope: str
    seq: int | None
    event_id: int | None
    what: str

    def as_dict(self) -> dict:
        return {"scope": self.scope, "seq": self.seq, "event_id": self.event_id, "what": self.what}


@dataclass
class Report:
    events: int = 0
    scopes: int = 0
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    history_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first(self) -> Failure | None:
        return self.failures[0] if self.failures else None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "scopes": self.scopes, "history_rows": self.history_rows,
                "failures": [f.as_dict() for f in self.failures],
                "heads": {s: {"size": n, "head": h} for s, (n, h) in sorted(self.heads.items())}}


def _save_key(attempt_id: int, item: Any, seq: Any, answer_sha: Any) -> int:
    digest = hashlib.sha256(f"{attempt_id}|{item}|{seq}|{answer_sha}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


@dataclass
class _Saves:
    """Per attempt, an order-free fingerprint of its saves (sum of keyed hashes mod 2^128): the
    chain's `attempt.answer_saved` links on one side, answer_history rows on the other."""

    by_events: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, attempt_id: int, key: int) -> None:
        self.by_events[attempt_id] = (self.by_events.get(attempt_id, 0) + key) % (1 << 128)
        self.counts[attempt_id] = self.counts.get(attempt_id, 0) + 1


def check_rows(rows: Iterable[EventRow], *, seals: dict[int, set[tuple[int, str]]] | None = None,
               report: Report | None = None) -> tuple[Report, _Saves]:
    """Verify chains given as rows ordered by (scope, seq). `seals`: attempt id → the (size,
    head) pairs its batch's chain sealed, each checked against the attempt's chain."""
    report = report or Report()
    saves = _Saves()
    seals = seals or {}
    scope, expected, prev, broken = None, 1, chain.GENESIS, False
    seal_claims: set[tuple[int, str]] = set()
    attempt_id = None

    def close_scope():
        if scope is None:
            return
        report.heads[scope] = (expected - 1, prev)
        if broken:
            return
        for size, head in seal_claims:
            report.failures.append(Failure(scope, size, None, f"封存记录称此链第 {size} 条的哈希为 {head[:12]}…，"
                                                              "链中没有这样的一条"))

    for row in rows:
        if row.scope != scope:
            close_scope()
            scope, expected, prev, broken = row.scope, 1, chain.GENESIS, False
            report.scopes += 1
            kind, ident = chain.parse_scope(scope)
            attempt_id = ident if kind == "attempt" else None
            seal_claims = set(seals.get(attempt_id, ())) if attempt_id is not None else set()
        report.events += 1
        if broken:
            continue  # one failure per chain: what follows a break cannot be judged
        what = None
        if row.seq != expected:
            what = (f"第 {expected} 条缺失（下一条的序号是 {row.seq}）" if row.seq > expected
                    else f"序号 {row.seq} 重复或顺序错乱（应为 {expected}）")
        elif row.prev_hash != prev:
            what = ("与前一条不衔接：prev_hash 不是第 {0} 条的哈希（第 {0} 条是后来插入或替换的）"
                    .format(expected - 1) if expected > 1 else "链的第一条 prev_hash 不是起始值")
        else:
            computed = chain.digest(canonical_of(row))
            if computed != row.entry_hash:
                what = f"内容与其哈希不符（记录被改动）：存储 {row.entry_hash[:12]}…，重算 {computed[:12]}…"
        if what is not None:
            gap = row.seq > expected and what.startswith("第")
            report.failures.append(Failure(row.scope, expected if gap else row.seq, None if gap else row.id, what))
            broken = True
            continue
        if seal_claims:
            seal_claims.discard((row.seq, row.entry_hash))
        if attempt_id is not None and row.action == "attempt.answer_saved":
            data = row.data or {}
            saves.add(attempt_id, _save_key(attempt_id, data.get("item"), data.get("seq"), data.get("answer_sha256")))
        expected, prev = row.seq + 1, row.entry_hash
    close_scope()
    for attempt_id in sorted(seals):
        scope_name = chain.attempt_scope(attempt_id)
        if scope_name not in report.heads:
            report.failures.append(Failure(scope_name, None, None,
                                           "批次链中封存了此作答记录，但这条链已不存在（被整条删除）"))
    return report, saves


def check_history(history: Iterable[tuple[int, int, int, Any]], saves: _Saves, report: Report,
                  attempts: set[int] | None = None) -> None:
    """Compare answer_history rows (attempt, item, seq, answer) with the saves' links."""
    sums: dict[int, int] = {}
    counts: dict[int, int] = {}
    for attempt_id, item, seq, answer in history:
        report.history_rows += 1
        key = _save_key(attempt_id, item, seq, chain.answer_digest(answer))
        sums[attempt_id] = (sums.get(attempt_id, 0) + key) % (1 << 128)
        counts[attempt_id] = counts.get(attempt_id, 0) + 1
    ids = set(sums) | set(saves.by_events)
    if attempts is not None:
        ids &= attempts
    for attempt_id in sorted(ids):
        if sums.get(attempt_id) != saves.by_events.get(attempt_id):
            report.failures.append(Failure(
                chain.attempt_scope(attempt_id), None, None,
                f"作答历史与链中的保存记录不符：历史 {counts.get(attempt_id, 0)} 条，链中 "
                f"{saves.counts.get(attempt_id, 0)} 条（历史记录被改动、删除或伪造）"))


# --- reading the database ------------------------------------------------------------------------

_ev = AuditEvent.__table__


def _select(dialect: str, scopes: list[str] | None):
    """The events in (scope, seq) order (the unique index's order: no sort), with the time and the
    data as stored text: parsing them here (orjson) is much faster than the drivers' decoders."""
    if dialect == "postgresql":
        at, data = _ev.c.occurred_at, cast(_ev.c.data, Text)
    else:
        at, data = type_coerce(_ev.c.occurred_at, String), type_coerce(_ev.c.data, Text)
    stmt = select(_ev.c.id, _ev.c.scope, _ev.c.seq, _ev.c.prev_hash, _ev.c.entry_hash, at, _ev.c.action,
                  _ev.c.actor_user_id, _ev.c.actor_label, _ev.c.actor_roles, _ev.c.organisation_id,
                  _ev.c.object_type, _ev.c.object_id, data, _ev.c.ip, _ev.c.user_agent)
    if scopes is not None:
        stmt = stmt.where(_ev.c.scope.in_(scopes))
    return stmt.order_by(_ev.c.scope, _ev.c.seq)


def _iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff', naive UTC
        if "." not in value:
            value += ".000000"
        return value.replace(" ", "T") + "Z"
    return chain.iso_utc(value)


def event_rows(scopes: list[str] | None = None) -> Iterator[EventRow]:
    """Stored events in (scope, seq) order, streamed; all of them or those of `scopes`."""
    if scopes is not None and not scopes:
        return
    conn = db.session.connection()
    result = conn.execute(_select(conn.dialect.name, scopes), execution_options=STREAM)
    loads = orjson.loads
    for part in result.partitions(FETCH):
        for r in part:
            data = r[13]
            yield EventRow(r[0], r[1], r[2], r[3], r[4], _iso(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                           loads(data) if isinstance(data, str | bytes) else data, r[14], r[15])


def seal_claims(scopes: list[str] | None = None) -> dict[int, set[tuple[int, str]]]:
    stmt = select(AuditEvent.data).where(AuditEvent.action == "attempt.sealed")
    if scopes is not None:
        stmt = stmt.where(AuditEvent.scope.in_([s for s in scopes if s.startswith("batch/")] or [""]))
    claims: dict[int, set[tuple[int, str]]] = {}
    for data in db.session.scalars(stmt):
        claims.setdefault(int(data["attempt"]), set()).add((int(data["size"]), data["head"]))
    return claims


def history_rows(attempt_ids: list[int] | None = None) -> Iterator[tuple[int, int, int, Any]]:
    h = AnswerHistory.__table__
    stmt = select(h.c.attempt_id, h.c.form_item_id, h.c.seq, h.c.answer)
    if attempt_ids is not None:
        stmt = stmt.where(h.c.attempt_id.in_(attempt_ids or [-1]))
    result = db.session.connection().execute(stmt, execution_options=STREAM)
    for part in result.partitions(FETCH):
        yield from part


def batch_scopes(batch_id: int) -> list[str]:
    """The batch's chain and the chains of its attempts."""
    ids = db.session.execute(text("SELECT id FROM attempts WHERE batch_id = :b ORDER BY id"), {"b": batch_id})
    return [chain.batch_scope(batch_id), *(chain.attempt_scope(i) for (i,) in ids)]


def verify_database(scopes: list[str] | None = None) -> Report:
    """Verify every chain (or those of `scopes`), the seals and the answer history."""
    report, saves = check_rows(event_rows(scopes), seals=seal_claims(scopes))
    attempts = None
    if scopes is not None:
        attempts = [ident for kind, ident in map(chain.parse_scope, scopes) if kind == "attempt"]
    check_history(history_rows(attempts), saves, report, set(attempts) if attempts is not None else None)
    return report


__all__ = ["EventRow", "Failure", "Report", "batch_scopes", "canonical_of", "check_history", "check_rows",
           "event_rows", "history_rows", "row_as_dict", "row_from_dict", "seal_claims", "verify_database"]
