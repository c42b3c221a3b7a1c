"""The directory: cities, filing records with scope, expiry and status, every change kept with its
reason and recorded; a batch outside the scope is refused with a clear message; the city
administrator manages only its city's organisations; any signed-in user reads and exports it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from examsys.accounts import services as accounts
from examsys.accounts.models import DEFAULT_CITY_CODE, OrgKind
from examsys.audit.models import AuditEvent
from examsys.delivery.batches import services as batches
from examsys.errors import PermissionDenied, ValidationError
from examsys.permissions import Role
from examsys.supervision.directory import services as directory
from examsys.supervision.directory.models import DirectoryStatus
from tests.assembly.app_factories import make_standard

SCOPE = [{"occupation": "X-01", "name": "电工", "levels": [3, 4]}]


@pytest.fixture
def cities(db):
    return accounts.create_city("C01", "东城市"), accounts.create_city("C02", "西江市")


def _input(standard, level=4):
    return batches.BatchInput(standard_id=standard.id, level=level, name="批次", venue="",
                              window_start=datetime(2026, 12, 20, 1, tzinfo=UTC),
                              window_end=datetime(2026, 12, 20, 3, tzinfo=UTC))


def test_organisations_without_a_city_go_to_the_province(make):
    org = make.org()
    assert org.city.code == DEFAULT_CITY_CODE


def test_filing_and_changes_keep_their_history(make, db, cities):
    admin = make.user(roles=Role.PROVINCIAL_ADMIN)
    org = accounts.create_organisation("S1", "评价中心", OrgKind.SOCIAL, cities[0])
    entry = directory.file_organisation(admin, org, filing_no="BA-1", scope=SCOPE, filed_on=date(2024, 1, 1),
                                        expires_on=date(2027, 1, 1))
    directory.change(admin, entry, status=DirectoryStatus.SUSPENDED.value, reason="抽查发现严重问题")
    with pytest.raises(ValidationError):
        directory.change(admin, entry, status=DirectoryStatus.ACTIVE.value, reason=" ")
    db.session.refresh(entry)
    assert [c.kind for c in entry.changes] == ["status", "filed"]
    assert entry.changes[0].reason == "抽查发现严重问题"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "directory_entry")).all()
    assert sorted(actions) == ["directory_entry.changed", "directory_entry.filed"]


def test_a_batch_outside_the_scope_is_refused(make, db, cities):
    org = accounts.create_organisation("S2", "评价中心二", OrgKind.SOCIAL, cities[0])
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    scope = [{"occupation": standard.code, "name": standard.name, "levels": [3]}]
    entry = directory.file_organisation(None, org, filing_no="BA-2", scope=scope, filed_on=date(2024, 1, 1),
                                        expires_on=date(2028, 1, 1))
    levels = standard.levels
    assert 3 in levels and 4 in levels
    with pytest.raises(ValidationError) as refused:
        batches.create_batch(admin, org, _input(standard, 4))
    assert "不在本机构备案的评价范围内" in str(refused.value)
    batches.create_batch(admin, org, _input(standard, 3))  # inside the scope
    directory.change(None, entry, status=DirectoryStatus.SUSPENDED.value, reason="暂停")
    with pytest.raises(ValidationError) as suspended:
        batches.create_batch(admin, org, _input(standard, 3))
    assert "暂停评价" in str(suspended.value)


def test_a_city_admin_manages_only_its_city(make, cities):
    bureau = accounts.create_organisation("CB1", "东城市人社局", OrgKind.AUTHORITY, cities[0])
    city_admin = make.user(roles=Role.CITY_ADMIN, org=bureau)
    mine = accounts.create_organisation("S3", "东城评价", OrgKind.SOCIAL, cities[0])
    other = accounts.create_organisation("S4", "西江评价", OrgKind.SOCIAL, cities[1])
    directory.file_organisation(city_admin, mine, filing_no="BA-3", scope=SCOPE, filed_on=date(2025, 1, 1),
                                expires_on=date(2028, 1, 1))
    with pytest.raises(PermissionDenied):
        directory.file_organisation(city_admin, other, filing_no="BA-4", scope=SCOPE, filed_on=date(2025, 1, 1),
                                    expires_on=date(2028, 1, 1))
    assert [o.code for o in directory.unfiled_organisations(city_admin)] == []


def test_directory_page_and_export_for_any_signed_in_user(make, db, login_as, client, cities):
    org = accounts.create_organisation("S5", "目录机构", OrgKind.EMPLOYER, cities[1])
    directory.file_organisation(None, org, filing_no="BA-5", scope=SCOPE, filed_on=date(2025, 1, 1),
                                expires_on=date(2028, 1, 1))
    db.session.commit()
    login_as(Role.WRITER)
    page = client.get("/directory/")
    assert page.status_code == 200 and "目录机构" in page.get_data(as_text=True)
    export = client.get("/directory/export.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "城市" and any(r[1] == "S5" and r[0] == "西江市" for r in rows[1:])
    assert client.get("/directory/new").status_code == 403  # a writer manages nothing
