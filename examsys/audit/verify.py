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
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import String, Text, bindparam, cast, func, select, text, tuple_, type_coerce

from examsys.audit import chain
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.extensions import db


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


_dumps, _SORTED, _sha256 = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.sha256


def canonical_of(row: EventRow) -> bytes:
    """The canonical bytes of a stored event (its entry_hash's input; a Merkle leaf's data):
    chain.canonical, written out positionally because verification runs it a million times."""
    return _dumps({"v": chain.FORMAT_VERSION, "scope": row[1], "seq": row[2], "prev": row[3], "at": row[5],
                   "action": row[6], "actor": {"id": row[7], "label": row[8], "roles": row[9]}, "org": row[10],
                   "object": {"type": row[11], "id": row[12]}, "data": row[13] if row[13] is not None else {},
                   "ip": row[14], "ua": row[15]}, option=_SORTED)


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
    seconds: float | None = None  # how long the verification took (set by whoever timed it)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first(self) -> Failure | None:
        return self.failures[0] if self.failures else None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "scopes": self.scopes, "history_rows": self.history_rows,
                "seconds": self.seconds,
                "failures": [f.as_dict() for f in self.failures],
                "heads": {s: {"size": n, "head": h} for s, (n, h) in sorted(self.heads.items())}}


MASK = (1 << 64) - 1


def _save_key(attempt_id: int, item: Any, seq: Any, answer_sha: Any) -> int:
    # Python's keyed hash (SipHash, a secret key per process): both sides of the comparison are
    # computed in this process, and nobody can aim a forged row at a collision.
    return hash((attempt_id, item, seq, answer_sha))


@dataclass
class _Saves:
    """Per attempt, an order-free fingerprint of its saves (the sum of keyed hashes mod 2^64):
    the chain's `attempt.answer_saved` links on one side, answer_history rows on the other."""

    by_events: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, attempt_id: int, key: int) -> None:
        self.by_events[attempt_id] = (self.by_events.get(attempt_id, 0) + key) & MASK
        self.counts[attempt_id] = self.counts.get(attempt_id, 0) + 1


def check_rows(rows: Iterable[EventRow], *, seals: dict[int, set[tuple[int, str]]] | None = None,
               report: Report | None = None, whole: bool = True) -> tuple[Report, _Saves]:
    """Verify chains given as rows ordered by (scope, seq). `seals`: attempt id → the (size,
    head) pairs its batch's chain sealed, each checked against the attempt's chain. `whole`:
    the rows are all the chains there are (so a sealed attempt without a chain was deleted)."""
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

    by_events, counts = saves.by_events, saves.counts
    for row in rows:
        (rid, rscope, rseq, rprev, rhash, at, action, actor_id, actor_label, actor_roles, org, otype, oid, data,
         ip, ua) = row
        if rscope != scope:
            close_scope()
            scope, expected, prev, broken = rscope, 1, chain.GENESIS, False
            report.scopes += 1
            kind, ident = chain.parse_scope(scope)
            attempt_id = ident if kind == "attempt" else None
            seal_claims = set(seals.get(attempt_id, ())) if attempt_id is not None else set()
        report.events += 1
        if broken:
            continue  # one failure per chain: what follows a break cannot be judged
        what = None
        if rseq != expected:
            what = (f"第 {expected} 条缺失（下一条的序号是 {rseq}）" if rseq > expected
                    else f"序号 {rseq} 重复或顺序错乱（应为 {expected}）")
        elif rprev != prev:
            what = ("与前一条不衔接：prev_hash 不是第 {0} 条的哈希（第 {0} 条是后来插入或替换的）"
                    .format(expected - 1) if expected > 1 else "链的第一条 prev_hash 不是起始值")
        else:
            # canonical_of(row), written out: this line runs once per event of the record
            computed = _sha256(_dumps({
                "v": 1, "scope": rscope, "seq": rseq, "prev": rprev, "at": at, "action": action,
                "actor": {"id": actor_id, "label": actor_label, "roles": actor_roles}, "org": org,
                "object": {"type": otype, "id": oid}, "data": data if data is not None else {}, "ip": ip,
                "ua": ua}, option=_SORTED)).hexdigest()
            if computed != rhash:
                what = f"内容与其哈希不符（记录被改动）：存储 {rhash[:12]}…，重算 {computed[:12]}…"
        if what is not None:
            gap = rseq > expected and what.startswith("第")
            report.failures.append(Failure(rscope, expected if gap else rseq, None if gap else rid, what))
            broken = True
            continue
        if seal_claims:
            seal_claims.discard((rseq, rhash))
        if attempt_id is not None and action == "attempt.answer_saved":
            data = data or {}
            by_events[attempt_id] = (by_events.get(attempt_id, 0) + hash(
                (attempt_id, data.get("item"), data.get("seq"), data.get("answer_sha256")))) & MASK
            counts[attempt_id] = counts.get(attempt_id, 0) + 1
        expected, prev = rseq + 1, rhash
    close_scope()
    if whole:
        missing_chains(seals, report)
    return report, saves


def missing_chains(seals: dict[int, set[tuple[int, str]]], report: Report) -> None:
    for attempt_id in sorted(seals):
        scope_name = chain.attempt_scope(attempt_id)
        if scope_name not in report.heads:
            report.failures.append(Failure(scope_name, None, None,
                                           "批次链中封存了此作答记录，但这条链已不存在（被整条删除）"))


def history_sums(history: Iterable[tuple[int, int, int, Any]]) -> tuple[dict[int, int], dict[int, int], int]:
    """Per attempt, the fingerprint and count of answer_history rows (attempt, item, seq, answer)."""
    sums: dict[int, int] = {}
    counts: dict[int, int] = {}
    rows = 0
    digest_of = chain.answer_digest
    for attempt_id, item, seq, answer in history:
        rows += 1
        sums[attempt_id] = (sums.get(attempt_id, 0) + hash((attempt_id, item, seq, digest_of(answer)))) & MASK
        counts[attempt_id] = counts.get(attempt_id, 0) + 1
    return sums, counts, rows


def compare_history(sums: dict[int, int], counts: dict[int, int], saves: _Saves, report: Report,
                    attempts: set[int] | None = None) -> None:
    ids = set(sums) | set(saves.by_events)
    if attempts is not None:
        ids &= attempts
    for attempt_id in sorted(ids):
        if sums.get(attempt_id) != saves.by_events.get(attempt_id):
            report.failures.append(Failure(
                chain.attempt_scope(attempt_id), None, None,
                f"作答历史与链中的保存记录不符：历史 {counts.get(attempt_id, 0)} 条，链中 "
                f"{saves.counts.get(attempt_id, 0)} 条（历史记录被改动、删除或伪造）"))


def check_history(history: Iterable[tuple[int, int, int, Any]], saves: _Saves, report: Report,
                  attempts: set[int] | None = None) -> None:
    """Compare answer_history rows (attempt, item, seq, answer) with the saves' links."""
    sums, counts, rows = history_sums(history)
    report.history_rows += rows
    compare_history(sums, counts, saves, report, attempts)


# --- reading the database ------------------------------------------------------------------------

_ev = AuditEvent.__table__
PAGE = 20_000  # rows per keyset page: a bounded read, no server-side cursor held open


def _select(dialect: str, scopes: list[str] | None, lo: str | None, hi: str | None):
    """The events in (scope, seq) order (the unique index's order: no sort), the time as the
    canonical string and the data as stored text (parsed by orjson, much faster than the
    drivers' decoders), optionally only `scopes` or the scopes in [lo, hi)."""
    if dialect == "postgresql":
        at = func.to_char(func.timezone("UTC", _ev.c.occurred_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        data = cast(_ev.c.data, Text)
    else:
        at, data = type_coerce(_ev.c.occurred_at, String), type_coerce(_ev.c.data, Text)
    stmt = select(_ev.c.id, _ev.c.scope, _ev.c.seq, _ev.c.prev_hash, _ev.c.entry_hash, at, _ev.c.action,
                  _ev.c.actor_user_id, _ev.c.actor_label, _ev.c.actor_roles, _ev.c.organisation_id,
                  _ev.c.object_type, _ev.c.object_id, data, _ev.c.ip, _ev.c.user_agent)
    if scopes is not None:
        stmt = stmt.where(_ev.c.scope.in_(scopes))
    if lo is not None:
        stmt = stmt.where(_ev.c.scope >= lo)
    if hi is not None:
        stmt = stmt.where(_ev.c.scope < hi)
    after = tuple_(bindparam("after_scope", ""), bindparam("after_seq", 0))
    return stmt.where(tuple_(_ev.c.scope, _ev.c.seq) > after).order_by(_ev.c.scope, _ev.c.seq).limit(PAGE)


def _pages(conn, stmt, after_names: tuple[str, ...], cursor_of) -> Iterator[list[tuple]]:
    """Keyset pages of `stmt` read through the driver itself (the same connection and
    transaction): plain tuples, none of SQLAlchemy's row processing, which at a million rows
    would be most of the time. `cursor_of(last_row)`: the keyset values after a page."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql, params = str(compiled), dict(compiled.params)
    positional = conn.dialect.paramstyle == "qmark"
    order = compiled.positiontup if positional else None
    cursor = conn.connection.driver_connection.cursor()
    try:
        after: tuple = ("", 0) if len(after_names) == 2 else (0,)
        while True:
            params.update(zip(after_names, after, strict=True))
            cursor.execute(sql, [params[name] for name in order] if positional else params)
            page = cursor.fetchall()
            yield page
            if len(page) < PAGE:
                return
            after = cursor_of(page[-1])
    finally:
        cursor.close()


def event_rows(scopes: list[str] | None = None, *, lo: str | None = None, hi: str | None = None,
               conn=None) -> Iterator[EventRow]:
    """Stored events in (scope, seq) order, page by page: all of them, those of `scopes`, or
    those of the scopes in [lo, hi). `conn`: another connection than the session's."""
    if scopes is not None and not scopes:
        return
    conn = conn if conn is not None else db.session.connection()
    loads, make = orjson.loads, EventRow
    for page in _pages(conn, _select(conn.dialect.name, scopes, lo, hi), ("after_scope", "after_seq"),
                       lambda r: (r[1], r[2])):
        for r in page:
            at, data = r[5], r[13]
            if at[10] == " ":  # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC
                at = (at if len(at) > 19 else at + ".000000").replace(" ", "T") + "Z"
            yield make(r[0], r[1], r[2], r[3], r[4], at, r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                       loads(data) if data is not None else None, r[14], r[15])


def seal_claims(scopes: list[str] | None = None) -> dict[int, set[tuple[int, str]]]:
    stmt = select(AuditEvent.data).where(AuditEvent.action == "attempt.sealed")
    if scopes is not None:
        stmt = stmt.where(AuditEvent.scope.in_([s for s in scopes if s.startswith("batch/")] or [""]))
    claims: dict[int, set[tuple[int, str]]] = {}
    for data in db.session.scalars(stmt):
        claims.setdefault(int(data["attempt"]), set()).add((int(data["size"]), data["head"]))
    return claims


def history_rows(attempt_ids: list[int] | None = None, *, conn=None) -> Iterator[tuple[int, int, int, Any]]:
    """answer_history rows (attempt, item, seq, answer) page by page, in id order."""
    h = AnswerHistory.__table__
    conn = conn if conn is not None else db.session.connection()
    answer = cast(h.c.answer, Text) if conn.dialect.name == "postgresql" else type_coerce(h.c.answer, Text)
    stmt = select(h.c.id, h.c.attempt_id, h.c.form_item_id, h.c.seq, answer).where(h.c.id > bindparam("after", 0))
    if attempt_ids is not None:
        stmt = stmt.where(h.c.attempt_id.in_(attempt_ids or [-1]))
    loads = orjson.loads
    for page in _pages(conn, stmt.order_by(h.c.id).limit(PAGE), ("after",), lambda r: (r[0],)):
        for _id, attempt_id, item, seq, text_ in page:
            yield attempt_id, item, seq, None if text_ is None else loads(text_)


def batch_scopes(batch_id: int) -> list[str]:
    """The batch's chain and the chains of its attempts."""
    ids = db.session.execute(text("SELECT id FROM attempts WHERE batch_id = :b ORDER BY id"), {"b": batch_id})
    return [chain.batch_scope(batch_id), *(chain.attempt_scope(i) for (i,) in ids)]


PARALLEL_FROM = 200_000  # events: below this one process is quicker than starting others


def _fresh_connection():
    """In a forked worker: a connection of its own (the parent's stay the parent's)."""
    db.engine.dispose(close=False)
    return db.engine.connect()


def _events_job(lo: str | None, hi: str | None, seals: dict) -> tuple[Report, _Saves]:
    with _fresh_connection() as conn:
        return check_rows(event_rows(lo=lo, hi=hi, conn=conn), seals=seals, whole=False)


def _history_job() -> tuple[dict[int, int], dict[int, int], int]:
    with _fresh_connection() as conn:
        return history_sums(history_rows(conn=conn))


def _ranges(parts: int) -> list[tuple[str | None, str | None]]:
    """[lo, hi) scope ranges holding about the same number of events each."""
    counts = db.session.execute(select(_ev.c.scope, func.count()).group_by(_ev.c.scope).order_by(_ev.c.scope)).all()
    total = sum(n for _s, n in counts)
    bounds, running = [], 0
    for scope, n in counts:
        if running >= total * (len(bounds) + 1) / parts:
            bounds.append(scope)
        running += n
    edges = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _verify_parallel(workers: int) -> Report:
    """Every chain and the history, split over `workers` forked processes (the work is CPU-bound
    hashing; each process reads its own scope range)."""
    seals = seal_claims(None)
    ranges = _ranges(workers * 2)
    report, saves = Report(), _Saves()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        history = pool.submit(_history_job)
        parts = [pool.submit(_events_job, lo, hi, seals) for lo, hi in ranges]
        for part in parts:
            got, got_saves = part.result()
            report.events += got.events
            report.scopes += got.scopes
            report.heads.update(got.heads)
            report.failures.extend(got.failures)
            saves.by_events.update(got_saves.by_events)
            saves.counts.update(got_saves.counts)
        sums, counts, rows = history.result()
    missing_chains(seals, report)
    report.history_rows = rows
    compare_history(sums, counts, saves, report)
    return report


def verify_database(scopes: list[str] | None = None, *, workers: int | None = None) -> Report:
    """Verify every chain (or those of `scopes`), the seals and the answer history. A whole
    database of many events is verified by `workers` processes (default: one per CPU)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if scopes is None and workers > 1 and multiprocessing.get_start_method(allow_none=True) in (None, "fork") \
            and db.session.scalar(select(func.count()).select_from(_ev)) >= PARALLEL_FROM:
        return _verify_parallel(workers)
    report, saves = check_rows(event_rows(scopes), seals=seal_claims(scopes))
    attempts = None
    if scopes is not None:
        attempts = [ident for kind, ident in map(chain.parse_scope, scopes) if kind == "attempt"]
    check_history(history_rows(attempts), saves, report, set(attempts) if attempts is not None else None)
    return report


__all__ = ["EventRow", "Failure", "Report", "batch_scopes", "canonical_of", "check_history", "check_rows",
           "event_rows", "history_rows", "row_as_dict", "row_from_dict", "seal_claims", "verify_database"]
