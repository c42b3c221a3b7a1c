"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of API v1 (public; describes no secrets).
Kept by hand next to the views; a test checks every API route appears here and that the
document validates."""

from __future__ import annotations

from flask import jsonify

from examsys.api.blueprint import bp
from examsys.delivery.exam.services import MAX_SEQ
from examsys.permissions import public


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(description: str) -> dict:
    return {"$ref": "#/components/responses/Error"} if description == "error" else \
        _json(_ref("Error"), description)


_DT = {"type": "string", "format": "date-time"}
_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # the app's <int:> converter: 404 past it
_DT_NULL = {"type": ["string", "null"], "format": "date-time"}
_ANSWER = {"description": "judge: boolean; single: option value; multi: list of option values; "
                          "fill: list of strings (one per blank); open types: string; null clears.",
           "oneOf": [{"type": "null"}, {"type": "boolean"}, {"type": "string"},
                     {"type": "array", "items": {"type": ["string", "null"]}}]}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "examples": ["unauthenticated", "session_replaced", "not_found",
                                                    "attempt_closed", "validation_error", "rate_limited"]},
            "message": {"type": "string", "description": "Chinese, for people"},
            "field": {"type": "string"}, "details": {"type": "object"}}}}},
    "LoginRequest": {"type": "object", "required": ["ticket_no", "id_number"], "properties": {
        "ticket_no": {"type": "string", "maxLength": 32}, "id_number": {"type": "string"},
        "access_code": {"type": "string", "description": "the room's code, when the batch requires it"}}},
    "Candidate": {"type": "object", "properties": {
        "name": {"type": "string"}, "ticket_no": {"type": "string"}, "id_number_masked": {"type": "string"},
        "exam_id": {"type": "integer"}, "exam_name": {"type": "string"},
        "room": {"type": ["string", "null"]}, "seat_no": {"type": ["integer", "null"]}}},
    "LoginResponse": {"type": "object", "required": ["token", "candidate"], "properties": {
        "token": {"type": "string"}, "token_type": {"const": "Bearer"}, "candidate": _ref("Candidate"),
        "expires_at": _DT}},
    "Exam": {"type": "object", "properties": {
        "exam_id": {"type": "integer"}, "name": {"type": "string"}, "batch_state": {"type": "string"},
        "state": {"enum": ["not_started", "available", "closed", "in_progress", "submitted", "timed_out",
                           "terminated"]},
        "window_start": _DT, "window_end": _DT, "starts_at": _DT, "duration_minutes": {"type": "integer"},
        "attempt_id": {"type": ["integer", "null"]}, "can_start": {"type": "boolean"},
        "room": {"type": ["string", "null"]}, "seat_no": {"type": ["integer", "null"]},
        "requires_seb": {"type": "boolean"}}},
    "ExamList": {"type": "object", "properties": {"exams": {"type": "array", "items": _ref("Exam")}}},
    "ResponseState": {"type": "object", "properties": {
        "item_ref": {"type": "integer"}, "answer": _ANSWER, "seq": {"type": "integer"}, "saved_at": _DT,
        "flagged": {"type": "boolean"}}},
    "Attempt": {"type": "object", "required": ["attempt_id", "status", "deadline_at", "remaining_seconds"],
                "properties": {
        "attempt_id": {"type": "integer"}, "exam_id": {"type": "integer"},
        "status": {"enum": ["in_progress", "submitted", "timed_out", "terminated"]},
        "status_label": {"type": "string"}, "started_at": _DT, "deadline_at": _DT, "finished_at": _DT_NULL,
        "remaining_seconds": {"type": "integer", "minimum": 0}, "grace_seconds": {"type": "integer"},
        "server_time": _DT, "answered_count": {"type": "integer"},
        "responses": {"type": "array", "items": _ref("ResponseState")}}},
    "Option": {"type": "object", "properties": {
        "label": {"type": "string", "description": "shown (A, B, …) in this candidate's order"},
        "value": {"type": "string", "description": "what the answer carries"}, "text": {"type": "string"}}},
    "PaperItem": {"type": "object", "required": ["item_ref", "qtype", "stem"], "properties": {
        "item_ref": {"type": "integer"}, "number": {"type": "integer"}, "section": {"type": "integer"},
        "points": {"type": "number"}, "qtype": {"type": "string"}, "stem": {"type": "string"},
        "options": {"type": "array", "items": _ref("Option")}, "blanks": {"type": "integer"}}},
    "Paper": {"type": "object", "properties": {
        "attempt_id": {"type": "integer"}, "exam_id": {"type": "integer"}, "title": {"type": "string"},
        "form": {"type": "string"}, "duration_minutes": {"type": "integer"},
        "sections": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"}, "qtype": {"type": "string"}, "title": {"type": "string"},
            "count": {"type": "integer"}, "points_each": {"type": "number"}}}},
        "items": {"type": "array", "items": _ref("PaperItem")}}},
    "SaveRequest": {"type": "object", "required": ["answer", "seq"], "properties": {
        "answer": _ANSWER, "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ,
                                 "description": "per item, increasing"},
        "flagged": {"type": "boolean"}}},
    "SaveResponse": {"type": "object", "required": ["seq", "saved_at"], "properties": {
        "seq": {"type": "integer"}, "saved_at": _DT, "flagged": {"type": "boolean"}}},
    "StaleSeq": {"type": "object", "required": ["error", "seq", "saved_at"], "properties": {
        "error": {"$ref": "#/components/schemas/Error/properties/error"},
        "seq": {"type": "integer"}, "saved_at": _DT, "answer": _ANSWER, "flagged": {"type": "boolean"}}},
    "ClientEvent": {"type": "object", "required": ["kind"], "properties": {
        "kind": {"enum": ["page_hidden", "focus_lost", "copy", "paste", "fullscreen_exit"]},
        "data": {"type": "object", "description": "at most 1 KiB of JSON"}, "occurred_at": _DT}},
    "EventsRequest": {"oneOf": [_ref("ClientEvent"), {"type": "object", "required": ["events"], "properties": {
        "events": {"type": "array", "maxItems": 20, "items": _ref("ClientEvent")}}}]},
    "SurveyRequest": {"type": "object", "required": ["answers"], "properties": {
        "answers": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
                    "description": "q1 … q5, 1 = 非常不满意 … 5 = 非常满意"},
        "comment": {"type": "string", "maxLength": 1000}}},
    "ReviewScope": {"enum": ["unmarked", "adding", "recording", "zero_or_absent"],
                    "description": "unmarked 漏评（未评阅部分）; adding 合分错误; recording 登分错误; "
                                   "zero_or_absent 机评试卷零分或无成绩（a wholly machine-scored paper is "
                                   "reviewed only when its score is 0 or absent, and this scope only then)"},
    "ReviewRequest": {"type": "object", "required": ["exam_id", "scope", "reason"], "properties": {
        "exam_id": {"type": "integer"}, "scope": _ref("ReviewScope"),
        "reason": {"type": "string", "minLength": 1, "maxLength": 1000}}},
    "Review": {"type": "object", "required": ["id", "scope", "status", "applied_at", "due_at"], "properties": {
        "id": {"type": "integer"}, "scope": _ref("ReviewScope"), "scope_label": {"type": "string"},
        "status": {"enum": ["open", "answered"]}, "applied_at": _DT,
        "due_at": {**_DT, "description": "the answer is due by then (working days)"},
        "answered_at": _DT_NULL, "answer": {"type": ["string", "null"]},
        "outcome": {"enum": ["unchanged", "corrected", "refused", None]}, "outcome_label": {"type": "string"}}},
    "Result": {"type": "object", "required": ["exam_id", "status", "passed", "can_apply"], "properties": {
        "exam_id": {"type": "integer"}, "batch_id": {"type": "integer"}, "batch_name": {"type": "string"},
        "status": {"enum": ["scored", "absent"]}, "total": {"type": ["number", "null"]},
        "passed": {"type": "boolean"}, "pass_mark": {"type": "number"}, "total_points": {"type": "number"},
        "sections": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "score": {"type": ["number", "null"]}, "max": {"type": "number"}}}},
        "published_at": _DT, "notice_ends_at": {**_DT, "description": "end of the 公示 period"},
        "review_apply_until": _DT, "can_apply": {"type": "boolean"},
        "reviews": {"type": "array", "items": _ref("Review")}}},
}

_AUTH_ERRORS = {"401": _err("error"), "429": _err("error")}
_ATTEMPT_ERRORS = {**_AUTH_ERRORS, "403": _json(_ref("Error"), "Safe Exam Browser required"),
                   "404": _json(_ref("Error"), "no such attempt for this candidate")}
_ATTEMPT_ID = {"name": "attempt_id", "in": "path", "required": True, "schema": _ID}
_SECURED = [{"bearer": []}]


def _op(summary: str, responses: dict, *, body: str | None = None, params=(), security=_SECURED,
        op_id: str) -> dict:
    op = {"summary": summary, "operationId": op_id, "responses": responses, "security": list(security)}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return op


PATHS = {
    "/candidate/session": {
        "post": _op("考生登录（准考证号 + 身份证号 + 考场口令）", {
            "201": _json(_ref("LoginResponse"), "logged in; older sessions ended"),
            "401": _json(_ref("Error"), "bad credentials (one generic message)"), "429": _err("error")},
            body="LoginRequest", security=(), op_id="candidateLogin"),
        "delete": _op("退出登录", {"204": {"description": "logged out"}, **_AUTH_ERRORS},
                      op_id="candidateLogout"),
    },
    "/candidate/exams": {"get": _op("考生的考试及状态", {"200": _json(_ref("ExamList"), "exams"), **_AUTH_ERRORS},
                                    op_id="candidateExams")},
    "/exams/{exam_id}/attempt": {"post": _op("开始（或继续）作答", {
        "200": _json(_ref("Attempt"), "the existing attempt"), "201": _json(_ref("Attempt"), "started"),
        "409": _json(_ref("Error"), "not_started | window_closed | not_available | no_paper"),
        **_ATTEMPT_ERRORS}, params=[{"name": "exam_id", "in": "path", "required": True,
                                     "schema": _ID}], op_id="startAttempt")},
    "/attempts/{attempt_id}": {"get": _op("作答状态、剩余时间与已保存答案", {
        "200": _json(_ref("Attempt"), "state"), **_ATTEMPT_ERRORS}, params=[_ATTEMPT_ID], op_id="getAttempt")},
    "/attempts/{attempt_id}/paper": {"get": _op("本考生的试卷（不含答案）", {
        "200": _json(_ref("Paper"), "items and options in this candidate's order"), **_ATTEMPT_ERRORS},
        params=[_ATTEMPT_ID], op_id="getPaper")},
    "/attempts/{attempt_id}/responses/{item_ref}": {"put": _op("自动保存一道题的答案", {
        "200": _json(_ref("SaveResponse"), "stored and committed (or an exact replay of the stored seq)"),
        "409": _json({"oneOf": [_ref("StaleSeq"), _ref("Error")]},
                     "stale_seq (with the stored state) or attempt_closed (nothing stored)"),
        "422": _json(_ref("Error"), "bad answer shape or seq"),
        "503": _json(_ref("Error"), "not stored; retry with the same seq"), **_ATTEMPT_ERRORS},
        body="SaveRequest", params=[_ATTEMPT_ID, {"name": "item_ref", "in": "path", "required": True,
                                                  "schema": _ID}], op_id="saveResponse")},
    "/attempts/{attempt_id}/submit": {"post": _op("交卷（幂等）", {
        "200": _json(_ref("Attempt"), "final status"), **_ATTEMPT_ERRORS}, params=[_ATTEMPT_ID],
        op_id="submitAttempt")},
    "/attempts/{attempt_id}/events": {"post": _op("上报客户端诚信事件", {
        "202": _json({"type": "object", "properties": {"accepted": {"type": "integer"}}}, "accepted"),
        "422": _json(_ref("Error"), "unknown kind or too large"), **_ATTEMPT_ERRORS},
        body="EventsRequest", params=[_ATTEMPT_ID], op_id="postEvents")},
    "/attempts/{attempt_id}/survey": {"post": _op("提交满意度调查（交卷后，每人一次）", {
        "201": _json({"type": "object", "properties": {"satisfied": {"type": "boolean"},
                                                        "submitted_at": _DT}}, "stored"),
        "409": _json(_ref("Error"), "not_submitted | already_answered"),
        "422": _json(_ref("Error"), "answers out of range"), **_ATTEMPT_ERRORS},
        body="SurveyRequest", params=[_ATTEMPT_ID], op_id="postSurvey")},
    "/candidate/survey": {"get": _op("满意度调查的问题", {"200": _json({"type": "object"}, "questions"),
                                                           **_AUTH_ERRORS}, op_id="surveyQuestions")},
    "/candidate/results": {"get": _op("已发布的成绩（公示期内可申请复核）", {"200": _json({
        "type": "object", "properties": {"results": {"type": "array", "items": _ref("Result")}}},
        "published results only, with review requests"),
        **_AUTH_ERRORS}, op_id="candidateResults")},
    "/candidate/results/review": {"post": _op("申请成绩复核", {
        "201": _json(_ref("Review"), "applied; answered by due_at"),
        "404": _json(_ref("Error"), "no such exam for this candidate"),
        "409": _json(_ref("Error"), "not published | application window closed | a review already open"),
        "422": _json(_ref("Error"), "unknown scope, outside the scope rules, or no reason"), **_AUTH_ERRORS},
        body="ReviewRequest", op_id="applyResultReview")},
    "/openapi.json": {"get": _op("本文档", {"200": _json({"type": "object"}, "OpenAPI 3.1")}, security=(),
                                 op_id="openapi")},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "examsys 考生接口", "version": "1.0.0",
             "description": "Candidate flow of online theory exams. Errors are "
                            "{\"error\": {\"code\", \"message\"}} with a Chinese message; every response is "
                            "Cache-Control: no-store. Times are UTC (ISO 8601); the server decides deadlines."},
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {"Error": _json(_ref("Error"), "error")},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "token from POST /candidate/session"}},
    },
}


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(DOCUMENT)
