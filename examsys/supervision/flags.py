"""Anomaly flags with their evidence, as the supervisor's workspace and the signed supervision
form show them: the detectors' results (examsys.supervision.evidence) turned into readable lines
— what was seen, when (Beijing time), where (item position, address, the other candidate) —
each linking to the attempt it concerns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from examsys.supervision import evidence as detectors
from examsys.supervision.anomalies import Evidence as Fact
from examsys.supervision.anomalies import Flag as Detected

KIND_LABELS = {
    "save": "保存答案", "first_save": "首次保存", "last_save": "最后一次保存",
    "last_save_before_silence": "沉默前最后一次保存", "ip_change": "更换 IP 后保存",
    "session_replaced": "登录被新的登录取代", "session": "登录", "identical_incorrect": "相同的错误答案",
    "focus_lost": "离开考试页面", "page_hidden": "页面被隐藏", "copy": "复制", "paste": "粘贴",
    "fullscreen_exit": "退出全屏", "concurrent_login": "重复登录", "fast_answering": "作答过快",
    "user_agent_change": "更换浏览器", "long_silence": "长时间无操作后保存",
}
DETAIL_LABELS = {"seq": "序号", "ip": "IP", "previous_ip": "原 IP", "user_agent": "浏览器", "answer": "答案",
                 "end_reason": "结束原因"}


@dataclass(frozen=True)
class Evidence:
    """One fact behind a flag: what it is, and where it was seen (an attempt, an item, a time)."""

    label: str
    detail: str = ""
    attempt_id: int | None = None


@dataclass(frozen=True)
class Flag:
    """An anomaly worth a supervisor's look — never a verdict."""

    code: str
    label: str
    explanation: str
    evidence: list[Evidence] = field(default_factory=list)
    attempt_id: int | None = None
    severity: str = ""


@dataclass(frozen=True)
class AnomalyResult:
    flags: list[Flag] = field(default_factory=list)

    def as_data(self) -> list[dict]:
        """Plain data for the signed form's snapshot."""
        return [{"code": f.code, "label": f.label, "explanation": f.explanation, "attempt_id": f.attempt_id,
                 "severity": f.severity, "evidence": [{"label": e.label, "detail": e.detail} for e in f.evidence]}
                for f in self.flags]


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["EXAMSYS_DISPLAY_TIMEZONE"])
    return moment.astimezone(zone).strftime("%m-%d %H:%M:%S")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "正确" if value else "错误"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, list):
        return "、".join(_value(v) for v in value) or "（空）"
    if value is None:
        return "（空）"
    return str(value)


def _fact(fact: Fact, positions: tuple[Mapping[int, int], Mapping[int, int]], attempt_id: int) -> Evidence:
    details = dict(fact.details or {})
    parts = []
    by_item, by_version = positions
    item = details.pop("form_item_id", None)
    if item is not None:
        parts.append(f"第 {by_item[item]} 题" if item in by_item else "试题")
    elif fact.source == "item":
        parts.append(f"第 {by_version[fact.source_id]} 题" if fact.source_id in by_version else "试题")
    other = details.pop("other_attempt_id", None)
    other_at = details.pop("other_saved_at", None)
    for key, value in details.items():
        if value is not None and key in DETAIL_LABELS:
            parts.append(f"{DETAIL_LABELS[key]} {_value(value)}")
    if other is not None:
        parts.append(f"对方作答记录 #{other}" + (f"（{_when(other_at)} 保存）" if other_at else ""))
    label = " ".join(x for x in (_when(fact.at), KIND_LABELS.get(fact.kind, fact.kind)) if x)
    return Evidence(label=label, detail="，".join(parts), attempt_id=other if other is not None else attempt_id)


def _flag(found: Detected, attempt_id: int, positions: tuple[Mapping[int, int], Mapping[int, int]]) -> Flag:
    facts = sorted(found.evidence, key=lambda f: (f.at is None, f.at.timestamp() if f.at else 0))  # in time order
    return Flag(code=found.code, label=found.label, explanation=found.explanation, attempt_id=attempt_id,
                severity=found.severity_label, evidence=[_fact(f, positions, attempt_id) for f in facts])


def batch_anomalies(batch_id: int) -> AnomalyResult:
    """Every flag of a batch, attempt by attempt (the most severe of each first)."""
    found = detectors.batch_anomalies(batch_id)
    positions = detectors.item_positions(batch_id)
    return AnomalyResult([_flag(f, attempt_id, positions) for attempt_id, flags in sorted(found.flags.items())
                          for f in flags])


def attempt_anomalies(attempt_id: int) -> AnomalyResult:
    """The flags of one attempt, judged against its whole batch."""
    batch_id = detectors.batch_of(attempt_id)
    found = detectors.batch_anomalies(batch_id)
    positions = detectors.item_positions(batch_id)
    return AnomalyResult([_flag(f, attempt_id, positions) for f in found.flags.get(attempt_id, [])])


__all__ = ["AnomalyResult", "Evidence", "Flag", "attempt_anomalies", "batch_anomalies"]
