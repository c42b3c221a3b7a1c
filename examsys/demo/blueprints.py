"""The demo paper blueprint: 电工 四级 theory paper, A/B forms, from the demo bank.

The usual format (判断 20 × 1, 单选 70 × 1, 多选 10 × 1 = 100 points) needs 140 distinct
single-choice items for two forms that share nothing; the demo bank has 129 approved at 四级,
so A and B may share at most 15 items (at least 11 must be shared; 15 leaves the solver room).
Content rules come from the standard's
四级 weights (top-level and second-level ranges, the rounding rule of ``assembly.prefill``);
difficulty bands follow the bank's 1:2:4:2:1-like spread; at least 70 items per form test
core (X) points. Previous papers are not excluded (the demo bank holds fewer than two papers'
worth of spare items), and there is no exposure cap, so the demo can be assembled repeatedly.
"""

from __future__ import annotations

from sqlalchemy import select

from examsys.assembly import prefill, services
from examsys.assembly.models import PaperBlueprint

NAME = "电工四级理论知识考试细目表"
LEVEL = 4
MAX_SHARED = 15
SECTIONS = [{"type": "judge", "count": 20, "points": 1.0},
            {"type": "single", "count": 70, "points": 1.0},
            {"type": "multi", "count": 10, "points": 1.0}]
DIFFICULTY = [{"level": 1, "min": 5, "max": 15}, {"level": 2, "min": 20, "max": 40},
              {"level": 3, "min": 30, "max": 50}, {"level": 4, "min": 10, "max": 25},
              {"level": 5, "min": 0, "max": 5}]


def demo_blueprint_data(ranges: list[prefill.RangeWeight], standard_id: int) -> dict:
    """The demo blueprint's data (``services.snapshot`` shape) for a standard's ranges."""
    return {
        "standard_id": standard_id, "name": NAME, "level": LEVEL, "duration_minutes": 90,
        "total_points": 100.0, "pass_mark": 60.0, "forms": 2, "max_shared_items": MAX_SHARED,
        "sections": [dict(s) for s in SECTIONS],
        "content_rules": prefill.content_rules(ranges, SECTIONS, depths=(1, 2)),
        "difficulty_rules": [dict(d) for d in DIFFICULTY],
        "importance_rules": [{"importance": "X", "min": 70}],
        "exclude_recent_papers": 0, "max_exposure": None, "partial_credit": True,
    }


def load_demo_blueprint(org, standard, user) -> PaperBlueprint:
    """Create the demo blueprint for `org` once; later calls return the existing one.
    Raises ValidationError if the standard lacks 四级 (see services.save_blueprint)."""
    existing = services.db.session.scalar(select(PaperBlueprint).where(
        PaperBlueprint.organisation_id == org.id, PaperBlueprint.standard_id == standard.id,
        PaperBlueprint.name == NAME))
    if existing is not None:
        return existing
    data = demo_blueprint_data(prefill.range_weights(standard, LEVEL), standard.id)
    return services.save_blueprint(user, org, standard, data)
