"""The computed indicators: each a share in [0, 1] over an organisation's batches (or findings)
of one year, with the counts behind it, or None when there is nothing to count.

- filing_punctuality: batches filed at least FILING_LEAD_DAYS before the exam window opens.
- certified_staff: a batch's proctors holding an examiner certificate valid on the exam's date.
- online_theory: batches sat online in examsys (a frozen paper assigned) among the year's batches.
- bank_renewed: batches set on a current standard edition (not a superseded one): a bank not
  renewed after a standard change keeps examining on the old edition.
- findings_on_time: spot-check findings closed by their deadline, among those closed or due.
- satisfaction: candidates' answers at 满意 or better, from the post-exam survey and the
  authority's questionnaires with scale questions (examsys.campaign.satisfaction.figures says
  exactly what counts).
- return_rate: certificate data records reported in the year that the provincial platform returned
  (退回), whenever the return came, a record returned twice counting once (the campaign's
  上报数据退回率, examsys.campaign.certdata.services.returned_records); lower is better."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import CertificateKind
from examsys.campaign.certdata import services as certdata
from examsys.campaign.satisfaction import figures as satisfaction_figures
from examsys.campaign.targets import Scope
from examsys.delivery.models import Batch, BatchState, StaffRole
from examsys.extensions import db
from examsys.standards.models import Standard, StandardStatus
from examsys.supervision.checks.models import FindingStatus, SpotCheck, SpotFinding

FILING_LEAD_DAYS = 5


@dataclass(frozen=True)
class Value:
    value: float | None
    numerator: int
    denominator: int

    @property
    def label(self) -> str:
        if self.value is None:
            return "无数据"
        return f"{self.numerator}/{self.denominator}（{self.value:.0%}）"


def _share(hits: int, total: int) -> Value:
    return Value(hits / total if total else None, hits, total)


def _bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=clock.DISPLAY_TZ), datetime(year + 1, 1, 1, tzinfo=clock.DISPLAY_TZ)


def _batches(org_id: int, year: int) -> list[Batch]:
    start, end = _bounds(year)
    return list(db.session.scalars(select(Batch).where(Batch.organisation_id == org_id, Batch.window_start >= start,
                                                       Batch.window_start < end, Batch.state != BatchState.PLANNED)))


def filing_punctuality(org_id: int, year: int) -> Value:
    rows = [b for b in _batches(org_id, year) if b.filed_at is not None]
    lead = timedelta(days=FILING_LEAD_DAYS)
    return _share(sum(1 for b in rows if b.filed_at <= b.window_start - lead), len(rows))


def certified_staff(org_id: int, year: int) -> Value:
    hits = total = 0
    for b in _batches(org_id, year):
        on = clock.to_display(b.window_end).date()
        for s in b.staff:
            if s.role == StaffRole.PROCTOR:
                total += 1
                hits += s.user.valid_certificate(CertificateKind.EXAMINER, on) is not None
    return _share(hits, total)


def online_theory(org_id: int, year: int) -> Value:
    rows = _batches(org_id, year)
    return _share(sum(1 for b in rows if b.paper_id is not None), len(rows))


def bank_renewed(org_id: int, year: int) -> Value:
    rows = _batches(org_id, year)
    current = {s.id for s in db.session.scalars(select(Standard).where(Standard.status == StandardStatus.CURRENT))}
    return _share(sum(1 for b in rows if b.standard_id in current), len(rows))


def findings_on_time(org_id: int, year: int, on: date | None = None) -> Value:
    on = on or clock.to_display(clock.now()).date()
    start, end = _bounds(year)
    rows = db.session.scalars(select(SpotFinding).join(SpotCheck, SpotCheck.id == SpotFinding.check_id).where(
        SpotFinding.organisation_id == org_id, SpotFinding.created_at >= start, SpotFinding.created_at < end))
    counted = [f for f in rows if f.status == FindingStatus.CLOSED or f.due_on < on]
    on_time = [f for f in counted if f.status == FindingStatus.CLOSED
               and clock.to_display(f.closed_at).date() <= f.due_on]
    return _share(len(on_time), len(counted))


def satisfaction(org_id: int, year: int) -> Value:
    counted = satisfaction_figures.organisation_year(org_id, year)
    return _share(counted.hits, counted.total)


def return_rate(org_id: int, year: int) -> Value:
    records = certdata.returned_records(year, Scope(organisation_id=org_id))
    return _share(sum(1 for _record, returns in records if returns), len(records))


COMPUTATIONS = {"filing_punctuality": filing_punctuality, "certified_staff": certified_staff,
                "online_theory": online_theory, "bank_renewed": bank_renewed,
                "findings_on_time": findings_on_time, "satisfaction": satisfaction, "return_rate": return_rate}


def compute(key: str, org_id: int, year: int) -> Value:
    return COMPUTATIONS[key](org_id, year)
