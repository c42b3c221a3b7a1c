"""Fixing a wrong key after the exam: a reviewer confirms the right key of one item of one form
of a batch; a second person (with RESULT_REVIEW) previews what changes for each candidate and
applies it.

Applying regrades every attempt that saw the item with the confirmed key through the question
type's own scoring, and stores each change as a new score correction with the reason, approved
by the reviewer who confirmed the key (scoring's `record_regrade`): original item scores and
totals are never touched, and results follow the usual 复核 and publication rules. Confirming
and applying are each in the process record; so is every regraded score. Flushes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from examsys import audit, clock
from examsys.analysis.models import KeyFix, KeyFixStatus
from examsys.assembly.models import PaperFormItem
from examsys.audit.actions import AuditAction
from examsys.bank import qtypes
from examsys.bank.models import ItemVersion
from examsys.delivery.models import Attempt, Batch, ItemScore, Response, Result
from examsys.delivery.scoring import services as scoring
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_confirm_key, may_handle_results

FIXABLE_TYPES = ("single", "judge", "multi")


@dataclass
class PreviewRow:
    attempt: Attempt
    item_score: ItemScore
    name: str
    ticket_no: str
    old_score: float
    new_score: float
    old_total: float | None
    new_total: float | None
    pass_mark: float | None
    old_passed: bool | None
    new_passed: bool | None

    @property
    def changed(self) -> bool:
        return abs(self.new_score - self.old_score) > 1e-9

    @property
    def pass_changed(self) -> bool:
        return self.old_passed is not None and self.old_passed != self.new_passed


def parse_key(version: ItemVersion, raw) -> object:
    """The key as the question type stores it, from a form value. Raises ValidationError."""
    content = version.content or {}
    labels = [o.get("label") for o in content.get("options") or []]
    if version.qtype == "judge":
        if raw in (True, "true", "1", "正确", "对"):
            return True
        if raw in (False, "false", "0", "错误", "错"):
            return False
        raise ValidationError("判断题答案应为“正确”或“错误”", field="key")
    if version.qtype == "single":
        if raw not in labels:
            raise ValidationError(f"答案应为选项 {'、'.join(labels)} 之一", field="key")
        return raw
    if version.qtype == "multi":
        chosen = sorted(set(raw if isinstance(raw, list | tuple) else list(str(raw or ""))))
        if not chosen or any(c not in labels for c in chosen):
            raise ValidationError(f"答案应为选项 {'、'.join(labels)} 中的若干项", field="key")
        return chosen
    raise ValidationError("只有单选、多选和判断题可以更正答案", field="key")


def confirm_key(reviewer, batch: Batch, form_item: PaperFormItem, new_key, reason: str) -> KeyFix:
    """The reviewer's confirmation of the right key for `form_item` as the batch's candidates saw
    it. Raises PermissionDenied (not a reviewer of the item's organisation), ValidationError (bad
    key, no reason, the key is unchanged, not a fixable type) and Conflict (batch state; a
    confirmed fix of this item is waiting to be applied)."""
    version = _version_seen(batch, form_item)
    may_confirm_key(reviewer, version.item).enforce()
    if batch.state not in scoring.CORRECTABLE_STATES:
        raise Conflict(f"批次状态为“{batch.state_label}”，不能更正答案")
    if version.qtype not in FIXABLE_TYPES:
        raise ValidationError("只有单选、多选和判断题可以更正答案", field="key")
    key = parse_key(version, new_key)
    old = (version.content or {}).get("key")
    if key == old or (isinstance(old, list) and sorted(old) == key):
        raise ValidationError("确认的答案与原答案相同，无需重新评分", field="key")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明更正答案的依据", field="reason")
    waiting = db.session.scalar(select(KeyFix.id).where(
        KeyFix.batch_id == batch.id, KeyFix.form_item_id == form_item.id, KeyFix.status == KeyFixStatus.CONFIRMED))
    if waiting is not None:
        raise Conflict("该题已有待应用的答案更正")
    fix = KeyFix(batch_id=batch.id, form_item_id=form_item.id, item_version_id=version.id, old_key=old, new_key=key,
                 reason=reason, confirmed_by_id=reviewer.id, confirmed_at=clock.now())
    db.session.add(fix)
    db.session.flush()
    audit.record(AuditAction.KEY_FIX_CONFIRMED, obj=fix, organisation_id=batch.organisation_id,
                 data={"batch_id": batch.id, "form_item_id": form_item.id, "item_version_id": version.id,
                       "old_key": old, "new_key": key, "reason": reason})
    return fix


def _version_seen(batch: Batch, form_item: PaperFormItem) -> ItemVersion:
    """The version the batch's candidates were scored on for this form item (a replacement after
    freezing included), else the pinned one."""
    version_id = db.session.scalar(select(ItemScore.item_version_id).where(
        ItemScore.batch_id == batch.id, ItemScore.form_item_id == form_item.id).limit(1))
    return db.session.get(ItemVersion, version_id or form_item.item_version_id)


def preview(fix: KeyFix) -> list[PreviewRow]:
    """Every attempt that saw the item, with its item score and total before and after, and pass
    or fail before and after (from its result, when results exist)."""
    batch = fix.batch
    version = db.session.get(ItemVersion, fix.item_version_id)
    content = {**(version.content or {}), "key": fix.new_key}
    partial = bool(scoring.blueprint_snapshot(batch).get("partial_credit"))
    qt = qtypes.get(version.qtype)
    scores = db.session.scalars(select(ItemScore).where(
        ItemScore.batch_id == batch.id, ItemScore.form_item_id == fix.form_item_id).order_by(ItemScore.attempt_id))
    rows = []
    for s in scores:
        attempt = s.attempt
        answer = db.session.scalar(select(Response.answer).where(
            Response.attempt_id == attempt.id, Response.form_item_id == fix.form_item_id))
        _items, eff, override = scoring.effective_scores(attempt)
        old = eff[s.id] or 0.0
        new = float(qt.score(content, answer, s.max_points, partial_credit=partial) or 0.0)
        result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id))
        old_total = result.final_total if result is not None else None
        new_total = None
        if result is not None:
            new_total = scoring.round2(sum(v or 0.0 for v in eff.values()) - old + new) if override is None \
                else scoring.round2(override - old + new)
        entry = attempt.roster_entry
        rows.append(PreviewRow(
            attempt=attempt, item_score=s, name=entry.candidate.name, ticket_no=entry.ticket_no,
            old_score=old, new_score=new, old_total=old_total, new_total=new_total,
            pass_mark=result.pass_mark if result else None, old_passed=result.passed if result else None,
            new_passed=(new_total >= result.pass_mark - 1e-9) if result is not None else None))
    return rows


def apply_fix(actor, fix: KeyFix) -> list[PreviewRow]:
    """Regrade every attempt whose score changes, as approved corrections (second person: the
    reviewer who confirmed the key). Returns the preview rows that changed.

    Raises PermissionDenied (no RESULT_REVIEW in the batch's organisation), Conflict (already
    applied; the actor confirmed the key; batch state)."""
    batch = fix.batch
    may_handle_results(actor, batch).enforce()
    if fix.status != KeyFixStatus.CONFIRMED:
        raise Conflict("该答案更正已应用")
    if actor.id == fix.confirmed_by_id:
        raise Conflict("确认答案的人不能同时应用答案更正")
    if batch.state not in scoring.CORRECTABLE_STATES:
        raise Conflict(f"批次状态为“{batch.state_label}”，不能更正成绩")
    changed = [r for r in preview(fix) if r.changed]
    reason = f"答案更正（原答案 {_show(fix.old_key)}，更正为 {_show(fix.new_key)}）：{fix.reason}"
    for row in changed:
        scoring.record_regrade(actor, fix.confirmed_by_id, row.item_score, row.new_score, reason)
    fix.status = KeyFixStatus.APPLIED
    fix.applied_by_id = actor.id
    fix.applied_at = clock.now()
    fix.affected = len(changed)
    db.session.flush()
    audit.record(AuditAction.KEY_FIX_APPLIED, obj=fix, organisation_id=batch.organisation_id,
                 data={"batch_id": batch.id, "form_item_id": fix.form_item_id, "regraded": len(changed),
                       "pass_changed": sum(1 for r in changed if r.pass_changed)})
    return changed


def _show(key) -> str:
    if key is True:
        return "正确"
    if key is False:
        return "错误"
    if isinstance(key, list):
        return "".join(str(k) for k in key)
    return str(key)


def fixes_of(batch: Batch) -> list[KeyFix]:
    return list(db.session.scalars(select(KeyFix).where(KeyFix.batch_id == batch.id).order_by(KeyFix.id)))
