"""Placing imported questions on the knowledge tree: a file's category (a code, or a path of names
such as Moodle's `$course$/电工基础/直流电路`) either resolves to one assessment point of the
standard, or it is *unmatched* and the user maps it to a point (or chooses not to import it).

Everything here is pure Python over the standard's points (a few hundred), loaded once per import:
`PointIndex` resolves codes and name paths, `unmatched_categories` lists what did not resolve with
suggested points, and `resolve_category_map` checks a user's mapping against the standard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.standards.models import AssessmentPoint, KnowledgeRange, Standard

SEPARATOR = " / "
MAX_SUGGESTIONS = 5
# A suggestion this good is pre-selected in the mapping form; below it the user must choose.
CONFIDENT = 0.5
# Added to a point's score when the category names one of the ranges the point lies under.
RANGE_BONUS = 0.3


def category_key(draft: Any) -> str:
    """The name a draft's category goes by in a mapping: its code when it gives one (codes win
    when resolving), else its name path joined with " / ", else "" (no category at all)."""
    code = (getattr(draft, "kp_code", None) or "").strip()
    if code:
        return code
    return SEPARATOR.join(n.strip() for n in (getattr(draft, "kp_path", None) or []) if n and n.strip())


def _bigrams(text: str) -> set[str]:
    text = "".join(text.split()).lower()
    if len(text) < 2:
        return {text} if text else set()
    return {text[i:i + 2] for i in range(len(text) - 1)}


def similarity(a: str, b: str) -> float:
    """Character-bigram Jaccard similarity, 0..1 (works for Chinese without segmentation)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


@dataclass(frozen=True)
class Suggestion:
    point_id: int
    code: str
    name: str
    score: float

    def as_json(self) -> dict:
        return {"point_id": self.point_id, "code": self.code, "name": self.name, "score": round(self.score, 3)}


@dataclass
class CategoryInfo:
    """One distinct unresolved category of a file: how many items carry it and the points it most
    likely means, best first."""

    key: str
    count: int
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def best(self) -> Suggestion | None:
        """The suggestion to pre-select, when it is good enough."""
        if self.suggestions and self.suggestions[0].score >= CONFIDENT:
            return self.suggestions[0]
        return None

    def as_json(self) -> dict:
        return {"key": self.key, "count": self.count, "suggestions": [s.as_json() for s in self.suggestions]}


class PointIndex:
    """The standard's assessment points, by id, by code and by name path (ranges … point)."""

    def __init__(self, standard: Standard):
        self.standard = standard
        self.ranges = {r.id: r for r in db.session.scalars(
            select(KnowledgeRange).where(KnowledgeRange.standard_id == standard.id))}
        self.points: list[AssessmentPoint] = list(db.session.scalars(
            select(AssessmentPoint).where(AssessmentPoint.standard_id == standard.id)))
        self.by_id = {p.id: p for p in self.points}
        self.by_code: dict[str, AssessmentPoint] = {}
        self.by_last: dict[str, list[tuple[tuple[str, ...], AssessmentPoint]]] = {}
        self.under: dict[int, set[int]] = {}  # point id → ids of every range above it
        self.range_ids_by_name: dict[str, set[int]] = {}
        for rng in self.ranges.values():
            self.range_ids_by_name.setdefault(rng.name.strip(), set()).add(rng.id)
        for point in self.points:
            self.by_code[point.code.strip()] = point
            names, above, rng = [point.name.strip()], set(), self.ranges.get(point.range_id)
            while rng is not None and rng.id not in above:
                names.append(rng.name.strip())
                above.add(rng.id)
                rng = self.ranges.get(rng.parent_id)
            self.under[point.id] = above
            self.by_last.setdefault(names[0], []).append((tuple(reversed(names)), point))

    def find(self, code: str | None, path: Sequence[str]) -> AssessmentPoint:
        """The one point a code or name path means. Raises ValidationError (unknown code, no
        category, a path matching no point or several)."""
        if code and code.strip():
            point = self.by_code.get(code.strip())
            if point is None:
                raise ValidationError(f"鉴定点代码 {code.strip()} 不在该标准中", field="kp_code")
            return point
        wanted = tuple(n.strip() for n in path if n and n.strip())
        if not wanted:
            raise ValidationError("缺少鉴定点", field="kp_code")
        # The file may give the full path or only its tail (the national template often starts
        # below the top range).
        found = [p for names, p in self.by_last.get(wanted[-1], []) if names[-len(wanted):] == wanted]
        if len(found) != 1:
            shown = SEPARATOR.join(wanted)
            raise ValidationError(f"鉴定点 {shown} " + ("不在该标准中" if not found else "不唯一，请改用代码"),
                                  field="kp_path")
        return found[0]

    def resolves(self, draft: Any) -> bool:
        try:
            self.find(getattr(draft, "kp_code", None), getattr(draft, "kp_path", None) or [])
        except ValidationError:
            return False
        return True

    def suggest(self, key: str, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        """Points a category most likely means: bigram similarity of its last element to the point's
        name (and code), plus a bonus for points under a range the category names exactly; when it
        names a range, only points under that range are candidates."""
        parts = [p.strip() for p in key.split(SEPARATOR) if p.strip()]
        if not parts:
            return []
        ranges: set[int] = set()
        for part in parts:
            ranges |= self.range_ids_by_name.get(part, set())
        candidates = [p for p in self.points if self.under[p.id] & ranges] if ranges else self.points
        last = parts[-1]
        scored = []
        for point in candidates:
            score = max(similarity(last, point.name), similarity(last, point.code))
            if ranges:
                score = min(1.0, score + RANGE_BONUS)
            if score > 0:
                scored.append(Suggestion(point.id, point.code, point.name, score))
        scored.sort(key=lambda s: (-s.score, s.code))
        return scored[:limit]

    def describe(self, counts: Mapping[str, int]) -> list[CategoryInfo]:
        return [CategoryInfo(key, n, self.suggest(key)) for key, n in sorted(counts.items())]


def unmatched_categories(standard: Standard, drafts: Iterable[Any], *,
                         index: PointIndex | None = None) -> list[CategoryInfo]:
    """The distinct categories of `drafts` that name no single point of `standard`, with how many
    items carry each and up to five suggested points, in key order."""
    index = index or PointIndex(standard)
    counts = Counter(category_key(d) for d in drafts if not index.resolves(d))
    return index.describe(counts)


def resolve_category_map(index: PointIndex, category_map: Mapping[str, int | None] | None
                         ) -> dict[str, AssessmentPoint | None]:
    """Check a user's mapping (category key → point id, or None for "do not import") against the
    standard. Raises ValidationError naming the first point id that is not the standard's."""
    resolved: dict[str, AssessmentPoint | None] = {}
    for key, point_id in (category_map or {}).items():
        key = (key or "").strip()
        if point_id is None:
            resolved[key] = None
            continue
        point = index.by_id.get(point_id) if isinstance(point_id, int) else None
        if point is None:
            raise ValidationError(f"分类「{key or '（无分类）'}」映射到的鉴定点 #{point_id} 不属于标准 "
                                  f"{index.standard.code} {index.standard.name}", field="category_map")
        resolved[key] = point
    return resolved


def point_groups(standard: Standard) -> list[tuple[str, list[tuple[int, str]]]]:
    """The standard's points grouped by range (label "code name"), ranges and points in code order,
    for a select box."""
    index = PointIndex(standard)
    groups: dict[int | None, list[AssessmentPoint]] = {}
    for point in index.points:
        groups.setdefault(point.range_id, []).append(point)

    def label(range_id: int | None) -> str:
        rng, names = index.ranges.get(range_id), []
        code = rng.code if rng is not None else "—"
        while rng is not None and len(names) < 10:
            names.append(rng.name)
            rng = index.ranges.get(rng.parent_id)
        return f"{code} {SEPARATOR.join(reversed(names))}".strip()

    ordered = sorted(groups, key=lambda rid: index.ranges[rid].code if rid in index.ranges else "")
    return [(label(rid), [(p.id, f"{p.code} {p.name}") for p in sorted(groups[rid], key=lambda p: p.code)])
            for rid in ordered]
