"""Returns (退回) entered for the platform, re-reporting, monthly return rates and the campaign
targets, each figure recomputed from the raw rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.campaign.certdata import rates
from examsys.campaign.certdata import services as svc
from examsys.campaign.certdata.models import CertRecord, CertReport, CertReturn
from examsys.campaign.targets import Direction, Scope
from examsys.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.campaign.certdata.conftest import person

SEP = datetime(2026, 9, 8, 1, tzinfo=UTC)
OCT = datetime(2026, 10, 8, 1, tzinfo=UTC)
NOV = datetime(2026, 11, 8, 1, tzinfo=UTC)


def reported(world, org, when, n: int):
    batch = world.batch(org, when, [(*person(), 70.0 + i) for i in range(n)])
    with clock.frozen(batch.published_at):
        svc.run_check(world.exam_admins[org.id], batch)
        return svc.report(world.exam_admins[org.id], batch)


def test_returns_need_a_reason_and_the_city_or_province(world, db):
    c1_org, c2_org = world.p.orgs[0], world.p.orgs[1]
    report = reported(world, c1_org, NOV, 3)
    ids = [r.id for r in report.records]
    with pytest.raises(PermissionDenied):
        svc.enter_returns(world.p.city_admin, reported(world, c2_org, NOV, 1), [], "photo", "")  # not its city
    with pytest.raises(PermissionDenied):
        svc.enter_returns(world.org_admins[c1_org.id], report, ids[:1], "photo", "")
    with pytest.raises(ValidationError, match="退回原因") as exc:
        svc.enter_returns(world.p.city_admin, report, ids[:1], "bogus", "")
    assert exc.value.field == "reason"
    with pytest.raises(ValidationError, match="其他"):
        svc.enter_returns(world.p.city_admin, report, ids[:1], "other", " ")
    with pytest.raises(ValidationError, match="勾选"):
        svc.enter_returns(world.p.city_admin, report, [], "photo", "")
    rows = svc.enter_returns(world.p.city_admin, report, ids[:2], "photo", "背景不是白色")
    assert [r.reason_label for r in rows] == ["照片缺失或不合格"] * 2
    with pytest.raises(Conflict, match="已被退回"):
        svc.enter_returns(world.p.admin, report, ids[1:], "name", "")
    assert db.session.scalar(select(CertReturn.id).where(CertReturn.record_id == ids[2])) is None


def test_a_returned_record_is_fixed_rechecked_and_reported_again(world, db):
    org = world.p.orgs[0]
    report = reported(world, org, NOV, 2)
    record = report.records[0]
    svc.enter_returns(world.p.admin, report, [record.id], "photo", "照片模糊")
    with pytest.raises(Conflict, match="未被退回"):
        svc.resubmit(world.exam_admins[org.id], report.records[1], "无")
    with pytest.raises(PermissionDenied):
        svc.resubmit(world.exam_admins[world.p.orgs[1].id], record, "已更换照片")
    candidate = report.batch.roster[0].candidate
    candidate.photo_sha256 = None
    with pytest.raises(Conflict, match="照片"):
        svc.resubmit(world.exam_admins[org.id], record, "已更换照片")
    candidate.photo_sha256 = "b" * 64
    with pytest.raises(ValidationError, match="整改说明"):
        svc.resubmit(world.exam_admins[org.id], record, "")
    svc.resubmit(world.org_admins[org.id], record, "已更换照片")
    assert record.photo_sha256 == "b" * 64 and record.resubmitted_at is not None
    assert svc.open_return(record) is None and record.returns[0].resolution == "已更换照片"


def test_monthly_rates_per_organisation_and_city_from_the_raw_rows(world, db):
    a, b, c = world.p.orgs[0], world.p.orgs[1], world.p.orgs[3]  # a, c in the first city; b in the second
    for org, when, n, back in ((a, SEP, 4, 1), (a, OCT, 5, 2), (b, OCT, 4, 0), (c, NOV, 2, 1), (b, NOV, 3, 3)):
        report = reported(world, org, when, n)
        if back:
            svc.enter_returns(world.p.admin, report, [r.id for r in report.records[:back]], "name", "")
    months = ["2026-09", "2026-10", "2026-11"]
    data = rates.rows()
    by_org = rates.table(data, "organisation_id", months)
    by_city = rates.table(data, "city_id", months)
    # recomputed from the tables themselves
    raw = db.session.execute(select(CertRecord.id, CertReport.organisation_id, CertReport.city_id,
                                    CertReport.reported_at).join(CertReport)).all()
    returned = set(db.session.scalars(select(CertReturn.record_id)))
    for org in (a, b, c):
        for m in months:
            mine = [r for r in raw if r[1] == org.id and rates.month_of(r[3]) == m]
            cell = by_org.get(org.id, {}).get(m, rates.Cell())
            assert (cell.reported, cell.returned) == (len(mine), sum(1 for r in mine if r[0] in returned))
    c1 = world.p.cities[0].id
    assert (by_city[c1]["2026-10"].reported, by_city[c1]["2026-10"].returned) == (5, 2)
    assert by_city[c1]["2026-11"].rate == pytest.approx(1 / 2)
    assert rates.total(by_org[b.id]).rate == pytest.approx(3 / 7)
    svg = rates.trend_svg({"东城市": by_city[c1]}, months, threshold=0.05)
    assert svg.startswith("<svg") and "阈值 5%" in svg and "2/5" in svg


def test_targets_recomputed_from_raw_rows_per_scope(world, db):
    a, b = world.p.orgs[0], world.p.orgs[1]
    r1 = reported(world, a, OCT, 4)
    r2 = reported(world, b, NOV, 5)
    r3 = reported(world, a, NOV, 2)
    svc.enter_returns(world.p.admin, r1, [r1.records[0].id], "photo", "")
    svc.enter_returns(world.p.admin, r2, [r2.records[0].id, r2.records[1].id], "photo", "")
    r3.records[0].checked_at = None  # a record that reached the platform without the check (a backfilled report)
    for scope, reports in ((Scope(), [r1, r2, r3]), (Scope(city_id=world.p.cities[0].id), [r1, r3]),
                           (Scope(organisation_id=b.id), [r2])):
        checked, rate = svc.targets(2026, scope)
        records = [rec for r in reports for rec in r.records]
        ok = [r for r in reports if all(rec.checked_at is not None for rec in r.records)]
        assert (checked.key, checked.numerator, checked.denominator) == ("data_checked", len(ok), len(reports))
        assert checked.goal == 1.0 and checked.endpoint == "certdata.target_checked"
        assert (rate.numerator, rate.denominator) == (sum(1 for rec in records if rec.returns), len(records))
        assert rate.direction is Direction.AT_MOST and rate.goal == 0.05 and rate.endpoint == "certdata.target_returns"
    assert svc.targets(2025, Scope())[0].value is None


def test_a_city_admin_sees_only_its_city(world, db):
    a, b = world.p.orgs[0], world.p.orgs[1]
    reported(world, a, NOV, 1)
    other = reported(world, b, NOV, 1)
    assert svc.visible_scope(world.p.city_admin, Scope()) == Scope(city_id=world.p.cities[0].id)
    assert {r.organisation_id for r in svc.reports_of(world.p.city_admin)} == {a.id}
    with pytest.raises(NotFound):
        svc.visible_scope(world.p.city_admin, Scope(organisation_id=b.id))
    with pytest.raises(NotFound):
        svc.report_for(world.p.city_admin, other.id)
    with pytest.raises(NotFound):
        svc.report_for(world.exam_admins[a.id], other.id)
    assert len(svc.reports_of(world.p.admin)) == 2
