"""Certificate-data tests: the small province of the oversight tests (two cities, six
organisations in the directory with levels 3–5, a city administrator of the first city) and
published sittings made by the demo's `sit`, with an exam admin and an organisation admin of
their own per organisation so that each rule is tested on the role it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from examsys.accounts import idnumber
from examsys.delivery.models import Batch, BatchState
from examsys.demo.campaign_certdata import sit
from examsys.extensions import db as _db
from examsys.permissions import Role
from tests.supervision.province import Province, build_province

_n = iter(range(1, 10_000))


def person(born: int = 1990, name: str = "张伟") -> tuple[str, str]:
    n = next(_n)
    return name, idnumber.make_valid(f"110105{born:04d}0307{n:03d}")


@dataclass
class World:
    p: Province
    exam_admins: dict
    org_admins: dict

    def batch(self, org, when: datetime, people: list[tuple[str, str, float]], *, level: int = 4,
              without_photo=frozenset()) -> Batch:
        b = Batch(organisation_id=org.id, standard_id=self.p.standard.id, level=level, name=f"{org.name}认定批次",
                  venue="考点", window_start=when, window_end=when + timedelta(hours=2), state=BatchState.PUBLISHED,
                  created_by_id=self.exam_admins[org.id].id, filed_at=when - timedelta(days=7),
                  published_at=when + timedelta(days=5))
        _db.session.add(b)
        _db.session.flush()
        sit(b, self.exam_admins[org.id], people, without_photo=frozenset(without_photo))
        return b


@pytest.fixture
def world(make, db, frozen_clock) -> World:
    p = build_province(make)
    exam = {o.id: make.user(roles=Role.EXAM_ADMIN, org=o) for o in p.orgs}
    admins = {o.id: make.user(roles=Role.ORG_ADMIN, org=o) for o in p.orgs}
    db.session.commit()
    return World(p, exam, admins)


NOV = datetime(2026, 11, 10, 1, tzinfo=UTC)
