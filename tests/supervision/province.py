"""A small province for the oversight tests: two cities, three social training evaluation
organisations and three employers with filed batches of 2026, the authority with a provincial
admin, a city administrator of the first city, four certified supervisors (one declared a
conflict with the first organisation) and each organisation's admin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from examsys.accounts import services as accounts
from examsys.accounts.models import CertificateKind, OrgKind
from examsys.delivery.models import Batch, BatchState
from examsys.extensions import db
from examsys.permissions import Role
from examsys.supervision import services as supervision
from examsys.supervision.directory import services as directory
from tests.assembly.app_factories import make_standard


@dataclass
class Province:
    authority: object
    admin: object
    city_admin: object
    cities: tuple
    orgs: list
    org_admins: dict
    supervisors: list
    standard: object
    batches: list = field(default_factory=list)

    def add_batches(self, org, n: int, start: datetime, state=BatchState.PUBLISHED) -> list:
        rows = []
        for i in range(n):
            when = start + timedelta(days=3 * i)
            b = Batch(organisation_id=org.id, standard_id=self.standard.id, level=4, name=f"{org.name}第{i + 1}批",
                      venue="考点", window_start=when, window_end=when + timedelta(hours=2), state=state,
                      created_by_id=self.org_admins[org.id].id, filed_at=when - timedelta(days=7))
            db.session.add(b)
            rows.append(b)
        db.session.flush()
        self.batches += rows
        return rows


def build_province(make) -> Province:
    c1, c2 = accounts.create_city("C01", "东城市"), accounts.create_city("C02", "西江市")
    authority = accounts.create_organisation("PROV", "示例省人社厅", OrgKind.AUTHORITY)
    admin = make.user(roles=Role.PROVINCIAL_ADMIN, org=authority)
    bureau = accounts.create_organisation("C01-HR", "东城市人社局", OrgKind.AUTHORITY, c1)
    city_admin = make.user(roles=Role.CITY_ADMIN, org=bureau)
    standard = make_standard()
    orgs, admins = [], {}
    for i, (kind, city) in enumerate([(OrgKind.SOCIAL, c1), (OrgKind.SOCIAL, c2), (OrgKind.SOCIAL, c1),
                                      (OrgKind.EMPLOYER, c1), (OrgKind.EMPLOYER, c2), (OrgKind.EMPLOYER, c2)]):
        org = accounts.create_organisation(f"O{i}", f"机构{i}", kind, city)
        orgs.append(org)
        admins[org.id] = make.user(roles=(Role.ORG_ADMIN, Role.EXAM_ADMIN), org=org)
        directory.file_organisation(admin, org, filing_no=f"BA-{i}",
                                    scope=[{"occupation": standard.code, "name": standard.name, "levels": [3, 4, 5]}],
                                    filed_on=date(2024, 1, 1), expires_on=date(2027, 1, 31 - i))
    sups = [make.user(roles=Role.SUPERVISOR, org=authority, certificates=(CertificateKind.SUPERVISOR,))
            for _ in range(4)]
    supervision.declare_conflict(sups[0], orgs[0], "曾在该机构任职")
    province = Province(authority, admin, city_admin, (c1, c2), orgs, admins, sups, standard)
    start = datetime(2026, 2, 1, 1, tzinfo=UTC)
    for org, n in zip(orgs, (5, 4, 3, 8, 6, 7), strict=True):
        province.add_batches(org, n, start)
    return province
