"""Anomaly flags of an attempt, each with the evidence behind it, for the supervisors' review of
a batch's process record. Pure functions over plain data (saves, integrity events, sessions):
no database, no Flask; `examsys.supervision.evidence` loads the data.

A flag is a reason to look, never a verdict: each carries the items (times in aware UTC, the
kind, the details and what row they come from) a supervisor checks before recording a finding.

Flags: many focus losses, IP change, device (browser) change, concurrent sign-ins, implausibly
fast answering, a long silence followed by a burst of saves, and copying suspicion (built from
`examsys.supervision.copying`'s flagged pairs).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from examsys.supervision.copying import PairResult

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITY_LABELS = {HIGH: "高", MEDIUM: "中", LOW: "低"}
FOCUS_KINDS = frozenset({"page_hidden", "focus_lost"})
# One switch away from the exam tab reports both "page hidden" and "focus lost" within a moment:
# events closer than this are one departure, not two.
SAME_DEPARTURE = timedelta(seconds=2)


@dataclass(frozen=True)
class Thresholds:
    focus_losses: int = 5  # departures from the exam page
    speed_ratio: float = 3.0  # items per minute, against the batch's median
    speed_min_items: int = 10  # too few items say nothing about speed
    silence_minutes: float = 10.0
    burst_items: int = 10  # distinct items saved ...
    burst_minutes: float = 2.0  # ... within this long after the silence


# --- inputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Save:
    """One acknowledged save (an answer_history row)."""

    form_item_id: int
    seq: int
    answer: Any
    saved_at: datetime
    ip: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Signal:
    """One integrity event."""

    kind: str
    source: str  # client | server
    occurred_at: datetime
    data: Mapping = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class SessionRecord:
    """One candidate session of the attempt's roster entry."""

    created_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    id: int | None = None


@dataclass
class AttemptRecord:
    attempt_id: int
    started_at: datetime
    finished_at: datetime | None = None
    saves: list[Save] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)


# --- outputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One fact behind a flag. `source` and `source_id` name the row it comes from
    ("answer_history", "integrity_event", "candidate_session", "item") so the page can link it."""

    at: datetime | None
    kind: str
    details: Mapping = field(default_factory=dict)
    source: str | None = None
    source_id: Any = None


@dataclass
class Flag:
    code: str
    label: str
    severity: str  # high | medium | low
    explanation: str  # one line, with the numbers
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


LABELS = {
    "focus_loss": "多次切屏/离开页面",
    "ip_change": "IP 地址变化",
    "device_change": "设备（浏览器）变化",
    "concurrent_login": "重复登录",
    "fast_answering": "作答过快",
    "silence_burst": "长时间无操作后集中作答",
    "copying": "疑似抄袭",
}


def _save_evidence(save: Save, kind: str = "save", **details) -> Evidence:
    return Evidence(at=save.saved_at, kind=kind, source="answer_history", source_id=save.id,
                    details={"form_item_id": save.form_item_id, "seq": save.seq, "ip": save.ip, **details})


def _signal_evidence(signal: Signal) -> Evidence:
    return Evidence(at=signal.occurred_at, kind=signal.kind, details=dict(signal.data or {}),
                    source="integrity_event", source_id=signal.id)


def _session_evidence(session: SessionRecord, kind: str = "session") -> Evidence:
    return Evidence(at=session.created_at, kind=kind, source="candidate_session", source_id=session.id,
                    details={"ip": session.ip, "user_agent": session.user_agent,
                             "ended_at": session.ended_at, "end_reason": session.end_reason})


def _during(record: AttemptRecord, session: SessionRecord) -> bool:
    """The session was live at some moment of the attempt."""
    end = record.finished_at
    return (end is None or session.created_at <= end) and \
        (session.ended_at is None or session.ended_at >= record.started_at)


# --- the flags -------------------------------------------------------------------------------------


def focus_loss(record: AttemptRecord, t: Thresholds = Thresholds()) -> Flag | None:
    events = sorted((s for s in record.signals if s.kind in FOCUS_KINDS), key=lambda s: s.occurred_at)
    departures: list[Signal] = []
    for event in events:
        if not departures or event.occurred_at - departures[-1].occurred_at > SAME_DEPARTURE:
            departures.append(event)
    if len(departures) < t.focus_losses:
        return None
    severity = HIGH if len(departures) >= 2 * t.focus_losses else MEDIUM
    return Flag("focus_loss", LABELS["focus_loss"], severity,
                f"离开考试页面 {len(departures)} 次（{len(events)} 条切屏/失焦记录，阈值 {t.focus_losses} 次）",
                [_signal_evidence(s) for s in departures])


def ip_change(record: AttemptRecord) -> Flag | None:
    evidence, previous = [], None
    for save in sorted(record.saves, key=lambda s: (s.saved_at, s.seq)):
        if save.ip and previous is not None and save.ip != previous.ip:
            evidence.append(_save_evidence(save, "ip_change", previous_ip=previous.ip))
        if save.ip:
            previous = save
    evidence += [_signal_evidence(s) for s in record.signals if s.kind == "ip_change"]
    addresses = {s.ip for s in record.saves if s.ip} | {s.ip for s in record.sessions if s.ip and _during(record, s)}
    for s in record.signals:
        if s.kind == "ip_change":
            addresses |= {a for a in (s.data.get("from"), s.data.get("to")) if a}
    if not evidence and len(addresses) < 2:
        return None
    evidence.sort(key=lambda e: e.at)
    changes = max(len(evidence), 1)
    return Flag("ip_change", LABELS["ip_change"], MEDIUM,
                f"作答期间出现 {len(addresses)} 个 IP 地址，变化 {changes} 次：{'、'.join(sorted(addresses))}",
                evidence)


def device_change(record: AttemptRecord) -> Flag | None:
    sessions = [s for s in record.sessions if _during(record, s) and s.user_agent]
    agents = {s.user_agent for s in sessions}
    signals = [s for s in record.signals if s.kind == "user_agent_change"]
    if len(agents) < 2 and not signals:
        return None
    evidence = [_session_evidence(s) for s in sessions] if len(agents) > 1 else []
    evidence += [_signal_evidence(s) for s in signals]
    evidence.sort(key=lambda e: e.at)
    count = max(len(agents), 2)
    return Flag("device_change", LABELS["device_change"], HIGH,
                f"作答期间使用了 {count} 种浏览器/设备（浏览器变化记录 {len(signals)} 条）", evidence)


def concurrent_login(record: AttemptRecord) -> Flag | None:
    replaced = [s for s in record.sessions if s.end_reason == "replaced" and _during(record, s)]
    signals = [s for s in record.signals if s.kind in ("concurrent_login", "stale_session")]
    if not replaced and not signals:
        return None
    evidence = [Evidence(at=s.ended_at, kind="session_replaced", source="candidate_session", source_id=s.id,
                         details={"ip": s.ip, "user_agent": s.user_agent, "created_at": s.created_at})
                for s in replaced]
    evidence += [_signal_evidence(s) for s in signals]
    evidence.sort(key=lambda e: e.at)
    stale = sum(1 for s in signals if s.kind == "stale_session")
    return Flag("concurrent_login", LABELS["concurrent_login"], HIGH,
                f"作答期间在其他设备/窗口再次登录 {max(len(replaced), len(signals) - stale)} 次，"
                f"被替换的会话仍在使用 {stale} 次", evidence)


def answering_rate(record: AttemptRecord) -> tuple[int, float] | None:
    """(distinct items answered, items per minute from the start to the last save), or None
    without saves."""
    if not record.saves:
        return None
    last = max(s.saved_at for s in record.saves)
    minutes = max((last - record.started_at).total_seconds() / 60, 1 / 60)
    items = len({s.form_item_id for s in record.saves})
    return items, items / minutes


def batch_median_rate(records: Iterable[AttemptRecord], t: Thresholds = Thresholds()) -> float | None:
    rates = [r[1] for r in map(answering_rate, records) if r and r[0] >= t.speed_min_items]
    return statistics.median(rates) if rates else None


def fast_answering(record: AttemptRecord, median_rate: float | None, t: Thresholds = Thresholds()) -> Flag | None:
    rate = answering_rate(record)
    signals = [s for s in record.signals if s.kind == "fast_answering"]
    fast = rate is not None and median_rate is not None and median_rate > 0 and rate[0] >= t.speed_min_items \
        and rate[1] >= t.speed_ratio * median_rate
    if not fast and not signals:
        return None
    evidence = [_signal_evidence(s) for s in signals]
    saves = sorted(record.saves, key=lambda s: s.saved_at)
    if saves:
        evidence += [_save_evidence(saves[0], "first_save"), _save_evidence(saves[-1], "last_save")]
    evidence.sort(key=lambda e: e.at)
    if rate is None:
        return Flag("fast_answering", LABELS["fast_answering"], MEDIUM, "系统记录了作答过快信号", evidence)
    items, per_minute = rate
    against = f"，本批次中位数 {median_rate:.2f} 题/分钟" if median_rate else ""
    return Flag("fast_answering", LABELS["fast_answering"], HIGH if fast else MEDIUM,
                f"作答 {items} 题，平均 {per_minute:.2f} 题/分钟{against}", evidence)


def silence_burst(record: AttemptRecord, t: Thresholds = Thresholds()) -> Flag | None:
    saves = sorted(record.saves, key=lambda s: (s.saved_at, s.seq))
    silence, burst_window = timedelta(minutes=t.silence_minutes), timedelta(minutes=t.burst_minutes)
    best: tuple | None = None
    previous_at = record.started_at
    for i, save in enumerate(saves):
        gap = save.saved_at - previous_at
        if gap >= silence:
            burst = [s for s in saves[i:] if s.saved_at - save.saved_at <= burst_window]
            items = {s.form_item_id for s in burst}
            if len(items) >= t.burst_items and (best is None or len(items) > len(best[2])):
                best = (saves[i - 1] if i else None, gap, items, burst)
        previous_at = save.saved_at
    if best is None:
        return None
    before, gap, items, burst = best
    evidence = [_save_evidence(before, "last_save_before_silence")] if before else []
    evidence += [_save_evidence(s) for s in burst]
    span = (burst[-1].saved_at - burst[0].saved_at).total_seconds() / 60
    return Flag("silence_burst", LABELS["silence_burst"], MEDIUM,
                f"{gap.total_seconds() / 60:.0f} 分钟无保存后，{span:.1f} 分钟内保存了 {len(items)} 题", evidence)


def copying(attempt_id: int, pairs: Sequence[PairResult],
            last_saves: Mapping[int, Mapping[Any, Save]] | None = None) -> Flag | None:
    """The copying flag of an attempt from the flagged pairs it belongs to (attempt ids as the
    pair's candidates). Each identical wrong answer is an item of evidence, timed by this
    attempt's last save of it (`last_saves`: attempt → item identity → save, see `last_saves`),
    with the other candidate's save time in its details."""
    mine = [p for p in pairs if p.flagged and attempt_id in (p.copier, p.source)]
    if not mine:
        return None
    last_saves = last_saves or {}
    evidence = []
    for pair in mine:
        other = pair.source if pair.copier == attempt_id else pair.copier
        own_last, other_last = last_saves.get(attempt_id, {}), last_saves.get(other, {})
        for item in pair.items:
            own, theirs = own_last.get(item), other_last.get(item)
            evidence.append(Evidence(
                at=own.saved_at if own else None, kind="identical_incorrect", source="item", source_id=item,
                details={"other_attempt_id": other, "answer": own.answer if own else None,
                         "other_saved_at": theirs.saved_at if theirs else None, "k_index": pair.k_index}))
    worst = min(mine, key=lambda p: p.k_index)
    other = worst.source if worst.copier == attempt_id else worst.copier
    return Flag("copying", LABELS["copying"], HIGH,
                f"与考生（作答 #{other}）相同错误答案 {worst.identical_incorrect} 题"
                f"（随机预期 {worst.expected:.1f} 题，K 指数 p = {worst.k_index:.1e}）"
                + (f"，另有 {len(mine) - 1} 对" if len(mine) > 1 else ""), evidence)


def last_saves(saves: Iterable[Save], identity: Mapping[int, Any] | None = None) -> dict:
    """item identity (`identity[form_item_id]`, else the form item id) → its last save, the
    answer that stands."""
    identity = identity or {}
    last: dict = {}
    for save in sorted(saves, key=lambda s: (s.saved_at, s.seq)):
        last[identity.get(save.form_item_id, save.form_item_id)] = save
    return last


def attempt_flags(record: AttemptRecord, *, median_rate: float | None, pairs: Sequence[PairResult] = (),
                  saves: Mapping[int, Mapping[Any, Save]] | None = None,
                  thresholds: Thresholds = Thresholds()) -> list[Flag]:
    """Every flag of one attempt, most severe first."""
    flags = [focus_loss(record, thresholds), ip_change(record), device_change(record), concurrent_login(record),
             fast_answering(record, median_rate, thresholds), silence_burst(record, thresholds),
             copying(record.attempt_id, pairs, saves)]
    order = {HIGH: 0, MEDIUM: 1, LOW: 2}
    return sorted((f for f in flags if f is not None), key=lambda f: order[f.severity])


def batch_flags(records: Sequence[AttemptRecord], pairs: Sequence[PairResult] = (),
                thresholds: Thresholds = Thresholds(), identity: Mapping[int, Any] | None = None) \
        -> dict[int, list[Flag]]:
    """attempt id → its flags, speed judged against the median of these attempts. `pairs` are
    copying pairs over attempt ids whose items are `identity[form_item_id]` (default: form item
    ids)."""
    median = batch_median_rate(records, thresholds)
    saves = {r.attempt_id: last_saves(r.saves, identity) for r in records}
    return {r.attempt_id: attempt_flags(r, median_rate=median, pairs=pairs, saves=saves, thresholds=thresholds)
            for r in records}


__all__ = ["LABELS", "AttemptRecord", "Evidence", "Flag", "Save", "SessionRecord", "Signal", "Thresholds",
           "answering_rate", "attempt_flags", "batch_flags", "batch_median_rate", "concurrent_login", "copying",
           "device_change", "fast_answering", "focus_loss", "ip_change", "last_saves", "silence_burst"]
