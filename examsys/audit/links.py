"""Checking the process record's links, as pure functions (rows in, report out), so the same
code verifies the database (examsys.audit.verify) and, offline, the events inside a batch
archive. What it finds, per chain, is the first link that does not hold, and why:

- its content no longer gives its entry_hash (the row was edited, or rows were swapped);
- its seq is not the next one (a row before it was deleted, or rows were renumbered);
- its prev_hash is not the previous link's entry_hash (a row was inserted or replaced before it).

It also checks each seal (`attempt.sealed`: an attempt's chain and its roster entry's) against the
sealed chain, and the answer history against
the saves' links (an order-free fingerprint per attempt on each side).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from examsys.audit import chain


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


_sha256 = hashlib.sha256


def canonical_of(row: EventRow) -> bytes:
    """The canonical bytes of a stored event (its entry_hash's input; a Merkle leaf's data)."""
    return chain.canonical_of_fields(row[1], row[2], row[3], row[5], row[6], row[7], row[8], row[9], row[10],
                                     row[11], row[12], row[13] if row[13] is not None else {}, row[14], row[15])


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


@dataclass
class _Saves:
    """Per attempt, an order-free fingerprint of its saves (the sum of keyed hashes mod 2^64):
    the chain's `attempt.answer_saved` links on one side, answer_history rows on the other.
    The hash is Python's keyed one (SipHash, a secret key per process, inherited by forked
    workers): both sides are computed under the same key, and nobody can aim a forged row at a
    collision."""

    by_events: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)


def seals_of(data: Any) -> list[tuple[str, int, str]]:
    """The (scope, size, head) pairs an `attempt.sealed` event's data vouches for; [] for data
    that does not read as a seal."""
    if not isinstance(data, dict):
        return []
    try:
        out = [(chain.attempt_scope(int(data["attempt"])), int(data["size"]), str(data["head"]))]
        if "entry" in data:
            out.append((chain.entry_scope(int(data["entry"])), int(data["entry_size"]), str(data["entry_head"])))
    except (KeyError, TypeError, ValueError):
        return []
    return out


def add_seals(claims: dict[str, set[tuple[int, str]]], data: Any) -> None:
    """Add what one `attempt.sealed` event vouches for to `claims` (scope → {(size, head)})."""
    for scope, size, head in seals_of(data):
        claims.setdefault(scope, set()).add((size, head))


def check_rows(rows: Iterable[EventRow], *, seals: dict[str, set[tuple[int, str]]] | None = None,
               report: Report | None = None, whole: bool = True) -> tuple[Report, _Saves]:
    """Verify chains given as rows ordered by (scope, seq). `seals`: scope → the (size, head)
    pairs its batch's chain sealed (attempt and roster entry chains), each checked against that
    chain. `whole`: the rows are all the chains there are (so a sealed chain that is missing was
    deleted)."""
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
    loads, canonical_fields = orjson.loads, chain.canonical_of_fields
    for row in rows:
        (rid, rscope, rseq, rprev, rhash, at, action, actor_id, actor_label, actor_roles, org, otype, oid, data,
         ip, ua) = row
        if at[10] == " ":  # as SQLite keeps it: 'YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC
            at = (at if len(at) > 19 else at + ".000000").replace(" ", "T") + "Z"
        if data.__class__ is str:  # as stored: parsed here, once
            data = loads(data)
        if rscope != scope:
            close_scope()
            scope, expected, prev, broken = rscope, 1, chain.GENESIS, False
            report.scopes += 1
            kind, ident = chain.parse_scope(scope)
            attempt_id = ident if kind == "attempt" else None
            seal_claims = set(seals.get(scope, ()))
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
            computed = _sha256(canonical_fields(rscope, rseq, rprev, at, action, actor_id, actor_label, actor_roles,
                                                org, otype, oid, data if data is not None else {}, ip,
                                                ua)).hexdigest()
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


def missing_chains(seals: dict[str, set[tuple[int, str]]], report: Report) -> None:
    for scope_name in sorted(seals):
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



__all__ = ["MASK", "EventRow", "Failure", "Report", "add_seals", "canonical_of", "check_history", "check_rows",
           "compare_history", "history_sums", "missing_chains", "row_as_dict", "row_from_dict", "seals_of"]
