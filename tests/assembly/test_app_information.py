"""Matching test information at the pass mark in the app: the blueprint field (validation, the
editor's round trip), pooled 2PL estimates per item version feeding assembly, and the paper's
report saying how many chosen items had data."""

from __future__ import annotations

import math
import re

import pytest
from sqlalchemy import func, select

from examsys.analysis import estimates
from examsys.analysis import services as stats
from examsys.assembly import services
from examsys.assembly.models import PaperBlueprint
from examsys.permissions import Role
from tests.analysis.world import WRONG_KEY, StatsWorld
from tests.assembly.app_factories import blueprint_data, make_bank, make_item, make_standard
from tests.assembly.test_app_blueprints import _form

FALLBACK_B = {1: -2.0, 2: -1.0, 3: 0.0, 4: 1.0, 5: 2.0}


def test_validation_of_the_tolerance(db):
    standard = make_standard()
    one_form = services.validate_blueprint(blueprint_data(standard, forms=1, info_tolerance=10))
    assert any("至少需要 2 套试卷" in p for p in one_form)
    too_wide = services.validate_blueprint(blueprint_data(standard, info_tolerance=60))
    assert too_wide == ["测验信息量容差须大于 0 且不超过 50（%），不匹配请留空"]
    assert services.validate_blueprint(blueprint_data(standard, info_tolerance=10)) == []
    assert services.validate_blueprint(blueprint_data(standard, forms=1, info_tolerance=None)) == []
    per_candidate = services.validate_blueprint(blueprint_data(standard, info_tolerance=10, per_candidate=True,
                                                               max_shared_items=1))
    assert any("一人一卷" in p and "不能再按测验信息量匹配" in p for p in per_candidate)


def test_editor_round_trip_of_the_tolerance(client, login_as, db):
    user = login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    make_bank(user.organisation, standard, user)
    url = f"/assembly/blueprints/new?standard_id={standard.id}"
    refused = client.post(url, data=_form(blueprint_data(standard, forms=1), forms="1", info_tolerance="10"))
    assert refused.status_code == 422
    assert "至少需要 2 套试卷" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PaperBlueprint)) == 0
    resp = client.post(url, data=_form(blueprint_data(standard), info_tolerance="12.5"))
    assert resp.status_code == 302
    pb = db.session.scalars(select(PaperBlueprint)).one()
    assert pb.info_tolerance == 12.5
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="info_tolerance"[^>]*value="12.5"', html)
    assert "例如 10 表示 ±10%。" in html
    # Cleared again: off.
    client.post(resp.headers["Location"], data=_form(blueprint_data(standard), info_tolerance="",
                                                     version=str(pb.version)))
    db.session.refresh(pb)
    assert pb.info_tolerance is None


def _info(a: float, b: float, theta: float) -> float:
    p = 1 / (1 + math.exp(-a * (theta - b)))
    return a * a * p * (1 - p)


def test_assembly_uses_pooled_2pl_where_data_suffice(make, db, frozen_clock, client, login_as):
    world = StatsWorld(make, db, n=estimates.IRT_MIN_CANDIDATES)
    extra = [make_item(world.org, world.standard, world.admin, "A-01-001", "single", difficulty=1 + i % 5)
             for i in range(8)]
    versions = [it.active_version_id for it in world.items + extra]
    params = estimates.pooled_2pl(versions)
    # The world's items have data (but the wrongly keyed one's slope is negative: not a measurement).
    assert set(params) == {it.active_version_id for i, it in enumerate(world.items) if i != WRONG_KEY}
    reference = stats.pooled_irt(world.items[4].active_version)["2pl"]
    assert params[world.items[4].active_version_id] == pytest.approx((reference["a"], reference["b"]), abs=0.05)

    data = blueprint_data(world.standard, total_points=4.0, pass_mark=2.4, forms=2, info_tolerance=15,
                          sections=[{"type": "single", "count": 4, "points": 1.0}], content_rules=[],
                          difficulty_rules=[], importance_rules=[])
    pb = services.save_blueprint(world.admin, world.org, world.standard, data)
    paper = services.assemble(world.admin, pb, seed=3)
    assert paper.compliance["ok"] is True
    theta = paper.solve_stats["theta_cut"]
    by_item = {it.id: params.get(it.active_version_id) for it in world.items + extra}
    difficulty = {it.id: it.difficulty for it in world.items + extra}
    values = {}
    for form in paper.forms:
        values[form.label] = sum(_info(*(by_item[fi.item_id] or (1.0, FALLBACK_B[difficulty[fi.item_id]])), theta)
                                 for fi in form.items)
    mean = sum(values.values()) / 2
    assert all(abs(v - mean) <= 0.15 * mean + 1e-9 for v in values.values())
    assert paper.compliance["information"]["per_form"] == pytest.approx(values)
    chosen = [fi.item_id for form in paper.forms for fi in form.items]
    assert paper.solve_stats["irt_chosen_items"] == len(chosen) == 8
    assert paper.solve_stats["irt_items"] == sum(1 for i in chosen if by_item[i] is not None)
    assert paper.solve_stats["irt_bank_items"] == len(params)

    db.session.commit()
    login_as(Role.EXAM_ADMIN, org=world.org)
    html = client.get(f"/assembly/papers/{paper.id}").get_data(as_text=True)
    assert f"{paper.solve_stats['irt_items']} / 8 道入选试题使用考试数据估计的 2PL 参数" in html
    assert "合格线处的测验信息量" in html and "±15%" in html
