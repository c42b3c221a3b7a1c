"""双随机 in the app: a yearly plan, a seed committed (only its SHA-256 shown) then revealed with
the draw; the draw meets the rates per kind, assigns supervisors automatically (never a
conflicted one), can be repeated offline from the published input; a rolling draw after more
batches are filed keeps the rates; the plan page is published to every signed-in user."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from examsys.delivery.models import BatchState
from examsys.errors import Conflict, PermissionDenied
from examsys.permissions import Role
from examsys.supervision import draw
from examsys.supervision import services as supervision
from examsys.supervision.plans import services as plans


def _met(coverage):
    return all(row["met"] for row in coverage["kinds"].values())


def test_commit_draw_assign_and_repeat(province, db):
    plan = plans.create_plan(province.admin, 2026)
    d = plans.commit_seed(province.admin, plan)
    assert d.revealed_seed is None and d.seed_sha256 == hashlib.sha256(bytes.fromhex(d.seed_hex)).hexdigest()
    with pytest.raises(Conflict):
        plans.commit_seed(province.admin, plan)  # one waiting draw at a time
    result = plans.perform_draw(province.admin, d)
    assert d.revealed_seed == d.seed_hex
    assert _met(result["coverage"]) and _met(plans.live_coverage(plan))
    assert draw.run(d.inputs, d.seed_hex)["picks"] == [{k: v for k, v in p.items() if k != "assignment_refused"}
                                                      for p in result["picks"]]
    conflicted = province.supervisors[0]
    for pick in result["picks"]:
        batch = next(b for b in province.batches if str(b.id) == pick["batch"])
        running = supervision.running_assignments(batch)
        assert [a.supervisor_id for a in running] == [int(pick["supervisor"])]
        if batch.organisation_id == province.orgs[0].id:
            assert running[0].supervisor_id != conflicted.id


def test_rolling_draw_keeps_the_rates(province, db):
    plan = plans.create_plan(province.admin, 2026)
    plans.perform_draw(province.admin, plans.commit_seed(province.admin, plan))
    later = datetime(2026, 11, 28, 1, tzinfo=UTC)  # filed a week before: before "now"
    for org in province.orgs[:2]:
        province.add_batches(org, 4, later, state=BatchState.FILED)
    assert not _met(plans.live_coverage(plan))  # the new batches lower the share
    second = plans.commit_seed(province.admin, plan)
    result = plans.perform_draw(province.admin, second)
    assert _met(result["coverage"]) and _met(plans.live_coverage(plan))
    first_picks = {p["batch"] for p in plan.draws[0].result["picks"]}
    assert not first_picks & {p["batch"] for p in result["picks"]}


def test_only_the_province_runs_plans(province):
    with pytest.raises(PermissionDenied):
        plans.create_plan(province.city_admin, 2026)


def test_plan_page_is_published_and_hides_the_seed_until_the_draw(province, db, login_as, client):
    plan = plans.create_plan(province.admin, 2026)
    d = plans.commit_seed(province.admin, plan)
    db.session.commit()
    login_as(Role.WRITER)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert d.seed_sha256 in page and d.seed_hex not in page
    assert client.get(f"/plans/{plan.id}/draws/1/plan.json").status_code == 404
    assert client.post(f"/plans/{plan.id}/draws/1/perform").status_code == 403
    plans.perform_draw(province.admin, d)
    db.session.commit()
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert d.seed_hex in page and "达标" in page
    assert client.get(f"/plans/{plan.id}/draws/1/plan.json").get_json()["year"] == 2026
