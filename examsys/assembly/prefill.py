"""Content rules pre-filled from the standard's 理论知识比重表 (range weights per level).

The rounding rule, shown to users next to the button and relied on by the demo blueprint:

    target t = weight% × N          N = items per form (all sections; or one section's count
                                    when rules are made per type)
    tolerance d = max(1, round_half_up(t × tolerance%))      (default tolerance 10 %)
    min = max(0, floor(t − d)), raised to 1 when t ≥ 1       (a range worth an item appears)
    max = min(N, ceil(t + d))

So 22 % of 100 items gives t = 22, d = 2, min 20, max 24; 1 % of 100 gives 1–2. Ranges without a
weight at the level, or with weight 0, get no rule. Nothing here touches the database: the
callers pass range weights read from the ORM (``range_weights``) or from a tree JSON
(``tree_range_weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DEFAULT_TOLERANCE = 10.0
EPS = 1e-9


@dataclass(frozen=True)
class RangeWeight:
    code: str
    name: str
    depth: int  # 1 = top-level range (一级), 2 = second level (二级), …
    weight: float | None  # percent of the theory paper at the level, None when not weighted


def range_weights(standard: Any, level: int) -> list[RangeWeight]:
    """The standard's ranges (ORM objects) in tree order with their weight at `level`."""
    out: list[RangeWeight] = []

    def walk(ranges, depth: int) -> None:
        for rng in sorted(ranges, key=lambda r: r.position):
            out.append(RangeWeight(rng.code, rng.name, depth, rng.weight(level)))
            walk(rng.children, depth + 1)

    walk([r for r in standard.ranges if r.parent_id is None], 1)
    return out


def tree_range_weights(tree: dict, level: int) -> list[RangeWeight]:
    """The same from a knowledge-tree document (the shape of the demo tree JSON)."""
    out: list[RangeWeight] = []

    def walk(nodes: list[dict], depth: int) -> None:
        for node in nodes:
            value = (node.get("weights") or {}).get(str(level))
            out.append(RangeWeight(node["code"], node.get("name", ""), depth,
                                   None if value is None else float(value)))
            walk(node.get("children") or [], depth + 1)

    walk(tree.get("ranges") or [], 1)
    return out


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def band(target: float, total: int, tolerance: float = DEFAULT_TOLERANCE) -> tuple[int, int]:
    """(min, max) item counts for a range expected to hold `target` of `total` items."""
    d = max(1, _round_half_up(target * tolerance / 100))
    lo = max(0, math.floor(target - d + EPS))
    if target >= 1 - EPS:
        lo = max(lo, 1)
    hi = min(total, math.ceil(target + d - EPS))
    return min(lo, hi), hi


def content_rules(ranges: list[RangeWeight], sections: list[dict], *, depths: tuple[int, ...] = (1, 2),
                  tolerance: float = DEFAULT_TOLERANCE, per_type: bool = False) -> list[dict]:
    """Content rules (the blueprint's `content_rules` shape) for the ranges at `depths`."""
    rules: list[dict] = []
    total = sum(int(s["count"]) for s in sections)
    for rng in ranges:
        if rng.depth not in depths or not rng.weight:
            continue
        if per_type:
            for s in sections:
                lo, hi = band(rng.weight / 100 * int(s["count"]), int(s["count"]), tolerance)
                rules.append({"kp_prefix": rng.code, "types": [s["type"]], "min": lo, "max": hi})
        else:
            lo, hi = band(rng.weight / 100 * total, total, tolerance)
            rules.append({"kp_prefix": rng.code, "types": None, "min": lo, "max": hi})
    return rules
