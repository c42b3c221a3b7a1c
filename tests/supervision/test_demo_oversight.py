"""The supervision demo: two cities, six organisations of both kinds in the directory, at least
twenty 2026 batches, the 2026 plan whose draws meet both rates with seeds revealed, two spot
checks (one finding closed, one overdue) and one organisation due for assessment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from examsys import clock
from examsys.accounts.models import City, Organisation, OrgKind
from examsys.delivery.models import Batch
from examsys.demo.loader import load_demo
from examsys.supervision import draw
from examsys.supervision.assessment import services as assessment
from examsys.supervision.checks import services as checks
from examsys.supervision.checks.models import SpotFinding
from examsys.supervision.plans import services as plans


def test_the_demo_shows_supervision(db, frozen_clock):
    load_demo()
    db.session.commit()
    cities = {c.code for c in db.session.scalars(select(City))}
    assert {"C-DONG", "C-XI"} <= cities
    kinds = [o.kind for o in db.session.scalars(select(Organisation)) if o.kind != OrgKind.AUTHORITY]
    assert kinds.count(OrgKind.SOCIAL) >= 3 and kinds.count(OrgKind.EMPLOYER) >= 3
    assert db.session.scalar(select(func.count()).select_from(Batch)) >= 20
    plan = plans.plans()[0]
    assert plan.year == 2026 and all(d.performed for d in plan.draws) and len(plan.draws) == 2
    for d in plan.draws:
        assert all(row["met"] for row in d.result["coverage"]["kinds"].values())
        assert draw.commitment(d.seed_hex) == d.seed_sha256
        assert draw.run(d.inputs, d.seed_hex)["picks"] == d.result["picks"]
    assert all(row["met"] for row in plans.live_coverage(plan)["kinds"].values())
    statuses = sorted(f.status for f in db.session.scalars(select(SpotFinding)))
    assert statuses == ["closed", "open"]
    assert len(checks.overdue(None)) == 1
    today = clock.to_display(clock.now()).date()
    due = assessment.due(None, today, today + timedelta(days=180))
    assert len(due) == 1 and due[0].assessment is not None and due[0].assessment.entries
