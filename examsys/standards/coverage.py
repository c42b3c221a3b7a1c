"""Bank coverage of a standard's knowledge tree, per level and organisation: how many items each
assessment point and range has, by type and by status, measured against the rules (at least N
approved items per point, N = the organisation's coverage_min_items; the X/Y/Z share of the
approved bank against the share of points), with the gaps listed so writers know what to write.

One grouped SQL query counts everything; the tree itself comes from the standard's (already
loaded) ranges and points, so the page costs a fixed number of queries whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from examsys.accounts.models import Organisation
from examsys.bank.models import Item, ItemStatus, QType
from examsys.extensions import db
from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard

QTYPE_SHORT = {QType.JUDGE: "判断", QType.SINGLE: "单选", QType.MULTI: "多选", QType.FILL: "填空",
               QType.SHORT: "简答", QType.CALC: "计算", QType.ESSAY: "论述", QType.CASE: "案例"}
# Types a theory paper at each level is usually built from (判断/单选/多选 at 五级–三级; 技师 and
# 高级技师 papers add open questions). A range whose approved bank lacks one is listed as a gap.
_OBJECTIVE = (QType.JUDGE, QType.SINGLE, QType.MULTI)
EXPECTED_TYPES: dict[int, tuple[QType, ...]] = {
    5: _OBJECTIVE, 4: _OBJECTIVE, 3: _OBJECTIVE,
    2: (*_OBJECTIVE, QType.SHORT, QType.CASE), 1: (*_OBJECTIVE, QType.SHORT, QType.ESSAY, QType.CASE),
}
SHARE_TOLERANCE = 10.0  # percentage points between a class's share of approved items and of points

_BUCKET = {ItemStatus.APPROVED: "approved", ItemStatus.SUBMITTED: "review",
           ItemStatus.DRAFT: "writing", ItemStatus.RETURNED: "writing"}


@dataclass
class Counts:
    approved: int = 0
    review: int = 0  # submitted, awaiting review
    writing: int = 0  # draft or returned to the writer
    needs_revision: int = 0
    approved_by_type: dict[QType, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.approved + self.review + self.writing

    def add(self, other: Counts) -> None:
        self.approved += other.approved
        self.review += other.review
        self.writing += other.writing
        self.needs_revision += other.needs_revision
        for qtype, n in other.approved_by_type.items():
            self.approved_by_type[qtype] = self.approved_by_type.get(qtype, 0) + n


@dataclass
class PointRow:
    point: AssessmentPoint
    counts: Counts
    shortfall: int  # approved items still needed to reach N


@dataclass
class RangeRow:
    range: KnowledgeRange
    depth: int
    weight: float | None
    counts: Counts
    points: list[PointRow]
    children: list[RangeRow]
    missing_types: list[QType]
    approved_share: float | None = None  # percent of the level's approved items

    @property
    def point_count(self) -> int:
        return len(self.points) + sum(c.point_count for c in self.children)

    def flat(self) -> list[RangeRow]:
        out = [self]
        for child in self.children:
            out.extend(child.flat())
        return out


@dataclass(frozen=True)
class ShareRow:
    importance: Importance
    points: int
    point_share: float
    approved: int
    approved_share: float

    @property
    def off(self) -> bool:
        return abs(self.approved_share - self.point_share) > SHARE_TOLERANCE


@dataclass
class Coverage:
    standard: Standard
    level: int
    organisation: Organisation
    min_items: int
    ranges: list[RangeRow]
    totals: Counts
    shares: list[ShareRow]
    expected_types: tuple[QType, ...]
    unplaced: Counts  # items of this standard and level not tied to any assessment point

    @property
    def all_ranges(self) -> list[RangeRow]:
        return [r for top in self.ranges for r in top.flat()]

    @property
    def all_points(self) -> list[PointRow]:
        return [p for r in self.all_ranges for p in r.points]

    @property
    def points_below(self) -> list[PointRow]:
        return [p for p in self.all_points if p.shortfall > 0]

    @property
    def points_met(self) -> int:
        return sum(1 for p in self.all_points if p.shortfall == 0)

    @property
    def priority_gaps(self) -> list[PointRow]:
        """Points below N, the most urgent first: largest shortfall, then core (X) before Y and Z."""
        order = {Importance.X: 0, Importance.Y: 1, Importance.Z: 2}
        return sorted(self.points_below, key=lambda p: (-p.shortfall, order[p.point.importance]))

    @property
    def empty_ranges(self) -> list[RangeRow]:
        """Ranges with applicable points and no item at all (innermost only: a parent whose
        children are all empty says nothing new)."""
        return [r for r in self.all_ranges if r.points and r.counts.total == 0]

    @property
    def type_gaps(self) -> list[RangeRow]:
        return [r for r in self.all_ranges if r.points and r.counts.total and r.missing_types]

    @property
    def shortfall_total(self) -> int:
        return sum(p.shortfall for p in self.all_points)

    @property
    def share_warnings(self) -> list[ShareRow]:
        if not self.totals.approved:
            return []  # nothing approved yet: the shortfall list says it all
        return [s for s in self.shares if s.points and s.off]


def default_level(standard: Standard) -> int:
    """四级 when the standard has it with weights, else its first level with weights."""
    weighted = {int(k) for r in standard.ranges for k in r.weights}
    for level in (4, *sorted(standard.levels, reverse=True)):
        if level in standard.levels and (level in weighted or not weighted):
            return level
    return standard.levels[0] if standard.levels else 4


def _counts(standard: Standard, level: int, organisation: Organisation) -> dict[int | None, Counts]:
    stmt = (
        select(Item.point_id, Item.qtype, Item.status, Item.needs_revision, func.count())
        .where(Item.organisation_id == organisation.id, Item.standard_id == standard.id,
               Item.level_mask.op("&")(1 << level) != 0, Item.status != ItemStatus.RETIRED)
        .group_by(Item.point_id, Item.qtype, Item.status, Item.needs_revision)
    )
    out: dict[int | None, Counts] = defaultdict(Counts)
    for point_id, qtype, status, needs_revision, n in db.session.execute(stmt):
        c = out[point_id]
        bucket = _BUCKET.get(ItemStatus(status))
        if bucket is None:
            continue
        setattr(c, bucket, getattr(c, bucket) + n)
        if needs_revision:
            c.needs_revision += n
        if bucket == "approved":
            c.approved_by_type[QType(qtype)] = c.approved_by_type.get(QType(qtype), 0) + n
    return out


def coverage(standard: Standard, level: int, organisation: Organisation) -> Coverage:
    """Coverage of `standard` at `level` by `organisation`'s items (retired items and points left out)."""
    counts = _counts(standard, level, organisation)
    min_items = organisation.coverage_min_items or 4
    expected = EXPECTED_TYPES.get(level, _OBJECTIVE)

    def build(rng: KnowledgeRange, depth: int) -> RangeRow | None:
        points = [PointRow(p, counts.get(p.id, Counts()), 0) for p in rng.points
                  if not p.retired and level in p.levels]
        for row in points:
            row.shortfall = max(min_items - row.counts.approved, 0)
        children = [c for c in (build(ch, depth + 1) for ch in rng.children) if c is not None]
        if not points and not children and rng.weight(level) is None:
            return None
        total = Counts()
        for row in points:
            total.add(row.counts)
        for child in children:
            total.add(child.counts)
        missing = [t for t in expected if not total.approved_by_type.get(t)]
        return RangeRow(rng, depth, rng.weight(level), total, points, children, missing)

    tops = [r for r in (build(rng, 0) for rng in standard.ranges if rng.parent_id is None) if r is not None]
    totals = Counts()
    for top in tops:
        totals.add(top.counts)
    for row in (r for top in tops for r in top.flat()):
        row.approved_share = 100.0 * row.counts.approved / totals.approved if totals.approved else None
    all_points = [p for top in tops for r in top.flat() for p in r.points]
    shares = []
    for imp in Importance:
        rows = [p for p in all_points if p.point.importance == imp]
        approved = sum(p.counts.approved for p in rows)
        shares.append(ShareRow(
            imp, len(rows), 100.0 * len(rows) / len(all_points) if all_points else 0.0,
            approved, 100.0 * approved / totals.approved if totals.approved else 0.0))
    return Coverage(standard, level, organisation, min_items, tops, totals, shares, expected,
                    counts.get(None, Counts()))
