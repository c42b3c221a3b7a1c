"""Scoring an organisation against a version of the indicator system (the one in force unless
asked): computed indicators from the data with that version's rules, entered ones from the latest
score given under that version (with its evidence) in the context asked — the authority's
supervision or the organisation's own internal supervision. Scores keep the version they were
given under, so a year scored under an older version still shows against it. The total is the
weighted mean over the indicators that have a score, with the weight covered shown beside it.

`enter_score` raises PermissionDenied (not the province, the city or the organisation itself),
ValidationError (a computed indicator, a score outside 0–100, no evidence)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from examsys import audit, clock
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import AuditAction
from examsys.bank import assets
from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import may_score_indicators
from examsys.supervision.indicators import catalogue, compute, versions
from examsys.supervision.indicators.models import IndicatorScore

CONTEXTS = {"authority": "督导评价", "self": "机构内部督导"}


@dataclass
class Row:
    indicator: catalogue.Indicator
    value: compute.Value | None
    score: float | None
    entered: IndicatorScore | None

    @property
    def carried(self) -> bool:
        """An entered score given under an earlier version, for an indicator that version defined
        the same way (`_carried`)."""
        return self.entered is not None and self.entered.set_version != self.indicator_version

    indicator_version: str = ""


@dataclass
class Scorecard:
    version: str
    year: int
    context: str
    rows: list[Row]
    set: catalogue.IndicatorSet | None = None

    @property
    def total(self) -> float | None:
        scored = [(r.indicator.weight, r.score) for r in self.rows if r.score is not None]
        weight = sum(w for w, _ in scored)
        return round(sum(w * s for w, s in scored) / weight, 1) if weight else None

    @property
    def weight_covered(self) -> int:
        return sum(r.indicator.weight for r in self.rows if r.score is not None)

    @property
    def total_weight(self) -> int:
        return sum(r.indicator.weight for r in self.rows)

    def by_dimension(self) -> list[tuple[str, list[Row]]]:
        dims = self.set.dimensions if self.set else tuple(dict.fromkeys(
            (r.indicator.dimension, r.indicator.dimension_label) for r in self.rows))
        return [(label, [r for r in self.rows if r.indicator.dimension == key]) for key, label in dims]


def _latest(org_id: int, year: int, context: str, version: str) -> dict[str, IndicatorScore]:
    out: dict[str, IndicatorScore] = {}
    stmt = (select(IndicatorScore).where(IndicatorScore.organisation_id == org_id, IndicatorScore.year == year,
                                         IndicatorScore.context == context,
                                         IndicatorScore.set_version == version)
            .order_by(IndicatorScore.at, IndicatorScore.id))
    for row in db.session.scalars(stmt):
        out[row.indicator] = row
    return out


def scorecard(org: Organisation, year: int, context: str = "authority",
              indicator_set: catalogue.IndicatorSet | None = None) -> Scorecard:
    """The organisation's scorecard of `year` against `indicator_set` (the version in force if None)."""
    iset = indicator_set or versions.current()
    entered = _latest(org.id, year, context, iset.version)
    earlier = _carried(org.id, year, context, iset, set(entered))
    rows = []
    for ind in iset.indicators:
        if ind.computed:
            value = compute.compute(ind.compute, org.id, year)
            rows.append(Row(ind, value, catalogue.score_of(ind, value.value), None, iset.version))
        else:
            got = entered.get(ind.code) or earlier.get(ind.code)
            rows.append(Row(ind, None, got.score if got else None, got, iset.version))
    return Scorecard(iset.version, year, context, rows, iset)


def _same(a: catalogue.Indicator, b: catalogue.Indicator) -> bool:
    """The same indicator in two versions: what a supervisor scored against did not change (its
    weight may)."""
    return (a.name, a.rule, a.evidence, a.computed) == (b.name, b.rule, b.evidence, b.computed)


def _carried(org_id: int, year: int, context: str, iset: catalogue.IndicatorSet,
             scored: set[str]) -> dict[str, IndicatorScore]:
    """Entered scores of the year given under earlier versions, for the indicators of `iset` not
    scored under it whose definition the earlier version shares: a new version does not wipe the
    year's scores of the indicators it kept. The score keeps its own version (shown beside it)."""
    out: dict[str, IndicatorScore] = {}
    stmt = (select(IndicatorScore).where(IndicatorScore.organisation_id == org_id, IndicatorScore.year == year,
                                         IndicatorScore.context == context,
                                         IndicatorScore.set_version != iset.version)
            .order_by(IndicatorScore.at, IndicatorScore.id))
    sets: dict[str, catalogue.IndicatorSet | None] = {}
    for row in db.session.scalars(stmt):
        ind = iset.get(row.indicator)
        if ind is None or ind.computed or row.indicator in scored:
            continue
        if row.set_version not in sets:
            sets[row.set_version] = versions.by_label(row.set_version)
        old = sets[row.set_version].get(row.indicator) if sets[row.set_version] else None
        if old is not None and _same(old, ind):
            out[row.indicator] = row
    return out


def scored_versions(org: Organisation, year: int, context: str = "authority") -> list[str]:
    """The versions the organisation has scores under in `year`, oldest first."""
    return list(db.session.scalars(select(IndicatorScore.set_version).where(
        IndicatorScore.organisation_id == org.id, IndicatorScore.year == year, IndicatorScore.context == context)
        .group_by(IndicatorScore.set_version).order_by(func.min(IndicatorScore.at))))


def scorecards(org: Organisation, years: list[int], context: str = "authority") -> list[Scorecard]:
    """For each year, a scorecard per version the organisation was scored under, and for the
    current year one against the version in force; the last is the latest year's against the
    version in force (or the newest version scored that year)."""
    current = versions.current()
    now_year = clock.to_display(clock.now()).year
    out = []
    for year in sorted(years):
        labels = [v for v in scored_versions(org, year, context) if v != current.version]
        for label in labels:
            iset = versions.by_label(label)
            if iset is not None:
                out.append(scorecard(org, year, context, iset))
        if year == now_year or not labels:
            out.append(scorecard(org, year, context, current))
    return out


def enter_score(user: User, org: Organisation, code: str, *, year: int, score: float, evidence: str,
                photos: list[tuple[str, bytes]] = ()) -> IndicatorScore:
    may_score_indicators(user, org).enforce()
    iset = versions.current()
    ind = iset.get(code)
    if ind is None or ind.computed:
        raise ValidationError("该指标由系统根据数据计算，不能手工录入", field="indicator")
    if not 0 <= score <= 100:
        raise ValidationError("评分须在 0～100 之间", field="score")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError("请填写评分依据", field="evidence")
    context = "self" if user.organisation_id == org.id else "authority"
    shas = [assets.store_image(user, user.organisation, n, d).sha256 for n, d in photos if d]
    row = IndicatorScore(organisation_id=org.id, set_version=iset.version, indicator=code, year=year,
                         context=context, score=float(score), evidence=evidence, photos=shas, by_id=user.id,
                         at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.INDICATOR_SCORE_ENTERED, obj=row, organisation_id=org.id,
                 data={"indicator": code, "set_version": iset.version, "year": year, "context": context,
                       "score": row.score, "evidence": evidence})
    return row
