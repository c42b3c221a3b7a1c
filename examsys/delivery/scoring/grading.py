"""Scoring finished attempts: one ItemScore per item of the attempt's form.

Objective items are scored by the question-type registry (examsys.bank.qtypes) against the
effective version the candidate saw (pinned, or its replacement), with the paper's blueprint
snapshot deciding partial credit for multiple choice (少选得部分分，错选不得分). Open items wait
for marking (`marking`) under an anonymous marking code; an open item left blank
scores 0 at once and is not sent to markers.

Scoring is idempotent: an attempt already scored is left as it is (its scores are never
overwritten; corrections are ScoreCorrection rows)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from examsys.assembly.models import PaperForm
from examsys.assembly.queries import effective_versions
from examsys.audit import services as audit
from examsys.audit.actions import AuditAction
from examsys.bank import qtypes
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, ItemScore, Response
from examsys.delivery.scoring import marking
from examsys.errors import Conflict
from examsys.extensions import db

SCORABLE_STATES = frozenset({BatchState.CLOSED, BatchState.MARKED, BatchState.REVIEWED})


def is_blank(answer) -> bool:
    if answer is None:
        return True
    if isinstance(answer, str):
        return not answer.strip()
    if isinstance(answer, list | tuple):
        return all(is_blank(a) for a in answer)
    if isinstance(answer, dict):
        return all(is_blank(v) for v in answer.values())
    return False


def _new_marking_code() -> str:
    # Random, so neither the candidate nor the order of scoring can be read from it.
    while True:
        code = "M" + secrets.token_hex(4).upper()
        if db.session.scalar(select(func.count()).where(ItemScore.marking_code == code)) == 0:
            return code


def score_attempt(attempt: Attempt) -> list[ItemScore]:
    """Item scores of a finished attempt (created on the first call, returned as they are after).

    Raises Conflict while the attempt is still in progress."""
    existing = list(db.session.scalars(select(ItemScore).where(ItemScore.attempt_id == attempt.id)
                                       .order_by(ItemScore.section, ItemScore.id)))
    if existing:
        return existing
    if attempt.status == AttemptStatus.IN_PROGRESS:
        raise Conflict("考生仍在作答，不能评分")
    form = db.session.get(PaperForm, attempt.form_id)
    snapshot = form.paper.blueprint_snapshot or {}
    partial = bool(snapshot.get("partial_credit"))
    versions = effective_versions(form)
    answers = {r.form_item_id: r.answer for r in db.session.scalars(
        select(Response).where(Response.attempt_id == attempt.id))}
    scores = []
    auto_total = 0.0
    open_count = 0
    for fi in sorted(form.items, key=lambda f: (f.section, f.position)):
        version = versions[fi.id]
        answer = answers.get(fi.id)
        qt = qtypes.get(version.qtype)
        row = ItemScore(attempt_id=attempt.id, batch_id=attempt.batch_id, form_item_id=fi.id,
                        item_version_id=version.id, section=fi.section, max_points=float(fi.points))
        if qt.objective:
            points = qt.score(version.content, answer, float(fi.points), partial_credit=partial)
            row.auto_score = row.final_score = float(points or 0.0)
            auto_total += row.final_score
        elif is_blank(answer):
            row.final_score = 0.0  # nothing to mark
        else:
            row.needs_marking = True
            row.marking_code = _new_marking_code()
            open_count += 1
        db.session.add(row)
        scores.append(row)
    db.session.flush()
    audit.record(AuditAction.ATTEMPT_SCORED, obj=attempt,
                 data={"auto_total": round(auto_total, 2), "to_mark": open_count, "items": len(scores),
                       "partial_credit": partial})
    return scores


@dataclass
class BatchScoring:
    attempts: int
    newly_scored: int
    to_mark: int


def score_batch(batch: Batch) -> BatchScoring:
    """Score every finished attempt of a closed batch (idempotent); a batch with nothing left to
    mark moves on to MARKED.

    Raises Conflict when the batch is not closed yet or an attempt is still in progress."""
    if batch.state not in SCORABLE_STATES:
        raise Conflict(f"批次状态为“{batch.state_label}”，考试结束后才能评分")
    attempts = list(db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id)
                                       .order_by(Attempt.id)))
    if any(a.status == AttemptStatus.IN_PROGRESS for a in attempts):
        raise Conflict("仍有考生在作答（请先收卷），不能评分")
    scored = set(db.session.scalars(select(ItemScore.attempt_id).where(ItemScore.batch_id == batch.id)
                                    .distinct()))
    new = 0
    for attempt in attempts:
        if attempt.id not in scored:
            score_attempt(attempt)
            new += 1
    marking.complete_if_done(batch)
    return BatchScoring(len(attempts), new, marking.open_count(batch))
