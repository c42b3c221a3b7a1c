"""The workforce: staff_trained and certified_staff recomputed from the raw rows; qualification
creates then renews a certificate; a dispatch needs a valid certificate; bad input names its
field and writes nothing; the warnings (certificates expiring, organisations short of certified
examiners); who may record what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from examsys.accounts.models import Certificate, CertificateKind
from examsys.campaign.targets import Scope
from examsys.campaign.workforce import services as workforce
from examsys.campaign.workforce.models import Audience, Qualification, TrainingAttendance, TrainingCourse
from examsys.delivery.models import BatchState
from examsys.delivery.models.batches import BatchStaff
from examsys.errors import Conflict, PermissionDenied, ValidationError
from examsys.permissions import Role, may_qualify, may_record_training, may_view_workforce
from examsys.supervision.indicators import compute


def _raw_trained(db, world, city_id: int | None) -> tuple[int, int]:
    """Straight from the tables: city administrators of the city (or of both) and those present
    at a 2026 management course."""
    staff = [u for u in (world.p.city_admin, world.city1_admin2, world.city2_admin)
             if city_id is None or u.organisation.city_id == city_id]
    present = set(db.session.scalars(select(TrainingAttendance.user_id).join(TrainingCourse).where(
        TrainingAttendance.attended.is_(True), TrainingCourse.audience == "management",
        TrainingCourse.held_on >= date(2026, 1, 1), TrainingCourse.held_on <= date(2026, 12, 31))))
    return sum(1 for u in staff if u.id in present), len(staff)


def test_staff_trained_recomputed_per_city(world, db):
    c1, c2 = world.p.cities
    for city_id in (None, c1.id, c2.id):
        t = workforce.targets(2026, Scope(city_id=city_id))[0]
        assert t.key == "staff_trained" and t.goal == 1.0
        assert (t.numerator, t.denominator) == _raw_trained(db, world, city_id)
    assert workforce.targets(2026, Scope(city_id=c1.id))[0].met is True
    assert workforce.targets(2026, Scope(city_id=c2.id))[0].met is False
    assert workforce.targets(2026, Scope())[0].value == pytest.approx(2 / 3)
    # An organisation has no management staff: nothing to count.
    assert workforce.targets(2026, Scope(organisation_id=world.p.orgs[0].id))[0].value is None
    # Another year: nobody trained.
    assert workforce.targets(2025, Scope())[0].numerator == 0


def test_certified_staff_recomputed_and_equal_to_supervision(world, db):
    org = world.p.orgs[0]
    rows = list(db.session.scalars(select(BatchStaff).where(BatchStaff.role == "proctor")))
    on = {r.id: r.batch.window_end.date() for r in rows}
    hits = sum(1 for r in rows if any(c.kind == CertificateKind.EXAMINER and c.valid_until >= on[r.id]
                                      for c in r.user.certificates))
    t = workforce.targets(2026, Scope())[1]
    assert (t.numerator, t.denominator) == (hits, len(rows)) == (3, 4)
    assert (t.numerator, t.denominator) == (compute.certified_staff(org.id, 2026).numerator,
                                            compute.certified_staff(org.id, 2026).denominator)
    assert len(workforce.certified_staff_rows(2026, Scope(organisation_id=org.id))) == 4
    assert workforce.targets(2026, Scope(city_id=world.p.cities[1].id))[1].value is None


def test_qualification_creates_then_renews_and_dispatch_needs_it(world, db):
    p, person = world.p, world.uncertified
    first = workforce.qualify(p.admin, person, kind="examiner", number="KPY-1", qualified_on=date(2026, 1, 5),
                              valid_until=date(2026, 12, 20))
    assert not first.renewal and person.valid_certificate(CertificateKind.EXAMINER, date(2026, 12, 1)).number == "KPY-1"
    second = workforce.qualify(p.admin, person, kind="examiner", number="KPY-2", qualified_on=date(2026, 11, 20),
                               valid_until=date(2029, 11, 19))
    assert second.renewal
    certs = [c for c in person.certificates if c.kind == CertificateKind.EXAMINER]
    assert [(c.number, c.valid_until) for c in certs] == [("KPY-2", date(2029, 11, 19))]
    kept = db.session.scalar(select(Qualification).where(Qualification.number == "KPY-1"))
    assert kept.valid_until == date(2026, 12, 20)

    batch = p.batches[0]
    row = workforce.dispatch(p.admin, person, batch, kind="examiner")
    assert row.batch_id == batch.id
    with pytest.raises(Conflict):
        workforce.dispatch(p.admin, person, batch, kind="examiner")
    with pytest.raises(ValidationError) as exc:
        workforce.dispatch(p.admin, person, batch, kind="supervisor")  # no supervisor certificate
    assert exc.value.field == "user" and "督导员证" in exc.value.message


def test_bad_input_names_the_field_and_writes_nothing(world, db):
    p = world.p
    before = db.session.scalar(select(TrainingCourse.id).order_by(TrainingCourse.id.desc()))
    for kwargs, field in (({"title": "", "held_on": date(2026, 1, 1), "hours": 2}, "title"),
                          ({"title": "x", "held_on": None, "hours": 2}, "held_on"),
                          ({"title": "x", "held_on": date(2026, 1, 1), "hours": 0}, "hours"),
                          ({"title": "x", "held_on": date(2026, 1, 1), "hours": 500}, "hours")):
        with pytest.raises(ValidationError) as exc:
            workforce.create_course(p.admin, p.cities[0], audience="management", **kwargs)
        assert exc.value.field == field
    assert db.session.scalar(select(TrainingCourse.id).order_by(TrainingCourse.id.desc())) == before
    with pytest.raises(ValidationError) as exc:
        workforce.qualify(p.admin, world.uncertified, kind="examiner", number="Q", qualified_on=date(2026, 5, 1),
                          valid_until=date(2026, 4, 1))
    assert exc.value.field == "valid_until"
    taken = world.certified.certificates[0].number
    with pytest.raises(ValidationError) as exc:
        workforce.qualify(p.admin, world.uncertified, kind="examiner", number=taken, qualified_on=date(2026, 5, 1),
                          valid_until=date(2028, 4, 1))
    assert exc.value.field == "number"
    assert not list(world.uncertified.certificates)


def test_attendance_refuses_someone_not_on_the_list(world, db):
    course = workforce.courses(Scope(city_id=world.p.cities[1].id), 2026)[0]
    with pytest.raises(ValidationError):
        workforce.record_attendance(world.p.admin, course, {world.p.city_admin.id})  # of the other city


def test_warnings_expiring_and_short_of_certified_examiners(world, db, frozen_clock):
    p = world.p
    soon = workforce.qualify(p.admin, world.uncertified, kind="examiner", number="SOON", qualified_on=date(2024, 1, 1),
                             valid_until=date(2026, 12, 20))
    assert [c.number for c in workforce.expiring(Scope(), 60)] == ["SOON"]
    assert workforce.expiring(Scope(), 20) == []
    assert [c.number for c in workforce.expiring(Scope(organisation_id=p.orgs[0].id), 60)] == ["SOON"]
    assert workforce.expiring(Scope(city_id=p.cities[1].id), 60) == []
    del soon
    # A filed batch of orgs[0] three weeks ahead: two proctors certified on its date -> enough.
    ahead = datetime(2026, 12, 15, 1, tzinfo=UTC)
    batch = p.add_batches(p.orgs[0], 1, ahead, state=BatchState.FILED)[0]
    assert all(s.batch.id != batch.id for s in workforce.shortfalls(Scope()))
    # Its date past the renewed certificate: one left, two needed.
    batch.window_start = datetime(2026, 12, 28, 1, tzinfo=UTC)
    batch.window_end = batch.window_start + timedelta(hours=2)
    db.session.flush()
    short = [s for s in workforce.shortfalls(Scope()) if s.batch.id == batch.id]
    assert [(s.need, s.have) for s in short] == [(2, 1)]
    assert workforce.shortfalls(Scope(city_id=p.cities[1].id)) == []


def test_access_decisions(world, db):
    p = world.p
    c1, c2 = p.cities
    assert may_record_training(p.admin, None) and may_record_training(p.city_admin, c1.id)
    assert may_record_training(p.city_admin, c2.id).code == "training.not_your_city"
    assert may_record_training(p.city_admin, None).code == "training.not_your_city"
    assert may_qualify(p.city_admin, world.uncertified, "examiner")  # orgs[0] is in city 1
    assert may_qualify(world.city2_admin, world.uncertified, "examiner").code == "qualification.not_your_city"
    assert may_qualify(p.city_admin, p.supervisors[0], "supervisor").code == "qualification.supervisor_province_only"
    admin0 = p.org_admins[p.orgs[0].id]
    assert may_view_workforce(admin0, organisation=p.orgs[0])
    assert may_view_workforce(admin0, organisation=p.orgs[1]).code == "workforce.not_yours"
    assert may_view_workforce(admin0, city_id=c1.id).code == "workforce.not_yours"
    with pytest.raises(PermissionDenied):
        workforce.create_course(world.city2_admin, c1, audience=Audience.MANAGEMENT.value, title="x",
                                held_on=date(2026, 1, 1), hours=1)
    with pytest.raises(PermissionDenied):
        workforce.dispatch(world.city2_admin, world.certified, p.batches[0], kind="examiner")


def test_certificate_rows_are_real_certificates(world, db):
    workforce.qualify(world.p.admin, world.uncertified, kind="examiner", number="REAL-1",
                      qualified_on=date(2026, 1, 1), valid_until=date(2027, 1, 1))
    cert = db.session.scalar(select(Certificate).where(Certificate.number == "REAL-1"))
    assert cert.user_id == world.uncertified.id and world.uncertified.has_role(Role.PROCTOR)
