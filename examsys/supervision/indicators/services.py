"""Scoring an organisation against the current indicator set: computed indicators from the data,
entered ones from the latest score given (with its evidence) in the context asked — the
authority's supervision or the organisation's own internal supervision. The total is the
weighted mean over the indicators that have a score, with the weight covered shown beside it.

`enter_score` raises PermissionDenied (not the province, the city or the organisation itself),
ValidationError (a computed indicator, a score outside 0–100, no evidence)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import AuditAction
from examsys.bank import assets
from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import may_score_indicators
from examsys.supervision.indicators import catalogue, compute
from examsys.supervision.indicators.models import IndicatorScore

CONTEXTS = {"authority": "督导评价", "self": "机构内部督导"}


@dataclass
class Row:
    indicator: catalogue.Indicator
    value: compute.Value | None
    score: float | None
    entered: IndicatorScore | None


@dataclass
class Scorecard:
    version: str
    year: int
    context: str
    rows: list[Row]

    @property
    def total(self) -> float | None:
        scored = [(r.indicator.weight, r.score) for r in self.rows if r.score is not None]
        weight = sum(w for w, _ in scored)
        return round(sum(w * s for w, s in scored) / weight, 1) if weight else None

    @property
    def weight_covered(self) -> int:
        return sum(r.indicator.weight for r in self.rows if r.score is not None)

    def by_dimension(self) -> list[tuple[str, list[Row]]]:
        return [(label, [r for r in self.rows if r.indicator.dimension == key])
                for key, label in catalogue.DIMENSIONS.items()]


def _latest(org_id: int, year: int, context: str) -> dict[str, IndicatorScore]:
    out: dict[str, IndicatorScore] = {}
    stmt = (select(IndicatorScore).where(IndicatorScore.organisation_id == org_id, IndicatorScore.year == year,
                                         IndicatorScore.context == context,
                                         IndicatorScore.set_version == catalogue.CURRENT)
            .order_by(IndicatorScore.at, IndicatorScore.id))
    for row in db.session.scalars(stmt):
        out[row.indicator] = row
    return out


def scorecard(org: Organisation, year: int, context: str = "authority") -> Scorecard:
    entered = _latest(org.id, year, context)
    rows = []
    for ind in catalogue.current().indicators:
        if ind.computed:
            value = compute.compute(ind.compute, org.id, year)
            rows.append(Row(ind, value, catalogue.score_of(ind, value.value), None))
        else:
            got = entered.get(ind.code)
            rows.append(Row(ind, None, got.score if got else None, got))
    return Scorecard(catalogue.CURRENT, year, context, rows)


def enter_score(user: User, org: Organisation, code: str, *, year: int, score: float, evidence: str,
                photos: list[tuple[str, bytes]] = ()) -> IndicatorScore:
    may_score_indicators(user, org).enforce()
    ind = catalogue.current().get(code)
    if ind is None or ind.computed:
        raise ValidationError("该指标由系统根据数据计算，不能手工录入", field="indicator")
    if not 0 <= score <= 100:
        raise ValidationError("评分须在 0～100 之间", field="score")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError("请填写评分依据", field="evidence")
    context = "self" if user.organisation_id == org.id else "authority"
    shas = [assets.store_image(user, user.organisation, n, d).sha256 for n, d in photos if d]
    row = IndicatorScore(organisation_id=org.id, set_version=catalogue.CURRENT, indicator=code, year=year,
                         context=context, score=float(score), evidence=evidence, photos=shas, by_id=user.id,
                         at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.INDICATOR_SCORE_ENTERED, obj=row, organisation_id=org.id,
                 data={"indicator": code, "year": year, "context": context, "score": row.score, "evidence": evidence})
    return row
