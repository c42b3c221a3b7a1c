"""The shape of an indicator set and how an indicator is scored. Sets are stored in the database
as versions (`models.IndicatorSetVersion`, operations in `versions`); this module turns a stored
version's content into read-only objects and holds no data of its own (the default set is in
`defaults`).

A computed indicator names its source (`compute`): its value is a share in [0, 1]. With the
direction "at_least" it scores 100 at or above `full` and 0 at or below `zero`; with "at_most"
100 at or below `full` and 0 at or above `zero`; linear in between. An entered one is scored
0–100 by a supervisor (or by the organisation itself, for internal supervision) with the evidence
the indicator asks for."""

from __future__ import annotations

from dataclasses import dataclass, field

from examsys.supervision.indicators.defaults import DIRECTIONS, KEY_TASKS, SOURCES

__all__ = ["DIRECTIONS", "KEY_TASKS", "SOURCES", "Indicator", "IndicatorSet", "from_content", "score_of"]


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    dimension_label: str
    name: str
    weight: int
    rule: str  # how it is scored, in words (shown on the pages)
    evidence: str  # the evidence it is scored on (entered) or the data it is computed from
    compute: str | None = None  # the source's key, or None: entered with evidence
    direction: str | None = None
    full: float | None = None
    zero: float | None = None
    key_tasks: tuple[int, ...] = field(default_factory=tuple)

    @property
    def computed(self) -> bool:
        return self.compute is not None

    @property
    def source_label(self) -> str:
        return SOURCES[self.compute][0] if self.compute in SOURCES else ""

    @property
    def thresholds_label(self) -> str:
        if not self.computed:
            return ""
        if self.direction == "at_most":
            return f"≤{self.full:.0%} 满分，≥{self.zero:.0%} 不得分"
        if not self.zero:
            return f"≥{self.full:.0%} 满分，其下按比例"
        return f"≥{self.full:.0%} 满分，≤{self.zero:.0%} 不得分"


@dataclass(frozen=True)
class IndicatorSet:
    version: str  # the label scores record (IndicatorScore.set_version)
    number: int
    status: str
    published: str  # the date published, or "" for a draft
    dimensions: tuple[tuple[str, str], ...]  # (key, name) in order
    indicators: tuple[Indicator, ...]

    def get(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    def by_dimension(self) -> list[tuple[str, str, list[Indicator]]]:
        return [(key, name, [i for i in self.indicators if i.dimension == key]) for key, name in self.dimensions]

    @property
    def total_weight(self) -> int:
        return sum(i.weight for i in self.indicators)


def from_content(version: str, number: int, status: str, published: str, content: dict) -> IndicatorSet:
    dims = tuple((d["key"], d["name"]) for d in content.get("dimensions", []))
    names = dict(dims)
    inds = tuple(
        Indicator(code=i["code"], dimension=i["dimension"], dimension_label=names.get(i["dimension"], i["dimension"]),
                  name=i["name"], weight=int(i["weight"]), rule=i.get("rule") or "", evidence=i.get("evidence") or "",
                  compute=i.get("source") if i.get("kind") == "computed" else None,
                  direction=i.get("direction"), full=i.get("full"), zero=i.get("zero"),
                  key_tasks=tuple(i.get("key_tasks") or ()))
        for i in content.get("indicators", []))
    return IndicatorSet(version, number, status, published, dims, inds)


def score_of(indicator: Indicator, value: float | None) -> float | None:
    if value is None or not indicator.computed:
        return None
    full, zero = float(indicator.full), float(indicator.zero or 0.0)
    if indicator.direction == "at_most":
        if value <= full:
            return 100.0
        if value >= zero:
            return 0.0
        return round(100.0 * (zero - value) / (zero - full), 1)
    if value >= full:
        return 100.0
    if value <= zero:
        return 0.0
    return round(100.0 * (value - zero) / (full - zero), 1)
