"""Difficulty levels estimated from exam data, for assembly (a blueprint whose difficulty source is
"estimated"): per item version, the facility pooled over every marked batch that used it, mapped
onto the five declared levels; and 2PL parameters per item version for matching the forms' test
information at the pass mark (``pooled_2pl``). Imports only models and the IRT estimator, so
assembly can use it without importing the statistics services (which import delivery and assembly in turn)."""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import func, select

from examsys.analysis import irt
from examsys.delivery.models import Batch, BatchState, CorrectionStatus, ItemScore, ScoreCorrection
from examsys.extensions import db

STATS_STATES = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED, BatchState.ARCHIVED})
# Below this many candidates a pooled facility is too noisy to replace the declared level (the same
# floor the flags use).
ESTIMATE_MIN_CANDIDATES = 30
# IRT only when data suffice: below this many candidates 2PL slopes are mostly noise.
IRT_MIN_CANDIDATES = 200
# One concurrent calibration per assembly; the most recent attempts only, so that it takes a couple
# of seconds at most (a 2PL fit grows with candidates × items).
CALIBRATION_MAX_ATTEMPTS = 3000
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


def response_matrix(attempt_ids: list[int]) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """The pooled responses of these attempts for a concurrent calibration: scores as the share of
    each item's maximum with approved corrections applied (rows: attempts in id order), which
    cells were shown, and version id → column. Two queries."""
    corrected = dict(db.session.execute(
        select(ScoreCorrection.item_score_id, ScoreCorrection.corrected_score)
        .where(ScoreCorrection.status == CorrectionStatus.APPROVED, ScoreCorrection.item_score_id.is_not(None),
               ScoreCorrection.attempt_id.in_(attempt_ids))
        .order_by(ScoreCorrection.decided_at, ScoreCorrection.id)).all())
    rows = db.session.execute(
        select(ItemScore.attempt_id, ItemScore.item_version_id, ItemScore.final_score, ItemScore.max_points,
               ItemScore.id).where(ItemScore.attempt_id.in_(attempt_ids))).all()
    row_of = {a: i for i, a in enumerate(sorted(attempt_ids))}
    col_of = {v: j for j, v in enumerate(sorted({r.item_version_id for r in rows}))}
    x = np.zeros((len(row_of), len(col_of)))
    shown = np.zeros(x.shape, dtype=bool)
    for r in rows:
        i, j = row_of[r.attempt_id], col_of[r.item_version_id]
        score = corrected.get(r.id, r.final_score or 0.0)
        x[i, j] = score / r.max_points if r.max_points else 0.0
        shown[i, j] = True
    return x, shown, col_of


def pooled_2pl(version_ids: list[int], *, min_candidates: int = IRT_MIN_CANDIDATES,
               max_attempts: int = CALIBRATION_MAX_ATTEMPTS) -> dict[int, tuple[float, float]]:
    """version id → (a, b): 2PL estimates from one concurrent calibration (θ ~ N(0, 1)) of the
    latest `max_attempts` attempts in marked batches that sat any of these versions, with every
    item those candidates sat (an item a candidate was not shown carries no information). Scores
    enter as the share of the item's maximum, with approved corrections applied. Only versions
    with at least `min_candidates` candidates in the calibration and a positive, finite slope are
    returned (a negative slope means a faulty key, not a measurement). One fit, a few queries."""
    if not version_ids:
        return {}
    counts = db.session.execute(
        select(ItemScore.item_version_id, func.count(func.distinct(ItemScore.attempt_id)))
        .join(Batch, Batch.id == ItemScore.batch_id)
        .where(ItemScore.item_version_id.in_(version_ids), Batch.state.in_(STATS_STATES))
        .group_by(ItemScore.item_version_id)).all()
    wanted = [v for v, n in counts if n >= min_candidates]
    if not wanted:
        return {}
    attempt_ids = list(db.session.scalars(
        select(ItemScore.attempt_id).join(Batch, Batch.id == ItemScore.batch_id)
        .where(ItemScore.item_version_id.in_(wanted), Batch.state.in_(STATS_STATES))
        .group_by(ItemScore.attempt_id).order_by(ItemScore.attempt_id.desc()).limit(max_attempts)))
    x, shown, col_of = response_matrix(attempt_ids)
    try:
        fitted = irt.fit(x, model="2pl", presented=shown, tol=1e-3)
    except ValueError:
        return {}
    seen = shown.sum(axis=0)
    out: dict[int, tuple[float, float]] = {}
    for v in wanted:
        j = col_of.get(v)
        if j is None or seen[j] < min_candidates:
            continue
        a, b = float(fitted.a[j]), float(fitted.b[j])
        if math.isfinite(a) and math.isfinite(b) and a > 0:
            out[v] = (round(a, 4), round(b, 4))
    return out
