"""The satisfaction survey a candidate answers after handing in: five Likert questions (1–5) and
an optional comment, once per roster entry. `satisfied` = mean answer ≥ 4."""

from __future__ import annotations

from sqlalchemy import select

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.audit.services import current_context
from examsys.delivery.exam.candidate_auth import candidate_context
from examsys.delivery.models import Attempt, AttemptStatus, RosterEntry, SurveyResponse
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db

QUESTIONS = [
    ("q1", "您对考前通知和考务安排是否满意？"),
    ("q2", "您对考场环境和设备是否满意？"),
    ("q3", "您对考评人员的服务和纪律是否满意？"),
    ("q4", "您对考试系统的易用性和稳定性是否满意？"),
    ("q5", "您对本次评价的总体情况是否满意？"),
]
SCALE = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}
SATISFIED_MEAN = 4.0
MAX_COMMENT = 1000


def submit_survey(entry: RosterEntry, answers: dict, comment: str | None = "") -> SurveyResponse:
    """Store the survey. Raises ValidationError (answers not 1–5 for every question, comment too
    long) or Conflict (exam not handed in yet — code `not_submitted` — or already answered)."""
    attempt = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == entry.id))
    if attempt is None or attempt.status == AttemptStatus.IN_PROGRESS:
        exc = Conflict("请先交卷，再填写满意度调查")
        exc.code = "not_submitted"
        raise exc
    if not isinstance(answers, dict):
        raise ValidationError("请回答全部问题", field="answers")
    clean = {}
    for key, _text in QUESTIONS:
        value = answers.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
            raise ValidationError("请为每个问题选择 1 至 5 分", field=key)
        clean[key] = value
    comment = comment if isinstance(comment, str) else ""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"意见建议不能超过 {MAX_COMMENT} 个字", field="comment")
    if db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.roster_entry_id == entry.id)):
        exc = Conflict("您已提交过满意度调查，感谢参与")
        exc.code = "already_answered"
        raise exc
    satisfied = sum(clean.values()) / len(clean) >= SATISFIED_MEAN
    row = SurveyResponse(roster_entry_id=entry.id, batch_id=entry.batch_id, answers=clean, comment=comment,
                         satisfied=satisfied, submitted_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.SURVEY_RESPONSE_SUBMITTED, obj=row, organisation_id=entry.batch.organisation_id,
                 data={"satisfied": satisfied},
                 context=candidate_context(entry, ip=None, user_agent=None) if not _has_ctx() else None)
    return row


def _has_ctx() -> bool:
    return current_context().label is not None


__all__ = ["QUESTIONS", "SCALE", "submit_survey"]
