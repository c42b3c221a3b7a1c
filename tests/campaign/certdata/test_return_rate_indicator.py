"""The return rate (退回率) as indicator R3 of the supervision indicator system: records reported
in the year that were returned, a record returned twice counting once, scored lower-is-better, in
the scorecard and the periodic-assessment dossier."""

from __future__ import annotations

from examsys.campaign.certdata import services as svc
from examsys.supervision.assessment import services as assessment
from examsys.supervision.indicators import catalogue, compute, versions
from examsys.supervision.indicators import services as indicators
from tests.campaign.certdata.test_returns_and_rates import NOV, OCT, reported


def test_return_rate_is_computed_scored_and_in_the_dossier(world, db):
    org, other = world.p.orgs[0], world.p.orgs[1]
    assert compute.return_rate(org.id, 2026).value is None  # nothing reported: no data, no score
    first = reported(world, org, OCT, 4)
    second = reported(world, org, NOV, 4)
    reported(world, other, NOV, 2)
    svc.enter_returns(world.p.city_admin, first, [first.records[0].id], "photo", "照片模糊")
    value = compute.return_rate(org.id, 2026)
    assert (value.numerator, value.denominator, value.value) == (1, 8, 0.125)
    r3 = versions.current().get("R3")
    assert catalogue.score_of(r3, value.value) == 50.0  # halfway between 5 % (full) and 20 % (zero)
    row = {r.indicator.code: r for r in indicators.scorecard(org, 2026).rows}["R3"]
    assert row.score == 50.0 and row.value.label == "1/8（12%）"
    # A return in the later report counts too; another organisation's reports do not.
    svc.enter_returns(world.p.admin, second, [second.records[1].id], "name", "")
    assert compute.return_rate(org.id, 2026).numerator == 2
    assert compute.return_rate(other.id, 2026).numerator == 0
    dossier = assessment.dossier(org)
    assert dossier["return_rate"] == "2/8（25%）"
    assert {r["code"]: r["score"] for r in dossier["indicators"]["rows"]}["R3"] == 0.0
