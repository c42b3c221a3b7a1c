"""Warning rules (预警规则) and the early warnings (预警) they raise per organisation: a return rate
above a threshold over the last months, a rate that rose month on month, one return reason
repeated. Evaluated by `examsys campaign warnings` or from the warnings page (a POST); a rule
raises a warning for an organisation once per month (the month the evaluation ran in)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation
from examsys.audit.actions import AuditAction
from examsys.campaign.certdata import rates
from examsys.campaign.certdata.models import (
    RETURN_REASON_LABELS,
    CertWarning,
    ReturnReason,
    RuleKind,
    WarningRule,
    WarningStatus,
)
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Role, may_handle_warning, may_set_warning_rules

# (threshold, months, count) of each kind until the province sets its own
DEFAULTS = {RuleKind.RATE_ABOVE: (0.05, 3, 0), RuleKind.RISE: (0.0, 3, 0), RuleKind.REPEATED_REASON: (0.0, 3, 3)}


def rules() -> list[WarningRule]:
    """The three rules, stored ones first; a kind not stored yet is shown with its defaults."""
    stored = {r.kind: r for r in db.session.scalars(select(WarningRule))}
    out = []
    for kind, (threshold, months, count) in DEFAULTS.items():
        out.append(stored.get(kind.value) or WarningRule(kind=kind.value, threshold=threshold, months=months,
                                                         count=count, active=True))
    return out


def _stored_rules() -> list[WarningRule]:
    out = rules()
    for r in out:
        if r.id is None:
            db.session.add(r)
    db.session.flush()
    return out


def save_rule(actor, kind: str, *, threshold: float | None, months: int | None, count: int | None,
              active: bool) -> WarningRule:
    """Raises PermissionDenied and ValidationError naming the field."""
    may_set_warning_rules(actor).enforce()
    try:
        rule_kind = RuleKind(kind)
    except ValueError as exc:
        raise NotFound("未找到该预警规则") from exc
    if months is None or not 1 <= months <= 24:
        raise ValidationError("统计月数：应为 1 到 24 之间的整数", field="months")
    if rule_kind is RuleKind.RATE_ABOVE and (threshold is None or not 0 < threshold < 1):
        raise ValidationError("退回率阈值：应大于 0% 且小于 100%", field="threshold")
    if rule_kind is RuleKind.RISE and months < 2:
        raise ValidationError("统计月数：连续上升至少要比较 2 个月", field="months")
    if rule_kind is RuleKind.REPEATED_REASON and (count is None or not 2 <= count <= 1000):
        raise ValidationError("出现次数：应为 2 到 1000 之间的整数", field="count")
    rule = next(r for r in _stored_rules() if r.kind == rule_kind.value)
    before = {"threshold": rule.threshold, "months": rule.months, "count": rule.count, "active": rule.active}
    if threshold is not None:
        rule.threshold = threshold
    if count is not None:
        rule.count = count
    rule.months, rule.active = months, active
    rule.updated_at, rule.updated_by_id = clock.now(), actor.id
    db.session.flush()
    audit.record(AuditAction.CERT_WARNING_RULE_UPDATED, obj=rule, data={
        "kind": rule.kind, "before": before,
        "after": {"threshold": rule.threshold, "months": rule.months, "count": rule.count, "active": rule.active}})
    return rule


@dataclass(frozen=True)
class Hit:
    message: str
    figures: dict


def _judge(rule: WarningRule, data: list[rates.Row], months: list[str]) -> Hit | None:
    cells = next(iter(rates.table(data, "organisation_id", months).values()), None)
    if cells is None:
        return None
    span = f"{rates.month_label(months[0])}至{rates.month_label(months[-1])}"
    if rule.kind == RuleKind.RATE_ABOVE:
        tot = rates.total(cells)
        if tot.rate is not None and tot.rate > rule.threshold:
            return Hit(f"{span}退回率 {tot.rate:.1%}（{tot.returned}/{tot.reported}），"
                       f"超过预警阈值 {rule.threshold:.0%}",
                       {"returned": tot.returned, "reported": tot.reported, "rate": tot.rate,
                        "threshold": rule.threshold, "months": months})
    elif rule.kind == RuleKind.RISE:
        series = [cells[m].rate for m in months]
        if all(v is not None for v in series) and all(a < b for a, b in zip(series, series[1:], strict=False)):
            text = " → ".join(f"{v:.1%}" for v in series)
            return Hit(f"{span}退回率逐月上升：{text}", {"rates": dict(zip(months, series, strict=True))})
    else:
        reasons = Counter(reason for r in data for month, reason in r.returns if month in months)
        if reasons:
            reason, n = reasons.most_common(1)[0]
            if n >= rule.count:
                label = RETURN_REASON_LABELS[ReturnReason(reason)]
                return Hit(f"{span}因“{label}”被退回 {n} 条，达到 {rule.count} 条的预警条件",
                           {"reason": reason, "count": n, "minimum": rule.count, "months": months})
    return None


def evaluate(actor=None) -> list[CertWarning]:
    """Evaluate every active rule for every organisation with reports; raise what is new. The
    months judged are the last `months` months ending with the current one."""
    period = rates.current_month()
    data = rates.rows()
    by_org: dict[int, list[rates.Row]] = {}
    for r in data:
        by_org.setdefault(r.organisation_id, []).append(r)
    raised = []
    for rule in _stored_rules():
        if not rule.active:
            continue
        months = rates.months_back(period, rule.months)
        for org_id, org_rows in sorted(by_org.items()):
            hit = _judge(rule, org_rows, months)
            if hit is None or db.session.scalar(select(CertWarning.id).where(
                    CertWarning.rule_id == rule.id, CertWarning.organisation_id == org_id,
                    CertWarning.period == period)):
                continue
            org = db.session.get(Organisation, org_id)
            row = CertWarning(rule_id=rule.id, organisation_id=org_id, city_id=org.city_id, period=period,
                              message=hit.message, figures=hit.figures, raised_at=clock.now())
            db.session.add(row)
            db.session.flush()
            audit.record(AuditAction.CERT_WARNING_RAISED, obj=row, data={
                "rule": rule.kind, "period": period, "message": hit.message})
            raised.append(row)
    return raised


def visible_warnings(user, *, include_closed: bool = True) -> list[CertWarning]:
    stmt = select(CertWarning).order_by(CertWarning.raised_at.desc(), CertWarning.id.desc())
    if not user.has_role(Role.PROVINCIAL_ADMIN):
        if not user.has_role(Role.CITY_ADMIN):
            return []
        stmt = stmt.where(CertWarning.city_id == user.organisation.city_id)
    if not include_closed:
        stmt = stmt.where(CertWarning.status != WarningStatus.CLOSED.value)
    return list(db.session.scalars(stmt))


def warning_for(user, warning_id: int) -> CertWarning:
    row = db.session.get(CertWarning, warning_id)
    if row is None or not may_handle_warning(user, row.organisation):
        raise NotFound("未找到该预警")
    return row


def handle(actor, warning: CertWarning, step: str, note: str) -> CertWarning:
    """Acknowledge (知悉) or close (关闭, with a note) a warning. Raises PermissionDenied,
    ValidationError, Conflict (already closed)."""
    may_handle_warning(actor, warning.organisation).enforce()
    note = (note or "").strip()
    if warning.status == WarningStatus.CLOSED:
        raise Conflict("该预警已关闭")
    if step == "close" and not note:
        raise ValidationError("处理说明：关闭预警时请写明处理情况", field="note")
    if step == "acknowledge" and warning.status != WarningStatus.OPEN:
        raise Conflict("该预警已知悉")
    warning.status = WarningStatus.CLOSED.value if step == "close" else WarningStatus.ACKNOWLEDGED.value
    warning.handled_at, warning.handled_by_id, warning.note = clock.now(), actor.id, note
    db.session.flush()
    action = AuditAction.CERT_WARNING_CLOSED if step == "close" else AuditAction.CERT_WARNING_ACKNOWLEDGED
    audit.record(action, obj=warning, data={"note": note})
    return warning
