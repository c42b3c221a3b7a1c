"""Difficulty levels estimated from exam data, for assembly (a blueprint whose difficulty source is
"estimated"): per item version, the facility pooled over every marked batch that used it, mapped
onto the five declared levels. Imports only models, so assembly can use it without importing the
statistics services (which import delivery and assembly in turn)."""

from __future__ import annotations

from sqlalchemy import func, select

from examsys.delivery.models import Batch, BatchState, ItemScore
from examsys.extensions import db

STATS_STATES = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED, BatchState.ARCHIVED})
# Below this many candidates a pooled facility is too noisy to replace the declared level (the same
# floor the flags use).
ESTIMATE_MIN_CANDIDATES = 30
# Facility bands of the five declared difficulty levels (1 easiest … 5 hardest), so that the
# difficulty estimated from data can be shown beside, or used instead of, the declared one.
LEVEL_BANDS = ((0.8, 1), (0.6, 2), (0.4, 3), (0.2, 4))


def estimated_level(p: float) -> int:
    return next((level for floor, level in LEVEL_BANDS if p >= floor), 5)


def estimated_levels(version_ids: list[int], *, min_candidates: int = ESTIMATE_MIN_CANDIDATES) -> dict[int, int]:
    """version id → level estimated from its pooled facility (score over maximum, as marked), for
    the versions with at least `min_candidates` scores in marked batches. One query."""
    if not version_ids:
        return {}
    rows = db.session.execute(
        select(ItemScore.item_version_id, func.count(), func.avg(func.coalesce(ItemScore.final_score, 0.0)
                                                                 / ItemScore.max_points))
        .join(Batch, Batch.id == ItemScore.batch_id)
        .where(ItemScore.item_version_id.in_(version_ids), Batch.state.in_(STATS_STATES),
               ItemScore.max_points > 0)
        .group_by(ItemScore.item_version_id)).all()
    return {v: estimated_level(float(p)) for v, n, p in rows if n >= min_candidates}
