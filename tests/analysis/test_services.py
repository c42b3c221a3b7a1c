"""Statistics of a marked batch from the database, pooled per item version, flags sent to the
bank as fault reports (source "statistics"), each step in the process record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from examsys.analysis import services as stats
from examsys.analysis.flags import FlagKind
from examsys.audit.models import AuditEvent
from examsys.bank.models import FaultReport
from examsys.errors import NotFound, PermissionDenied, ValidationError
from examsys.permissions import Role
from tests.analysis.world import DEAD, WRONG_KEY, StatsWorld


@pytest.fixture
def world(make, db, frozen_clock):
    return StatsWorld(make, db)


def test_batch_statistics_per_form_with_flags(world):
    [report] = stats.batch_statistics(world.batch)
    assert report.form.label == "A" and report.stats.n == 80 and report.stats.k == 8
    rows = report.items
    wrong, dead = rows[WRONG_KEY], rows[DEAD]
    assert {f.kind for f in wrong.flags} >= {FlagKind.LIKELY_WRONG_KEY}
    assert wrong.r is not None and wrong.r < 0
    assert any(f.kind == FlagKind.DEAD_DISTRACTOR and f.evidence["option"] == "D" for f in dead.flags)
    assert dead.options["labels"] == ["A", "B", "C", "D"] and dead.options["all"][3] == 0
    # one point per item: the mean total is the sum of the facilities
    assert report.stats.mean == pytest.approx(sum(r.p for r in rows))


def test_no_statistics_before_marking(world):
    world.batch.state = world.batch.state.CLOSED
    with pytest.raises(NotFound):
        stats.batch_statistics(world.batch)


def test_pooled_statistics_of_an_item_version(world):
    version = world.items[3].active_version
    pooled = stats.version_statistics(version)
    [report] = stats.batch_statistics(world.batch)
    assert pooled["n"] == 80 and pooled["batches"] == 1
    assert pooled["p"] == pytest.approx(report.items[3].p)
    assert pooled["r"] == pytest.approx(report.items[3].r)


def test_flags_open_fault_reports_in_the_bank(world, db, make):
    fi = world.form.items[WRONG_KEY]
    opened = stats.report_flags(world.admin, world.batch, [(fi.id, "likely_wrong_key")])
    assert opened == 1
    [report] = db.session.scalars(select(FaultReport).where(FaultReport.item_id == world.items[WRONG_KEY].id)).all()
    assert report.source == "statistics" and "疑似答案错误" in report.reason and "B" in report.reason
    assert world.items[WRONG_KEY].needs_revision
    # the same flag again opens nothing new
    assert stats.report_flags(world.admin, world.batch, [(fi.id, "likely_wrong_key")]) == 0
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"item.fault_reported", "batch.statistics_flags_reported"} <= actions
    with pytest.raises(ValidationError):
        stats.report_flags(world.admin, world.batch, [])
    with pytest.raises(PermissionDenied):
        stats.report_flags(make.user(roles=Role.EXAM_ADMIN, org=make.org()), world.batch, [(fi.id, "too_easy")])


def test_irt_beside_the_classical_figures_when_data_suffice(make, db, frozen_clock):
    world = StatsWorld(make, db, n=stats.IRT_MIN_CANDIDATES)
    [report] = stats.batch_statistics(world.batch)
    assert report.has_irt
    wrong, good = report.items[WRONG_KEY], report.items[4]
    assert wrong.irt["a"] < 0 < good.irt["a"]
    assert good.irt["se_a"] > 0 and good.irt["se_b"] > 0


def test_no_irt_for_a_small_batch(world):
    [report] = stats.batch_statistics(world.batch)
    assert not report.has_irt and all(row.irt is None for row in report.items)


def test_pooled_irt_per_version(make, db, frozen_clock):
    """One batch, one form: the concurrent calibration is the form's own fit; 2PL only from
    IRT_MIN_CANDIDATES candidates, Rasch from POOLED_RASCH_MIN."""
    import numpy as np

    from examsys.analysis import irt

    world = StatsWorld(make, db, n=stats.IRT_MIN_CANDIDATES)
    [report] = stats.batch_statistics(world.batch)
    x = np.array([[0.0] * len(report.items)] * report.stats.n)
    # the form's score matrix, as the pooled fit sees it (blank = 0)
    scores = stats.db.session.execute(stats.select(stats.ItemScore.attempt_id, stats.ItemScore.form_item_id,
                                                   stats.ItemScore.final_score)
                                      .where(stats.ItemScore.batch_id == world.batch.id)).all()
    rows = {a: i for i, a in enumerate(sorted({s.attempt_id for s in scores}))}
    cols = {fi.id: j for j, fi in enumerate(sorted(world.form.items, key=lambda fi: fi.item_version_id))}
    for s in scores:
        x[rows[s.attempt_id], cols[s.form_item_id]] = s.final_score or 0.0
    version = world.items[4].active_version
    j = cols[world.form.items[4].id]
    pooled = stats.pooled_irt(version)
    assert pooled["n"] == stats.IRT_MIN_CANDIDATES and pooled["items"] == len(world.items)
    assert pooled["rasch"]["b"] == pytest.approx(irt.fit(x, model="rasch").b[j], abs=1e-6)
    two = irt.fit(x, model="2pl")
    assert pooled["2pl"]["a"] == pytest.approx(two.a[j], abs=1e-6) and pooled["2pl"]["se_b"] > 0
    small = StatsWorld(make, db, n=stats.POOLED_RASCH_MIN)
    p = stats.pooled_irt(small.items[4].active_version)
    assert p["rasch"] is not None and p["2pl"] is None
