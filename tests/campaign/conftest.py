"""Campaign tests: the oversight tests' small province (two cities, six organisations with filed
2026 batches, a provincial admin, a city administrator of the first city) plus a second city
administrator in each city, certified and uncertified proctors staffed on some batches, and
management trainings of 2026 in both cities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from examsys.accounts import services as accounts
from examsys.accounts.models import CertificateKind, OrgKind
from examsys.campaign.workforce import services as workforce
from examsys.campaign.workforce.models import Audience
from examsys.delivery.models import StaffRole
from examsys.delivery.models.batches import BatchStaff
from examsys.extensions import db as _db
from examsys.permissions import Role
from tests.supervision.province import Province, build_province


@dataclass
class World:
    p: Province
    city2_admin: object  # of the second city
    city1_admin2: object
    certified: object  # a proctor of orgs[0] with an examiner certificate valid until 2029
    uncertified: object  # a proctor of orgs[0] without one


@pytest.fixture
def world(make, db, frozen_clock) -> World:
    p = build_province(make)
    c1, c2 = p.cities
    bureau2 = accounts.create_organisation("C02-HR", "西江市人社局", OrgKind.AUTHORITY, c2)
    city2_admin = make.user(roles=Role.CITY_ADMIN, org=bureau2)
    city1_admin2 = make.user(roles=Role.CITY_ADMIN, org=p.city_admin.organisation)
    certified = make.user(roles=Role.PROCTOR, org=p.orgs[0], certificates=(CertificateKind.EXAMINER,))
    uncertified = make.user(roles=Role.PROCTOR, org=p.orgs[0])
    for b in p.batches[:3]:  # the first three batches of orgs[0]
        _db.session.add(BatchStaff(batch_id=b.id, user_id=certified.id, role=StaffRole.PROCTOR))
    _db.session.add(BatchStaff(batch_id=p.batches[0].id, user_id=uncertified.id, role=StaffRole.PROCTOR))
    _db.session.flush()
    # City 1: both present at one course; city 2: its administrator absent.
    one = workforce.create_course(p.admin, c1, audience=Audience.MANAGEMENT.value, title="东城市管理人员培训",
                                  held_on=date(2026, 3, 18), hours=8)
    workforce.record_attendance(p.admin, one, {p.city_admin.id, city1_admin2.id})
    two = workforce.create_course(p.admin, c2, audience=Audience.MANAGEMENT.value, title="西江市管理人员培训",
                                  held_on=date(2026, 5, 20), hours=6)
    workforce.record_attendance(p.admin, two, set())
    _db.session.commit()
    for b in p.batches:
        _db.session.refresh(b)
    return World(p, city2_admin, city1_admin2, certified, uncertified)
