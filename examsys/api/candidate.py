"""Candidate endpoints of API v1: exams, attempt start, paper, attempt state, autosave, submit,
integrity events, survey, published results and score review applications (成绩复核申请). Each
view parses, calls one service, commits once, then answers: a 2xx is sent only for what is
committed."""

from __future__ import annotations

from datetime import timedelta

from flask import g, jsonify, request
from sqlalchemy import select

from examsys import clock
from examsys.api import bp
from examsys.api.common import (
    bearer_token,
    candidate_required,
    check_seb,
    iso,
    json_body,
    local_limit,
    own_attempt,
    session_key,
    short_write,
    write_phase,
)
from examsys.assembly.models import Paper, PaperForm
from examsys.assembly.queries import effective_versions
from examsys.assembly.services import candidate_order
from examsys.bank import qtypes
from examsys.delivery import (
    answers,
    attempts,
    autosave,
    candidate_auth,
    hotsave,
    integrity,
    publication,
    survey,
    timing,
)
from examsys.delivery.models import Attempt, AttemptStatus, BatchState, ScoreReviewRequest
from examsys.delivery.models.attempts import ATTEMPT_STATUS_LABELS
from examsys.errors import NotFound, ValidationError
from examsys.extensions import db, limiter
from examsys.permissions import custom_auth

SAVE_RATE = "600 per minute"  # autosave every change, debounced: far below this
EVENT_RATE = "120 per minute"
MAX_EVENTS_PER_REQUEST = 20
REVIEW_REASON_MAX = 1000


# --- serialisation -----------------------------------------------------------------------------


def response_json(resp) -> dict:
    return {"item_ref": resp.form_item_id, "answer": resp.answer, "seq": resp.seq,
            "saved_at": iso(resp.saved_at), "flagged": resp.flagged}


def attempt_json(attempt: Attempt, *, with_responses: bool = True) -> dict:
    now = clock.now()
    out = {
        "attempt_id": attempt.id, "exam_id": attempt.batch_id, "status": attempt.status.value,
        "status_label": ATTEMPT_STATUS_LABELS[attempt.status], "started_at": iso(attempt.started_at),
        "deadline_at": iso(attempt.deadline_at), "finished_at": iso(attempt.finished_at),
        "remaining_seconds": (timing.remaining_seconds(attempt.deadline_at, now)
                              if attempt.status == AttemptStatus.IN_PROGRESS else 0),
        "grace_seconds": attempt.batch.grace_seconds, "server_time": iso(now),
        "answered_count": attempt.answered_count,
    }
    if with_responses:
        out["responses"] = [response_json(r) for r in attempts.responses_of(attempt)]
    return out


def exam_json(entry) -> dict:
    batch = entry.batch
    now = clock.now()
    attempt = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))
    opens_at = batch.window_start + timedelta(seconds=entry.start_delay_seconds or 0)
    if attempt is not None:
        state = attempt.status.value
    elif batch.state not in attempts.STARTABLE_STATES or now >= batch.window_end:
        state = "closed"
    elif now < opens_at:
        state = "not_started"
    else:
        state = "available"
    return {"exam_id": batch.id, "name": batch.name, "batch_state": batch.state.value,
            "state": state, "window_start": iso(batch.window_start), "window_end": iso(batch.window_end),
            "starts_at": iso(opens_at), "duration_minutes": batch.duration_minutes,
            "attempt_id": attempt.id if attempt else None, "can_start": state in ("available", "in_progress"),
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
@custom_auth
@candidate_required
def start_attempt(exam_id: int):
    entry = _own_exam(exam_id)
    existing = db.session.scalar(select(Attempt.id).where(Attempt.roster_entry_id == entry.id))
    check_seb(entry.batch, db.session.get(Attempt, existing) if existing else None)
    attempt = attempts.start_attempt(entry)
    db.session.commit()
    return jsonify(attempt_json(attempt, with_responses=False)), (200 if existing else 201)


@bp.get("/attempts/<int:attempt_id>")
@custom_auth
@candidate_required
def attempt_state(attempt_id: int):
    attempt = own_attempt(attempt_id)
    attempts.finalise_if_overdue(attempt)  # any touch finalises an overdue attempt at its deadline
    db.session.commit()
    return jsonify(attempt_json(attempt))


@bp.get("/attempts/<int:attempt_id>/paper")
@custom_auth
@candidate_required
def attempt_paper(attempt_id: int):
    attempt = own_attempt(attempt_id)
    attempts.finalise_if_overdue(attempt)
    db.session.commit()
    batch = attempt.batch
    form = db.session.get(PaperForm, attempt.form_id)
    paper = db.session.get(Paper, form.paper_id)
    versions = effective_versions(form)
    positions = {fi.id: fi for fi in form.items}
    order = candidate_order(form, attempt.order_seed, shuffle_options=batch.shuffle_options)
    if not batch.shuffle_items:
        order.sort(key=lambda o: (o["section"], positions[o["form_item_id"]].position))
    snapshot_sections = (paper.blueprint_snapshot or {}).get("sections") or []
    sections, items = {}, []
    for number, o in enumerate(order, start=1):
        fi = positions[o["form_item_id"]]
        version = versions[fi.id]
        qtype = version.qtype.value
        view = qtypes.get(qtype).candidate_view(version.content or {}, o["option_order"] or None)
        view = _self_contained(view)
        items.append({"item_ref": fi.id, "number": number, "section": fi.section, "points": fi.points,
                      **view})
        sec = sections.setdefault(fi.section, {"index": fi.section, "qtype": qtype,
                                               "title": qtypes.LABELS.get(qtype, qtype), "count": 0,
                                               "points_each": fi.points})
        sec["count"] += 1
        if fi.section < len(snapshot_sections):
            sec["points_each"] = snapshot_sections[fi.section].get("points", fi.points)
    return jsonify({"attempt_id": attempt.id, "exam_id": batch.id, "title": batch.name,
                    "form": form.label, "duration_minutes": batch.duration_minutes,
                    "sections": [sections[k] for k in sorted(sections)], "items": items})


def _self_contained(view: dict) -> dict:
    """Formulas as SVG and images inlined: the candidate's browser can't fetch staff-only assets."""
    from examsys.bank.media import for_candidate

    out = dict(view)
    if "stem" in out:
        out["stem"] = for_candidate(out["stem"])
    if out.get("options"):
        out["options"] = [{**o, "text": for_candidate(o.get("text"))} for o in out["options"]]
    return out


# --- autosave and submit -----------------------------------------------------------------------


@bp.put("/attempts/<int:attempt_id>/responses/<int:item_ref>")
@custom_auth  # Bearer token: checked by the fast path's one read, else by candidate_required
@limiter.exempt  # counted per process instead (api.common.local_limit)
@short_write
def save_response(attempt_id: int, item_ref: int):
    """Autosave. The common case (live session, own open attempt, item on its form) is read in
    one query and written without ORM objects (delivery.autosave); anything else takes the
    general path, which answers every refusal and records what must be recorded."""
    token = bearer_token()
    token_sha256 = candidate_auth.token_hash(token) if token else None
    local_limit(SAVE_RATE, session_key(token_sha256))
    if not token:
        return _save_response_general(attempt_id, item_ref)
    try:
        data = _save_body()
    except ValidationError:  # answered by the general path, after authentication
        return _save_response_general(attempt_id, item_ref)
    seb_header = request.headers.get(integrity.SEB_HEADER)
    ip, user_agent = request.remote_addr, request.headers.get("User-Agent")
    key = (token_sha256, attempt_id, item_ref)

    def seb_ok(config_key):
        return integrity.seb_ok(config_key, request.url, seb_header)

    with write_phase():
        now = clock.now()
        conn = db.session.connection()
        written = value = None
        fresh = False
        fast = hotsave.lookup(key, data["seq"], now=now, seb_ok=seb_ok)
        if fast is not None:
            value = answers.normalise_spec(fast.spec, data["answer"])
            if autosave.needs_bookkeeping(fast, value, now=now, ip=ip, user_agent=user_agent)[0]:
                fast = None  # the attempt row has something to record: read afresh (and re-check)
        if fast is None:
            fast, fresh = autosave.load(conn, token_sha256, attempt_id, item_ref, data["seq"], now=now,
                                        seb_ok=seb_ok), True
            if fast is not None:
                value = answers.normalise_spec(fast.spec, data["answer"])
        if fast is not None:
            if fast.touch_session:
                candidate_auth.touch_id(fast.session_id, now)
            written = autosave.write_fast(conn, fast, item_ref, value, data["seq"], now=now,
                                          flagged=data.get("flagged"), ip=ip, user_agent=user_agent)
        if written is None or written.result is None:
            db.session.rollback()  # not the common case, or it changed since the read
            hotsave.forget(key)
        else:
            db.session.commit()  # acknowledged only once durable: a failing commit answers 5xx
            hotsave.remember(key, fast, seq=data["seq"], value=value, now=now, ip=ip, user_agent=user_agent,
                             answered_count=written.answered_count, bookkeeping=written.bookkeeping,
                             touched_session=fast.touch_session, fresh=fresh)
    if written is None or written.result is None:
        return _save_response_general(attempt_id, item_ref)
    return _save_answer(written.result)


@candidate_required
@short_write
def _save_response_general(attempt_id: int, item_ref: int):
    # Reads and checks first (no lock on SQLite), then one short write transaction.
    attempt = own_attempt(attempt_id)
    data = _save_body()
    spec = attempts.answer_spec(attempt, item_ref)
    with write_phase():
        result = attempts.save_response(attempt, item_ref, data["answer"], data["seq"],
                                        flagged=data.get("flagged"), ip=request.remote_addr,
                                        user_agent=request.headers.get("User-Agent"), spec=spec)
        db.session.commit()  # acknowledged only once durable: a failing commit answers 5xx
    return _save_answer(result)


def _save_body() -> dict:
    data = json_body()
    if "answer" not in data or "seq" not in data:
        raise ValidationError("请求须包含 answer 和 seq", field="answer" if "answer" not in data else "seq")
    attempts.check_save_input(data["seq"], data.get("flagged"))
    return data


def _save_answer(result):
    if result.stored or result.duplicate:
        return jsonify({"seq": result.seq, "saved_at": iso(result.saved_at), "flagged": result.flagged})
    body = {"error": {"code": "stale_seq", "message": "服务器上已有该题更新的答案，已返回服务器保存的内容"},
            "seq": result.seq, "saved_at": iso(result.saved_at), "answer": result.answer,
            "flagged": result.flagged}
    return jsonify(body), 409


@bp.post("/attempts/<int:attempt_id>/submit")
@custom_auth
@candidate_required
def submit_attempt(attempt_id: int):
    attempt = own_attempt(attempt_id)
    attempts.submit(attempt)
    db.session.commit()
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
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return jsonify({"accepted": 0}), 202  # evidence after the end is of no use; not an error
    accepted = 0
    for ev in events:
        if not isinstance(ev, dict):
            raise ValidationError("事件应为对象", field="events")
        if integrity.record_client_event(attempt, ev.get("kind"), ev.get("data"), ev.get("occurred_at")):
            accepted += 1
    db.session.commit()
    return jsonify({"accepted": accepted}), 202


@bp.post("/attempts/<int:attempt_id>/survey")
@custom_auth
@candidate_required
def attempt_survey(attempt_id: int):
    attempt = own_attempt(attempt_id)
    data = json_body()
    row = survey.submit_survey(attempt.roster_entry, data.get("answers"), data.get("comment"))
    db.session.commit()
    return jsonify({"satisfied": row.satisfied, "submitted_at": iso(row.submitted_at)}), 201


@bp.get("/candidate/survey")
@custom_auth
@candidate_required
def survey_questions():
    return jsonify({"questions": [{"id": k, "text": t} for k, t in survey.QUESTIONS],
                    "scale": [{"value": v, "label": label} for v, label in survey.SCALE.items()]})


@bp.get("/candidate/results")
@custom_auth
@candidate_required
def candidate_results():
    entry = g.roster_entry
    results = []
    try:
        from examsys.delivery import results as results_module
    except ImportError:
        results_module = None
    published = getattr(results_module, "published_result", None)
    if published is not None and entry.batch.state in (BatchState.PUBLISHED, BatchState.ARCHIVED):
        result = published(entry)
        if result is not None:
            reviews = result.get("reviews")
            if reviews is None:
                reviews = [review_json(r) for r in _reviews_of(entry)]
            result = {**result, "exam_id": entry.batch_id, "reviews": reviews}
            results.append(result)
    return jsonify({"results": results})


# --- score review applications (成绩复核申请) -----------------------------------------------------


def review_json(req) -> dict:
    return {"id": req.id, "scope": req.scope.value, "scope_label": req.scope_label,
            "status": "answered" if req.answered_at else "open", "applied_at": iso(req.applied_at),
            "due_at": iso(req.due_at), "answered_at": iso(req.answered_at), "answer": req.answer,
            "outcome": req.outcome.value if req.outcome else None, "outcome_label": req.outcome_label}


def _reviews_of(entry) -> list[ScoreReviewRequest]:
    return list(db.session.scalars(select(ScoreReviewRequest).where(ScoreReviewRequest.roster_entry_id == entry.id)
                                   .order_by(ScoreReviewRequest.applied_at, ScoreReviewRequest.id)))


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
    req = publication.apply_for_review(entry, scope, reason or "")
    db.session.commit()
    return jsonify(review_json(req)), 201
