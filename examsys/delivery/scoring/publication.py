"""Publication of a batch's results (公示, sending `results_published`) and candidates' score
review applications (成绩复核申请), counted in working days (`workdays`).

- Applications are accepted from publication until `review_apply_days` working days later and
  answered within `review_answer_days` working days (statutory holidays must be configured).
  Scope: unmarked parts, adding errors, recording errors; a paper scored wholly by machine only
  when its score is 0 or absent. One open application per candidate at a time.
- `published_result(entry)` is what the candidate sees: None before publication."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from examsys import clock, signals
from examsys.audit import services as audit
from examsys.audit.actions import AuditAction
from examsys.delivery.batches.services import transition
from examsys.delivery.models import (
    Attempt,
    Batch,
    BatchState,
    CorrectionStatus,
    ItemScore,
    Result,
    ReviewOutcome,
    ReviewScope,
    RosterEntry,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.scoring import workdays
from examsys.delivery.scoring.common import PUBLISHED_STATES, blueprint_snapshot
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_handle_results

# --- publication ------------------------------------------------------------------------------


def publish(batch: Batch, actor) -> Batch:
    """REVIEWED → PUBLISHED, starting the 公示 period. Raises PermissionDenied and Conflict."""
    may_handle_results(actor, batch).enforce()
    if batch.state != BatchState.REVIEWED:
        raise Conflict(f"批次状态为“{batch.state_label}”，复核通过后才能发布")
    pending = db.session.scalar(select(ScoreCorrection.id).join(Attempt).where(
        Attempt.batch_id == batch.id, ScoreCorrection.status == CorrectionStatus.PENDING).limit(1))
    if pending is not None:
        raise Conflict("仍有待审批的成绩更正")
    batch.published_at = clock.now()
    transition(batch, BatchState.PUBLISHED)
    audit.record(AuditAction.BATCH_RESULTS_PUBLISHED, obj=batch,
                 data={"notice_days": batch.notice_days, "notice_ends_at": notice_ends_at(batch).isoformat()})
    signals.results_published.send(batch)
    return batch


def notice_ends_at(batch: Batch) -> datetime | None:
    return batch.published_at + timedelta(days=batch.notice_days) if batch.published_at else None


def apply_until(batch: Batch) -> datetime | None:
    """End of the application window: `review_apply_days` working days after publication."""
    return workdays.add_workdays(batch.published_at, batch.review_apply_days) if batch.published_at else None


def is_published(batch: Batch) -> bool:
    return batch.state in PUBLISHED_STATES and batch.published_at is not None


def _attempt_of(entry: RosterEntry) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))


def published_result(entry: RosterEntry) -> dict | None:
    """The candidate's published result, or None before publication. The dict:
    {batch_id, batch_name, status: "scored" | "absent", total, passed, pass_mark, total_points,
    sections: [{name, score, max}], published_at, notice_ends_at, review_apply_until, can_apply}.
    Only totals and per-section scores: no per-item detail, no keys."""
    batch = entry.batch
    if not is_published(batch):
        return None
    snap = blueprint_snapshot(batch)
    attempt = _attempt_of(entry)
    result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id)) if attempt else None
    until = apply_until(batch)
    out = {"batch_id": batch.id, "batch_name": batch.name, "status": "scored" if result else "absent",
           "total": result.final_total if result else None, "passed": bool(result and result.passed),
           "pass_mark": float(snap.get("pass_mark", 60)), "total_points": float(snap.get("total_points", 100)),
           "sections": [{"name": s["name"], "score": s["score"], "max": s["max"]}
                        for s in (result.section_scores if result else [])],
           "published_at": batch.published_at.isoformat(),
           "notice_ends_at": notice_ends_at(batch).isoformat(),
           "review_apply_until": until.isoformat(),
           "can_apply": clock.now() < until}
    return out


# --- score review requests ---------------------------------------------------------------------


def machine_scored_only(attempt: Attempt | None) -> bool:
    """True when no item of the attempt was marked by people (a wholly machine-scored paper)."""
    if attempt is None:
        return True
    return db.session.scalar(select(ItemScore.id).where(ItemScore.attempt_id == attempt.id,
                                                        ItemScore.needs_marking.is_(True)).limit(1)) is None


def apply_for_review(entry: RosterEntry, scope: str | ReviewScope, reason: str) -> ScoreReviewRequest:
    """A candidate's score review application (may be exposed by the API as
    POST /api/v1/candidate/results/review {scope, reason}).

    Raises Conflict (not published; window closed; one already open) and ValidationError
    (unknown scope; no reason; outside the scope rules: a wholly machine-scored paper only when
    its score is 0 or absent, and "zero_or_absent" only then)."""
    batch = entry.batch
    if not is_published(batch):
        raise Conflict("成绩尚未公布，不能申请复核")
    now = clock.now()
    if now >= apply_until(batch):
        raise Conflict("成绩复核申请期限已过")
    try:
        scope = ReviewScope(scope)
    except ValueError:
        raise ValidationError("复核范围不正确", field="scope") from None
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明申请复核的理由", field="reason")
    attempt = _attempt_of(entry)
    result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id)) if attempt else None
    zero_or_absent = result is None or result.final_total == 0
    if scope == ReviewScope.ZERO_OR_ABSENT and not zero_or_absent:
        raise ValidationError("仅成绩为零分或无成绩时可按此范围申请", field="scope")
    if machine_scored_only(attempt) and not zero_or_absent:
        raise ValidationError("机评试卷仅在成绩为零分或无成绩时受理复核", field="scope")
    open_one = db.session.scalar(select(ScoreReviewRequest.id).where(
        ScoreReviewRequest.roster_entry_id == entry.id, ScoreReviewRequest.answered_at.is_(None)).limit(1))
    if open_one is not None:
        raise Conflict("已有一份复核申请正在处理")
    req = ScoreReviewRequest(batch_id=batch.id, roster_entry_id=entry.id,
                             attempt_id=attempt.id if attempt else None, scope=scope, reason=reason,
                             applied_at=now, due_at=workdays.add_workdays(now, batch.review_answer_days))
    db.session.add(req)
    db.session.flush()
    audit.record(AuditAction.SCORE_REVIEW_REQUEST_SUBMITTED, obj=req, organisation_id=batch.organisation_id,
                 data={"roster_entry_id": entry.id, "scope": scope.value, "due_at": req.due_at.isoformat()})
    return req


def answer_review_request(actor, req: ScoreReviewRequest, *, outcome: str | ReviewOutcome,
                          answer: str) -> ScoreReviewRequest:
    """Answer an application (a changed score goes through request/decide_correction).

    Raises PermissionDenied, Conflict (answered already) and ValidationError."""
    may_handle_results(actor, req.batch).enforce()
    if req.answered_at is not None:
        raise Conflict("该申请已答复")
    try:
        outcome = ReviewOutcome(outcome)
    except ValueError:
        raise ValidationError("请选择复核结论", field="outcome") from None
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError("请填写答复内容", field="answer")
    req.outcome, req.answer = outcome, answer
    req.answered_by_id, req.answered_at = actor.id, clock.now()
    db.session.flush()
    audit.record(AuditAction.SCORE_REVIEW_REQUEST_ANSWERED, obj=req, organisation_id=req.batch.organisation_id,
                 data={"outcome": outcome.value, "overdue": req.overdue})
    return req


def review_requests(batch: Batch) -> list[ScoreReviewRequest]:
    return list(db.session.scalars(select(ScoreReviewRequest).where(ScoreReviewRequest.batch_id == batch.id)
                                   .options(selectinload(ScoreReviewRequest.roster_entry))
                                   .order_by(ScoreReviewRequest.applied_at, ScoreReviewRequest.id)))


def requests_of(entry: RosterEntry) -> list[ScoreReviewRequest]:
    """A candidate's own score review applications, oldest first."""
    return list(db.session.scalars(select(ScoreReviewRequest).where(ScoreReviewRequest.roster_entry_id == entry.id)
                                   .order_by(ScoreReviewRequest.applied_at, ScoreReviewRequest.id)))
