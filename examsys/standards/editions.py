"""New editions of an occupational standard: suggesting and checking the mapping of the old
edition's assessment points onto the new tree, publishing the new edition (PointMapping rows, the
old one superseded), and having the bank carry its items over, flagging those that need revision
(the bank is the only writer of items). Announces `signals.standard_edition_created`.

Services flush and never commit, and record one audit event per edition. `services` re-exports
these names for existing callers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from examsys import audit, signals
from examsys.audit.actions import AuditAction
from examsys.bank import services as bank
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.standards import treecheck
from examsys.standards.models import AssessmentPoint, PointChange, PointMapping, Standard, StandardStatus
from examsys.standards.treestore import build_tree as _build
from examsys.standards.treestore import flush as _flush
from examsys.standards.treestore import validated as _validated

CHANGE_LABELS = {PointChange.SAME: "相同", PointChange.CHANGED: "变更", PointChange.REMOVED: "删除"}


def _supersede(old: Standard, new: Standard) -> None:
    """No audit of its own: part of create_edition's one event."""
    if old.status == StandardStatus.SUPERSEDED:
        raise Conflict(f"{old.title} 已被替代")
    old.status = StandardStatus.SUPERSEDED
    new.supersedes_id = old.id


@dataclass(frozen=True)
class MappingEntry:
    new: str | None
    change: PointChange
    note: str = ""


def suggest_mapping(old: Standard, tree: dict) -> dict[str, MappingEntry]:
    """A starting mapping: same code and name → same, same code with another name → changed,
    code gone → removed. The user reviews it before create_edition."""
    new_points = {p["code"]: p for _, p in treecheck.iter_points(tree)}
    out = {}
    for point in old.points:
        match = new_points.get(point.code)
        if match is None:
            out[point.code] = MappingEntry(None, PointChange.REMOVED)
        elif match["name"].strip() == point.name.strip():
            out[point.code] = MappingEntry(point.code, PointChange.SAME)
        else:
            out[point.code] = MappingEntry(point.code, PointChange.CHANGED)
    return out


def _reason(old: Standard, edition: str, point: AssessmentPoint, entry: MappingEntry) -> str:
    head = f"职业标准 {old.edition}→{edition} 版：鉴定点 {point.code}"
    if entry.change == PointChange.REMOVED:
        text = f"{head} 已删除"
    elif entry.new and entry.new != point.code:
        text = f"{head} 已变更为 {entry.new}"
    else:
        text = f"{head} 内容已变更"
    return f"{text}（{entry.note.strip()}）" if entry.note.strip() else text


@dataclass(frozen=True)
class EditionResult:
    standard: Standard
    flagged: list[int]  # ids of items flagged needs_revision
    moved: int  # items carried over to the new edition


def create_edition(old: Standard, edition: str, tree: dict, mapping: dict[str, MappingEntry] | None = None,
                   *, name: str | None = None) -> EditionResult:
    """Publish a new edition of `old` with `tree`, map old points to new ones (PointMapping rows),
    and carry the bank over: items on `same` points move to the new point and standard; items on
    `changed` points move too but are flagged needs_revision; items on `removed` points stay where
    they are, flagged. Retired items are moved but never flagged. `old` becomes superseded.
    Points missing from `mapping` take suggest_mapping's answer.

    Raises ValidationError (tree problems, a mapping naming unknown codes or an inconsistent
    kind) or Conflict (edition exists, old already superseded)."""
    edition = edition.strip()
    if not edition:
        raise ValidationError("新版本号不能为空", field="edition")
    if old.status == StandardStatus.SUPERSEDED:
        raise Conflict(f"{old.title} 已被替代，请在最新版上发布新版")
    if db.session.scalar(select(Standard.id).where(Standard.code == old.code, Standard.edition == edition)):
        raise Conflict(f"职业标准 {old.code}（{edition}版）已存在", field="edition")
    levels = treecheck.parse_levels([lv["level"] if isinstance(lv, dict) else lv
                                      for lv in (tree.get("standard") or {}).get("levels") or old.levels])
    clean = _validated(tree, levels or list(old.levels))
    full = {**suggest_mapping(old, clean), **(mapping or {})}
    new_codes = {p["code"] for _, p in treecheck.iter_points(clean)}
    old_points = {p.code: p for p in old.points}
    problems = [f"原鉴定点 {c} 不存在" for c in full if c not in old_points]
    for code, entry in full.items():
        if entry.change == PointChange.REMOVED and entry.new:
            problems.append(f"原鉴定点 {code} 标记为删除，不应填写新鉴定点")
        elif entry.change != PointChange.REMOVED and entry.new not in new_codes:
            problems.append(f"原鉴定点 {code} 对应的新鉴定点 {entry.new or '（空）'} 不在新版细目表中")
    if problems:
        raise ValidationError("对应关系有误：" + "；".join(problems[:20]), details={"errors": problems})

    new = Standard(code=old.code, name=(name or (tree.get("standard") or {}).get("name") or old.name).strip(),
                   edition=edition, levels=levels or list(old.levels), status=StandardStatus.CURRENT)
    db.session.add(new)
    _supersede(old, new)
    new_points = _build(new, clean)
    _flush()
    for code, entry in full.items():
        db.session.add(PointMapping(old_point_id=old_points[code].id, change=entry.change, note=entry.note,
                                    new_point_id=new_points[entry.new].id if entry.new else None))
    _flush()
    flagged, moved = _carry_items(old, new, edition, old_points, new_points, full)
    counts = {c.value: sum(1 for e in full.values() if e.change == c) for c in PointChange}
    audit.record(AuditAction.STANDARD_EDITION_CREATED, obj=new, data={
        "old_standard_id": old.id, "old_edition": old.edition, "edition": edition,
        "mapping": counts, "items_flagged": flagged, "items_moved": moved})
    signals.standard_edition_created.send(new, previous=old)
    return EditionResult(new, flagged, moved)


def _carry_items(old: Standard, new: Standard, edition: str, old_points: dict, new_points: dict,
                 mapping: dict[str, MappingEntry]) -> tuple[list[int], int]:
    """The bank moves and flags its own items (bank.services.carry_over): points not the same
    in the new edition flag their items for revision, points kept move their items over."""
    reasons = {old_points[c].id: _reason(old, edition, old_points[c], e)
               for c, e in mapping.items() if e.change != PointChange.SAME}
    targets = {old_points[c].id: new_points[e.new].id for c, e in mapping.items()
               if e.change != PointChange.REMOVED}
    return bank.carry_over(old.id, new.id, reasons=reasons, targets=targets)


def mapping_of(standard: Standard) -> list[PointMapping]:
    """How the predecessor's points map onto `standard` (empty for a first edition)."""
    if standard.supersedes_id is None:
        return []
    return list(db.session.scalars(
        select(PointMapping).join(AssessmentPoint, PointMapping.old_point_id == AssessmentPoint.id)
        .where(AssessmentPoint.standard_id == standard.supersedes_id).order_by(AssessmentPoint.code)))
