"""The workforce's operations and figures.

- Evaluation management staff of a city (各市评价管理人员) are the active users holding the city
  administrator role (市级管理员) in an organisation of that city; the province's own entry
  (省本级) is no city. "Everyone trained once": each of them present at one management course or
  more held in the year (`staff_trained`, goal 100 %).
- `certified_staff` is supervision's indicator (a batch's proctors holding an examiner
  certificate valid on the exam's date), summed over the organisations of the scope.
- Warnings: certificates expiring within N days (EXAMSYS_CERT_WARNING_DAYS, default 60), and
  organisations short of certified staff: each filed batch still to come needs at least
  `max(2, rooms × min_proctors_per_room)` examiners of its organisation, holding the proctor
  role and an examiner certificate valid on the exam's date.
- Qualification (资格认定) creates the person's certificate of that kind or renews it; a dispatch
  (派遣) needs a certificate of the role valid on the batch's date.

Raise ValidationError (bad input, naming the field), PermissionDenied (not theirs), Conflict
(dispatched already)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import (
    CERT_KIND_LABELS,
    DEFAULT_CITY_CODE,
    Certificate,
    CertificateKind,
    City,
    Organisation,
    OrgKind,
    User,
)
from examsys.audit.actions import AuditAction
from examsys.campaign.targets import Scope, Target, share
from examsys.campaign.workforce.models import Audience, Dispatch, Qualification, TrainingAttendance, TrainingCourse
from examsys.delivery.models import Batch, BatchState, StaffRole
from examsys.errors import Conflict, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Role, may_qualify, may_record_training
from examsys.supervision.indicators import compute

MAX_HOURS = 200
UPCOMING_STATES = (BatchState.FILED, BatchState.OPEN)


def today() -> date:
    return clock.to_display(clock.now()).date()


def bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=clock.DISPLAY_TZ), datetime(year + 1, 1, 1, tzinfo=clock.DISPLAY_TZ)


# --- who is in scope --------------------------------------------------------------------------


def cities() -> list[City]:
    """The cities of the province, without the province's own entry."""
    return list(db.session.scalars(select(City).where(City.code != DEFAULT_CITY_CODE).order_by(City.code)))


def organisations(scope: Scope) -> list[Organisation]:
    """The evaluation organisations (not authorities) of the scope."""
    stmt = select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY).order_by(Organisation.code)
    if scope.organisation_id is not None:
        stmt = stmt.where(Organisation.id == scope.organisation_id)
    elif scope.city_id is not None:
        stmt = stmt.where(Organisation.city_id == scope.city_id)
    return list(db.session.scalars(stmt))


def names() -> dict[int, Organisation]:
    """Every organisation by id (pages name a batch's organisation)."""
    return {o.id: o for o in db.session.scalars(select(Organisation))}


def management_staff(scope: Scope) -> list[User]:
    """The cities' evaluation management staff of the scope (none at an organisation's scope)."""
    if scope.organisation_id is not None:
        return []
    stmt = (select(User).join(Organisation, Organisation.id == User.organisation_id)
            .join(City, City.id == Organisation.city_id)
            .where(User.active.is_(True), City.code != DEFAULT_CITY_CODE).order_by(City.code, User.username))
    if scope.city_id is not None:
        stmt = stmt.where(Organisation.city_id == scope.city_id)
    return [u for u in db.session.scalars(stmt) if u.has_role(Role.CITY_ADMIN)]


# --- the figures ------------------------------------------------------------------------------


@dataclass
class StaffRow:
    user: User
    courses: list[TrainingCourse] = field(default_factory=list)

    @property
    def hit(self) -> bool:
        return bool(self.courses)


def staff_trained_rows(year: int, scope: Scope) -> list[StaffRow]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    rows = {u.id: StaffRow(u) for u in management_staff(scope)}
    if not rows:
        return []
    stmt = (select(TrainingAttendance).join(TrainingCourse, TrainingCourse.id == TrainingAttendance.course_id)
            .where(TrainingCourse.audience == Audience.MANAGEMENT.value, TrainingCourse.held_on >= start,
                   TrainingCourse.held_on <= end, TrainingAttendance.attended.is_(True),
                   TrainingAttendance.user_id.in_(rows)).order_by(TrainingCourse.held_on))
    for a in db.session.scalars(stmt):
        rows[a.user_id].courses.append(a.course)
    return list(rows.values())


@dataclass
class StaffingRow:
    batch: Batch
    user: User
    certificate: Certificate | None

    @property
    def hit(self) -> bool:
        return self.certificate is not None


def certified_staff_rows(year: int, scope: Scope) -> list[StaffingRow]:
    """Every proctor of the scope's batches of the year (as supervision's indicator counts them)."""
    start, end = bounds(year)
    ids = [o.id for o in organisations(scope)]
    out = []
    for b in db.session.scalars(select(Batch).where(Batch.organisation_id.in_(ids), Batch.window_start >= start,
                                                    Batch.window_start < end, Batch.state != BatchState.PLANNED)
                                .order_by(Batch.window_start, Batch.id)):
        on = clock.to_display(b.window_end).date()
        out += [StaffingRow(b, s.user, s.user.valid_certificate(CertificateKind.EXAMINER, on))
                for s in b.staff if s.role == StaffRole.PROCTOR]
    return out


def targets(year: int, scope: Scope) -> list[Target]:
    trained = staff_trained_rows(year, scope)
    hits = total = 0
    for org in organisations(scope):
        v = compute.certified_staff(org.id, year)
        hits, total = hits + v.numerator, total + v.denominator
    return [
        share("staff_trained", "各市评价管理人员年度培训全覆盖", 1.0, sum(r.hit for r in trained), len(trained),
              endpoint="workforce.drill_trained"),
        share("certified_staff", "考评员持证上岗", 1.0, hits, total, endpoint="workforce.drill_certified"),
    ]


# --- warnings ---------------------------------------------------------------------------------


def expiring(scope: Scope, days: int, on: date | None = None) -> list[Certificate]:
    """Certificates of active users in the scope valid today and expiring within `days` days."""
    on = on or today()
    stmt = (select(Certificate).join(User, User.id == Certificate.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(User.active.is_(True), Certificate.valid_until >= on,
                   Certificate.valid_until <= on + timedelta(days=days)).order_by(Certificate.valid_until))
    if scope.organisation_id is not None:
        stmt = stmt.where(Organisation.id == scope.organisation_id)
    elif scope.city_id is not None:
        stmt = stmt.where(Organisation.city_id == scope.city_id)
    return list(db.session.scalars(stmt))


@dataclass
class Shortfall:
    batch: Batch
    need: int
    have: int


def batch_need(batch: Batch) -> int:
    return max(2, len(batch.rooms) * batch.min_proctors_per_room)


def shortfalls(scope: Scope) -> list[Shortfall]:
    """The filed batches still to come whose organisation has fewer certified examiners than they need."""
    now = clock.now()
    ids = [o.id for o in organisations(scope)]
    out = []
    for b in db.session.scalars(select(Batch).where(Batch.organisation_id.in_(ids), Batch.window_start >= now,
                                                    Batch.state.in_(UPCOMING_STATES))
                                .order_by(Batch.window_start, Batch.id)):
        on = clock.to_display(b.window_end).date()
        staff = db.session.scalars(select(User).where(User.organisation_id == b.organisation_id,
                                                      User.active.is_(True)))
        have = sum(1 for u in staff if u.has_role(Role.PROCTOR)
                   and u.valid_certificate(CertificateKind.EXAMINER, on) is not None)
        if have < batch_need(b):
            out.append(Shortfall(b, batch_need(b), have))
    return out


# --- records ----------------------------------------------------------------------------------


def courses(scope: Scope, year: int) -> list[TrainingCourse]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    stmt = select(TrainingCourse).where(TrainingCourse.held_on >= start, TrainingCourse.held_on <= end)
    if scope.city_id is not None:
        stmt = stmt.where(TrainingCourse.city_id == scope.city_id)
    return list(db.session.scalars(stmt.order_by(TrainingCourse.held_on.desc(), TrainingCourse.id.desc())))


def attended_by(user_ids: list[int], year: int) -> dict[int, list[TrainingCourse]]:
    """The courses of the year each person was present at."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    out: dict[int, list[TrainingCourse]] = {}
    for a in db.session.scalars(select(TrainingAttendance).join(TrainingCourse).where(
            TrainingAttendance.user_id.in_(user_ids), TrainingAttendance.attended.is_(True),
            TrainingCourse.held_on >= start, TrainingCourse.held_on <= end).order_by(TrainingCourse.held_on)):
        out.setdefault(a.user_id, []).append(a.course)
    return out


def get_course(course_id: int) -> TrainingCourse:
    row = db.session.get(TrainingCourse, course_id)
    if row is None:
        raise NotFound("未找到该培训")
    return row


def create_course(actor: User | None, city: City | None, *, audience: str, title: str, held_on: date | None,
                  hours: float | None) -> TrainingCourse:
    if actor is not None:
        may_record_training(actor, city.id if city else None).enforce()
    title = (title or "").strip()
    if audience not in {a.value for a in Audience}:
        raise ValidationError("培训对象无效", field="audience")
    if not title:
        raise ValidationError("请填写培训名称", field="title")
    if held_on is None:
        raise ValidationError("请填写培训日期", field="held_on")
    if hours is None or not 0 < hours <= MAX_HOURS:
        raise ValidationError(f"学时须大于 0 且不超过 {MAX_HOURS}", field="hours")
    row = TrainingCourse(city_id=city.id if city else None, audience=audience, title=title[:200], held_on=held_on,
                         hours=hours, created_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.TRAINING_COURSE_RECORDED, obj=row,
                 organisation_id=actor.organisation_id if actor else None,
                 data={"city": city.code if city else None, "audience": audience, "title": row.title,
                       "held_on": held_on.isoformat(), "hours": hours})
    return row


def attendees(course: TrainingCourse) -> list[User]:
    """Who may be on a course's list: management staff of its city (the province's: all cities) for
    a management course; holders of the role (examiners: proctors; supervisors) otherwise."""
    scope = Scope(city_id=course.city_id)
    if course.audience == Audience.MANAGEMENT.value:
        return management_staff(scope)
    role = Role.PROCTOR if course.audience == Audience.EXAMINER.value else Role.SUPERVISOR
    stmt = select(User).join(Organisation, Organisation.id == User.organisation_id).where(User.active.is_(True))
    if course.city_id is not None:
        stmt = stmt.where(Organisation.city_id == course.city_id)
    return [u for u in db.session.scalars(stmt.order_by(User.username)) if u.has_role(role)]


def record_attendance(actor: User | None, course: TrainingCourse, present: set[int]) -> None:
    """The course's list: everyone eligible, present or absent as ticked. Raises ValidationError
    for a person who may not be on the list."""
    if actor is not None:
        may_record_training(actor, course.city_id).enforce()
    eligible = {u.id: u for u in attendees(course)}
    unknown = present - set(eligible)
    if unknown:
        raise ValidationError("签到名单中有不属于该培训对象的人员", field="present")
    rows = {a.user_id: a for a in course.attendance}
    for uid in eligible:
        row = rows.get(uid)
        if row is None:
            row = TrainingAttendance(course_id=course.id, user_id=uid)
            db.session.add(row)
            course.attendance.append(row)
        row.attended = uid in present
    db.session.flush()
    audit.record(AuditAction.TRAINING_COURSE_ATTENDANCE_RECORDED, obj=course,
                 organisation_id=actor.organisation_id if actor else None,
                 data={"present": sorted(present), "absent": sorted(set(eligible) - present)})


def qualify(actor: User | None, person: User, *, kind: str, number: str, qualified_on: date | None,
            valid_until: date | None) -> Qualification:
    """资格认定: create the person's certificate of `kind`, or renew it (new number and validity)."""
    if kind not in {k.value for k in CertificateKind}:
        raise ValidationError("证书类别无效", field="kind")
    if actor is not None:
        may_qualify(actor, person, kind).enforce()
    number = (number or "").strip()
    if not number:
        raise ValidationError("请填写证书编号", field="number")
    if qualified_on is None:
        raise ValidationError("请填写认定日期", field="qualified_on")
    if valid_until is None or valid_until <= qualified_on:
        raise ValidationError("有效期至须晚于认定日期", field="valid_until")
    cert = next((c for c in person.certificates if c.kind == kind), None)
    taken = db.session.scalar(select(Certificate).where(Certificate.kind == kind, Certificate.number == number))
    if taken is not None and taken is not cert:
        raise ValidationError(f"证书编号 {number} 已被他人使用", field="number")
    renewal = cert is not None
    if cert is None:
        cert = Certificate(kind=CertificateKind(kind), number=number, valid_until=valid_until)
        person.certificates.append(cert)
    else:
        cert.number, cert.valid_until = number, valid_until
    db.session.flush()
    row = Qualification(user_id=person.id, kind=kind, number=number, qualified_on=qualified_on,
                        valid_until=valid_until, renewal=renewal, certificate_id=cert.id,
                        recorded_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.QUALIFICATION_GRANTED, obj=row, organisation_id=person.organisation_id,
                 data={"user": person.id, "kind": kind, "number": number, "valid_until": valid_until.isoformat(),
                       "renewal": renewal})
    return row


def dispatch(actor: User | None, person: User, batch: Batch, *, kind: str, note: str = "") -> Dispatch:
    """派遣 a certified examiner or supervisor to a batch."""
    if kind not in {k.value for k in CertificateKind}:
        raise ValidationError("派遣类别无效", field="kind")
    if actor is not None:
        may_qualify(actor, person, kind).enforce()
    on = clock.to_display(batch.window_end).date()
    if person.valid_certificate(CertificateKind(kind), on) is None:
        label = CERT_KIND_LABELS[CertificateKind(kind)]
        raise ValidationError(f"{person.display_name} 没有在 {on.isoformat()} 有效的{label}，不能派遣", field="user")
    if db.session.scalar(select(Dispatch.id).where(Dispatch.user_id == person.id, Dispatch.batch_id == batch.id,
                                                   Dispatch.kind == kind)) is not None:
        raise Conflict(f"{person.display_name} 已派遣到该批次")
    row = Dispatch(user_id=person.id, batch_id=batch.id, kind=kind, note=(note or "").strip()[:2000],
                   dispatched_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    audit.record(AuditAction.DISPATCH_RECORDED, obj=row, organisation_id=batch.organisation_id,
                 data={"user": person.id, "batch": batch.id, "kind": kind})
    return row


def qualifications(scope: Scope, year: int) -> list[Qualification]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    stmt = (select(Qualification).join(User, User.id == Qualification.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Qualification.qualified_on >= start, Qualification.qualified_on <= end))
    stmt = _scoped(stmt, scope)
    return list(db.session.scalars(stmt.order_by(Qualification.qualified_on.desc(), Qualification.id.desc())))


def dispatches(scope: Scope, year: int) -> list[Dispatch]:
    start, end = bounds(year)
    stmt = (select(Dispatch).join(Batch, Batch.id == Dispatch.batch_id)
            .join(Organisation, Organisation.id == Batch.organisation_id)
            .where(Batch.window_start >= start, Batch.window_start < end))
    stmt = _scoped(stmt, scope)
    return list(db.session.scalars(stmt.order_by(Batch.window_start.desc(), Dispatch.id.desc())))


def _scoped(stmt, scope: Scope):
    if scope.organisation_id is not None:
        return stmt.where(Organisation.id == scope.organisation_id)
    if scope.city_id is not None:
        return stmt.where(Organisation.city_id == scope.city_id)
    return stmt


def people(scope: Scope) -> list[User]:
    """Examiners and supervisors of the scope (for the qualification and dispatch forms)."""
    stmt = select(User).join(Organisation, Organisation.id == User.organisation_id).where(User.active.is_(True))
    stmt = _scoped(stmt, scope)
    return [u for u in db.session.scalars(stmt.order_by(User.username))
            if u.has_role(Role.PROCTOR) or u.has_role(Role.SUPERVISOR)]


def upcoming_batches(scope: Scope) -> list[Batch]:
    ids = [o.id for o in organisations(scope)]
    return list(db.session.scalars(select(Batch).where(Batch.organisation_id.in_(ids),
                                                       Batch.window_end >= clock.now(),
                                                       Batch.state != BatchState.PLANNED)
                                   .order_by(Batch.window_start)))


def monthly_trained(year: int, scope: Scope) -> list[int]:
    """Management staff trained for the first time in each month of the year (the console's trend)."""
    out = [0] * 12
    for r in staff_trained_rows(year, scope):
        if r.courses:
            out[r.courses[0].held_on.month - 1] += 1
    return out
