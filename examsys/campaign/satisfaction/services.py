"""Satisfaction (满意度) as live numbers: whose organisations a user sees, the share satisfied per
organisation, batch, survey question and month against the 90 % goal, the campaign's
`targets()`, the candidates' comments and the organisations' answers to them, and the records of
interviews (个别访谈). What counts as satisfied is said once, in `figures`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation, OrgKind, User
from examsys.audit.actions import AuditAction
from examsys.campaign import targets as campaign
from examsys.campaign.satisfaction import figures
from examsys.campaign.satisfaction.figures import Count
from examsys.campaign.satisfaction.models import (
    INTERVIEWEE_LABELS,
    CommentAnswer,
    Interview,
    QuestionnaireResponse,
)
from examsys.delivery.exam.services import SURVEY_QUESTIONS
from examsys.delivery.models import Batch
from examsys.delivery.models.survey import SurveyResponse
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_answer_comment,
    may_record_interview,
    may_view_satisfaction,
)
from examsys.supervision.models import SupervisionAssignment

TARGET_KEY = "satisfaction"
TARGET_LABEL = "考生满意度"
MAX_TEXT = 2000


def this_year() -> int:
    return clock.to_display(clock.now()).year


# --- who sees what ------------------------------------------------------------------------------


def supervised_organisations(user: User) -> frozenset[int]:
    """The organisations of the batches `user` supervises now (a running assignment); empty for
    anyone but a supervisor."""
    if not user.has_role(Role.SUPERVISOR):
        return frozenset()
    return frozenset(db.session.scalars(
        select(Batch.organisation_id).join(SupervisionAssignment, SupervisionAssignment.batch_id == Batch.id)
        .where(SupervisionAssignment.supervisor_id == user.id, SupervisionAssignment.ended_at.is_(None))))


def may_view(user: User, org: Organisation) -> bool:
    return bool(may_view_satisfaction(user, org, supervised=org.id in supervised_organisations(user)))


def visible_organisations(user: User) -> list[Organisation]:
    """The evaluation organisations (not the authority's own) whose satisfaction `user` sees."""
    rows = db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY)
                              .order_by(Organisation.code))
    supervised = supervised_organisations(user)
    return [o for o in rows if may_view_satisfaction(user, o, supervised=o.id in supervised)]


def scope_for(user: User, city_id: int | None = None, organisation_id: int | None = None) -> campaign.Scope:
    """The scope a page shows: the one asked for if `user` may see it, else the user's own (the
    province: everything; a city administrator: the city; an organisation: itself). Raises
    NotFound for an organisation or city outside what the user sees."""
    if organisation_id is not None:
        organisation_for(user, organisation_id)
        return campaign.Scope(organisation_id=organisation_id)
    if user.has_role(Role.PROVINCIAL_ADMIN) or user.has_role(Role.SUPERVISOR):
        return campaign.Scope(city_id=city_id)
    if user.has_role(Role.CITY_ADMIN):
        own = user.organisation.city_id
        if city_id is not None and city_id != own:
            raise NotFound("未找到该城市")
        return campaign.Scope(city_id=own)
    return campaign.Scope(organisation_id=user.organisation_id)


def organisation_for(user: User, organisation_id: int) -> Organisation:
    """Raises NotFound (also for an organisation the user may not see: no hint that it exists)."""
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.kind == OrgKind.AUTHORITY or not may_view(user, org):
        raise NotFound("未找到该机构")
    return org


def organisations_in(scope: campaign.Scope, kinds: tuple[OrgKind, ...] = (OrgKind.SOCIAL, OrgKind.EMPLOYER)
                     ) -> list[Organisation]:
    query = select(Organisation).where(Organisation.kind.in_(kinds)).order_by(Organisation.code)
    if scope.organisation_id is not None:
        query = query.where(Organisation.id == scope.organisation_id)
    elif scope.city_id is not None:
        query = query.where(Organisation.city_id == scope.city_id)
    return list(db.session.scalars(query))


# --- the figures --------------------------------------------------------------------------------


def targets(year: int, scope: campaign.Scope) -> list[campaign.Target]:
    """The campaign's satisfaction target: the share of satisfied answers of social training
    evaluation organisations' candidates (社会培训评价组织) in the scope, ≥ 90 % (see `figures`)."""
    ids = [o.id for o in organisations_in(scope, (OrgKind.SOCIAL,))]
    counted = figures.count(figures.answers(year, ids)) if ids else Count(0, 0)
    return [campaign.share(TARGET_KEY, TARGET_LABEL, figures.GOAL, counted.hits, counted.total,
                           endpoint="satisfaction.index")]


@dataclass
class OrgRow:
    organisation: Organisation
    count: Count
    survey: Count
    questionnaire: Count


@dataclass
class Overview:
    year: int
    scope: campaign.Scope
    target: campaign.Target
    total: Count  # every organisation in the scope, employers too
    rows: list[OrgRow]
    months: list[tuple[str, Count]]
    questions: list[tuple[str, Count]]


def _months(answers: list[figures.Answer], year: int) -> list[tuple[str, Count]]:
    """Every month of the year so far (a month without answers too), and any later month that
    holds answers of the year's batches."""
    by_month = defaultdict(list)
    for a in answers:
        by_month[a.month].append(a)
    if not by_month:
        return []
    today = clock.to_display(clock.now())
    last = 12 if year < today.year else today.month
    months = sorted({f"{year}-{m:02d}" for m in range(1, last + 1)} | set(by_month))
    return [(m, figures.count(by_month[m])) for m in months]


def _questions(batch_ids: list[int]) -> list[tuple[str, Count]]:
    """Per post-exam survey question: the answers at 满意 (4) or better."""
    if not batch_ids:
        return [(text, Count(0, 0)) for _key, text in SURVEY_QUESTIONS]
    rows = list(db.session.scalars(select(SurveyResponse.answers).where(SurveyResponse.batch_id.in_(batch_ids))))
    out = []
    for key, text in SURVEY_QUESTIONS:
        values = [r.get(key) for r in rows if isinstance(r.get(key), int)]
        out.append((text, Count(sum(1 for v in values if v >= 4), len(values))))
    return out


def overview(year: int, scope: campaign.Scope, viewer: User | None = None) -> Overview:
    """The scope's figures; with `viewer`, the per-organisation rows are only those the viewer
    may open (a supervisor's: the organisations they supervise)."""
    orgs = organisations_in(scope)
    answers = figures.answers(year, [o.id for o in orgs]) if orgs else []
    by_org = defaultdict(list)
    for a in answers:
        by_org[a.organisation_id].append(a)
    rows = [OrgRow(o, figures.count(by_org[o.id]),
                   figures.count(a for a in by_org[o.id] if a.source == figures.SURVEY),
                   figures.count(a for a in by_org[o.id] if a.source == figures.QUESTIONNAIRE)) for o in orgs]
    if viewer is not None:
        shown = {o.id for o in visible_organisations(viewer)}
        rows = [r for r in rows if r.organisation.id in shown]
    batch_ids = list({a.batch_id for a in answers if a.source == figures.SURVEY})
    return Overview(year, scope, targets(year, scope)[0], figures.count(answers), rows, _months(answers, year),
                    _questions(batch_ids))


@dataclass
class BatchRow:
    batch: Batch
    count: Count


@dataclass
class OrganisationDetail:
    organisation: Organisation
    year: int
    count: Count
    batches: list[BatchRow]
    months: list[tuple[str, Count]]
    questions: list[tuple[str, Count]]
    comments: list[SurveyResponse]
    answers: dict[int, CommentAnswer]
    interviews: list[Interview]


def organisation_detail(org: Organisation, year: int) -> OrganisationDetail:
    answers = figures.answers(year, [org.id])
    batches = figures.year_batches(year, [org.id])
    by_batch = defaultdict(list)
    for a in answers:
        by_batch[a.batch_id].append(a)
    rows = [BatchRow(b, figures.count(by_batch[b.id]))
            for b in sorted(batches.values(), key=lambda b: b.window_start) if by_batch[b.id]]
    comments = comments_of(org, year)
    return OrganisationDetail(org, year, figures.count(answers), rows, _months(answers, year),
                              _questions(list(batches)), comments, answers_to(comments), interviews_of([org.id]))


# --- comments and the organisation's answers ----------------------------------------------------


def comments_of(org: Organisation, year: int) -> list[SurveyResponse]:
    ids = list(figures.year_batches(year, [org.id]))
    if not ids:
        return []
    return list(db.session.scalars(select(SurveyResponse).where(
        SurveyResponse.batch_id.in_(ids), SurveyResponse.comment != "").order_by(SurveyResponse.submitted_at.desc())))


def answers_to(comments: list[SurveyResponse]) -> dict[int, CommentAnswer]:
    if not comments:
        return {}
    rows = db.session.scalars(select(CommentAnswer).where(
        CommentAnswer.survey_response_id.in_([c.id for c in comments])))
    return {r.survey_response_id: r for r in rows}


def comment_for(user: User, response_id: int) -> SurveyResponse:
    """A candidate's comment `user` may see; NotFound otherwise (no hint that it exists)."""
    response = db.session.get(SurveyResponse, response_id)
    if response is None or not response.comment \
            or not may_view(user, db.session.get(Organisation, response.roster_entry.batch.organisation_id)):
        raise NotFound("未找到该条意见")
    return response


def answer_comment(user: User, response_id: int, text: str) -> CommentAnswer:
    """The organisation answers a candidate's comment, once. Raises NotFound (no such comment, or
    one the user may not see), PermissionDenied (not this organisation's administrator),
    ValidationError (empty or too long) or Conflict (already answered)."""
    response = comment_for(user, response_id)
    org = db.session.get(Organisation, response.roster_entry.batch.organisation_id)
    may_answer_comment(user, org.id).enforce()
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写答复内容", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"答复不能超过 {MAX_TEXT} 个字", field="text")
    if db.session.scalar(select(CommentAnswer.id).where(CommentAnswer.survey_response_id == response.id)):
        raise Conflict("该条意见已经答复过")
    row = CommentAnswer(survey_response_id=response.id, text=text, answered_by_id=user.id, answered_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.SURVEY_COMMENT_ANSWERED, obj=row, organisation_id=org.id,
                 data={"survey_response": response.id, "batch": response.batch_id})
    return row


# --- interviews -----------------------------------------------------------------------------------


def interviews_of(organisation_ids: list[int]) -> list[Interview]:
    if not organisation_ids:
        return []
    return list(db.session.scalars(select(Interview).where(Interview.organisation_id.in_(organisation_ids))
                                   .order_by(Interview.held_on.desc(), Interview.id.desc())))


def record_interview(user: User, org: Organisation, *, held_on: date | None, interviewee_role: str,
                     interviewee: str, summary: str, satisfied: bool, findings: str) -> Interview:
    """Raises PermissionDenied (not the authority over this organisation) or ValidationError
    (a field missing, too long, or a date in the future)."""
    may_record_interview(user, org, supervised=org.id in supervised_organisations(user)).enforce()
    if org.kind == OrgKind.AUTHORITY:
        raise ValidationError("请选择评价机构", field="organisation")
    if held_on is None:
        raise ValidationError("请填写访谈日期", field="held_on")
    if held_on > clock.to_display(clock.now()).date():
        raise ValidationError("访谈日期不能晚于今天", field="held_on")
    if interviewee_role not in INTERVIEWEE_LABELS:
        raise ValidationError("请选择访谈对象", field="interviewee_role")
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError("请填写访谈情况", field="summary")
    for name, value, limit in (("summary", summary, MAX_TEXT), ("findings", findings or "", MAX_TEXT),
                               ("interviewee", interviewee or "", 100)):
        if len(value.strip()) > limit:
            raise ValidationError(f"内容过长（不超过 {limit} 个字）", field=name)
    row = Interview(organisation_id=org.id, held_on=held_on, interviewee_role=interviewee_role,
                    interviewee=(interviewee or "").strip(), summary=summary, satisfied=bool(satisfied),
                    findings=(findings or "").strip(), recorded_by_id=user.id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.INTERVIEW_RECORDED, obj=row, organisation_id=org.id,
                 data={"held_on": held_on.isoformat(), "role": interviewee_role, "satisfied": bool(satisfied)})
    return row


@dataclass
class QuestionnaireLine:
    questionnaire: object
    responses: int
    satisfied: int
    rated: int


def questionnaire_lines(org: Organisation) -> list[QuestionnaireLine]:
    """Per questionnaire answered by the organisation's candidates: responses and satisfied ones
    (for the organisation's supervision file)."""
    rows = db.session.scalars(select(QuestionnaireResponse).where(QuestionnaireResponse.organisation_id == org.id))
    by_q: dict[int, list[QuestionnaireResponse]] = defaultdict(list)
    for r in rows:
        by_q[r.questionnaire_id].append(r)
    return [QuestionnaireLine(rs[0].questionnaire, len(rs), sum(1 for r in rs if r.satisfied),
                              sum(1 for r in rs if r.satisfied is not None))
            for _qid, rs in sorted(by_q.items())]


def interviewable(user: User) -> list[Organisation]:
    """The organisations `user` may record an interview with."""
    rows = db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY)
                              .order_by(Organisation.code))
    supervised = supervised_organisations(user)
    return [o for o in rows if may_record_interview(user, o, supervised=o.id in supervised)]


__all__ = ["BatchRow", "OrgRow", "OrganisationDetail", "Overview", "QuestionnaireLine", "TARGET_KEY",
           "answer_comment", "answers_to", "comments_of", "interviewable", "interviews_of", "organisation_detail",
           "organisation_for", "organisations_in", "overview", "questionnaire_lines", "record_interview",
           "scope_for", "targets", "this_year", "visible_organisations"]
