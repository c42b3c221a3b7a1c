"""The access tests' world: the demo (examsys.demo.loader) as the *victim* — organisation
SKILL-01 in 东城市 with one of every object (items and versions, a blueprint, papers and forms,
batches with rooms, rosters, attempts, results, item scores to mark, score corrections, score
review requests, key fixes, incidents, supervision forms and findings, a spot check with a
finding and its photo, a job, an image asset, users with certificates, candidates, the
directory entry, the 双随机 plan) — and a *foreign* organisation in 西江市 with one user of every
staff role, a 西江市 city administrator, a supervisor assigned to nothing and a candidate of a
live batch of its own (tests/delivery/world.py).

Every victim object that has a free-text name carries `MARK`, so a response that shows one of
them is caught by a plain substring test. `ids` maps each URL argument name of the URL map to
the victim's value for it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from examsys import clock
from examsys.accounts import services as accounts
from examsys.accounts.candidates import set_candidate_photo
from examsys.accounts.models import Candidate, CertificateKind, City, Organisation, OrgKind, User
from examsys.analysis.models import KeyFix
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem
from examsys.audit.archive.jobs import KIND as ARCHIVE_JOB
from examsys.bank import assets
from examsys.campaign.certdata.models import CertProblem, CertRecord, CertReport, CertWarning, WarningRule
from examsys.campaign.satisfaction.models import Questionnaire, QuestionnaireQuestion
from examsys.campaign.workforce.models import TrainingCourse
from examsys.delivery.models import (
    Attempt,
    Batch,
    BatchRoom,
    Incident,
    IncidentKind,
    ItemScore,
    ReviewScope,
    RosterEntry,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.models.survey import SurveyResponse
from examsys.demo import past_batch, stats_batch
from examsys.demo.loader import load_demo
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from examsys.standards.models import AssessmentPoint, KnowledgeRange, Standard
from examsys.supervision import services as supervision
from examsys.supervision.checks import services as checks
from examsys.supervision.checks.models import SpotFinding
from examsys.supervision.directory.models import DirectoryEntry
from examsys.supervision.indicators import versions as indicator_versions
from examsys.supervision.models import SupervisionAssignment
from examsys.supervision.plans.models import SupervisionDraw, SupervisionPlan
from tests import factories
from tests.assembly.app_factories import make_item
from tests.delivery.world import DeliveryWorld, build_world

MARK = "VICTIM-MARK-4e61b0"
VICTIM_CODE = "SKILL-01"

# The foreign roles, by name (a supervisor and a city administrator belong to the authority).
STAFF_ROLES = {
    "org_admin": Role.ORG_ADMIN,
    "writer": Role.WRITER,
    "reviewer": Role.REVIEWER,
    "exam_admin": Role.EXAM_ADMIN,
    "proctor": Role.PROCTOR,
    "city_admin": Role.CITY_ADMIN,
    "supervisor": Role.SUPERVISOR,
}


@dataclass
class AccessWorld:
    victim: Organisation
    ids: dict  # URL argument → victim value
    foreign: dict  # role name → User of the foreign side
    foreign_world: DeliveryWorld
    mark: str = MARK
    objects: dict = field(default_factory=dict)  # name → victim object


# Tables that a refused request writes to on purpose: the process record of refusals (denials
# are recorded), sessions touched, rate-limit counters.
WRITTEN_BY_REFUSALS = {"audit_events", "user_sessions", "candidate_sessions", "rate_limit_hits", "login_throttles"}


def table_counts(db) -> dict[str, int]:
    """Rows per table (but WRITTEN_BY_REFUSALS): equal before and after means nothing was written."""
    db.session.rollback()
    return {name: db.session.scalar(select(func.count()).select_from(table))
            for name, table in db.metadata.tables.items() if name not in WRITTEN_BY_REFUSALS}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (12, 34, 56)).save(buf, format="PNG")
    return buf.getvalue()


def _first(db, stmt):
    row = db.session.scalars(stmt.limit(1)).first()
    assert row is not None, f"the access world lacks {stmt}"
    return row


def _mark_victim(db, victim: Organisation) -> None:
    """Put MARK into every free-text name of the victim's objects that pages show."""
    for batch in db.session.scalars(select(Batch).where(Batch.organisation_id == victim.id)):
        batch.name = f"{batch.name}{MARK}"
        batch.venue = f"{batch.venue or ''}{MARK}"
    for paper in db.session.scalars(select(Paper).where(Paper.organisation_id == victim.id)):
        paper.name = f"{paper.name}{MARK}"
    for pb in db.session.scalars(select(PaperBlueprint).where(PaperBlueprint.organisation_id == victim.id)):
        pb.name = f"{pb.name}{MARK}"
    for cand in db.session.scalars(select(Candidate).where(Candidate.organisation_id == victim.id)):
        cand.name = f"{cand.name}{MARK}"
    for user in db.session.scalars(select(User).where(User.organisation_id == victim.id)):
        user.display_name = f"{user.display_name}{MARK}"
    db.session.flush()


def build_access_world(db) -> AccessWorld:
    make = factories.Factories(db)
    load_demo()
    victim = db.session.scalar(select(Organisation).where(Organisation.code == VICTIM_CODE))
    users = {u.username: u for u in db.session.scalars(select(User))}
    past = db.session.scalar(select(Batch).where(Batch.name == past_batch.NAME))
    marked = db.session.scalar(select(Batch).where(Batch.name == stats_batch.NAME))
    standard = db.session.get(Standard, past.standard_id)

    # Objects the demo does not make for the victim, made the way the product makes them.
    item = make_item(victim, standard, users["writer"], _first(db, select(AssessmentPoint.code).where(
        AssessmentPoint.standard_id == standard.id)), "single", content={
        "stem": f"单选题 {MARK}：下列哪个是电压单位（  ）。",
        "options": [{"label": x, "text": f"选项{x}"} for x in "ABCD"], "key": "B",
        "explanation": f"解析 {MARK}"})
    asset = assets.store_image(users["writer"], victim, "victim.png", _png())
    supervisor = users["supervisor"]
    check = checks.record_check(supervisor, past, mode="after", checked_on=clock.now().date() - timedelta(days=1),
                                summary=f"检查 {MARK}", checklist=[{"code": "S2", "ok": True}])
    finding = checks.add_finding(supervisor, check, severity="minor", text=f"问题 {MARK}",
                                 photos=[("photo.png", _png())])
    form = supervision.save_form(supervisor, past, checks=[], conclusion=f"结论 {MARK}")
    attempt = _first(db, select(Attempt).where(Attempt.batch_id == past.id).order_by(Attempt.id))
    form_item = _first(db, select(PaperFormItem).join(PaperForm).where(PaperForm.paper_id == past.paper_id))
    marked_form_item = _first(db, select(PaperFormItem).join(PaperForm).where(PaperForm.paper_id == marked.paper_id))
    admin = users["examadmin"]
    job = Job(kind=ARCHIVE_JOB, requested_by_id=admin.id, organisation_id=victim.id, object_type="batch",
              object_id=past.id, params={}, state=JobState.QUEUED, created_at=clock.now())
    fix = KeyFix(batch_id=marked.id, form_item_id=marked_form_item.id, item_version_id=marked_form_item.item_version_id,
                 old_key="A", new_key="B", reason=f"改正 {MARK}", confirmed_by_id=users["reviewer"].id,
                 confirmed_at=clock.now())
    correction = ScoreCorrection(attempt_id=attempt.id, corrected_score=1.0, reason=f"更正 {MARK}",
                                 requested_by_id=admin.id, requested_at=clock.now())
    review_request = ScoreReviewRequest(batch_id=past.id, roster_entry_id=attempt.roster_entry_id,
                                        attempt_id=attempt.id, scope=ReviewScope.ADDING, reason=f"申请复核 {MARK}",
                                        applied_at=clock.now(), due_at=clock.now() + timedelta(days=5))
    incident = Incident(batch_id=past.id, room_id=attempt.roster_entry.room_id, attempt_id=attempt.id,
                        kind=IncidentKind.NOTE,
                        reason=f"考场记录 {MARK}", data={}, recorded_by_id=users["proctor"].id,
                        recorded_at=clock.now())
    set_candidate_photo(attempt.roster_entry.candidate, "photo.png", _png())
    db.session.add_all([job, fix, correction, review_request, incident])
    db.session.flush()
    _mark_victim(db, victim)

    # The foreign side, in the other city.
    other_city = db.session.scalar(select(City).where(City.id != victim.city_id).order_by(City.id))
    fw = build_world(db)
    fw.org.city_id = other_city.id
    city_office = accounts.create_organisation("ACCESS-CITY", "外市人社局", OrgKind.AUTHORITY, other_city)
    foreign = {}
    for name, role in STAFF_ROLES.items():
        org = city_office if role == Role.CITY_ADMIN else (None if role == Role.SUPERVISOR else fw.org)
        certs = (CertificateKind.SUPERVISOR,) if role == Role.SUPERVISOR else ()
        foreign[name] = make.user(roles=(role,), org=org, username=f"foreign_{name}", certificates=certs)
    if foreign["supervisor"].organisation_id != users["supervisor"].organisation_id:
        foreign["supervisor"].organisation_id = users["supervisor"].organisation_id
    db.session.flush()

    ids = {
        "batch_id": past.id, "exam_id": db.session.scalar(select(Batch.id).where(
            Batch.organisation_id == victim.id).order_by(Batch.window_start.desc()).limit(1)),
        "attempt_id": attempt.id, "form_item_id": form_item.id, "item_ref": form_item.id,
        "room_id": attempt.roster_entry.room_id,
        "blueprint_id": _first(db, select(PaperBlueprint.id).where(PaperBlueprint.organisation_id == victim.id)),
        "paper_id": past.paper_id, "label": "A", "sha256": asset.sha256, "item_id": item.id,
        "version_id": item.active_version_id, "candidate_id": attempt.roster_entry.candidate_id,
        "correction_id": correction.id,
        "item_score_id": _first(db, select(ItemScore.id).where(ItemScore.batch_id == marked.id)),
        "request_id": review_request.id, "fix_id": fix.id, "job_id": job.id,
        "entry_id": _first(db, select(DirectoryEntry.id).where(DirectoryEntry.organisation_id == victim.id)),
        "org_id": victim.id,
        "plan_id": _first(db, select(SupervisionPlan.id)),
        "number": _first(db, select(SupervisionDraw.number)),
        "what": "result",
        "check_id": check.id, "finding_id": finding.id, "step": "answer",
        "standard_id": standard.id,
        "point_id": _first(db, select(AssessmentPoint.id).where(AssessmentPoint.standard_id == standard.id)),
        "range_id": _first(db, select(KnowledgeRange.id).where(KnowledgeRange.standard_id == standard.id)),
        "assignment_id": _first(db, select(SupervisionAssignment.id).where(SupervisionAssignment.batch_id == past.id)),
        "form_id": form.id, "user_id": users["examadmin"].id,
    }
    # The campaign's objects of the victim (or of its city, for what a city owns).
    rule = _first(db, select(WarningRule))
    warning = CertWarning(rule_id=rule.id, organisation_id=victim.id, city_id=victim.city_id, period="2026-01",
                          message=f"预警 {MARK}", figures={}, raised_at=clock.now())
    db.session.add(warning)
    db.session.flush()
    questionnaire = _first(db, select(Questionnaire).where(Questionnaire.city_id == victim.city_id))
    ids.update({
        "response_id": _first(db, select(SurveyResponse.id).join(Batch, Batch.id == SurveyResponse.batch_id).where(
            Batch.organisation_id == victim.id)),
        "questionnaire_id": questionnaire.id,
        "question_id": _first(db, select(QuestionnaireQuestion.id).where(
            QuestionnaireQuestion.questionnaire_id == questionnaire.id)),
        "action": "publish",
        "problem_id": _first(db, select(CertProblem.id).where(CertProblem.organisation_id == victim.id)),
        "report_id": _first(db, select(CertReport.id).where(CertReport.organisation_id == victim.id)),
        "fmt": "xlsx",
        "record_id": _first(db, select(CertRecord.id).where(CertRecord.organisation_id == victim.id)),
        "warning_id": warning.id,
        "course_id": _first(db, select(TrainingCourse.id).where(TrainingCourse.city_id == victim.city_id)),
    })
    # A draft of the indicator system (the province's own object: only the province reads or edits it).
    draft = indicator_versions.new_draft(users["province"], note=f"修订 {MARK}")
    ids.update({"set_id": draft.id, "indicator_code": "S1", "dimension_key": "system"})
    photo = db.session.get(SpotFinding, finding.id).photos[0]
    ids["finding_photo"] = photo["sha256"] if isinstance(photo, dict) else photo
    objects = {"past_batch": past, "marked_batch": marked, "attempt": attempt, "item": item, "check": check,
               "finding": finding, "form": form, "room": db.session.get(BatchRoom, ids["room_id"]),
               "entry": db.session.get(RosterEntry, attempt.roster_entry_id)}
    return AccessWorld(victim=victim, ids=ids, foreign=foreign, foreign_world=fw, objects=objects)
