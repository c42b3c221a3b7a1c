"""Versions of the indicator system (质量督导指标体系): the version in force (the latest
published), drafts (a copy of the version in force, at most one at a time), editing a draft's
dimensions and indicators, validation, publication and the difference between two versions
(computed in `diff`).

A published version never changes. Every change is recorded in the process record with what it
changed. Services flush; the request commits.

Raises PermissionDenied (not the province), NotFound (no such version, or a draft to someone who
may not edit), Conflict (a draft exists already, the version is published, a stale form),
ValidationError (a field of an indicator or dimension, naming both; a set that does not
validate, with every problem in details["errors"])."""

from __future__ import annotations

import copy
import re

from flask import g, has_app_context
from sqlalchemy import func, select

from examsys import audit, clock
from examsys.accounts.models import User
from examsys.audit.actions import AuditAction
from examsys.errors import ConcurrentChange, Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import may_manage_indicators
from examsys.supervision.indicators import catalogue
from examsys.supervision.indicators.defaults import DEFAULT_CONTENT, DEFAULT_LABEL, DIRECTIONS, KEY_TASKS, SOURCES
from examsys.supervision.indicators.diff import changes, diff  # noqa: F401  (changes: for the pages)
from examsys.supervision.indicators.models import IndicatorSetStatus, IndicatorSetVersion

STALE = "该指标体系草稿已被他人修改，您的更改未保存。请刷新页面，查看最新内容后重试。"
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
DIMENSION_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


# --- reading -------------------------------------------------------------------------------------


def as_set(row: IndicatorSetVersion) -> catalogue.IndicatorSet:
    published = clock.to_display(row.published_at).date().isoformat() if row.published_at else ""
    return catalogue.from_content(row.label, row.number, row.status, published, row.content)


def rows() -> list[IndicatorSetVersion]:
    """Every version, newest first."""
    return list(db.session.scalars(select(IndicatorSetVersion).order_by(IndicatorSetVersion.number.desc())))


def current_row() -> IndicatorSetVersion:
    row = db.session.scalar(select(IndicatorSetVersion).where(
        IndicatorSetVersion.status == IndicatorSetStatus.PUBLISHED.value).order_by(
        IndicatorSetVersion.number.desc()).limit(1))
    if row is None:
        raise NotFound("尚未发布督导指标体系")
    return row


def current() -> catalogue.IndicatorSet:
    """The version in force (cached for the request: a page scores many rows against it)."""
    cache = g.setdefault("_indicator_sets", {}) if has_app_context() else {}
    if "current" not in cache:
        cache["current"] = as_set(current_row())
    return cache["current"]


def by_label(label: str) -> catalogue.IndicatorSet | None:
    """A published version by the label scores record, or None."""
    row = db.session.scalar(select(IndicatorSetVersion).where(
        IndicatorSetVersion.label == label, IndicatorSetVersion.status == IndicatorSetStatus.PUBLISHED.value))
    return as_set(row) if row is not None else None


def draft() -> IndicatorSetVersion | None:
    return db.session.scalar(select(IndicatorSetVersion).where(
        IndicatorSetVersion.status == IndicatorSetStatus.DRAFT.value))


def get(user: User, set_id: int) -> IndicatorSetVersion:
    """A version `user` may read: published ones to everyone signed in, the draft to the province."""
    row = db.session.get(IndicatorSetVersion, set_id)
    if row is None or (row.is_draft and not may_manage_indicators(user)):
        raise NotFound("未找到该指标体系版本")
    return row


def previous(row: IndicatorSetVersion) -> IndicatorSetVersion | None:
    """What `row` is compared with by default: the version it was copied from, else the published
    version before it."""
    if row.based_on is not None:
        return row.based_on
    return db.session.scalar(select(IndicatorSetVersion).where(
        IndicatorSetVersion.number < row.number, IndicatorSetVersion.status == IndicatorSetStatus.PUBLISHED.value)
        .order_by(IndicatorSetVersion.number.desc()).limit(1))


# --- the default set -------------------------------------------------------------------------------


def seed_default() -> IndicatorSetVersion | None:
    """Store the default set as version 1, published, when no version exists (a database built
    with create_all(); migrated databases get it from the migration). Not recorded: it is the
    system's starting state, not anyone's change."""
    if db.session.scalar(select(func.count()).select_from(IndicatorSetVersion)):
        return None
    row = IndicatorSetVersion(number=1, label=DEFAULT_LABEL, status=IndicatorSetStatus.PUBLISHED.value,
                              content=copy.deepcopy(DEFAULT_CONTENT), note="默认指标体系（由八项重点任务分解）",
                              created_at=clock.now(), published_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return row


# --- validation ------------------------------------------------------------------------------------


def _where(ind: dict) -> str:
    return f"指标 {ind.get('code') or '（未编号）'}「{ind.get('name') or '未命名'}」"


def indicator_problems(ind: dict, content: dict) -> list[tuple[str, str]]:
    """(field, message) for every field of one indicator that is wrong, each message naming the
    indicator and the field."""
    out: list[tuple[str, str]] = []
    where = _where(ind)
    if not CODE_RE.match(ind.get("code") or ""):
        out.append(("code", f"{where}：编号须以大写字母开头，由 1～8 位大写字母或数字组成"))
    if not (ind.get("name") or "").strip():
        out.append(("name", f"{where}：请填写名称"))
    if ind.get("dimension") not in {d["key"] for d in content.get("dimensions", [])}:
        out.append(("dimension", f"{where}：所属维度不存在"))
    weight = ind.get("weight")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
        out.append(("weight", f"{where}：权重须为 1～100 的整数"))
    if not (ind.get("rule") or "").strip():
        out.append(("rule", f"{where}：请填写评分规则"))
    kind = ind.get("kind")
    if kind == "entered":
        if not (ind.get("evidence") or "").strip():
            out.append(("evidence", f"{where}：督导录入的指标须写明评分所需的依据"))
    elif kind == "computed":
        if ind.get("source") not in SOURCES:
            out.append(("source", f"{where}：请选择系统计算的数据来源"))
        if ind.get("direction") not in DIRECTIONS:
            out.append(("direction", f"{where}：请选择方向（越高越好或越低越好）"))
        full, zero = ind.get("full"), ind.get("zero")
        if not isinstance(full, int | float) or not 0 <= full <= 1:
            out.append(("full", f"{where}：满分阈值须在 0%～100% 之间"))
        elif not isinstance(zero, int | float) or not 0 <= zero <= 1:
            out.append(("zero", f"{where}：零分阈值须在 0%～100% 之间"))
        elif ind.get("direction") == "at_most" and not zero > full:
            out.append(("zero", f"{where}：越低越好的指标，零分阈值须高于满分阈值"))
        elif ind.get("direction") == "at_least" and not zero < full:
            out.append(("zero", f"{where}：越高越好的指标，零分阈值须低于满分阈值"))
    else:
        out.append(("kind", f"{where}：请选择评分方式（系统计算或督导录入）"))
    tasks = ind.get("key_tasks") or []
    if any(t not in KEY_TASKS for t in tasks):
        out.append(("key_tasks", f"{where}：对应重点任务须为 1～8"))
    return out


def problems(content: dict) -> list[str]:
    """Every reason `content` cannot be published, in Chinese, each naming what and where: the
    indicators' fields, duplicate codes, dimensions without indicators, the weights' sum."""
    out: list[str] = []
    inds = content.get("indicators", [])
    if not inds:
        out.append("指标体系中没有指标")
    seen: set[str] = set()
    for ind in inds:
        out.extend(msg for _f, msg in indicator_problems(ind, content))
        if ind.get("code") in seen:
            out.append(f"{_where(ind)}：编号与其他指标重复")
        seen.add(ind.get("code"))
    for dim in content.get("dimensions", []):
        if not any(i.get("dimension") == dim["key"] for i in inds):
            out.append(f"维度「{dim['name']}」：没有指标，请添加指标或删除该维度")
    total = sum(i["weight"] for i in inds if isinstance(i.get("weight"), int))
    if total != 100:
        detail = "、".join(f"{i.get('code')} {i.get('weight')}" for i in inds)
        out.append(f"各指标权重之和须为 100，现为 {total}（{detail}）")
    return out


# --- editing a draft --------------------------------------------------------------------------------


def _editable(actor: User, row: IndicatorSetVersion, lock: int | None) -> None:
    may_manage_indicators(actor).enforce()
    if not row.is_draft:
        raise Conflict(f"指标体系 {row.label} 版已发布，不能修改；请新建草稿版本")
    if lock is not None and lock != row.version:
        raise ConcurrentChange(STALE, details={"reason": "stale"})


def _record_change(row: IndicatorSetVersion, what: str, before: dict, after: dict) -> None:
    audit.record(AuditAction.INDICATOR_SET_CHANGED, obj=row,
                 data={"label": row.label, "what": what, "changes": diff(before, after)})


def new_draft(actor: User, *, note: str = "") -> IndicatorSetVersion:
    """A draft copied from the version in force. Raises PermissionDenied, Conflict (a draft exists)."""
    may_manage_indicators(actor).enforce()
    existing = draft()
    if existing is not None:
        raise Conflict(f"已有草稿版本 {existing.label}，请先发布或删除该草稿")
    base = current_row()
    number = (db.session.scalar(select(func.max(IndicatorSetVersion.number))) or 0) + 1
    year = clock.to_display(clock.now()).year
    taken = set(db.session.scalars(select(IndicatorSetVersion.label)))
    n = 1
    while f"{year}.{n}" in taken:
        n += 1
    row = IndicatorSetVersion(number=number, label=f"{year}.{n}", status=IndicatorSetStatus.DRAFT.value,
                              content=copy.deepcopy(base.content), note=(note or "").strip(), based_on_id=base.id,
                              created_by_id=actor.id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.INDICATOR_SET_DRAFTED, obj=row, data={"label": row.label, "based_on": base.label})
    return row


def set_note(actor: User, row: IndicatorSetVersion, note: str, *, lock: int | None = None) -> IndicatorSetVersion:
    _editable(actor, row, lock)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError("修订说明不能超过 2000 字", field="note")
    if note != row.note:
        audit.record(AuditAction.INDICATOR_SET_CHANGED, obj=row,
                     data={"label": row.label, "what": "修订说明",
                           "changes": [f"修订说明：{row.note or '—'} → {note}"]})
        row.note = note
        db.session.flush()
    return row


def normalise(data: dict) -> dict:
    """An indicator as stored, from a form's values: computed fields cleared on an entered one."""
    kind = data.get("kind")
    out = {"code": (data.get("code") or "").strip().upper(), "dimension": data.get("dimension"),
           "name": (data.get("name") or "").strip(), "weight": data.get("weight"), "kind": kind,
           "source": data.get("source") if kind == "computed" else None,
           "direction": data.get("direction") if kind == "computed" else None,
           "full": data.get("full") if kind == "computed" else None,
           "zero": data.get("zero") if kind == "computed" else None,
           "rule": (data.get("rule") or "").strip(), "evidence": (data.get("evidence") or "").strip(),
           "key_tasks": sorted({int(t) for t in data.get("key_tasks") or []})}
    if kind == "computed" and out["source"] in SOURCES and not out["direction"]:
        out["direction"] = SOURCES[out["source"]][1]
    return out


def save_indicator(actor: User, row: IndicatorSetVersion, code: str | None, data: dict, *,
                   lock: int | None = None) -> IndicatorSetVersion:
    """Add an indicator (`code` None) or replace the one with `code`. Raises PermissionDenied,
    Conflict, NotFound (no such indicator), ValidationError (the first wrong field, naming the
    indicator and the field; every one in details["errors"])."""
    _editable(actor, row, lock)
    before = row.content
    content = copy.deepcopy(before)
    ind = normalise(data)
    found = next((i for i, x in enumerate(content["indicators"]) if x["code"] == code), None) if code else None
    if code and found is None:
        raise NotFound(f"草稿中没有指标 {code}")
    wrong = indicator_problems(ind, content)
    if any(x["code"] == ind["code"] for i, x in enumerate(content["indicators"]) if i != found):
        wrong.insert(0, ("code", f"{_where(ind)}：编号与其他指标重复"))
    if wrong:
        raise ValidationError(wrong[0][1], field=wrong[0][0], details={"errors": [m for _f, m in wrong]})
    if found is None:
        content["indicators"].append(ind)
    else:
        content["indicators"][found] = ind
    row.content = content
    db.session.flush()
    _record_change(row, f"指标 {ind['code']}", before, content)
    return row


def delete_indicator(actor: User, row: IndicatorSetVersion, code: str, *, lock: int | None = None) -> None:
    _editable(actor, row, lock)
    before = row.content
    content = copy.deepcopy(before)
    content["indicators"] = [i for i in content["indicators"] if i["code"] != code]
    if len(content["indicators"]) == len(before["indicators"]):
        raise NotFound(f"草稿中没有指标 {code}")
    row.content = content
    db.session.flush()
    _record_change(row, f"删除指标 {code}", before, content)


def save_dimension(actor: User, row: IndicatorSetVersion, key: str | None, name: str, *,
                   lock: int | None = None) -> IndicatorSetVersion:
    """Add a dimension (`key` None: a key is made) or rename one. Raises as `save_indicator`."""
    _editable(actor, row, lock)
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise ValidationError("维度名称不能为空，且不超过 40 字", field="name")
    before = row.content
    content = copy.deepcopy(before)
    dims = content["dimensions"]
    if any(d["name"] == name and d["key"] != key for d in dims):
        raise ValidationError(f"维度「{name}」：名称与已有维度重复", field="name")
    if key is None:
        n = len(dims) + 1
        while any(d["key"] == f"dim{n}" for d in dims):
            n += 1
        dims.append({"key": f"dim{n}", "name": name})
    else:
        dim = next((d for d in dims if d["key"] == key), None)
        if dim is None:
            raise NotFound("草稿中没有该维度")
        dim["name"] = name
    row.content = content
    db.session.flush()
    _record_change(row, f"维度「{name}」", before, content)
    return row


def delete_dimension(actor: User, row: IndicatorSetVersion, key: str, *, lock: int | None = None) -> None:
    _editable(actor, row, lock)
    before = row.content
    dim = next((d for d in before["dimensions"] if d["key"] == key), None)
    if dim is None:
        raise NotFound("草稿中没有该维度")
    if any(i["dimension"] == key for i in before["indicators"]):
        raise ValidationError(f"维度「{dim['name']}」：仍有指标，请先删除或移走这些指标", field="dimension")
    content = copy.deepcopy(before)
    content["dimensions"] = [d for d in content["dimensions"] if d["key"] != key]
    row.content = content
    db.session.flush()
    _record_change(row, f"删除维度「{dim['name']}」", before, content)


def publish(actor: User, row: IndicatorSetVersion, *, lock: int | None = None) -> IndicatorSetVersion:
    """Publish the draft: it is in force from now on. Raises PermissionDenied, Conflict,
    ValidationError (the set does not validate; every problem in details["errors"])."""
    _editable(actor, row, lock)
    wrong = problems(row.content)
    if wrong:
        raise ValidationError(f"指标体系 {row.label} 版未通过校验，不能发布：{wrong[0]}",
                              details={"errors": wrong})
    base = previous(row)
    row.status, row.published_at, row.published_by_id = IndicatorSetStatus.PUBLISHED.value, clock.now(), actor.id
    db.session.flush()
    if has_app_context():
        g.pop("_indicator_sets", None)
    audit.record(AuditAction.INDICATOR_SET_PUBLISHED, obj=row, data={
        "label": row.label, "replaces": base.label if base else None, "note": row.note,
        "changes": diff(base.content if base else {}, row.content)})
    return row


def discard(actor: User, row: IndicatorSetVersion, *, lock: int | None = None) -> None:
    """Delete the draft (nothing was scored against it)."""
    _editable(actor, row, lock)
    audit.record(AuditAction.INDICATOR_SET_DISCARDED, obj=row, data={"label": row.label})
    db.session.delete(row)
    db.session.flush()
