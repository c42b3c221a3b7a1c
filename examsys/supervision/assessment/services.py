"""Periodic assessment: the organisations whose filing expires in a window and the progress
toward all of them assessed; each one's dossier (the supervision file, scored against the
indicator set) plus the on-site, document and third-party entries; the decision, which changes
the directory (continue and widen/narrow renew the filing; exit withdraws it) as an audited
change with the decision's reasons, and freezes the dossier in the assessment.

Raises PermissionDenied (not the province), ValidationError (bad entry, no reasons, a scope
change without the new scope), Conflict (decided already)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import AuditAction
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_assess, oversees
from examsys.supervision import files
from examsys.supervision.assessment.models import DECISION_LABELS, METHOD_LABELS, Assessment, Decision, Method
from examsys.supervision.directory import services as directory
from examsys.supervision.directory.models import DirectoryEntry, DirectoryStatus

RENEWAL_YEARS = 3


@dataclass
class Due:
    entry: DirectoryEntry
    assessment: Assessment | None

    @property
    def decided(self) -> bool:
        return self.assessment is not None and self.assessment.decision is not None


def due(user: User | None, start: date, end: date) -> list[Due]:
    """Organisations in the directory (not withdrawn before the window) whose filing expires in
    [start, end], with their assessment of that expiry; a city administrator sees their city's."""
    rows = db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.expires_on >= start,
                                                           DirectoryEntry.expires_on <= end)
                              .order_by(DirectoryEntry.expires_on))
    out = []
    for entry in rows:
        if user is not None and not oversees(user, entry.organisation):
            continue
        found = db.session.scalar(select(Assessment).where(Assessment.organisation_id == entry.organisation_id,
                                                           Assessment.expires_on == entry.expires_on))
        # An entry withdrawn by an assessment stays listed; one withdrawn otherwise is not due.
        if found is None and entry.status == DirectoryStatus.WITHDRAWN:
            continue
        out.append(Due(entry, found))
    return out


def progress(rows: list[Due]) -> tuple[int, int]:
    return sum(1 for r in rows if r.decided), len(rows)


def assessment_of(org: Organisation) -> Assessment:
    """The open assessment of the organisation's current filing (made on first use, not recorded:
    an empty assessment changes nothing)."""
    entry = directory.entry_of(org.id)
    if entry is None:
        raise ValidationError(f"{org.name} 不在评价机构目录中")
    row = db.session.scalar(select(Assessment).where(Assessment.organisation_id == org.id,
                                                     Assessment.expires_on == entry.expires_on))
    if row is None:
        row = Assessment(organisation_id=org.id, expires_on=entry.expires_on, entries=[], created_at=clock.now())
        db.session.add(row)
        db.session.flush()
    return row


def add_entry(actor: User, row: Assessment, *, method: str, by: str, text: str, score: float | None) -> Assessment:
    """An on-site, document or third-party result. Raises PermissionDenied, Conflict (decided),
    ValidationError."""
    may_assess(actor).enforce()
    if row.decision:
        raise Conflict("该评估已作出结论")
    if method not in {m.value for m in Method}:
        raise ValidationError("请选择评估方式", field="method")
    if not (text or "").strip() or not (by or "").strip():
        raise ValidationError("请填写评估人和评估意见", field="text")
    if score is not None and not 0 <= score <= 100:
        raise ValidationError("评分须在 0～100 之间", field="score")
    row.entries = [*row.entries, {"method": method, "method_label": METHOD_LABELS[Method(method)], "by": by.strip(),
                                  "text": text.strip(), "score": score, "at": clock.now().isoformat(),
                                  "entered_by": actor.display_name}]
    db.session.flush()
    return row


def dossier(org: Organisation) -> dict:
    """The dossier's data, as frozen in the decision (plain values only)."""
    f = files.assemble(org)
    card = f.scorecards[-1]
    return {
        "organisation": {"code": org.code, "name": org.name, "kind": org.kind_label, "city": org.city.name},
        "entry": {"filing_no": f.entry.filing_no, "scope": f.entry.scope_label(),
                  "filed_on": f.entry.filed_on.isoformat(), "expires_on": f.entry.expires_on.isoformat(),
                  "status": f.entry.status_label} if f.entry else None,
        "indicators": {"version": card.version, "year": card.year, "total": card.total,
                       "weight_covered": card.weight_covered, "total_weight": card.total_weight,
                       "rows": [{"code": r.indicator.code, "dimension": r.indicator.dimension_label,
                                 "name": r.indicator.name, "weight": r.indicator.weight, "score": r.score,
                                 "computed": r.indicator.computed, "rule": r.indicator.rule,
                                 "value": r.value.label if r.value else None,
                                 "evidence": r.entered.evidence if r.entered else None,
                                 "scored_under": r.entered.set_version if r.entered else None} for r in card.rows]},
        "sampling": {"drawn": len(f.drawn), "checks": len(f.checks), "findings": f.findings["total"],
                     "closed": f.findings["closed"], "overdue": f.findings["overdue"],
                     "on_time": f.findings["on_time"].label},
        "satisfaction": f.satisfaction.label, "staff": f.staff, "item_flags": f.flags,
        "return_rate": f.return_rate.label if f.return_rate and f.return_rate.value is not None
        else "暂无证书数据上报记录",
    }


def decide(actor: User, row: Assessment, *, decision: str, reasons: str, scope: list[dict] | None = None,
           expires_on: date | None = None) -> Assessment:
    """The decision, applied to the directory. Raises PermissionDenied, Conflict (decided) or
    ValidationError."""
    may_assess(actor).enforce()
    if row.decision:
        raise Conflict("该评估已作出结论")
    if decision not in {d.value for d in Decision}:
        raise ValidationError("请选择评估结论", field="decision")
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError("请填写评估结论的理由", field="reasons")
    entry = db.session.scalar(select(DirectoryEntry).where(DirectoryEntry.organisation_id == row.organisation_id))
    label = DECISION_LABELS[Decision(decision)]
    why = f"定期评估结论：{label}。{reasons}"
    org = row.organisation
    row.dossier = dossier(org)
    row.score = row.dossier["indicators"]["total"]
    row.indicator_set = row.dossier["indicators"]["version"]
    if decision == Decision.EXIT:
        directory.change(actor, entry, reason=why, status=DirectoryStatus.WITHDRAWN.value)
    else:
        if decision in (Decision.WIDEN, Decision.NARROW) and not scope:
            raise ValidationError("扩大或缩小评价范围时请填写新的评价范围", field="scope")
        renewed = expires_on or date(entry.expires_on.year + RENEWAL_YEARS, entry.expires_on.month,
                                     min(entry.expires_on.day, 28))
        directory.change(actor, entry, reason=why, scope=scope if decision != Decision.CONTINUE else None,
                         expires_on=renewed, status=DirectoryStatus.ACTIVE.value)
    row.decision, row.reasons = decision, reasons
    row.decided_at, row.decided_by_id = clock.now(), actor.id
    db.session.flush()
    audit.record(AuditAction.ASSESSMENT_DECIDED, obj=row, organisation_id=row.organisation_id,
                 data={"decision": decision, "reasons": reasons, "score": row.score, "indicator_set": row.indicator_set,
                       "expires_on": row.expires_on.isoformat()})
    return row
