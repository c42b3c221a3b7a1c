"""What every campaign figure is, whichever part of the campaign computes it: a `Target` with
its value, its goal and whether the goal is met, plus the counts behind it so that a page (and a
test) can recompute it from the raw rows. Sub-packages (satisfaction, certificate data,
workforce) each expose `targets(year, scope) -> list[Target]`; the console and
`examsys campaign report` only gather them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.StrEnum):
    AT_LEAST = "at_least"  # met when value >= goal (satisfaction ≥ 90 %)
    AT_MOST = "at_most"  # met when value <= goal (return rate ≤ 5 %)


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole province (both None), one city, or one organisation."""

    city_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class Target:
    key: str  # stable code in English, e.g. "satisfaction"; the JSON report's key
    label: str  # Chinese name shown on the console, e.g. "考生满意度"
    goal: float  # a share in [0, 1] for shares; a count otherwise
    value: float | None  # None: nothing to count yet
    numerator: int = 0
    denominator: int = 0
    direction: Direction = Direction.AT_LEAST
    share: bool = True  # value and goal are shares shown as percentages
    endpoint: str | None = None  # the drill-down page (Flask endpoint taking year and scope args)

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        if self.direction is Direction.AT_LEAST:
            return self.value >= self.goal
        return self.value <= self.goal

    def as_json(self) -> dict:
        return {"key": self.key, "label": self.label, "value": self.value, "goal": self.goal,
                "met": self.met, "numerator": self.numerator, "denominator": self.denominator,
                "direction": self.direction.value}

    @property
    def display(self) -> str:
        if self.value is None:
            return "无数据"
        if self.share:
            return f"{self.value:.1%}（{self.numerator}/{self.denominator}）"
        return f"{self.value:g}"

    @property
    def goal_display(self) -> str:
        sign = "≥" if self.direction is Direction.AT_LEAST else "≤"
        return f"{sign}{self.goal:.0%}" if self.share else f"{sign}{self.goal:g}"


def share(key: str, label: str, goal: float, hits: int, total: int, *,
          direction: Direction = Direction.AT_LEAST, endpoint: str | None = None) -> Target:
    return Target(key, label, goal, hits / total if total else None, hits, total, direction, True, endpoint)
