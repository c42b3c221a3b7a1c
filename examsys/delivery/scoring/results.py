"""Results of a batch: computing them, their review (复核) by a second person, score corrections
with four eyes. The score list (成绩单) is `score_list`'s; publication (公示) and candidates' score review
requests (成绩复核申请) are `publication`'s.

Flow: MARKED --compute_results--> results exist --review_batch (second person)--> REVIEWED
--publish--> PUBLISHED (published_at; 公示 for `notice_days` calendar days).

- Originals are never overwritten: `ItemScore.final_score` and `Result.total` stay as first
  computed; a correction is a ScoreCorrection (pending until a *different* person holding
  RESULT_REVIEW approves it — examsys.permissions.may_decide_correction, backed by a CHECK
  constraint; a refused self-approval is audited).
  An approved item correction replaces that item's score in `Result.final_total`; an approved
  total correction sets `final_total` outright until a later item correction recomputes the sum.
- 复核 is done by someone who neither computed the results nor marked any item of the batch
  (examsys.permissions.may_review_results)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from examsys import audit, clock, transaction
from examsys.audit.actions import AuditAction
from examsys.bank import qtypes
from examsys.bank.models import ItemVersion
from examsys.delivery.batches.services import transition
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    BatchState,
    CorrectionStatus,
    ItemScore,
    Mark,
    Response,
    Result,
    ResultReview,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.scoring.common import CORRECTABLE_STATES, blueprint_snapshot, section_meta
from examsys.delivery.scoring.marking import round2
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_decide_correction, may_handle_results, may_review_results

__all__ = [
    "check_batch", "compute_results", "decide_correction", "effective_scores", "record_regrade",
    "request_correction", "review_batch",
]

# --- computing -------------------------------------------------------------------------------


def _approved(attempt_id: int) -> list[ScoreCorrection]:
    return list(db.session.scalars(select(ScoreCorrection).where(
        ScoreCorrection.attempt_id == attempt_id, ScoreCorrection.status == CorrectionStatus.APPROVED)
        .order_by(ScoreCorrection.decided_at, ScoreCorrection.id)))


def effective_scores(attempt: Attempt) -> tuple[list[ItemScore], dict[int, float | None], float | None]:
    """(item scores, item score id → score with approved corrections, total override or None)."""
    items = list(db.session.scalars(select(ItemScore).where(ItemScore.attempt_id == attempt.id)
                                    .order_by(ItemScore.section, ItemScore.id)))
    eff = {s.id: s.final_score for s in items}
    override = None
    for c in _approved(attempt.id):
        if c.item_score_id is None:
            override = c.corrected_score
        else:
            eff[c.item_score_id] = c.corrected_score
            override = None
    return items, eff, override


def _fill(result: Result, attempt: Attempt, batch: Batch) -> None:
    items, eff, override = effective_scores(attempt)
    sections = section_meta(batch)
    per = {s["index"]: {"index": s["index"], "name": s["name"], "numeral": s["numeral"], "score": 0.0,
                        "max": 0.0} for s in sections}
    for s in items:
        row = per.setdefault(s.section, {"index": s.section, "name": str(s.section + 1),
                                         "numeral": str(s.section + 1), "score": 0.0, "max": 0.0})
        row["score"] = round2(row["score"] + (eff[s.id] or 0.0))
        row["max"] = round2(row["max"] + s.max_points)
    result.section_scores = [per[k] for k in sorted(per)]
    result.final_total = round2(override if override is not None else sum(v or 0.0 for v in eff.values()))
    result.passed = result.final_total >= result.pass_mark - 1e-9


def compute_results(batch: Batch, actor) -> list[Result]:
    """A Result for every scored attempt of a MARKED batch (existing ones are kept).

    Raises PermissionDenied (no RESULT_REVIEW) and Conflict (batch not MARKED; items unmarked)."""
    may_handle_results(actor, batch).enforce()
    if batch.state != BatchState.MARKED:
        raise Conflict(f"批次状态为“{batch.state_label}”，阅卷完成后才能计算成绩")
    pass_mark = float(blueprint_snapshot(batch).get("pass_mark", 60))
    existing = {r.attempt_id: r for r in db.session.scalars(select(Result).where(Result.batch_id == batch.id))}
    out = []
    created = 0
    for attempt in db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id).order_by(Attempt.id)):
        if attempt.id in existing:
            out.append(existing[attempt.id])
            continue
        items = db.session.scalars(select(ItemScore).where(ItemScore.attempt_id == attempt.id)).all()
        if not items or any(s.final_score is None for s in items):
            raise Conflict("仍有未评分或未阅完的试卷")
        result = Result(attempt_id=attempt.id, batch_id=batch.id, pass_mark=pass_mark,
                        total=round2(sum(s.final_score for s in items)), computed_by_id=actor.id,
                        computed_at=clock.now(), final_total=0.0, passed=False)
        _fill(result, attempt, batch)
        db.session.add(result)
        out.append(result)
        created += 1
    db.session.flush()
    audit.record(AuditAction.BATCH_RESULTS_COMPUTED, obj=batch, data={"results": len(out), "new": created,
                                                      "pass_mark": pass_mark})
    return out


# --- review (复核) ------------------------------------------------------------------------------


def check_batch(batch: Batch) -> tuple[int, list[dict]]:
    """The checks of 复核: (results checked, findings). A finding is {kind, attempt_id, message}
    with kind one of unscored, unmarked, missing_result, adding, recording, pending_correction."""
    findings: list[dict] = []
    attempts = list(db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id)
                                       .options(selectinload(Attempt.roster_entry)).order_by(Attempt.id)))
    results = {r.attempt_id: r for r in db.session.scalars(select(Result).where(Result.batch_id == batch.id))}
    partial = bool(blueprint_snapshot(batch).get("partial_credit"))
    checked = 0
    for attempt in attempts:
        ticket = attempt.roster_entry.ticket_no
        items, eff, override = effective_scores(attempt)
        if not items and attempt.status != AttemptStatus.IN_PROGRESS:
            findings.append({"kind": "unscored", "attempt_id": attempt.id, "message": f"{ticket}：试卷未评分"})
            continue
        unmarked = [s for s in items if s.final_score is None]
        if unmarked:
            findings.append({"kind": "unmarked", "attempt_id": attempt.id,
                             "message": f"{ticket}：{len(unmarked)} 道主观题未评完"})
        result = results.get(attempt.id)
        if result is None:
            findings.append({"kind": "missing_result", "attempt_id": attempt.id,
                             "message": f"{ticket}：无成绩记录"})
            continue
        checked += 1
        original = round2(sum(s.final_score or 0.0 for s in items))
        expected = round2(override if override is not None else sum(v or 0.0 for v in eff.values()))
        if abs(result.total - original) > 0.005 or abs(result.final_total - expected) > 0.005:
            findings.append({"kind": "adding", "attempt_id": attempt.id,
                             "message": f"{ticket}：合分不符（记录 {result.final_total:g}，逐题合计 {expected:g}）"})
        if override is None and abs(sum(r["score"] for r in result.section_scores) - expected) > 0.005:
            findings.append({"kind": "adding", "attempt_id": attempt.id, "message": f"{ticket}：分项合计不符"})
        findings += _recording_findings(attempt, items, eff, partial, ticket)
    pending = db.session.scalars(select(ScoreCorrection).join(Attempt).where(
        Attempt.batch_id == batch.id, ScoreCorrection.status == CorrectionStatus.PENDING)).all()
    for c in pending:
        findings.append({"kind": "pending_correction", "attempt_id": c.attempt_id,
                         "message": f"更正申请 #{c.id} 尚待审批"})
    return checked, findings


def _recording_findings(attempt: Attempt, items: list[ItemScore], eff: dict, partial: bool,
                        ticket: str) -> list[dict]:
    """Recording (登分) check: every machine-scored item's score (with approved corrections)
    equals the registry's score of the stored answer."""
    objective = [s for s in items if not s.needs_marking and s.auto_score is not None]
    if not objective:
        return []
    versions = {v.id: v for v in db.session.scalars(select(ItemVersion).where(
        ItemVersion.id.in_({s.item_version_id for s in objective})))}
    answers = {r.form_item_id: r.answer for r in db.session.scalars(
        select(Response).where(Response.attempt_id == attempt.id))}
    out = []
    for s in objective:
        v = versions[s.item_version_id]
        expected = qtypes.get(v.qtype).score(v.content, answers.get(s.form_item_id), s.max_points,
                                             partial_credit=partial) or 0.0
        if abs(expected - (eff[s.id] or 0.0)) > 0.005:
            out.append({"kind": "recording", "attempt_id": attempt.id, "item_score_id": s.id,
                        "message": f"{ticket}：第 {s.section + 1} 部分一道客观题登分 {eff[s.id] or 0:g}，"
                                   f"按答案应得 {expected:g}"})
    return out


def review_batch(batch: Batch, reviewer, note: str = "") -> ResultReview:
    """复核 by a second person. Records the review with its findings; with no findings the
    results are marked reviewed and the batch moves to REVIEWED.

    Raises PermissionDenied (no RESULT_REVIEW; the reviewer computed the results or marked in
    this batch) and Conflict (batch not MARKED)."""
    may_handle_results(reviewer, batch).enforce()
    if batch.state != BatchState.MARKED:
        raise Conflict(f"批次状态为“{batch.state_label}”，不能复核")
    results = list(db.session.scalars(select(Result).where(Result.batch_id == batch.id)))
    marked = db.session.scalar(select(Mark.id).join(ItemScore).where(
        ItemScore.batch_id == batch.id, Mark.marker_id == reviewer.id).limit(1))
    decision = may_review_results(reviewer, batch, computed_by={r.computed_by_id for r in results},
                                  marked_in_batch=marked is not None)
    if not decision:
        # The page shows why (the person, not the batch, is wrong); the refusal stays on record.
        batch_id, org_id, code = batch.id, batch.organisation_id, decision.code
        transaction.on_rollback(lambda: audit.record(
            AuditAction.PERMISSION_DENIED, organisation_id=org_id,
            data={"code": code, "action": "result_review", "batch_id": batch_id}))
    decision.enforce()
    checked, findings = check_batch(batch)
    if not results:
        findings.append({"kind": "missing_result", "attempt_id": None, "message": "尚未计算成绩"})
    review = ResultReview(batch_id=batch.id, reviewer_id=reviewer.id, reviewed_at=clock.now(),
                          checked=checked, findings=findings, passed=not findings, note=(note or "").strip())
    db.session.add(review)
    db.session.flush()
    audit.record(AuditAction.RESULT_REVIEW_RECORDED, obj=review, organisation_id=batch.organisation_id,
                 data={"batch_id": batch.id, "checked": checked, "findings": len(findings),
                       "passed": review.passed})
    if review.passed:
        now = clock.now()
        for r in results:
            r.reviewed_by_id, r.reviewed_at = reviewer.id, now
        transition(batch, BatchState.REVIEWED)
    return review


# --- corrections (four eyes) -----------------------------------------------------------------


def request_correction(actor, attempt: Attempt, corrected_score: float, reason: str, *,
                       item_score: ItemScore | None = None,
                       review_request: ScoreReviewRequest | None = None) -> ScoreCorrection:
    """Ask for a corrected score (an item's, or the total's when item_score is None); pending
    until a second person approves it.

    Raises PermissionDenied, Conflict (batch state; a correction of the same score pending) and
    ValidationError (no reason; score out of range)."""
    batch = attempt.batch
    may_handle_results(actor, batch).enforce()
    if batch.state not in CORRECTABLE_STATES:
        raise Conflict(f"批次状态为“{batch.state_label}”，不能更正成绩")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写更正理由", field="reason")
    try:
        corrected_score = float(corrected_score)
    except (TypeError, ValueError):
        raise ValidationError("分数必须是数字", field="corrected_score") from None
    result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id))
    items, eff, override = effective_scores(attempt)
    if item_score is not None:
        if item_score.attempt_id != attempt.id:
            raise ValidationError("该题不属于这份试卷", field="item_score")
        top, original = item_score.max_points, eff[item_score.id]
    else:
        top = sum(s.max_points for s in items)
        original = result.final_total if result is not None else None
    if not 0 <= corrected_score <= top:
        raise ValidationError(f"分数应在 0 到 {top:g} 之间", field="corrected_score")
    dup = db.session.scalar(select(ScoreCorrection.id).where(
        ScoreCorrection.attempt_id == attempt.id, ScoreCorrection.status == CorrectionStatus.PENDING,
        (ScoreCorrection.item_score_id == item_score.id) if item_score is not None
        else ScoreCorrection.item_score_id.is_(None)).limit(1))
    if dup is not None:
        raise Conflict("该分数已有待审批的更正")
    c = ScoreCorrection(attempt_id=attempt.id, item_score_id=item_score.id if item_score else None,
                        original_score=original, corrected_score=round2(corrected_score), reason=reason,
                        requested_by_id=actor.id, requested_at=clock.now(),
                        review_request_id=review_request.id if review_request else None)
    db.session.add(c)
    db.session.flush()
    audit.record(AuditAction.SCORE_CORRECTION_REQUESTED, obj=c, organisation_id=batch.organisation_id,
                 data={"attempt_id": attempt.id, "item_score_id": c.item_score_id, "original": original,
                       "corrected": c.corrected_score, "reason": reason})
    return c


def decide_correction(approver, correction: ScoreCorrection, *, approve: bool, comment: str = "") -> ScoreCorrection:
    """Approve or reject a pending correction. The approver must be a different person than the
    requester (four eyes). Approval updates the result's final total (never `total`).

    Raises PermissionDenied (same person — recorded after the rollback; no RESULT_REVIEW) and
    Conflict (already decided)."""
    batch = correction.attempt.batch
    decision = may_decide_correction(approver, correction, batch)
    if decision.code == "self_approval":
        correction_id, approver_id, org_id = correction.id, approver.id, batch.organisation_id
        transaction.on_rollback(lambda: audit.record(
            AuditAction.SCORE_CORRECTION_SELF_APPROVAL_REFUSED, obj=db.session.get(ScoreCorrection, correction_id),
            organisation_id=org_id, data={"user_id": approver_id}))
    decision.enforce()
    if correction.status != CorrectionStatus.PENDING:
        raise Conflict("该更正已处理")
    correction.status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    correction.approved_by_id = approver.id
    correction.decided_at = clock.now()
    correction.decision_comment = (comment or "").strip()
    db.session.flush()
    result = db.session.scalar(select(Result).where(Result.attempt_id == correction.attempt_id))
    before = result.final_total if result is not None else None
    if approve and result is not None:
        _fill(result, correction.attempt, batch)
        db.session.flush()
    audit.record(AuditAction.SCORE_CORRECTION_APPROVED if approve else AuditAction.SCORE_CORRECTION_REJECTED,
                 obj=correction,
                 organisation_id=batch.organisation_id,
                 data={"attempt_id": correction.attempt_id, "item_score_id": correction.item_score_id,
                       "original": correction.original_score, "corrected": correction.corrected_score,
                       "total_before": before, "total_after": result.final_total if result else None,
                       "comment": correction.decision_comment})
    return correction


def record_regrade(actor, approver_id: int, item_score: ItemScore, corrected_score: float,
                   reason: str) -> ScoreCorrection:
    """A correction two people decided elsewhere — a key fixed after the exam: a reviewer
    (`approver_id`) confirmed the key, `actor` applies it — stored approved at once, with the
    attempt's result refreshed. The item's original score and `Result.total` stay as they were.

    Raises PermissionDenied (no RESULT_REVIEW), Conflict (batch state; actor is the approver)
    and ValidationError (no reason)."""
    attempt = item_score.attempt
    batch = attempt.batch
    may_handle_results(actor, batch).enforce()
    if batch.state not in CORRECTABLE_STATES:
        raise Conflict(f"批次状态为“{batch.state_label}”，不能更正成绩")
    if approver_id == actor.id:
        raise Conflict("确认答案的人不能同时应用答案更正")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写更正理由", field="reason")
    _items, eff, _override = effective_scores(attempt)
    now = clock.now()
    c = ScoreCorrection(attempt_id=attempt.id, item_score_id=item_score.id, original_score=eff[item_score.id],
                        corrected_score=round2(corrected_score), reason=reason, status=CorrectionStatus.APPROVED,
                        requested_by_id=actor.id, requested_at=now, approved_by_id=approver_id, decided_at=now)
    db.session.add(c)
    db.session.flush()
    result = db.session.scalar(select(Result).where(Result.attempt_id == attempt.id))
    before = result.final_total if result is not None else None
    if result is not None:
        _fill(result, attempt, batch)
        db.session.flush()
    audit.record(AuditAction.SCORE_CORRECTION_REGRADED, obj=c, organisation_id=batch.organisation_id,
                 data={"attempt_id": attempt.id, "item_score_id": item_score.id, "original": c.original_score,
                       "corrected": c.corrected_score, "total_before": before,
                       "total_after": result.final_total if result else None, "reason": reason,
                       "approved_by_id": approver_id})
    return c
