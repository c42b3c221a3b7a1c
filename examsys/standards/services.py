"""Occupational standards: creating and editing standards, loading and editing their knowledge
tree. New editions (mapping old assessment points to new ones, flagging the bank's items) live in
`editions`; their names are re-exported here for existing callers.

Services take domain objects and plain values, flush and never commit, and record exactly one
audit event per state change. Tree edits carry the standard's `version` (optimistic locking):
a stale `expected_version` raises Conflict instead of silently overwriting someone's edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from examsys import audit
from examsys.audit.actions import AuditAction
from examsys.bank.models import Item, ItemVersion
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.standards import treecheck
from examsys.standards.editions import (
    CHANGE_LABELS,
    EditionResult,
    MappingEntry,
    create_edition,
    mapping_of,
    suggest_mapping,
)
from examsys.standards.models import (
    LEVELS,
    AssessmentPoint,
    Importance,
    KnowledgeRange,
    Standard,
    StandardStatus,
)
from examsys.standards.treestore import build_tree as _build
from examsys.standards.treestore import flush as _flush
from examsys.standards.treestore import validated as _validated

__all__ = [  # the editions names are re-exported for callers of services
    "CHANGE_LABELS", "EditionResult", "MappingEntry", "TreeSummary", "add_point", "add_range",
    "create_edition", "create_standard", "delete_range", "export_tree", "load_tree", "mapping_of",
    "ordered_points", "retire_point", "set_weights", "successor", "suggest_mapping", "tree_problems",
    "update_point", "update_range", "update_standard",
]


def _check_levels(levels) -> list[int]:
    parsed = treecheck.parse_levels(levels)
    if not parsed or any(lv not in LEVELS for lv in parsed):
        raise ValidationError("等级应为 1–5 中的一个或多个", field="levels")
    return parsed


def _touch(standard: Standard, expected_version: int | None) -> None:
    """Tree edits bump the standard's version so that concurrent editors of the same tree conflict."""
    if standard.status == StandardStatus.SUPERSEDED:
        raise Conflict(f"{standard.title} 已被新版替代，不能再修改；请在新版上编辑")
    if expected_version is not None and standard.version != expected_version:
        raise Conflict("该职业标准已被他人修改，请刷新页面后重试")
    flag_modified(standard, "levels")


# --- standards -----------------------------------------------------------------------------------


def create_standard(code: str, name: str, edition: str, levels) -> Standard:
    """Raises ValidationError (empty fields, bad levels) or Conflict (code + edition exists)."""
    code, name, edition = code.strip(), name.strip(), edition.strip()
    if not code or not name or not edition:
        raise ValidationError("职业编码、名称和版本不能为空")
    parsed = _check_levels(levels)
    if db.session.scalar(select(Standard.id).where(Standard.code == code, Standard.edition == edition)):
        raise Conflict(f"职业标准 {code}（{edition}版）已存在", field="edition")
    standard = Standard(code=code, name=name, edition=edition, levels=parsed, status=StandardStatus.CURRENT)
    db.session.add(standard)
    _flush()
    audit.record(AuditAction.STANDARD_CREATED, obj=standard,
                 data={"code": code, "name": name, "edition": edition, "levels": parsed})
    return standard


def update_standard(standard: Standard, *, name: str, edition: str, levels,
                    expected_version: int | None = None) -> None:
    """Raises ValidationError (a removed level is still used by the tree), Conflict (stale version,
    superseded standard, or the new edition label is taken)."""
    name, edition = name.strip(), edition.strip()
    if not name or not edition:
        raise ValidationError("名称和版本不能为空")
    parsed = _check_levels(levels)
    _touch(standard, expected_version)
    dropped = set(standard.levels) - set(parsed)
    used = {lv for p in standard.points for lv in p.levels} | {
        int(k) for r in standard.ranges for k in r.weights}
    if dropped & used:
        raise ValidationError(f"等级 {','.join(map(str, sorted(dropped & used)))} 仍被鉴定点或比重使用，不能移除",
                              field="levels")
    if edition != standard.edition and db.session.scalar(select(Standard.id).where(
            Standard.code == standard.code, Standard.edition == edition)):
        raise Conflict(f"职业标准 {standard.code}（{edition}版）已存在", field="edition")
    before = {"name": standard.name, "edition": standard.edition, "levels": list(standard.levels)}
    standard.name, standard.edition, standard.levels = name, edition, parsed
    _flush()
    audit.record(AuditAction.STANDARD_UPDATED, obj=standard,
                 data={"before": before, "after": {"name": name, "edition": edition, "levels": parsed}})


def ordered_points(standard: Standard) -> list[AssessmentPoint]:
    """The standard's points in tree order (a point's `position` only orders it within its range)."""
    out: list[AssessmentPoint] = []

    def walk(ranges):
        for rng in sorted(ranges, key=lambda r: (r.position, r.id)):
            out.extend(rng.points)
            walk(rng.children)

    walk([r for r in standard.ranges if r.parent_id is None])
    return out


def successor(standard: Standard) -> Standard | None:
    return db.session.scalar(select(Standard).where(Standard.supersedes_id == standard.id))


# --- the tree ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeSummary:
    ranges: int
    points: int


def _points_in_use(point_ids) -> bool:
    ids = list(point_ids)
    if not ids:
        return False
    return bool(db.session.scalar(select(Item.id).where(Item.point_id.in_(ids)).limit(1))) or bool(
        db.session.scalar(select(ItemVersion.id).where(ItemVersion.point_id.in_(ids)).limit(1)))


def load_tree(standard: Standard, tree: dict, *, replace: bool = False, source: dict | None = None,
              expected_version: int | None = None) -> TreeSummary:
    """Load a knowledge tree (the dict shape of treecheck) into `standard`.

    Raises ValidationError listing every problem of the tree (details["errors"]), Conflict when the
    standard already has a tree and `replace` is false, or when items already refer to it."""
    _touch(standard, expected_version)
    clean = _validated(tree, list(standard.levels))
    if standard.ranges:
        if not replace:
            raise Conflict("该职业标准已有细目表；如需整体替换请选择“替换现有细目表”")
        if _points_in_use(p.id for p in standard.points):
            raise Conflict("已有试题关联该细目表的鉴定点，不能整体替换；请使用“发布新版”")
        for point in list(standard.points):
            db.session.delete(point)
        _flush()
        for rng in sorted(standard.ranges, key=_depth, reverse=True):
            db.session.delete(rng)
        _flush()
        db.session.expire(standard, ["ranges", "points"])
    points = _build(standard, clean)
    _flush()
    summary = TreeSummary(ranges=sum(1 for _ in treecheck.iter_ranges(clean["ranges"])), points=len(points))
    audit.record(AuditAction.STANDARD_TREE_LOADED, obj=standard, data={
        "ranges": summary.ranges, "points": summary.points, "replace": replace, "source": source or {}})
    return summary


def _depth(rng: KnowledgeRange) -> int:
    depth, node = 0, rng
    while node.parent is not None:
        depth, node = depth + 1, node.parent
    return depth


def export_tree(standard: Standard) -> dict:
    """The standard's tree as the dict load_tree takes (retired points included, marked)."""
    def node(rng: KnowledgeRange) -> dict:
        return {"code": rng.code, "name": rng.name, "weights": dict(rng.weights),
                "children": [node(c) for c in rng.children],
                "points": [{"code": p.code, "name": p.name, "importance": p.importance.value,
                            "levels": list(p.levels), "retired": p.retired} for p in rng.points]}

    return {"standard": {"code": standard.code, "name": standard.name, "edition": standard.edition,
                         "levels": list(standard.levels)},
            "ranges": [node(r) for r in standard.ranges if r.parent_id is None]}


def tree_problems(standard: Standard) -> list[str]:
    """What is wrong with the tree as edited (weights not summing, codes off their range):
    shown as warnings on the standard's page; load_tree refuses the same problems outright."""
    if not standard.ranges:
        return []
    return [str(i) for i in treecheck.validate_tree(export_tree(standard), list(standard.levels))[1]]


def _code_free(standard: Standard, code: str, *, except_obj=None) -> None:
    code = code.strip()
    if not code or len(code) > 32:
        raise ValidationError("代码不能为空，且不超过32个字符", field="code")
    taken = [o for o in (*standard.ranges, *standard.points) if o.code == code and o is not except_obj]
    if taken:
        raise Conflict(f"代码 {code} 已被使用", field="code")


def add_range(standard: Standard, *, parent: KnowledgeRange | None, code: str, name: str,
              expected_version: int | None = None) -> KnowledgeRange:
    """Raises ValidationError, Conflict (code taken, stale version). New ranges start without
    weights; set them with set_weights."""
    _touch(standard, expected_version)
    _code_free(standard, code)
    if not name.strip():
        raise ValidationError("名称不能为空", field="name")
    siblings = parent.children if parent else [r for r in standard.ranges if r.parent_id is None]
    rng = KnowledgeRange(standard=standard, parent=parent, code=code.strip(), name=name.strip(),
                         position=len(siblings), weights={})
    db.session.add(rng)
    _flush()
    audit.record(AuditAction.KNOWLEDGE_RANGE_CREATED, obj=rng, data={
        "standard_id": standard.id, "code": rng.code, "name": rng.name,
        "parent": parent.code if parent else None})
    return rng


def update_range(rng: KnowledgeRange, *, code: str, name: str, parent: KnowledgeRange | None,
                 expected_version: int | None = None) -> None:
    """Rename and/or move a range (to another parent, or to the top). Raises ValidationError
    (empty name, a move under itself or a descendant), Conflict (code taken, stale version)."""
    standard = rng.standard
    _touch(standard, expected_version)
    _code_free(standard, code, except_obj=rng)
    if not name.strip():
        raise ValidationError("名称不能为空", field="name")
    node = parent
    while node is not None:
        if node is rng:
            raise ValidationError("不能移动到自身或其下级范围之下", field="parent_id")
        node = node.parent
    before = {"code": rng.code, "name": rng.name, "parent": rng.parent.code if rng.parent else None}
    if parent is not rng.parent:
        siblings = parent.children if parent else [r for r in standard.ranges if r.parent_id is None]
        rng.position = max((s.position for s in siblings), default=-1) + 1
        rng.parent = parent
    rng.code, rng.name = code.strip(), name.strip()
    _flush()
    audit.record(AuditAction.KNOWLEDGE_RANGE_UPDATED, obj=rng, data={
        "before": before, "after": {"code": rng.code, "name": rng.name,
                                    "parent": parent.code if parent else None}})


def _subtree(rng: KnowledgeRange) -> list[KnowledgeRange]:
    out = [rng]
    for child in rng.children:
        out.extend(_subtree(child))
    return out


def delete_range(rng: KnowledgeRange, *, expected_version: int | None = None) -> None:
    """Delete a range with its sub-ranges and points. Raises Conflict when any of its points has
    items (retire the points instead, or publish a new edition) or on a stale version."""
    standard = rng.standard
    _touch(standard, expected_version)
    nodes = _subtree(rng)
    points = [p for n in nodes for p in n.points]
    if _points_in_use(p.id for p in points):
        raise Conflict(f"鉴定范围 {rng.code} 下的鉴定点已有试题，不能删除；可停用鉴定点或发布新版标准")
    data = {"code": rng.code, "name": rng.name, "ranges": [n.code for n in nodes],
            "points": [p.code for p in points]}
    for point in points:
        db.session.delete(point)
    _flush()
    for node in reversed(nodes):
        db.session.delete(node)
    _flush()
    db.session.expire(standard, ["ranges", "points"])
    audit.record(AuditAction.KNOWLEDGE_RANGE_DELETED, object_type="knowledge_range", object_id=rng.id,
                 data={"standard_id": standard.id, **data})


def set_weights(standard: Standard, weights: dict[int, dict], *, expected_version: int | None = None) -> None:
    """Replace the weight table: {range_id: {level: percent}} for every range. The whole tree is
    checked (children sum to parent, top level to 100). Raises ValidationError listing every
    problem, Conflict on a stale version."""
    _touch(standard, expected_version)
    by_id = {r.id: r for r in standard.ranges}
    unknown = set(weights) - set(by_id)
    if unknown:
        raise ValidationError("比重表中有不属于该标准的鉴定范围")
    tree = export_tree(standard)
    new_weights = {by_id[rid].code: {str(k): v for k, v in w.items() if v is not None}
                   for rid, w in weights.items()}
    for _, _, node in treecheck.iter_ranges(tree["ranges"]):
        if node["code"] in new_weights:
            node["weights"] = new_weights[node["code"]]
    clean = _validated(tree, list(standard.levels))
    final = {node["code"]: node["weights"] for _, _, node in treecheck.iter_ranges(clean["ranges"])}
    before = {r.code: dict(r.weights) for r in standard.ranges}
    for rng in standard.ranges:
        rng.weights = dict(final[rng.code])
    _flush()
    audit.record(AuditAction.STANDARD_WEIGHTS_SET, obj=standard, data={"before": before, "after": final})


def _point_fields(standard: Standard, code: str, name: str, importance: str, levels) -> tuple:
    name = name.strip()
    if not name or len(name) > 300:
        raise ValidationError("名称不能为空，且不超过300个字符", field="name")
    try:
        imp = Importance(importance.strip().upper())
    except ValueError as exc:
        raise ValidationError("重要程度应为 X、Y 或 Z", field="importance") from exc
    parsed = treecheck.parse_levels(levels)
    if not parsed or any(lv not in standard.levels for lv in parsed):
        raise ValidationError("适用等级须为该标准的等级", field="levels")
    return code.strip(), name, imp, parsed


def add_point(rng: KnowledgeRange, *, code: str, name: str, importance: str, levels,
              expected_version: int | None = None) -> AssessmentPoint:
    """Raises ValidationError (name, importance, levels), Conflict (code taken, stale version)."""
    standard = rng.standard
    _touch(standard, expected_version)
    _code_free(standard, code)
    code, name, imp, parsed = _point_fields(standard, code, name, importance, levels)
    point = AssessmentPoint(standard=standard, range=rng, code=code, name=name, importance=imp,
                            levels=parsed, position=len(rng.points))
    db.session.add(point)
    _flush()
    audit.record(AuditAction.ASSESSMENT_POINT_CREATED, obj=point, data={
        "standard_id": standard.id, "range": rng.code, "code": code, "name": name,
        "importance": imp.value, "levels": parsed})
    return point


def update_point(point: AssessmentPoint, *, code: str, name: str, importance: str, levels,
                 rng: KnowledgeRange | None = None, expected_version: int | None = None) -> None:
    """Edit a point (and optionally move it to another range of the same standard).
    Raises ValidationError, Conflict (code taken, stale version)."""
    standard = point.standard
    _touch(standard, expected_version)
    _code_free(standard, code, except_obj=point)
    code, name, imp, parsed = _point_fields(standard, code, name, importance, levels)
    if rng is not None and rng.standard_id != standard.id:
        raise ValidationError("只能移动到同一标准的鉴定范围", field="range_id")
    before = {"code": point.code, "name": point.name, "importance": point.importance.value,
              "levels": list(point.levels), "range": point.range.code}
    if rng is not None and rng is not point.range:
        point.range, point.position = rng, len(rng.points)
    point.code, point.name, point.importance, point.levels = code, name, imp, parsed
    _flush()
    audit.record(AuditAction.ASSESSMENT_POINT_UPDATED, obj=point, data={"before": before, "after": {
        "code": code, "name": name, "importance": imp.value, "levels": parsed, "range": point.range.code}})


def retire_point(point: AssessmentPoint, *, retired: bool = True, expected_version: int | None = None) -> None:
    """Retire (停用) or restore a point: retired points keep their items but get no new ones and
    are left out of coverage. Raises Conflict on a stale version."""
    _touch(point.standard, expected_version)
    if point.retired == retired:
        return
    point.retired = retired
    _flush()
    audit.record(AuditAction.ASSESSMENT_POINT_RETIRED if retired else AuditAction.ASSESSMENT_POINT_RESTORED, obj=point,
                 data={"standard_id": point.standard_id, "code": point.code})
