"""Marking of open items (主观题阅卷): two independent marks by two different markers, a third
marker's arbitration when they differ by more than the margin, every mark audited.

Anonymity: the queue and the form carry only the item, the answer and a random marking code —
never the candidate's name, ticket number, seat or attempt. Marks' audit events name the marking
code, not the candidate.

Margin: two marks differing by more than `EXAMSYS_MARK_MARGIN` × the item's points (default
0.2, i.e. 20 %) go to arbitration. It is one setting for the installation (config), not per
batch: the batch table has no column for it yet.

Final score: the mean of the two marks (rounded half-up to 0.01) when within the margin, else the
arbitration mark. A batch moves to MARKED once every item score of it is final, and
`marking_completed` is sent.

Who marks: examsys.permissions.may_mark (MARK in the batch's organisation; when the batch lists
markers, only they) and may_mark_item (never the same item twice)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from examsys import signals
from examsys.audit import services as audit
from examsys.audit.actions import AuditAction
from examsys.bank.models import ItemVersion
from examsys.bank.qtypes import LABELS as QTYPE_LABELS
from examsys.delivery.batches.services import transition
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    BatchState,
    ItemScore,
    Mark,
    Response,
)
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_mark, may_mark_item

DEFAULT_MARGIN = 0.2


def round2(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def margin_fraction() -> float:
    try:
        return current_app.config["EXAMSYS_MARK_MARGIN"]  # parsed and checked by examsys.config
    except RuntimeError:
        return DEFAULT_MARGIN


def margin_for(item_score: ItemScore) -> float:
    return round2(item_score.max_points * margin_fraction())


def needs_arbitration(item_score: ItemScore) -> bool:
    marks = {m.round: m for m in item_score.marks}
    if 1 not in marks or 2 not in marks or 3 in marks:
        return False
    return abs(marks[1].score - marks[2].score) > margin_for(item_score) + 1e-9


@dataclass
class Task:
    """One open item of one attempt as a marker sees it: no candidate data at all."""

    item_score_id: int
    marking_code: str
    qtype: str
    qtype_label: str
    stem: str
    reference_answer: str
    scoring_points: list
    answer: object
    max_points: float
    round: int  # the round this marker would mark
    other_marks: list  # for arbitration only: the two earlier marks (scores, no names)


def _open_scores(batch: Batch):
    return (select(ItemScore).where(ItemScore.batch_id == batch.id, ItemScore.needs_marking.is_(True),
                                    ItemScore.final_score.is_(None))
            .options(selectinload(ItemScore.marks)).order_by(ItemScore.form_item_id, ItemScore.marking_code))


def _task(item_score: ItemScore, round_: int, version: ItemVersion, answer) -> Task:
    content = version.content or {}
    others = [{"round": m.round, "score": m.score, "comment": m.comment}
              for m in item_score.marks] if round_ == 3 else []
    return Task(item_score.id, item_score.marking_code or "", version.qtype.value,
                QTYPE_LABELS.get(version.qtype.value, version.qtype.value), content.get("stem", ""),
                content.get("reference_answer", ""), content.get("scoring_points") or [], answer,
                item_score.max_points, round_, others)


def _tasks(rows: list[tuple[ItemScore, int]]) -> list[Task]:
    if not rows:
        return []
    versions = {v.id: v for v in db.session.scalars(select(ItemVersion).where(
        ItemVersion.id.in_({s.item_version_id for s, _ in rows})))}
    answers = {(r.attempt_id, r.form_item_id): r.answer for r in db.session.scalars(
        select(Response).where(Response.attempt_id.in_({s.attempt_id for s, _ in rows})))}
    return [_task(s, rnd, versions[s.item_version_id], answers.get((s.attempt_id, s.form_item_id)))
            for s, rnd in rows]


def queue(batch: Batch, marker) -> list[Task]:
    """Open items this marker may still give a first or second mark to."""
    rows = []
    for s in db.session.scalars(_open_scores(batch)):
        if len(s.marks) < 2 and all(m.marker_id != marker.id for m in s.marks):
            rows.append((s, len(s.marks) + 1))
    return _tasks(rows)


def arbitration_queue(batch: Batch, marker) -> list[Task]:
    """Items whose two marks differ by more than the margin, for a marker who gave neither."""
    rows = [(s, 3) for s in db.session.scalars(_open_scores(batch))
            if needs_arbitration(s) and all(m.marker_id != marker.id for m in s.marks)]
    return _tasks(rows)


def task_for(item_score: ItemScore, marker) -> Task:
    """The marking form's data for this marker; raises Conflict when there is nothing to mark."""
    round_ = _next_round(item_score, marker)
    version = db.session.get(ItemVersion, item_score.item_version_id)
    answer = db.session.scalar(select(Response.answer).where(Response.attempt_id == item_score.attempt_id,
                                                             Response.form_item_id == item_score.form_item_id))
    return _task(item_score, round_, version, answer)


def _next_round(item_score: ItemScore, marker) -> int:
    if not item_score.needs_marking or item_score.final_score is not None:
        raise Conflict("该题已评定，无需再评")
    may_mark_item(marker, item_score).enforce()
    if len(item_score.marks) < 2:
        return len(item_score.marks) + 1
    if needs_arbitration(item_score):
        return 3
    raise Conflict("该题已有两次评分，正在等待结果")


def record_mark(marker, item_score: ItemScore, score: float, comment: str = "") -> Mark:
    """Give a mark (round 1, 2, or 3 = arbitration) and settle the final score when possible.

    Raises PermissionDenied (not a marker of this batch; marked this item already), Conflict
    (batch not in marking; item settled; round taken by someone else meanwhile) and
    ValidationError (score outside 0..points)."""
    batch = item_score.attempt.batch
    may_mark(marker, batch).enforce()
    if batch.state != BatchState.CLOSED:
        raise Conflict(f"批次状态为“{batch.state_label}”，不在阅卷阶段")
    try:
        score = float(score)
    except (TypeError, ValueError):
        raise ValidationError("分数必须是数字", field="score") from None
    if not 0 <= score <= item_score.max_points or score != score:
        raise ValidationError(f"分数应在 0 到 {item_score.max_points:g} 之间", field="score")
    round_ = _next_round(item_score, marker)
    mark = Mark(item_score_id=item_score.id, marker_id=marker.id, round=round_, score=round2(score),
                comment=(comment or "").strip())
    try:
        with db.session.begin_nested():
            db.session.add(mark)
            db.session.flush()
    except IntegrityError:
        raise Conflict("该题的这一轮评分刚由他人完成，请刷新") from None
    db.session.refresh(item_score, attribute_names=["marks"])
    data = {"marking_code": item_score.marking_code, "round": round_, "score": mark.score,
            "max_points": item_score.max_points}
    if round_ == 2 and not needs_arbitration(item_score):
        a, b = (m.score for m in item_score.marks)
        item_score.final_score = round2((a + b) / 2)
    elif round_ == 2:
        data["arbitration"] = True
    elif round_ == 3:
        item_score.final_score = mark.score
    if item_score.final_score is not None:
        data["final_score"] = item_score.final_score
    db.session.flush()
    audit.record(AuditAction.MARK_GIVEN, obj=mark, organisation_id=batch.organisation_id, data=data)
    complete_if_done(batch)
    return mark


def open_count(batch: Batch) -> int:
    return db.session.scalar(select(func.count()).select_from(ItemScore).where(
        ItemScore.batch_id == batch.id, ItemScore.final_score.is_(None))) or 0


def progress(batch: Batch) -> dict:
    """Counts for the pages: open items, waiting for a second mark, waiting for arbitration."""
    rows = list(db.session.scalars(_open_scores(batch)))
    total = db.session.scalar(select(func.count()).select_from(ItemScore).where(
        ItemScore.batch_id == batch.id, ItemScore.needs_marking.is_(True))) or 0
    return {"open_items": total, "unmarked": sum(1 for s in rows if not s.marks),
            "one_mark": sum(1 for s in rows if len(s.marks) == 1),
            "arbitration": sum(1 for s in rows if needs_arbitration(s)),
            "done": total - len(rows)}


def complete_if_done(batch: Batch) -> bool:
    """CLOSED → MARKED once every finished attempt is scored and every item score is final."""
    if batch.state != BatchState.CLOSED:
        return False
    finished = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.batch_id == batch.id, Attempt.status != AttemptStatus.IN_PROGRESS)) or 0
    scored = db.session.scalar(select(func.count(func.distinct(ItemScore.attempt_id))).where(
        ItemScore.batch_id == batch.id)) or 0
    if scored < finished or open_count(batch):
        return False
    transition(batch, BatchState.MARKED)
    signals.marking_completed.send(batch)
    return True
