"""Candidate endpoints of API v1: exams, attempt start, paper, attempt state, autosave, submit,
integrity events, survey, published results and score review applications (成绩复核申请). Each
view parses, calls the exam or scoring service, and answers; the request wrapper commits
before the answer is sent (examsys.transaction), so a 2xx is sent only for what is committed.
Autosave's service commits itself (examsys.delivery.exam.saving says why)."""

from __future__ import annotations

import orjson
from flask import current_app, g, jsonify, request

from examsys import clock
from examsys.api.blueprint import bp
from examsys.api.common import (
    bearer_token,
    candidate_required,
    check_seb,
    iso,
    json_body,
    own_attempt,
    save_limit,
    session_key,
    short_write,
)
from examsys.delivery.exam import services as exam
from examsys.delivery.scoring import services as scoring
from examsys.errors import NotFound, ValidationError
from examsys.extensions import limiter
from examsys.permissions import custom_auth

EVENT_RATE = "120 per minute"
MAX_EVENTS_PER_REQUEST = 20
REVIEW_REASON_MAX = 1000


# --- serialisation -----------------------------------------------------------------------------


def response_json(resp) -> dict:
    return {"item_ref": resp.form_item_id, "answer": resp.answer, "seq": resp.seq,
            "saved_at": iso(resp.saved_at), "flagged": resp.flagged}


def attempt_json(attempt, *, with_responses: bool = True, grace_seconds: int | None = None) -> dict:
    """`grace_seconds`: the batch's, when the caller has it (else read through `attempt.batch`)."""
    now = clock.now()
    out = {
        "attempt_id": attempt.id, "exam_id": attempt.batch_id, "status": attempt.status.value,
        "status_label": exam.ATTEMPT_STATUS_LABELS[attempt.status], "started_at": iso(attempt.started_at),
        "deadline_at": iso(attempt.deadline_at), "finished_at": iso(attempt.finished_at),
        "remaining_seconds": (exam.remaining_seconds(attempt.deadline_at, now)
                              if attempt.status == exam.AttemptStatus.IN_PROGRESS else 0),
        "grace_seconds": attempt.batch.grace_seconds if grace_seconds is None else grace_seconds,
        "server_time": iso(now),
        "answered_count": attempt.answered_count,
    }
    if with_responses:
        out["responses"] = [response_json(r) for r in exam.responses_of(attempt)]
    return out


def exam_json(entry) -> dict:
    batch = entry.batch
    status = exam.exam_status(entry, exam.attempt_of(entry), clock.now())
    return {"exam_id": batch.id, "name": batch.name, "batch_state": batch.state.value,
            "state": status.state, "window_start": iso(batch.window_start), "window_end": iso(batch.window_end),
            "starts_at": iso(status.opens_at), "duration_minutes": batch.duration_minutes,
            "attempt_id": status.attempt.id if status.attempt else None, "can_start": status.can_start,
            "room": entry.room.name if entry.room else None, "seat_no": entry.seat_no,
            "requires_seb": bool(batch.seb_config_key)}


def _own_exam(exam_id: int):
    entry = g.roster_entry
    if exam_id != entry.batch_id:
        raise NotFound("考试不存在")
    return entry


# --- exams -------------------------------------------------------------------------------------


@bp.get("/candidate/exams")
@custom_auth
@candidate_required
def candidate_exams():
    return jsonify({"exams": [exam_json(g.roster_entry)]})


@bp.post("/exams/<int:exam_id>/attempt")
@custom_auth  # Bearer token: checked by the fast path's one read, else by candidate_required
def start_attempt(exam_id: int):
    """Start (or resume) the attempt. A first start of an open batch is the exam service's fast
    path (one Core read instead of the ORM's: every candidate of a start storm starts once);
    anything else takes the general path."""
    token = bearer_token()
    if token:
        started = exam.start_fast(exam.token_hash(token), exam_id, ip=request.remote_addr,
                                  user_agent=request.headers.get("User-Agent"))
        if started is not None:
            attempt, grace_seconds = started
            return jsonify(attempt_json(attempt, with_responses=False, grace_seconds=grace_seconds)), 201
    return _start_attempt_general(exam_id)


@candidate_required
def _start_attempt_general(exam_id: int):
    entry = _own_exam(exam_id)
    existing = g.candidate_session.preloaded_attempt  # read with the session, this transaction
    check_seb(existing)
    attempt = exam.start_attempt(entry, existing=existing)
    return jsonify(attempt_json(attempt, with_responses=False)), (200 if existing else 201)


@bp.get("/attempts/<int:attempt_id>")
@custom_auth
@candidate_required
def attempt_state(attempt_id: int):
    attempt = own_attempt(attempt_id)
    exam.finalise_if_overdue(attempt)  # any touch finalises an overdue attempt at its deadline
    return jsonify(attempt_json(attempt))


@bp.get("/attempts/<int:attempt_id>/paper")
@custom_auth  # Bearer token: checked by the fast path's one read, else by candidate_required
def attempt_paper(attempt_id: int):
    """The paper. The common case (live session, own attempt not overdue) is the exam service's
    fast path (one Core read, as for autosave: every candidate of a start storm loads it);
    anything else takes the general path, which answers every refusal and records what must be
    recorded."""
    token = bearer_token()
    if token:
        req = request._get_current_object()
        paper = exam.paper_fast(exam.token_hash(token), attempt_id, seb_ok=lambda key: exam.seb_ok(
            key, req.url, req.headers.get(exam.SEB_HEADER)))
        if paper is not None:
            return jsonify(paper)
    return _attempt_paper_general(attempt_id)


@candidate_required
def _attempt_paper_general(attempt_id: int):
    attempt = own_attempt(attempt_id)
    exam.finalise_if_overdue(attempt)
    batch = attempt.batch
    paper = exam.candidate_paper(attempt)
    return jsonify({"attempt_id": attempt.id, "exam_id": batch.id, "title": batch.name,
                    "duration_minutes": batch.duration_minutes, **paper})


# --- autosave and submit -----------------------------------------------------------------------


@bp.put("/attempts/<int:attempt_id>/responses/<int:item_ref>")
@custom_auth  # Bearer token: checked by the fast path's one read, else by candidate_required
@limiter.exempt  # counted by api.common.save_limit: Redis when configured, else per process
@short_write
def save_response(attempt_id: int, item_ref: int):
    """Autosave. The common case (live session, own open attempt, item on its form) is the exam
    service's fast path; anything else takes the general path, which answers every refusal and
    records what must be recorded."""
    token = bearer_token()
    token_sha256 = exam.token_hash(token) if token else None
    save_limit(current_app.config["EXAMSYS_AUTOSAVE_RATE"], session_key(token_sha256))
    if not token:
        return _save_response_general(attempt_id, item_ref)
    try:
        data = _save_body()
    except ValidationError:  # answered by the general path, after authentication
        return _save_response_general(attempt_id, item_ref)
    req = request._get_current_object()  # read several times below: past the proxy once
    saved = exam.save_fast(token_sha256, attempt_id, item_ref, data["answer"], data["seq"],
                           flagged=data.get("flagged"), ip=req.remote_addr,
                           user_agent=req.headers.get("User-Agent"), url=lambda: req.url,
                           seb_header=req.headers.get(exam.SEB_HEADER))
    if saved is None:
        return _save_response_general(attempt_id, item_ref)
    return _save_answer(saved.done())


@candidate_required
@short_write
def _save_response_general(attempt_id: int, item_ref: int):
    attempt = own_attempt(attempt_id)
    data = _save_body()
    saved = exam.save(attempt, item_ref, data["answer"], data["seq"], flagged=data.get("flagged"),
                      ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
                      touch_session_id=g.pop("candidate_session_touch", None))
    return _save_answer(saved.done())


def _save_body() -> dict:
    data = json_body()
    if "answer" not in data or "seq" not in data:
        raise ValidationError("请求须包含 answer 和 seq", field="answer" if "answer" not in data else "seq")
    exam.check_save_input(data["seq"], data.get("flagged"))
    return data


def _save_answer(result):
    if result.stored or result.duplicate:  # the hottest answer: a few ASCII fields, serialised directly
        body = orjson.dumps({"seq": result.seq, "saved_at": iso(result.saved_at), "flagged": result.flagged})
        return current_app.response_class(body, mimetype="application/json")
    body = {"error": {"code": "stale_seq", "message": "服务器上已有该题更新的答案，已返回服务器保存的内容"},
            "seq": result.seq, "saved_at": iso(result.saved_at), "answer": result.answer,
            "flagged": result.flagged}
    return jsonify(body), 409


@bp.post("/attempts/<int:attempt_id>/submit")
@custom_auth
@candidate_required
def submit_attempt(attempt_id: int):
    attempt = own_attempt(attempt_id)
    exam.submit(attempt)
    return jsonify(attempt_json(attempt, with_responses=False))


# --- integrity events, survey, results ---------------------------------------------------------


@bp.post("/attempts/<int:attempt_id>/events")
@custom_auth
@limiter.limit(EVENT_RATE, key_func=session_key)
@candidate_required
def attempt_events(attempt_id: int):
    attempt = own_attempt(attempt_id)
    data = json_body()
    events = data.get("events") if "events" in data else [data]
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_REQUEST:
        raise ValidationError(f"每次最多上报 {MAX_EVENTS_PER_REQUEST} 条事件", field="events")
    if attempt.status != exam.AttemptStatus.IN_PROGRESS:
        return jsonify({"accepted": 0}), 202  # evidence after the end is of no use; not an error
    accepted = 0
    for ev in events:
        if not isinstance(ev, dict):
            raise ValidationError("事件应为对象", field="events")
        if exam.record_client_event(attempt, ev.get("kind"), ev.get("data"), ev.get("occurred_at")):
            accepted += 1
    return jsonify({"accepted": accepted}), 202


@bp.post("/attempts/<int:attempt_id>/survey")
@custom_auth
@candidate_required
def attempt_survey(attempt_id: int):
    attempt = own_attempt(attempt_id)
    data = json_body()
    row = exam.submit_survey(attempt.roster_entry, data.get("answers"), data.get("comment"))
    return jsonify({"satisfied": row.satisfied, "submitted_at": iso(row.submitted_at)}), 201


@bp.get("/candidate/survey")
@custom_auth
@candidate_required
def survey_questions():
    return jsonify({"questions": [{"id": k, "text": t} for k, t in exam.SURVEY_QUESTIONS],
                    "scale": [{"value": v, "label": label} for v, label in exam.SURVEY_SCALE.items()]})


@bp.get("/candidate/results")
@custom_auth
@candidate_required
def candidate_results():
    entry = g.roster_entry
    results = []
    result = scoring.published_result(entry)
    if result is not None:
        reviews = result.get("reviews")
        if reviews is None:
            reviews = [review_json(r) for r in scoring.requests_of(entry)]
        results.append({**result, "exam_id": entry.batch_id, "reviews": reviews})
    return jsonify({"results": results})


# --- score review applications (成绩复核申请) -----------------------------------------------------


def review_json(req) -> dict:
    return {"id": req.id, "scope": req.scope.value, "scope_label": req.scope_label,
            "status": "answered" if req.answered_at else "open", "applied_at": iso(req.applied_at),
            "due_at": iso(req.due_at), "answered_at": iso(req.answered_at), "answer": req.answer,
            "outcome": req.outcome.value if req.outcome else None, "outcome_label": req.outcome_label}


@bp.post("/candidate/results/review")
@custom_auth
@candidate_required
def apply_result_review():
    data = json_body()
    exam_id = data.get("exam_id")
    if not isinstance(exam_id, int) or isinstance(exam_id, bool):
        raise ValidationError("请求须包含考试编号 exam_id", field="exam_id")
    entry = _own_exam(exam_id)
    scope, reason = data.get("scope"), data.get("reason")
    if not isinstance(scope, str):
        raise ValidationError("复核范围不正确", field="scope")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("请说明申请复核的理由", field="reason")
    if reason and len(reason) > REVIEW_REASON_MAX:
        raise ValidationError(f"申请理由不能超过 {REVIEW_REASON_MAX} 字", field="reason")
    req = scoring.apply_for_review(entry, scope, reason or "")
    return jsonify(review_json(req)), 201
