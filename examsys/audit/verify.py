"""Verifying the process record in the database: every chain link by link, the answer history
against the saves' links, each seal against the chains it vouches for (examsys.audit.links does the
checking), read in keyset pages through the driver and, for a large record, split over one
forked process per CPU. Against a checkpoint (examsys.audit.checkpoints, examsys.audit.runs) a
chain shorter than the checkpoint's size is a truncated tail or a restored older database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson
from sqlalchemy import String, Text, bindparam, cast, func, select, text, tuple_, type_coerce

from examsys.audit import chain
from examsys.audit.links import (
    MASK,
    EventRow,
    Failure,
    Report,
    _Saves,
    add_seals,
    canonical_of,
    check_history,
    check_rows,
    compare_history,
    history_sums,
    missing_chains,
    row_as_dict,
    row_from_dict,
)
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.extensions import db

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


def raw_event_rows(scopes: list[str] | None = None, *, lo: str | None = None, hi: str | None = None,
                   conn=None) -> Iterator[tuple]:
    """Stored events in (scope, seq) order as the driver gives them (the time and the data as
    stored text: `check_rows` takes them so), page by page: all, those of `scopes`, or those of
    the scopes in [lo, hi). `conn`: another connection than the session's."""
    if scopes is not None and not scopes:
        return
    conn = conn if conn is not None else db.session.connection()
    for page in _pages(conn, _select(conn.dialect.name, scopes, lo, hi), ("after_scope", "after_seq"),
                       lambda r: (r[1], r[2])):
        yield from page


def event_rows(scopes: list[str] | None = None, *, lo: str | None = None, hi: str | None = None,
               conn=None) -> Iterator[EventRow]:
    """`raw_event_rows` as EventRows: the time as the canonical string, the data parsed."""
    loads, make = orjson.loads, EventRow
    for r in raw_event_rows(scopes, lo=lo, hi=hi, conn=conn):
        at, data = r[5], r[13]
        if at[10] == " ":
            at = (at if len(at) > 19 else at + ".000000").replace(" ", "T") + "Z"
        yield make(r[0], r[1], r[2], r[3], r[4], at, r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                   loads(data) if data is not None else None, r[14], r[15])


def seal_claims(scopes: list[str] | None = None) -> dict[str, set[tuple[int, str]]]:
    """scope → the (size, head) pairs the batches' chains (of `scopes`, or all) sealed of it."""
    stmt = select(AuditEvent.data).where(AuditEvent.action == "attempt.sealed")
    if scopes is not None:
        stmt = stmt.where(AuditEvent.scope.in_([s for s in scopes if s.startswith("batch/")] or [""]))
    claims: dict[str, set[tuple[int, str]]] = {}
    for data in db.session.scalars(stmt):
        add_seals(claims, data)
    return claims


def history_rows(attempt_ids: list[int] | None = None, *, conn=None, ids: tuple[int, int] | None = None) \
        -> Iterator[tuple[int, int, int, Any]]:
    """answer_history rows (attempt, item, seq, answer) page by page, in id order; `ids`: only
    rows with lo <= id < hi."""
    h = AnswerHistory.__table__
    conn = conn if conn is not None else db.session.connection()
    answer = cast(h.c.answer, Text) if conn.dialect.name == "postgresql" else type_coerce(h.c.answer, Text)
    stmt = select(h.c.id, h.c.attempt_id, h.c.form_item_id, h.c.seq, answer).where(h.c.id > bindparam("after", 0))
    if attempt_ids is not None:
        stmt = stmt.where(h.c.attempt_id.in_(attempt_ids or [-1]))
    if ids is not None:
        stmt = stmt.where(h.c.id >= ids[0], h.c.id < ids[1])
    loads = orjson.loads
    for page in _pages(conn, stmt.order_by(h.c.id).limit(PAGE), ("after",), lambda r: (r[0],)):
        for _id, attempt_id, item, seq, text_ in page:
            yield attempt_id, item, seq, None if text_ is None else loads(text_)


def batch_scopes(batch_id: int) -> list[str]:
    """The batch's chain, the chains of its attempts and those of its roster entries that signed
    in (an entry's chain holds its sign-ins)."""
    ids = db.session.execute(text("SELECT id FROM attempts WHERE batch_id = :b ORDER BY id"), {"b": batch_id})
    entries = db.session.execute(text(
        "SELECT id FROM roster_entries e WHERE batch_id = :b"
        " AND EXISTS (SELECT 1 FROM candidate_sessions s WHERE s.roster_entry_id = e.id) ORDER BY id"),
        {"b": batch_id})
    return [chain.batch_scope(batch_id), *(chain.attempt_scope(i) for (i,) in ids),
            *(chain.entry_scope(i) for (i,) in entries)]


PARALLEL_FROM = 200_000  # events: below this one process is quicker than starting others


def _fresh_connection():
    """In a forked worker: a connection of its own (the parent's stay the parent's)."""
    db.engine.dispose(close=False)
    return db.engine.connect()


def _events_job(lo: str | None, hi: str | None, seals: dict) -> tuple[Report, _Saves]:
    with _fresh_connection() as conn:
        return check_rows(raw_event_rows(lo=lo, hi=hi, conn=conn), seals=seals, whole=False)


def _history_job(ids: tuple[int, int]) -> tuple[dict[int, int], dict[int, int], int]:
    with _fresh_connection() as conn:
        return history_sums(history_rows(conn=conn, ids=ids))


def _id_ranges(parts: int) -> list[tuple[int, int]]:
    h = AnswerHistory.__table__
    low, high = db.session.execute(select(func.min(h.c.id), func.max(h.c.id))).one()
    if low is None:
        return [(0, 1)]
    step = (high - low) // parts + 1
    return [(low + k * step, low + (k + 1) * step) for k in range(parts)]


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
    ranges, id_ranges = _ranges(workers * 3), _id_ranges(workers)
    report, saves = Report(), _Saves()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        # Largest first: the event ranges cost about twice what the history's do.
        parts = [pool.submit(_events_job, lo, hi, seals) for lo, hi in ranges]
        histories = [pool.submit(_history_job, ids) for ids in id_ranges]
        for part in parts:
            got, got_saves = part.result()
            report.events += got.events
            report.scopes += got.scopes
            report.heads.update(got.heads)
            report.failures.extend(got.failures)
            saves.by_events.update(got_saves.by_events)
            saves.counts.update(got_saves.counts)
        sums: dict[int, int] = {}
        counts: dict[int, int] = {}
        for history in histories:
            got_sums, got_counts, rows = history.result()
            for attempt_id, value in got_sums.items():
                sums[attempt_id] = (sums.get(attempt_id, 0) + value) & MASK
                counts[attempt_id] = counts.get(attempt_id, 0) + got_counts[attempt_id]
            report.history_rows += rows
    missing_chains(seals, report)
    compare_history(sums, counts, saves, report)
    return report


def verify_database(scopes: list[str] | None = None, *, workers: int | None = None) -> Report:
    """Verify every chain (or those of `scopes`), the seals and the answer history. A whole
    database of many events is verified by `workers` processes (default: one per CPU)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if scopes is None and workers > 1 and multiprocessing.get_start_method(allow_none=True) in (None, "fork") \
            and db.session.scalar(select(func.count()).select_from(_ev)) >= PARALLEL_FROM:
        return _verify_parallel(workers)
    report, saves = check_rows(raw_event_rows(scopes), seals=seal_claims(scopes))
    attempts = None
    if scopes is not None:
        attempts = [ident for kind, ident in map(chain.parse_scope, scopes) if kind == "attempt"]
    check_history(history_rows(attempts), saves, report, set(attempts) if attempts is not None else None)
    return report


__all__ = ["MASK", "EventRow", "Failure", "Report", "batch_scopes", "canonical_of", "check_history", "check_rows",
           "compare_history", "event_rows", "history_rows", "history_sums", "missing_chains", "raw_event_rows",
           "row_as_dict", "row_from_dict", "seal_claims", "verify_database"]
