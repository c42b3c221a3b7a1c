"""A blueprint chooses where assembly takes difficulty from: the declared level, or the level
estimated from the pooled exam statistics (where at least ESTIMATE_MIN_CANDIDATES candidates
answered). Assembly counts the difficulty rules at the chosen levels, and the paper says which."""

from __future__ import annotations

import pytest

from examsys.analysis import estimates
from examsys.analysis import services as stats
from examsys.assembly import services as assembly
from examsys.assembly.models import PaperBlueprint
from tests.analysis.world import K, StatsWorld


@pytest.fixture
def world(make, db, frozen_clock):
    return StatsWorld(make, db)  # 8 single-choice items, all declared level 3, facility from 0.8 down to 0.2


def _data(world, **over) -> dict:
    data = {"standard_id": world.standard.id, "name": "按数据难度组卷", "level": 4, "duration_minutes": 60,
            "total_points": 4.0, "pass_mark": 2.0, "forms": 1, "max_shared_items": 0,
            "sections": [{"type": "single", "count": 4, "points": 1.0}], "content_rules": [],
            # no item of level 3: every item is declared 3, so only the estimated levels can meet it
            "difficulty_rules": [{"level": 3, "min": 0, "max": 0}], "importance_rules": [],
            "exclude_recent_papers": 0, "max_exposure": None, "partial_credit": False}
    return data | over


def test_estimated_levels_follow_the_pooled_facility(world):
    versions = [it.active_version_id for it in world.items]
    levels = estimates.estimated_levels(versions)
    assert set(levels) == set(versions)
    for it in world.items:
        pooled = stats.version_statistics(it.active_version)
        assert levels[it.active_version_id] == estimates.estimated_level(pooled["p"])
    assert len(set(levels.values())) > 1  # the facilities spread over several levels
    assert estimates.estimated_levels(versions, min_candidates=81) == {}  # 80 candidates: not enough


def test_assembly_uses_the_chosen_source(world, db):
    declared = assembly.bank_for(_data(world), world.org.id)
    assert {it.difficulty for it in declared.items} == {3} and declared.estimated == {}
    estimated = assembly.bank_for(_data(world, difficulty_source="estimated"), world.org.id)
    assert len(estimated.estimated) == K
    assert [it.difficulty for it in estimated.items] == [estimated.estimated[it.id] for it in estimated.items]

    pb = assembly.save_blueprint(world.admin, world.org, world.standard, _data(world))
    assert pb.difficulty_source == "declared"
    with pytest.raises(assembly.Infeasible):
        assembly.assemble(world.admin, pb, seed=1)
    pb = assembly.save_blueprint(world.admin, world.org, world.standard, _data(world, difficulty_source="estimated"),
                                 pb)
    paper = assembly.assemble(world.admin, pb, seed=1)
    chosen = [fi.item_id for fi in paper.forms[0].items]
    assert all(estimated.estimated[i] != 3 for i in chosen)
    assert paper.blueprint_snapshot["difficulty_source"] == "estimated"
    assert paper.solve_stats["difficulty_source"] == "estimated" and paper.solve_stats["estimated_items"] == 4
    assert paper.compliance["ok"]


def test_an_unknown_source_is_refused(world):
    assert any("难度来源" in p for p in assembly.validate_blueprint(_data(world, difficulty_source="guess")))


def test_editor_and_paper_show_the_source(world, client, db):
    from tests.analysis.test_views import login

    login(client, world.admin)
    page = client.get(f"/assembly/blueprints/new?standard_id={world.standard.id}")
    assert "难度来源" in page.text and "据考试数据估计" in page.text
    pb = assembly.save_blueprint(world.admin, world.org, world.standard, _data(world, difficulty_source="estimated"))
    paper = assembly.assemble(world.admin, pb, seed=2)
    db.session.commit()
    html = client.get(f"/assembly/blueprints/{pb.id}").text
    assert "<option selected value=\"estimated\">" in html
    html = client.get(f"/assembly/papers/{paper.id}").text
    assert "难度来源" in html and "4 / 4 道入选试题使用估计难度" in html
    assert db.session.get(PaperBlueprint, pb.id).difficulty_source == "estimated"


def test_a_replacement_is_rechecked_at_the_levels_the_blueprint_counts(world, db):
    """After a replacement the compliance report is recomputed; with an estimated difficulty source
    it counts the levels assembly used (and today's estimate for the item put in), not the declared
    ones (every item here is declared 3, which the blueprint forbids)."""
    from examsys.assembly.queries import effective_compliance

    estimated = assembly.bank_for(_data(world, difficulty_source="estimated"), world.org.id).estimated
    pb = assembly.save_blueprint(world.admin, world.org, world.standard, _data(world, difficulty_source="estimated"))
    paper = assembly.assemble(world.admin, pb, seed=1)
    assembly.freeze(world.admin, paper)
    chosen = {fi.item_id for fi in paper.forms[0].items}
    spare = next(it for it in world.items if it.id not in chosen and estimated[it.id] != 3)
    assembly.replace_item(world.admin, paper, paper.forms[0].items[0], spare.active_version, reason="题干有误")
    db.session.flush()
    report = effective_compliance(paper)
    assert report is not None and report["ok"], report
