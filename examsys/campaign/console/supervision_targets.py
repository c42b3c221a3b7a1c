"""The campaign targets that supervision's records already hold, each computed from rows that
`rows(key, year, scope)` lists for its drill-down (a row's `hit` says whether it counts toward
the value):

- filing_expired_assessed: organisations whose filing (备案) expires in the year, with a decided
  periodic assessment of that expiry (supervision.assessment), goal 100 %.
- sampling_social / sampling_employer: the year's filed batches of social training evaluation
  organisations / employers drawn by a 双随机 draw of the year's plan, goal 50 % / 10 %.
- online_theory: social organisations with batches in the year whose every batch was sat online
  (a paper of examsys assigned, supervision's online_theory indicator at 100 %), goal 100 %.

certified_staff is the workforce's (examsys.campaign.workforce.services.targets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from examsys.accounts.models import Organisation, OrgKind
from examsys.campaign.targets import Scope, Target, share
from examsys.campaign.workforce.services import organisations
from examsys.extensions import db
from examsys.supervision.assessment import services as assessment
from examsys.supervision.assessment.models import Assessment
from examsys.supervision.indicators import compute
from examsys.supervision.plans import services as plans
from examsys.supervision.plans.models import SupervisionPlan

GOALS = {"filing_expired_assessed": 1.0, "sampling_social": 0.5, "sampling_employer": 0.1, "online_theory": 1.0}
LABELS = {"filing_expired_assessed": "备案到期机构评估全覆盖", "sampling_social": "社会培训评价组织批次抽查比例",
          "sampling_employer": "用人单位批次抽查比例", "online_theory": "社会培训评价组织理论考试全部线上"}


@dataclass
class Row:
    organisation: Organisation
    hit: bool
    subject: str  # what the row is: a batch, a filing, the organisation itself
    detail: str


def _in_scope(org: Organisation, scope: Scope) -> bool:
    if scope.organisation_id is not None:
        return org.id == scope.organisation_id
    return scope.city_id is None or org.city_id == scope.city_id


def _filing_rows(year: int, scope: Scope) -> list[Row]:
    """A filing expiring in the year, counted once per (organisation, expiry): those still due
    (supervision.assessment.due) and those assessed already, whose renewal has moved the
    directory's expiry out of the year (the assessment keeps the expiry it assessed)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    found: dict[tuple[int, date], Row] = {}
    for a in db.session.scalars(select(Assessment).where(Assessment.expires_on >= start,
                                                         Assessment.expires_on <= end)):
        found[(a.organisation_id, a.expires_on)] = Row(a.organisation, a.decision is not None,
                                                       f"备案 {a.expires_on.isoformat()} 到期", a.decision_label)
    for due in assessment.due(None, start, end):
        key = (due.entry.organisation_id, due.entry.expires_on)
        if key not in found:
            found[key] = Row(due.entry.organisation, due.decided,
                             f"备案 {due.entry.filing_no}，{due.entry.expires_on.isoformat()} 到期",
                             due.assessment.decision_label if due.assessment is not None else "待评估")
    return [r for r in sorted(found.values(), key=lambda r: r.organisation.code)
            if r.organisation.kind != OrgKind.AUTHORITY and _in_scope(r.organisation, scope)]


def _sampling_rows(year: int, scope: Scope, kind: OrgKind) -> list[Row]:
    drawn: set[str] = set()
    for plan in db.session.scalars(select(SupervisionPlan).where(SupervisionPlan.year == year)):
        drawn |= plans.drawn_ids(plan)
    orgs = {o.id: o for o in organisations(scope) if o.kind == kind}
    return [Row(orgs[b.organisation_id], str(b.id) in drawn, b.name, "已抽取" if str(b.id) in drawn else "未抽取")
            for b in plans.year_batches(year) if b.organisation_id in orgs]


def _online_rows(year: int, scope: Scope) -> list[Row]:
    out = []
    for org in organisations(scope):
        if org.kind != OrgKind.SOCIAL:
            continue
        v = compute.online_theory(org.id, year)
        if v.denominator:
            out.append(Row(org, v.numerator == v.denominator, org.name, f"线上 {v.numerator}/{v.denominator} 批"))
    return out


def rows(key: str, year: int, scope: Scope) -> list[Row]:
    if key == "filing_expired_assessed":
        return _filing_rows(year, scope)
    if key == "sampling_social":
        return _sampling_rows(year, scope, OrgKind.SOCIAL)
    if key == "sampling_employer":
        return _sampling_rows(year, scope, OrgKind.EMPLOYER)
    if key == "online_theory":
        return _online_rows(year, scope)
    raise KeyError(key)


def targets(year: int, scope: Scope) -> list[Target]:
    out = []
    for key, goal in GOALS.items():
        found: list[Any] = rows(key, year, scope)
        out.append(share(key, LABELS[key], goal, sum(r.hit for r in found), len(found),
                         endpoint="console.drill"))
    return out
