"""The supervision file (督导档案) of one organisation, assembled from the records: its directory
entry and history, the batches drawn for supervision, the spot checks with their findings and
rectification, indicator scores over the years (each against the version it was given under),
satisfaction (the share satisfied, the authority's questionnaires answered by its candidates,
interviews), the certificate data return rate, staff certificates and item-statistics flags.
Read-only: the page, the PDF and the assessment dossier all use it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from examsys import audit, clock
from examsys.accounts.models import CertificateKind, Organisation, User
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.campaign.satisfaction import services as satisfaction
from examsys.delivery.models import Batch
from examsys.extensions import db
from examsys.permissions import Role
from examsys.supervision.checks import services as checks
from examsys.supervision.directory.scope import entry_of
from examsys.supervision.indicators import compute
from examsys.supervision.indicators import services as indicators
from examsys.supervision.plans import services as plans


@dataclass
class SupervisionFile:
    organisation: Organisation
    entry: object
    drawn: list[dict]
    checks: list
    findings: dict
    scorecards: list
    staff: dict
    flags: int
    satisfaction: compute.Value
    years: list[int] = field(default_factory=list)
    questionnaires: list = field(default_factory=list)
    interviews: list = field(default_factory=list)
    return_rate: compute.Value | None = None


def _staff(org: Organisation) -> dict:
    today = checks.today()
    users = db.session.scalars(select(User).where(User.organisation_id == org.id, User.active.is_(True)))
    proctors = [u for u in users if u.has_role(Role.PROCTOR)]
    certified = [u for u in proctors if u.valid_certificate(CertificateKind.EXAMINER, today)]
    return {"proctors": len(proctors), "certified": len(certified)}


def assemble(org: Organisation, years: list[int] | None = None) -> SupervisionFile:
    now_year = clock.to_display(clock.now()).year
    years = years or [now_year]
    drawn = []
    for plan in plans.plans():
        for pick in plans.picks(plan):
            batch = pick["batch_obj"]
            if batch is not None and batch.organisation_id == org.id:
                drawn.append({**pick, "year": plan.year})
    rows = checks.checks_of(org)
    all_findings = [f for c in rows for f in c.findings]
    today = checks.today()
    summary = {"total": len(all_findings), "closed": sum(1 for f in all_findings if f.status == "closed"),
               "overdue": sum(1 for f in all_findings if f.overdue(today)),
               "on_time": compute.findings_on_time(org.id, now_year)}
    flags = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.organisation_id == org.id, AuditEvent.action == AuditAction.ITEM_FLAGGED_FOR_REVISION.value)) or 0
    return SupervisionFile(org, entry_of(org.id), drawn, rows, summary,
                           indicators.scorecards(org, years), _staff(org), flags,
                           compute.satisfaction(org.id, now_year), years,
                           satisfaction.questionnaire_lines(org), satisfaction.interviews_of([org.id]),
                           compute.return_rate(org.id, now_year))


def record_view(user: User, org: Organisation) -> None:
    """A look at another organisation's file is recorded in that organisation's record."""
    if user.organisation_id != org.id:
        audit.record(AuditAction.ORGANISATION_FILE_VIEWED, obj=org, organisation_id=org.id, data={"viewer": user.id})


def batches_of(org: Organisation) -> int:
    return db.session.scalar(select(func.count()).select_from(Batch).where(Batch.organisation_id == org.id)) or 0
