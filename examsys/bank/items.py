"""Item operations: create an item, save an edit as a new immutable version, retire an item,
report a fault, flag items for revision; and the content helpers (sanitised shape, hash, search
text) the workflow and the importer share. Callers use the façade `examsys.bank.services`.

Every function takes domain objects and plain values, flushes (never commits) and records one
audit event per state change, acting as the user it is given.

Item-level copies of version fields (point, levels, level_mask, difficulty) follow the item's
*active* (approved) version when it has one, so the bank and paper assembly see what is in the
bank while a revision waits for review; otherwise they follow the latest version. `search_text`
follows the latest version, so writers find their drafts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import and_, case, or_, select, update

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext, context_for
from examsys.bank import qtypes, richtext
from examsys.bank.checks import raise_problems, readiness_problems
from examsys.bank.models import FaultReport, Item, ItemStatus, ItemVersion, QType, VersionStatus
from examsys.bank.search import search_normalise
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_report_fault, may_retire_item, may_set_enemy_group, may_write_items
from examsys.standards.models import LEVELS, AssessmentPoint, Standard

PENDING = (VersionStatus.DRAFT, VersionStatus.SUBMITTED)
EDIT_CONFLICT = "该试题已被他人修改，请刷新后在最新版本上重新编辑（您的修改尚未保存）"


# --- content -----------------------------------------------------------------------------------


def _clean_key(qtype: QType, key: Any) -> Any:
    """Tidy obviously equivalent spellings; anything of the wrong shape is passed through for
    the registry to report, never silently repaired."""
    if qtype == QType.SINGLE and isinstance(key, str):
        return key.strip().upper()
    if qtype == QType.MULTI and isinstance(key, list) and all(isinstance(k, str) for k in key):
        return sorted({k.strip().upper() for k in key})
    if qtype == QType.FILL and isinstance(key, list):
        return [[a.strip() if isinstance(a, str) else a for a in alts] if isinstance(alts, list) else alts
                for alts in key]
    return key


def prepare_content(qtype: QType | str, content: Any) -> dict:
    """Content in the contract's shape (CONTENT_FORMAT.md) with every HTML field sanitised.

    Raises ValidationError when `content` is not a dict or its options are not a list of dicts;
    other problems are left for `qtypes.get(qtype).validate` to report."""
    qtype = QType(qtype)
    if not isinstance(content, dict):
        raise ValidationError("试题内容格式错误", field="content")
    options = content.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise ValidationError("选项格式错误", field="options")
    is_open = not qtypes.get(qtype).objective
    scoring = content.get("scoring_points") or []
    if is_open and (not isinstance(scoring, list) or not all(isinstance(s, dict) for s in scoring)):
        raise ValidationError("评分要点格式错误", field="scoring_points")
    return {
        "stem": richtext.sanitise(content.get("stem")),
        "options": [{"label": str(o.get("label", "")).strip(), "text": richtext.sanitise(o.get("text"))}
                    for o in options] if qtype in (QType.SINGLE, QType.MULTI) else [],
        "key": None if is_open else _clean_key(qtype, content.get("key")),
        "reference_answer": richtext.sanitise(content.get("reference_answer")) if is_open else "",
        "scoring_points": [{"text": str(s.get("text", "")).strip(), "points": s.get("points")}
                           for s in scoring] if is_open else [],
        "explanation": richtext.sanitise(content.get("explanation")),
    }


def content_hash(qtype: QType | str, content: dict) -> str:
    """SHA-256 of the canonical JSON of type and content: equal content, equal hash."""
    canonical = json.dumps({"qtype": str(qtype), "content": content}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def search_text_for(qtype: QType | str, content: dict) -> str:
    return search_normalise(qtypes.get(qtype).plain_text(content))


def level_mask(levels: list[int]) -> int:
    return sum(1 << int(level) for level in set(levels))


# --- checks shared with workflow and import ----------------------------------------------------


def actor(user) -> AuditContext | None:
    """Audit context acting as `user` (None for system jobs, e.g. statistics)."""
    return context_for(user) if user is not None else None


def check_meta(standard: Standard, point: AssessmentPoint | None, levels: list[int],
               difficulty: Any, points: Any) -> list[int]:
    """The levels, sorted; raises ValidationError on a point outside the standard, a level the
    standard or point does not have, difficulty outside 1–5 or points not above zero."""
    if point is not None and point.standard_id != standard.id:
        raise ValidationError("鉴定点不属于该职业标准", field="point")
    if point is not None and point.retired:
        raise ValidationError(f"鉴定点 {point.code} 已停用", field="point")
    try:
        levels = sorted({int(level) for level in levels or []}, reverse=True)
    except (TypeError, ValueError):
        raise ValidationError("等级格式错误", field="levels") from None
    allowed = set(standard.levels or LEVELS)
    if point is not None and point.levels:
        allowed &= set(point.levels)
    wrong = [lv for lv in levels if lv not in allowed]
    if wrong:
        raise ValidationError(f"等级 {'、'.join(LEVELS.get(lv, str(lv)) for lv in wrong)} "
                              "不适用于该标准或鉴定点", field="levels")
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        raise ValidationError("难度须为 1–5 的整数", field="difficulty")
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        raise ValidationError("分值必须大于 0", field="points")
    return levels


def sync_item(item: Item, version: ItemVersion) -> None:
    """Copy classification fields from the version the bank should see (module docstring)."""
    item.point_id = version.point_id
    item.levels = list(version.levels)
    item.level_mask = level_mask(version.levels)
    item.difficulty = version.difficulty


# --- create and edit ---------------------------------------------------------------------------


def create_item(author, org, *, standard: Standard, point: AssessmentPoint | None, qtype: QType | str,
                levels: list[int], difficulty: int, points: float, content: dict, note: str = "",
                source: dict | None = None, status: str = "draft") -> Item:
    """A new item with version 1. `status` is "draft" (content may still be incomplete) or
    "submitted" (checked as by `workflow.submit`).

    Raises PermissionDenied (no ITEM_WRITE in `org`), ValidationError (shape, metadata, or when
    submitting, every content problem)."""
    may_write_items(author, org.id).enforce()
    qtype = qtypes.get(qtype).qtype
    if status not in ("draft", "submitted"):
        raise ValidationError("新建试题只能保存为草稿或直接提交审核", field="status")
    levels = check_meta(standard, point, levels, difficulty, points)
    content = prepare_content(qtype, content)
    if status == "submitted":
        raise_problems(readiness_problems(qtype, content, point, levels, points))
    now = clock.now()
    version = ItemVersion(number=1, qtype=qtype, content=content, point_id=point.id if point else None,
                          levels=levels, difficulty=difficulty, points=float(points),
                          note=note.replace("\x00", "").strip() or "新建试题", source=source,
                          content_hash=content_hash(qtype, content), author_id=author.id,
                          created_at=now, status=VersionStatus(status),
                          submitted_at=now if status == "submitted" else None)
    item = Item(organisation_id=org.id, standard_id=standard.id, qtype=qtype,
                status=ItemStatus(status), created_by_id=author.id, created_at=now, updated_at=now,
                search_text=search_text_for(qtype, content), versions=[version])
    sync_item(item, version)
    item.latest_version = version
    db.session.add(item)
    db.session.flush()
    audit.record(AuditAction.ITEM_CREATED, obj=item, context=actor(author),
                 data={"version_id": version.id, "number": 1, "qtype": qtype.value,
                       "status": status, "point_id": version.point_id, "source": source})
    return item


def save_edit(author, item: Item, *, expected_version: int, content: dict,
              point: AssessmentPoint | None, levels: list[int], difficulty: int, points: float,
              note: str) -> ItemVersion:
    """Save an edit as a new immutable draft version of `item`.

    `expected_version` is the `Item.version` the editor loaded; if someone saved in between the
    edit is refused with Conflict and nothing is written. A pending (draft or submitted) version
    is withdrawn; an approved version stays active in the bank until the new one is approved.

    Raises PermissionDenied, Conflict (stale version, retired item), ValidationError (empty note,
    bad shape or metadata)."""
    may_write_items(author, item.organisation_id).enforce()
    if item.version != expected_version:
        raise Conflict(EDIT_CONFLICT)
    if item.status == ItemStatus.RETIRED:
        raise Conflict("该试题已停用，不能再修改")
    if not (note or "").strip():
        raise ValidationError("请填写修改说明", field="note")
    standard = db.session.get(Standard, item.standard_id)
    levels = check_meta(standard, point, levels, difficulty, points)
    content = prepare_content(item.qtype, content)
    now = clock.now()
    latest = item.latest_version
    withdrawn = []
    for old in item.versions:
        if old.status in PENDING:
            old.status = VersionStatus.WITHDRAWN
            old.decided_at = now
            withdrawn.append(old.id)
    version = ItemVersion(item=item, number=latest.number + 1 if latest else 1, qtype=item.qtype,
                          content=content, point_id=point.id if point else None, levels=levels,
                          difficulty=difficulty, points=float(points), note=note.replace("\x00", "").strip(),
                          content_hash=content_hash(item.qtype, content), author_id=author.id,
                          created_at=now, status=VersionStatus.DRAFT)
    db.session.add(version)
    item.latest_version = version
    item.search_text = search_text_for(item.qtype, content)
    item.updated_at = now
    if item.active_version_id is None:
        item.status = ItemStatus.DRAFT
        sync_item(item, version)
    db.session.flush()  # a concurrent committed change: StaleDataError, answered as 409
    audit.record(AuditAction.ITEM_EDITED, obj=item, context=actor(author),
                 data={"version_id": version.id, "number": version.number, "note": version.note,
                       "withdrawn": withdrawn})
    return version


# --- retire, faults, revisions -----------------------------------------------------------------


def retire(user, item: Item, *, reason: str) -> None:
    """Withdraw an item from the bank (papers keep the versions they pinned); pending versions
    are withdrawn. Raises PermissionDenied (needs ITEM_REVIEW in the item's organisation),
    ValidationError (empty reason), Conflict (already retired)."""
    may_retire_item(user, item).enforce()
    if not (reason or "").strip():
        raise ValidationError("请填写停用原因", field="reason")
    if item.status == ItemStatus.RETIRED:
        raise Conflict("该试题已停用")
    now = clock.now()
    previous = item.status
    for version in item.versions:
        if version.status in PENDING:
            version.status = VersionStatus.WITHDRAWN
            version.decided_at = now
    item.status = ItemStatus.RETIRED
    item.updated_at = now
    db.session.flush()  # a concurrent committed change: StaleDataError, answered as 409
    audit.record(AuditAction.ITEM_RETIRED, obj=item, context=actor(user),
                 data={"reason": reason.strip(), "previous_status": previous.value})


def _open_revision(item: Item, reason: str) -> None:
    item.needs_revision = True
    item.updated_at = clock.now()
    # Several reasons may pile up before a writer gets to the item; keep them all.
    item.revision_reason = reason if not item.revision_reason or reason in item.revision_reason \
        else f"{item.revision_reason}\n{reason}"


def report_fault(user, item: Item, *, reason: str, source: str = "user") -> FaultReport:
    """Report an item as faulty, which opens a revision (needs_revision with the reason).
    Anyone who may see the item may report; `user` is None for reports from exam statistics
    (source="statistics"). Raises PermissionDenied, ValidationError (empty reason, bad source)."""
    if source not in ("user", "statistics"):
        raise ValidationError("报告来源无效", field="source")
    if user is not None:
        may_report_fault(user, item).enforce()
    if user is None and source == "user":
        raise ValidationError("用户报告须注明报告人", field="source")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明试题存在的问题", field="reason")
    report = FaultReport(item_id=item.id, organisation_id=item.organisation_id,
                         reporter_id=user.id if user else None, source=source, reason=reason,
                         created_at=clock.now())
    db.session.add(report)
    _open_revision(item, reason)
    db.session.flush()
    audit.record(AuditAction.ITEM_FAULT_REPORTED, obj=item, context=actor(user),
                 data={"fault_report_id": report.id, "source": source, "reason": reason})
    return report


def flag_needs_revision(items: list[Item], reason: str) -> int:
    """Flag items for revision (e.g. their assessment point changed in a new edition of the
    standard). Items already flagged for the same reason are left alone; returns how many were
    flagged. The acting user is the ambient audit context. Raises ValidationError on an empty
    reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明需要修订的原因", field="reason")
    flagged = 0
    for item in items:
        if item.needs_revision and reason in (item.revision_reason or ""):
            continue
        _open_revision(item, reason)
        flagged += 1
        db.session.flush()
        audit.record(AuditAction.ITEM_FLAGGED_FOR_REVISION, obj=item, data={"reason": reason})
    return flagged


def carry_over(old_standard_id: int, new_standard_id: int, *, reasons: dict[int, str],
               targets: dict[int, int]) -> tuple[list[int], int]:
    """Carry a standard's items over to its new edition, in bulk (no per-item round trips
    besides the audit events): items on a point in `reasons` (old point id → why) are flagged
    for revision as by `flag_needs_revision` (reasons pile up, one per line; a reason already
    given is not added twice); items on a point in `targets` (old point id → new point id), and
    items on no point, move to the new standard. Retired items move but are never flagged.
    Item.version is bumped so that an editor holding an item open gets a conflict rather than
    losing the change. Each item touched gets one audit event: AuditAction.ITEM_FLAGGED_FOR_REVISION (with where
    it moved, if it did) or AuditAction.ITEM_EDITION_CHANGED. Returns (ids of the flagged items, how many moved)."""
    now = clock.now()
    flag_where = and_(Item.standard_id == old_standard_id, Item.point_id.in_(reasons or [0]),
                      Item.status != ItemStatus.RETIRED)
    move_where = and_(Item.standard_id == old_standard_id,
                      or_(Item.point_id.in_(targets or [0]), Item.point_id.is_(None)))
    touched = db.session.execute(
        select(Item.id, Item.organisation_id, Item.point_id, Item.needs_revision, Item.revision_reason,
               flag_where.label("flag"), move_where.label("move"))
        .where(or_(flag_where, move_where)).order_by(Item.id)).all()
    flagged = [row.id for row in touched if row.flag and not (row.needs_revision and reasons[row.point_id]
                                                              in (row.revision_reason or ""))]
    if flagged:
        new_reason = case(reasons, value=Item.point_id)
        db.session.execute(update(Item).where(Item.id.in_(flagged)).values(
            needs_revision=True, updated_at=now, version=Item.version + 1,
            revision_reason=case((Item.revision_reason.is_(None) | (Item.revision_reason == ""), new_reason),
                                 else_=Item.revision_reason + "\n" + new_reason),
        ).execution_options(synchronize_session=False))
    moving = [row.id for row in touched if row.move]
    if moving:
        db.session.execute(update(Item).where(Item.id.in_(moving)).values(
            standard_id=new_standard_id, point_id=case(targets or {0: 0}, value=Item.point_id, else_=Item.point_id),
            version=Item.version + 1,
        ).execution_options(synchronize_session=False))
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Item):
            db.session.expire(obj)
    flagged_ids = set(flagged)
    for row in touched:
        move = {"from_standard_id": old_standard_id, "to_standard_id": new_standard_id,
                "from_point_id": row.point_id, "to_point_id": targets.get(row.point_id, row.point_id)} \
            if row.move else {}
        if row.id in flagged_ids:
            audit.record(AuditAction.ITEM_FLAGGED_FOR_REVISION, object_type="item", object_id=row.id,
                         organisation_id=row.organisation_id, data={"reason": reasons[row.point_id], **move})
        elif row.move:
            audit.record(AuditAction.ITEM_EDITION_CHANGED, object_type="item", object_id=row.id,
                         organisation_id=row.organisation_id, data=move)
    return flagged, len(moving)


def open_fault_reports(item: Item) -> list[FaultReport]:
    return list(db.session.scalars(select(FaultReport).where(
        FaultReport.item_id == item.id, FaultReport.resolved_at.is_(None)).order_by(FaultReport.id)))


def set_enemy_group(user, item: Item, group: str | None) -> None:
    """Put the item in an enemy group (items that give each other away: a paper form holds at
    most one of a group), or take it out with None/"". Raises PermissionDenied (needs ITEM_WRITE
    or ITEM_REVIEW in the item's organisation) or ValidationError (over 64 characters)."""
    may_set_enemy_group(user, item).enforce()
    group = (group or "").strip() or None
    if group is not None and len(group) > 64:
        raise ValidationError("互斥组名称不能超过64个字符", field="enemy_group")
    if group == item.enemy_group:
        return
    before = item.enemy_group
    item.enemy_group = group
    db.session.flush()  # a concurrent committed change: StaleDataError, answered as 409
    audit.record(AuditAction.ITEM_ENEMY_GROUP_SET, obj=item, context=actor(user),
                 data={"before": before, "after": group})


def enemy_group_members(item: Item) -> list[Item]:
    """The other items of the same organisation in the item's enemy group."""
    if not item.enemy_group:
        return []
    return list(db.session.scalars(select(Item).where(
        Item.organisation_id == item.organisation_id, Item.enemy_group == item.enemy_group,
        Item.id != item.id).order_by(Item.id)))
