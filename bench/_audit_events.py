"""Seeding a large process record for bench/audit.py: N attempt chains of answer saves (each with
its answer-history row), sealed into one batch chain, written straight into the tables with
correct links (the verifier cannot tell them from events the app wrote), then nothing else."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson

from examsys.audit import chain

BATCH_ID = 1


def rows(n_events: int, per_attempt: int = 500, org_id: int | None = None, seed: int = 5):
    """(events, history) column dicts: saves in attempt chains plus one seal per attempt."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    attempts = max(1, n_events // (per_attempt + 1))
    batch = chain.batch_scope(BATCH_ID)
    batch_head = (0, chain.GENESIS)
    for a in range(attempts):
        attempt_id = 10_000 + a
        scope = chain.attempt_scope(attempt_id)
        seq, prev = 0, chain.GENESIS
        events, history = [], []
        for k in range(per_attempt):
            at = start + timedelta(seconds=a * 0.01 + k * 7, microseconds=rng.randrange(1_000_000))
            item, answer = 1 + k % 90, "ABCD"[rng.randrange(4)]
            values = {"occurred_at": at, "action": "attempt.answer_saved", "actor_user_id": None, "actor_label": None,
                      "actor_roles": "candidate", "organisation_id": org_id, "object_type": "attempt",
                      "object_id": str(attempt_id),
                      "data": {"item": item, "seq": k + 1, "answer_sha256": chain.answer_digest(answer),
                               "flagged": False},
                      "ip": f"10.0.{a % 250}.{k % 250}", "user_agent": "Mozilla/5.0 (bench) Chrome/120"}
            seq += 1
            link = chain.entry_hash(values, scope=scope, seq=seq, prev=prev)
            events.append({**values, "scope": scope, "seq": seq, "prev_hash": prev, "entry_hash": link})
            history.append({"attempt_id": attempt_id, "form_item_id": item, "seq": k + 1, "answer": answer,
                            "flagged": False, "saved_at": at, "ip": values["ip"]})
            prev = link
        seal = {"occurred_at": at, "action": "attempt.sealed", "actor_user_id": None, "actor_label": None,
                "actor_roles": "candidate", "organisation_id": org_id, "object_type": "attempt",
                "object_id": str(attempt_id), "data": {"attempt": attempt_id, "size": seq, "head": prev},
                "ip": None, "user_agent": None}
        bseq = batch_head[0] + 1
        blink = chain.entry_hash(seal, scope=batch, seq=bseq, prev=batch_head[1])
        events.append({**seal, "scope": batch, "seq": bseq, "prev_hash": batch_head[1], "entry_hash": blink})
        batch_head = (bseq, blink)
        yield events, history


EVENT_COLUMNS = ("occurred_at", "action", "actor_user_id", "actor_label", "actor_roles", "organisation_id",
                 "object_type", "object_id", "data", "ip", "user_agent", "scope", "seq", "prev_hash", "entry_hash")
HISTORY_COLUMNS = ("attempt_id", "form_item_id", "seq", "answer", "flagged", "saved_at", "ip")


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def write(engine, n_events: int, per_attempt: int = 500) -> int:
    """Insert about `n_events` events (and their history) through the raw driver, with foreign
    keys and triggers out of the way (the attempts they name do not exist). Returns events."""
    raw = engine.raw_connection()
    total = 0
    try:
        if engine.dialect.name == "sqlite":
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("BEGIN")
            ev_sql = (f"INSERT INTO audit_events ({', '.join(EVENT_COLUMNS)}) "
                      f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")
            hi_sql = (f"INSERT INTO answer_history ({', '.join(HISTORY_COLUMNS)}) "
                      f"VALUES ({', '.join('?' * len(HISTORY_COLUMNS))})")
            for events, history in rows(n_events, per_attempt):
                raw.executemany(ev_sql, [tuple(_sqlite_value(e[c]) for c in EVENT_COLUMNS) for e in events])
                raw.executemany(hi_sql, [tuple(orjson.dumps(h[c]).decode() if c == "answer" else _sqlite_value(h[c])
                                               for c in HISTORY_COLUMNS) for h in history])
                total += len(events)
            raw.execute("COMMIT")
        else:
            cur = raw.cursor()
            cur.execute("SET session_replication_role = replica")
            with cur.copy(f"COPY audit_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy_ev:
                history_all = []
                for events, history in rows(n_events, per_attempt):
                    for e in events:
                        copy_ev.write_row([orjson.dumps(e[c]).decode() if c == "data" else e[c] for c in EVENT_COLUMNS])
                    history_all.extend(history)
                    total += len(events)
            with cur.copy(f"COPY answer_history ({', '.join(HISTORY_COLUMNS)}) FROM STDIN") as copy_hi:
                for h in history_all:
                    copy_hi.write_row([orjson.dumps(h[c]).decode() if c == "answer" else h[c] for c in HISTORY_COLUMNS])
            raw.commit()
    finally:
        raw.close()
    return total
