"""The authority's questionnaires (问卷调查) of the candidates of evaluation organisations: the
builder (scale 1–5, single and multiple choice, free-text questions, in order), publishing (a
published questionnaire's questions never change: a change is a copy), distribution to chosen
batches by a public link and its QR code, the candidate's response (identified by admission
ticket number + ID number through the blind index, nothing more; once per candidate; failures
counted toward the ticket's lock-out like the exam sign-in), and the results per question."""

from __future__ import annotations

import hmac
import io
import math
import secrets
from datetime import timedelta

import segno
from flask import current_app
from sqlalchemy import select

from examsys import audit, clock, transaction
from examsys.accounts import idnumber, throttle
from examsys.accounts.candidates import id_index
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext
from examsys.campaign.satisfaction.models import (
    CLOSED,
    DRAFT,
    KIND_LABELS,
    MULTIPLE,
    PUBLISHED,
    SCALE,
    SCALE_LABELS,
    SINGLE,
    TEXT,
    Questionnaire,
    QuestionnaireDistribution,
    QuestionnaireQuestion,
    QuestionnaireResponse,
)
from examsys.delivery.exam.services import candidate_context
from examsys.delivery.models import Batch, RosterEntry
from examsys.errors import AuthenticationFailed, Conflict, NotFound, RateLimited, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_distribute_to,
    may_edit_questionnaire,
    may_manage_questionnaires,
)

MAX_QUESTIONS = 50
MAX_OPTIONS = 20
MAX_ANSWER = 1000
SATISFIED_MEAN = 4.0
IDENTIFY_FAILED = "准考证号或身份证号不正确，或您不在本问卷的调查范围内"


# --- the builder ----------------------------------------------------------------------------------


def visible(user: User) -> list[Questionnaire]:
    """The questionnaires `user` manages: the province all, a city administrator its city's and
    the province's (which it may read and copy, not change)."""
    if not may_manage_questionnaires(user):
        return []
    query = select(Questionnaire).order_by(Questionnaire.created_at.desc(), Questionnaire.id.desc())
    if not user.has_role(Role.PROVINCIAL_ADMIN):
        query = query.where((Questionnaire.city_id.is_(None)) | (Questionnaire.city_id == user.organisation.city_id))
    return list(db.session.scalars(query))


def get(user: User, questionnaire_id: int) -> Questionnaire:
    """Raises NotFound (also for another city's questionnaire)."""
    row = db.session.get(Questionnaire, questionnaire_id)
    if row is None or row not in visible(user):
        raise NotFound("未找到该问卷")
    return row


def _record(action: AuditAction, user: User, row: Questionnaire, data: dict | None = None) -> None:
    audit.record(action, obj=row, organisation_id=user.organisation_id, data=data or {})


def create(user: User, title: str, intro: str = "") -> Questionnaire:
    """A draft of the province (city None) or of the user's city. Raises PermissionDenied or
    ValidationError (title empty or too long)."""
    may_manage_questionnaires(user).enforce()
    title = (title or "").strip()
    if not title:
        raise ValidationError("请填写问卷标题", field="title")
    if len(title) > 200 or len(intro or "") > 2000:
        raise ValidationError("问卷标题或说明过长", field="title")
    city_id = None if user.has_role(Role.PROVINCIAL_ADMIN) else user.organisation.city_id
    row = Questionnaire(title=title, intro=(intro or "").strip(), city_id=city_id, status=DRAFT,
                        created_by_id=user.id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    _record(AuditAction.QUESTIONNAIRE_CREATED, user, row, {"title": title})
    return row


def _draft(user: User, row: Questionnaire) -> None:
    may_edit_questionnaire(user, row).enforce()
    if row.status != DRAFT:
        raise Conflict("问卷已发布，题目不能再修改；如需修改请复制为新问卷")


def parse_options(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def add_question(user: User, row: Questionnaire, *, kind: str, text: str, options: list[str] | None = None,
                 required: bool = True) -> QuestionnaireQuestion:
    """Raises PermissionDenied, Conflict (published) or ValidationError (kind, text, options)."""
    _draft(user, row)
    if kind not in KIND_LABELS:
        raise ValidationError("请选择题型", field="kind")
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise ValidationError("请填写题目（不超过 500 字）", field="text")
    options = [o.strip() for o in options or [] if o.strip()]
    if kind in (SINGLE, MULTIPLE):
        if len(options) < 2:
            raise ValidationError("选择题至少需要两个选项，每行一个", field="options")
        if len(options) > MAX_OPTIONS or any(len(o) > 100 for o in options):
            raise ValidationError(f"选项不超过 {MAX_OPTIONS} 个，每个不超过 100 字", field="options")
        if len(set(options)) != len(options):
            raise ValidationError("选项不能重复", field="options")
    else:
        options = []
    if len(row.questions) >= MAX_QUESTIONS:
        raise ValidationError(f"一份问卷最多 {MAX_QUESTIONS} 题", field="text")
    question = QuestionnaireQuestion(kind=kind, text=text, options=options, required=bool(required),
                                     position=len(row.questions) + 1)
    row.questions.append(question)
    db.session.flush()
    _record(AuditAction.QUESTIONNAIRE_CHANGED, user, row, {"added": question.id, "kind": kind})
    return question


def _question(row: Questionnaire, question_id: int) -> QuestionnaireQuestion:
    question = next((q for q in row.questions if q.id == question_id), None)
    if question is None:
        raise NotFound("未找到该题目")
    return question


def move_question(user: User, row: Questionnaire, question_id: int, up: bool) -> None:
    """Swap a question with the one before (`up`) or after it. Raises as add_question."""
    _draft(user, row)
    ordered = list(row.questions)
    i = ordered.index(_question(row, question_id))
    j = i - 1 if up else i + 1
    if not 0 <= j < len(ordered):
        return
    ordered[i], ordered[j] = ordered[j], ordered[i]
    _renumber(row, ordered)
    _record(AuditAction.QUESTIONNAIRE_CHANGED, user, row, {"moved": question_id, "up": up})


def remove_question(user: User, row: Questionnaire, question_id: int) -> None:
    _draft(user, row)
    question = _question(row, question_id)
    ordered = [q for q in row.questions if q is not question]
    row.questions.remove(question)
    db.session.flush()
    _renumber(row, ordered)
    _record(AuditAction.QUESTIONNAIRE_CHANGED, user, row, {"removed": question_id})


def _renumber(row: Questionnaire, ordered: list[QuestionnaireQuestion]) -> None:
    # Positions are not unique in the table, so a swap needs no intermediate values.
    for n, q in enumerate(ordered, 1):
        q.position = n
    db.session.flush()
    db.session.expire(row, ["questions"])


def publish(user: User, row: Questionnaire) -> None:
    """Freeze the questions and make the public link. Raises PermissionDenied, Conflict (not a
    draft) or ValidationError (no question)."""
    _draft(user, row)
    if not row.questions:
        raise ValidationError("问卷至少需要一道题目才能发布", field="questions")
    row.status, row.published_at, row.token = PUBLISHED, clock.now(), secrets.token_urlsafe(16)
    db.session.flush()
    _record(AuditAction.QUESTIONNAIRE_PUBLISHED, user, row, {"questions": len(row.questions)})


def copy(user: User, row: Questionnaire) -> Questionnaire:
    """A new draft with the same questions, owned by the user's level (province or city)."""
    may_manage_questionnaires(user).enforce()
    new = create(user, f"{row.title}（副本）"[:200], row.intro)
    new.copied_from_id = row.id
    for q in row.questions:
        new.questions.append(QuestionnaireQuestion(kind=q.kind, text=q.text, options=list(q.options),
                                                   required=q.required, position=q.position))
    db.session.flush()
    _record(AuditAction.QUESTIONNAIRE_COPIED, user, new, {"from": row.id})
    return new


def close(user: User, row: Questionnaire) -> None:
    """No more responses. Raises PermissionDenied or Conflict (not published)."""
    may_edit_questionnaire(user, row).enforce()
    if row.status != PUBLISHED:
        raise Conflict("只有已发布的问卷可以结束")
    row.status = CLOSED
    db.session.flush()
    _record(AuditAction.QUESTIONNAIRE_CLOSED, user, row)


def distributable_batches(user: User, row: Questionnaire) -> list[Batch]:
    """Batches of the organisations the owner oversees that have candidates and are not yet sent
    this questionnaire, newest first."""
    done = {d.batch_id for d in row.distributions}
    rows = db.session.scalars(select(Batch).where(Batch.roster.any()).order_by(Batch.window_start.desc()))
    return [b for b in rows if b.id not in done and may_distribute_to(user, row, organisation_of(b))]


def organisation_of(batch: Batch) -> Organisation:
    return db.session.get(Organisation, batch.organisation_id)


def distribute(user: User, row: Questionnaire, batch_ids: list[int]) -> list[QuestionnaireDistribution]:
    """Send a published questionnaire to the candidates of these batches (all or none). Raises
    ValidationError (no batch chosen), Conflict (not published), NotFound or PermissionDenied (a
    batch outside the owner's area)."""
    may_edit_questionnaire(user, row).enforce()
    if row.status != PUBLISHED:
        raise Conflict("请先发布问卷，再发放")
    if not batch_ids:
        raise ValidationError("请至少选择一个批次", field="batches")
    done = {d.batch_id for d in row.distributions}
    out = []
    for batch_id in dict.fromkeys(batch_ids):
        batch = db.session.get(Batch, batch_id)
        if batch is None:
            raise NotFound("未找到所选批次")
        may_distribute_to(user, row, organisation_of(batch)).enforce()
        if batch.id in done:
            continue
        dist = QuestionnaireDistribution(batch_id=batch.id, distributed_by_id=user.id, distributed_at=clock.now())
        row.distributions.append(dist)
        db.session.flush()
        audit.record(AuditAction.QUESTIONNAIRE_DISTRIBUTED, obj=row, organisation_id=batch.organisation_id,
                     data={"batch": batch.id, "batch_name": batch.name})
        out.append(dist)
    return out


def qr_svg(url: str) -> str:
    """The public link as a QR code (SVG text, for the page and for printing)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode("utf-8")


# --- the candidate's side -------------------------------------------------------------------------


def by_token(token: str) -> Questionnaire:
    """A published (or closed) questionnaire by its public link. Raises NotFound."""
    row = db.session.scalar(select(Questionnaire).where(Questionnaire.token == (token or "")[:64]))
    if row is None or row.status == DRAFT:
        raise NotFound("未找到该问卷，请核对链接")
    return row


def _failure(row: Questionnaire, ticket_no: str, reason: str, ip: str | None) -> AuthenticationFailed:
    """The refusal; its audit event and its count toward the ticket's lock-out are written after
    the rollback, as for the exam sign-in."""

    def keep() -> None:
        if reason not in ("locked", "bad_ticket"):
            cfg = current_app.config
            throttle.record_failure(
                throttle.key_for("ticket", ticket_no), threshold=cfg["EXAMSYS_CANDIDATE_LOCKOUT_THRESHOLD"],
                base=timedelta(minutes=cfg["EXAMSYS_CANDIDATE_LOCKOUT_MINUTES"]), escalate=True,
                cap=timedelta(minutes=cfg["EXAMSYS_CANDIDATE_LOCKOUT_MAX_MINUTES"]))
        audit.record(AuditAction.QUESTIONNAIRE_LOGIN_FAILED, obj=row, data={"ticket_no": ticket_no[:32],
                                                                            "reason": reason},
                     context=AuditContext(label=f"candidate:{ticket_no[:32]}", ip=ip))

    transaction.on_rollback(keep)
    return AuthenticationFailed(IDENTIFY_FAILED)


def identify(row: Questionnaire, ticket_no: str, id_number: str, *, ip: str | None = None) -> RosterEntry:
    """The roster entry of a candidate of a batch this questionnaire was sent to. Raises
    RateLimited (the ticket is locked after repeated failures) or AuthenticationFailed (one
    message for every failure)."""
    ticket_no = (ticket_no or "").strip() if isinstance(ticket_no, str) else ""
    if not ticket_no or len(ticket_no) > 32:
        raise _failure(row, ticket_no, "bad_ticket", ip)
    until = throttle.locked_until(throttle.key_for("ticket", ticket_no))
    if until is not None:
        wait = max(1, math.ceil((until - clock.now()).total_seconds()))
        _failure(row, ticket_no, "locked", ip)
        raise RateLimited(f"该准考证号核验失败次数过多，请 {(wait + 59) // 60} 分钟后再试",
                          details={"retry_after": wait})
    entry = db.session.scalar(select(RosterEntry).where(RosterEntry.ticket_no == ticket_no))
    try:
        wanted = id_index(idnumber.validate(id_number if isinstance(id_number, str) else ""))
    except idnumber.InvalidIdNumber:
        wanted = None
    if entry is None:
        raise _failure(row, ticket_no, "unknown_ticket", ip)
    if wanted is None or not hmac.compare_digest(entry.candidate.id_number_index.encode(), wanted.encode()):
        raise _failure(row, ticket_no, "id_mismatch", ip)
    if entry.batch_id not in {d.batch_id for d in row.distributions}:
        raise _failure(row, ticket_no, "not_distributed", ip)
    throttle.clear(throttle.key_for("ticket", ticket_no))
    return entry


def _answer(question: QuestionnaireQuestion, raw: list[str]):
    """The stored answer of one question from the form's values, or None when unanswered."""
    values = [v.strip() for v in raw if isinstance(v, str) and v.strip()]
    if not values:
        return None
    where = f"第 {question.position} 题"
    if question.kind == TEXT:
        if len(values[0]) > MAX_ANSWER:
            raise ValidationError(f"{where}：不超过 {MAX_ANSWER} 字", field=f"q{question.id}")
        return values[0]
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        raise ValidationError(f"{where}：请从选项中选择", field=f"q{question.id}") from None
    if question.kind == SCALE:
        if numbers[0] not in SCALE_LABELS:
            raise ValidationError(f"{where}：请选择 1 至 5 分", field=f"q{question.id}")
        return numbers[0]
    if any(not 0 <= n < len(question.options) for n in numbers):
        raise ValidationError(f"{where}：请从选项中选择", field=f"q{question.id}")
    return numbers[0] if question.kind == SINGLE else sorted(set(numbers))


def submit(row: Questionnaire, entry: RosterEntry, form: dict[str, list[str]], *, ip: str | None = None
           ) -> QuestionnaireResponse:
    """Store one candidate's answers (`form`: field `q<question id>` → its values). Raises
    Conflict (closed, or already answered) or ValidationError (naming the question)."""
    if row.status != PUBLISHED:
        raise Conflict("该问卷已结束，感谢您的关注")
    if db.session.scalar(select(QuestionnaireResponse.id).where(
            QuestionnaireResponse.questionnaire_id == row.id, QuestionnaireResponse.roster_entry_id == entry.id)):
        raise Conflict("您已填写过本问卷，感谢参与")
    answers = {}
    for question in row.questions:
        value = _answer(question, form.get(f"q{question.id}", []))
        if value is None and question.required:
            raise ValidationError(f"第 {question.position} 题：请作答", field=f"q{question.id}")
        if value is not None:
            answers[str(question.id)] = value
    scale = [v for q in row.questions if q.kind == SCALE and (v := answers.get(str(q.id))) is not None]
    satisfied = (sum(scale) / len(scale) >= SATISFIED_MEAN) if scale else None
    response = QuestionnaireResponse(questionnaire_id=row.id, roster_entry_id=entry.id, batch_id=entry.batch_id,
                                     organisation_id=entry.batch.organisation_id, answers=answers,
                                     satisfied=satisfied, submitted_at=clock.now())
    db.session.add(response)
    db.session.flush()
    audit.record(AuditAction.QUESTIONNAIRE_RESPONSE_SUBMITTED, obj=response,
                 organisation_id=entry.batch.organisation_id, data={"questionnaire": row.id, "satisfied": satisfied},
                 context=candidate_context(entry, ip=ip, user_agent=None))
    return response


__all__ = ["IDENTIFY_FAILED", "add_question", "by_token", "close", "copy", "create", "distributable_batches",
           "distribute", "get", "identify", "move_question", "organisation_of", "parse_options", "publish", "qr_svg",
           "remove_question", "submit", "visible"]
