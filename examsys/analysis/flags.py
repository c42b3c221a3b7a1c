"""Flags on items from their statistics, each with the evidence that raised it (pure, no DB).

A flag is what a reviewer should look at, not a verdict: the evidence goes with it into the
bank's fault report, and the reviewer decides. Too few candidates make every figure noise, so
no flag is raised below MIN_CANDIDATES.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

MIN_CANDIDATES = 30
TOO_EASY = 0.90          # facility above: the item tells almost nobody apart
TOO_HARD = 0.20          # facility below
LOW_DISCRIMINATION = 0.20  # corrected point-biserial below (classical rule of thumb for keeping an item)
DEAD_DISTRACTOR = 0.02   # a distractor chosen by fewer than this share of all candidates
WRONG_KEY_MARGIN = 0.0   # a distractor the upper group prefers to the key by more than this


class FlagKind(StrEnum):
    TOO_EASY = "too_easy"
    TOO_HARD = "too_hard"
    LOW_DISCRIMINATION = "low_discrimination"
    NEGATIVE_DISCRIMINATION = "negative_discrimination"
    DEAD_DISTRACTOR = "dead_distractor"
    LIKELY_WRONG_KEY = "likely_wrong_key"


FLAG_LABELS = {
    FlagKind.TOO_EASY: "过易",
    FlagKind.TOO_HARD: "过难",
    FlagKind.LOW_DISCRIMINATION: "区分度低",
    FlagKind.NEGATIVE_DISCRIMINATION: "区分度为负",
    FlagKind.DEAD_DISTRACTOR: "干扰项无人选",
    FlagKind.LIKELY_WRONG_KEY: "疑似答案错误",
}


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    item: int                       # column index of the item in the statistics
    evidence: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return FLAG_LABELS[self.kind]

    def reason(self, item_name: str = "") -> str:
        """One sentence for the fault report: what was seen, with the figures."""
        e = self.evidence
        head = f"考试统计（{e.get('n', '?')} 名考生）：{item_name + ' ' if item_name else ''}{self.label}："
        if self.kind in (FlagKind.TOO_EASY, FlagKind.TOO_HARD):
            return head + f"得分率 p = {e['p']:.2f}"
        if self.kind in (FlagKind.LOW_DISCRIMINATION, FlagKind.NEGATIVE_DISCRIMINATION):
            return head + f"校正点二列相关 r = {e['r']:.2f}，高低分组差 D = {e['d']:.2f}"
        if self.kind is FlagKind.DEAD_DISTRACTOR:
            return head + f"选项 {e['option']} 仅 {e['share']:.1%} 的考生选择"
        return head + (f"高分组选选项 {e['option']} 的比例 {e['upper_option']:.0%} 高于选答案 {e['key']} 的 "
                       f"{e['upper_key']:.0%}（低分组分别为 {e['lower_option']:.0%}、{e['lower_key']:.0%}），"
                       f"请核对答案")


def _finite(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def item_flags(n: int, p, r, d, *, options=None) -> list[Flag]:
    """Flags for every item. `p`, `r`, `d`: facility, corrected point-biserial and upper−lower
    index per item. `options`, per item, is None (not a choice item) or a dict with "labels"
    (option labels in column order), "key" (the keyed label, single choice) and the share rows
    "all", "upper", "lower" (one share per label, as `classical.option_shares` gives)."""
    if n < MIN_CANDIDATES:
        return []
    out: list[Flag] = []
    for j in range(len(p)):
        base = {"n": n, "p": float(p[j]), "r": float(r[j]) if _finite(float(r[j])) else None,
                "d": float(d[j])}
        if p[j] > TOO_EASY:
            out.append(Flag(FlagKind.TOO_EASY, j, base))
        elif p[j] < TOO_HARD:
            out.append(Flag(FlagKind.TOO_HARD, j, base))
        if base["r"] is not None:
            if base["r"] < 0:
                out.append(Flag(FlagKind.NEGATIVE_DISCRIMINATION, j, base))
            elif base["r"] < LOW_DISCRIMINATION:
                out.append(Flag(FlagKind.LOW_DISCRIMINATION, j, base))
        opt = options[j] if options is not None else None
        if not opt:
            continue
        labels, key = opt["labels"], opt.get("key")
        for c, label in enumerate(labels):
            if label == key:
                continue
            if opt["all"][c] < DEAD_DISTRACTOR:
                out.append(Flag(FlagKind.DEAD_DISTRACTOR, j, {**base, "option": label, "share": float(opt["all"][c])}))
        if key in labels:
            k = labels.index(key)
            best = max((c for c in range(len(labels)) if c != k), key=lambda c: opt["upper"][c], default=None)
            # Both signs together: the strong candidates prefer a distractor, and the keyed
            # answer does not separate strong from weak (a hard item alone shows only the first).
            weak_key = base["r"] is None or base["r"] < LOW_DISCRIMINATION
            if best is not None and weak_key and opt["upper"][best] > opt["upper"][k] + WRONG_KEY_MARGIN:
                out.append(Flag(FlagKind.LIKELY_WRONG_KEY, j, {
                    **base, "option": labels[best], "key": key,
                    "upper_option": float(opt["upper"][best]), "upper_key": float(opt["upper"][k]),
                    "lower_option": float(opt["lower"][best]), "lower_key": float(opt["lower"][k])}))
    return out
