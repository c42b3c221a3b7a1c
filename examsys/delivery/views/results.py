"""Delivery staff pages: results — scoring a closed batch, the score list (成绩单), 复核 by a
second person, corrections with second-person approval, publication, candidates' score review
requests, and the PDF/Excel exports. Actions need RESULT_REVIEW; BATCH_VIEW may read (within the
organisation, and the supervisor the authority assigned to the batch).

The score list (with names) is shown only once marking is complete, so that a marker who can also
view batches cannot link marking codes to candidates while marking is under way."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response as FlaskResponse
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import transaction
from examsys.delivery import pdf_jobs
from examsys.delivery.models import (
    Attempt,
    Batch,
    BatchState,
    ItemScore,
    ReviewOutcome,
    ReviewScope,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.scoring import services as results
from examsys.delivery.views.blueprint import bp
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db
from examsys.jobs.views import follow
from examsys.permissions import Permission, may_supervise_batch, require
from examsys.reports import results as reports
from examsys.tenancy import get_scoped
from examsys.viewutil import perform

# Refusals of the wrong person for a 复核 they could otherwise do: said on the results page (and
# recorded by the service), not a bare 403, so that they know to hand it to someone else.
SECOND_PERSON_REFUSALS = frozenset({"reviewer_computed", "reviewer_marked"})
LIST_STATES = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED, BatchState.ARCHIVED})


def _batch(batch_id: int) -> Batch:
    return get_scoped(Batch, batch_id, current_user)


def _readable(batch_id: int) -> Batch:
    """A batch to read: of one's organisation (or the province), or assigned to one to supervise."""
    batch = db.session.get(Batch, batch_id)
    if batch is not None and may_supervise_batch(current_user, batch):
        return batch
    return _batch(batch_id)


def _listable(batch: Batch) -> Batch:
    if batch.state not in LIST_STATES:
        raise NotFound("阅卷完成后才有成绩单")
    return batch


def _back(batch: Batch):
    return redirect(url_for("delivery.results", batch_id=batch.id))


@bp.get("/batches/<int:batch_id>/results", endpoint="results")
@require(Permission.BATCH_VIEW)
def results_page(batch_id: int):
    batch = _readable(batch_id)
    rows = results.score_list(batch) if batch.state in LIST_STATES else []
    current = results.stage(batch)
    check = results.may_review(batch, current_user, current) if batch.state == BatchState.MARKED else None
    return render_template("delivery/results/batch.html", batch=batch, rows=rows, sections=results.section_meta(batch),
                           stage=current, review_check=check,
                           second_persons=results.second_persons(batch, current) if check is not None and not check
                           else [],
                           progress=results.progress(batch), reviews=results.reviews(batch),
                           corrections=results.corrections(batch), requests=results.review_requests(batch),
                           notice_ends_at=results.notice_ends_at(batch), apply_until=results.apply_until(batch),
                           listable=batch.state in LIST_STATES)


@bp.post("/batches/<int:batch_id>/results/score")
@require(Permission.RESULT_REVIEW)
def results_score(batch_id: int):
    batch = _batch(batch_id)
    perform(lambda: results.score_batch(batch), success="已完成客观题评分，主观题已进入阅卷队列")
    return _back(batch)


@bp.post("/batches/<int:batch_id>/results/compute")
@require(Permission.RESULT_REVIEW)
def results_compute(batch_id: int):
    batch = _batch(batch_id)
    perform(lambda: results.compute_results(batch, current_user), success="成绩已计算，请由第二人复核")
    return _back(batch)


@bp.post("/batches/<int:batch_id>/results/review")
@require(Permission.RESULT_REVIEW)
def results_review(batch_id: int):
    batch = _batch(batch_id)
    review, error = transaction.attempt(lambda: results.review_batch(batch, current_user,
                                                                     request.form.get("note", "")))
    if isinstance(error, PermissionDenied) and error.code not in SECOND_PERSON_REFUSALS:
        raise error
    if error is not None:
        flash(error.message, "error")
    else:
        flash("复核已记录", "success")
        if not review.passed:
            flash(f"复核发现 {len(review.findings)} 个问题，批次未通过复核", "warning")
    return _back(batch)


@bp.post("/batches/<int:batch_id>/results/corrections")
@require(Permission.RESULT_REVIEW)
def results_correction(batch_id: int):
    batch = _batch(batch_id)
    attempt = db.session.get(Attempt, request.form.get("attempt_id", type=int) or 0)
    if attempt is None or attempt.batch_id != batch.id:
        raise NotFound("未找到该考生的试卷")
    item_score = None
    if request.form.get("item_score_id", type=int):
        item_score = db.session.get(ItemScore, request.form.get("item_score_id", type=int))
        if item_score is None or item_score.attempt_id != attempt.id:
            raise NotFound("未找到该题")
    req = None
    if request.form.get("review_request_id", type=int):
        req = db.session.get(ScoreReviewRequest, request.form.get("review_request_id", type=int))
        if req is None or req.batch_id != batch.id:
            raise NotFound("未找到该复核申请")
    perform(lambda: results.request_correction(
        current_user, attempt, request.form.get("corrected_score", ""), request.form.get("reason", ""),
        item_score=item_score, review_request=req), success="更正申请已提交，须由第二人审批")
    return _back(batch)


@bp.post("/corrections/<int:correction_id>/decide")
@require(Permission.RESULT_REVIEW)
def correction_decide(correction_id: int):
    c = db.session.get(ScoreCorrection, correction_id)
    if c is None:
        raise NotFound("未找到该更正")
    batch = _batch(c.attempt.batch_id)
    approve = request.form.get("decision") == "approve"
    perform(lambda: results.decide_correction(current_user, c, approve=approve,
                                              comment=request.form.get("comment", "")),
            success="已批准更正" if approve else "已驳回更正")
    return _back(batch)


@bp.post("/batches/<int:batch_id>/results/publish")
@require(Permission.RESULT_REVIEW)
def results_publish(batch_id: int):
    batch = _batch(batch_id)
    perform(lambda: results.publish(batch, current_user), success="成绩已发布，公示期开始")
    return _back(batch)


@bp.get("/batches/<int:batch_id>/results/requests")
@require(Permission.BATCH_VIEW)
def review_requests(batch_id: int):
    batch = _readable(batch_id)
    return render_template("delivery/results/requests.html", batch=batch, requests=results.review_requests(batch),
                           apply_until=results.apply_until(batch), scopes=results.REVIEW_SCOPE_LABELS,
                           outcomes=results.REVIEW_OUTCOME_LABELS, ReviewOutcome=ReviewOutcome, ReviewScope=ReviewScope)


@bp.post("/review-requests/<int:request_id>/answer")
@require(Permission.RESULT_REVIEW)
def review_request_answer(request_id: int):
    req = db.session.get(ScoreReviewRequest, request_id)
    if req is None:
        raise NotFound("未找到该复核申请")
    batch = _batch(req.batch_id)
    perform(lambda: results.answer_review_request(current_user, req, outcome=request.form.get("outcome", ""),
                                                  answer=request.form.get("answer", "")), success="已答复")
    return redirect(url_for("delivery.review_requests", batch_id=batch.id))


@bp.post("/batches/<int:batch_id>/results/scores.pdf")
@require(Permission.BATCH_VIEW)
def results_pdf(batch_id: int):
    """Ask for the score list as PDF: rendered by the job worker, followed on the job's page."""
    batch = _listable(_readable(batch_id))
    return follow(lambda: pdf_jobs.request_score_list(current_user, batch), url_for("delivery.results",
                                                                                   batch_id=batch.id))


@bp.get("/batches/<int:batch_id>/results/scores.xlsx")
@require(Permission.BATCH_VIEW)
def results_xlsx(batch_id: int):
    batch = _listable(_readable(batch_id))
    return _download(reports.score_list_xlsx(batch),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"成绩单-{batch.id}.xlsx")


@bp.post("/attempts/<int:attempt_id>/report.pdf")
@require(Permission.BATCH_VIEW)
def result_report_pdf(attempt_id: int):
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound("未找到该试卷")
    batch = _listable(_readable(attempt.batch_id))
    return follow(lambda: pdf_jobs.request_score_report(current_user, batch, attempt),
                  url_for("delivery.results", batch_id=batch.id))


def _download(data: bytes, mime: str, filename: str) -> FlaskResponse:
    resp = FlaskResponse(data, mimetype=mime)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp
