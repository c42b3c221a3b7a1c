"""The check of a published batch, explanations, and reporting as a frozen record set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.campaign.certdata import services as svc
from examsys.campaign.certdata.models import CertRecord
from examsys.delivery.models import Result
from examsys.errors import Conflict, PermissionDenied, ValidationError
from tests.campaign.certdata.conftest import NOV, person


def _kinds(batch):
    return {(p.roster_entry_id, p.kind) for p in svc.problems_of(batch)}


def _problems_by_ticket(batch):
    return {p.roster_entry_id: p for p in svc.problems_of(batch)}


def test_every_passed_record_is_checked_and_each_problem_names_its_field(world, db):
    org = world.p.orgs[0]
    people = [(*person(), 80.0), (*person(), 75.0), (*person(), 40.0), (*person(2012, "李娜"), 90.0),
              (*person(name="王 5芳"), 66.0)]
    batch = world.batch(org, NOV, people, without_photo={1})
    check = svc.run_check(world.exam_admins[org.id], batch)
    assert check.records == 4  # the failed candidate is not reported, so not checked
    by_kind = {p.kind: p.message for p in svc.problems_of(batch)}
    assert set(by_kind) == {"photo", "birth_date", "name"}
    assert by_kind["photo"].startswith("照片：")
    assert by_kind["birth_date"].startswith("出生日期：") and "未满16周岁" in by_kind["birth_date"]
    assert by_kind["name"].startswith("姓名：")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cert_check.performed")) is not None


def test_reporting_is_blocked_until_each_problem_is_fixed_or_explained(world, db):
    org = world.p.orgs[0]
    batch = world.batch(org, NOV, [(*person(), 80.0), (*person(), 75.0), (*person(2012), 90.0)],
                        without_photo={1})
    admin = world.exam_admins[org.id]
    with pytest.raises(Conflict, match="尚未进行数据检查"):
        svc.report(admin, batch)
    svc.run_check(admin, batch)
    with pytest.raises(Conflict, match="2 个问题未修正或未说明"):
        svc.report(admin, batch)
    young = next(p for p in svc.problems_of(batch) if p.kind == "birth_date")
    svc.explain(world.org_admins[org.id], young, "该考生为技工院校在校生，经省厅批准提前参加评价")
    with pytest.raises(Conflict, match="1 个问题"):
        svc.report(admin, batch)
    # fixed at its source: the photo is uploaded, then the check runs again and clears it
    photo = next(p for p in svc.problems_of(batch) if p.kind == "photo")
    next(e for e in batch.roster if e.id == photo.roster_entry_id).candidate.photo_sha256 = "a" * 64
    svc.run_check(admin, batch)
    assert photo.cleared_at is not None and [p.kind for p in svc.problems_of(batch)] == ["birth_date"]
    assert young.explanation  # kept across the re-check
    report = svc.report(admin, batch)
    assert [r.seq for r in report.records] == [1, 2, 3]
    assert report.records[2].explanations[0]["explanation"].startswith("该考生为技工院校")
    assert all(r.checked_at == report.checked_at for r in report.records)
    with pytest.raises(Conflict, match="已上报"):
        svc.run_check(admin, batch)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cert_report.submitted")) is not None


def test_a_change_after_the_check_sends_it_back_to_the_check(world, db):
    org = world.p.orgs[0]
    batch = world.batch(org, NOV, [(*person(), 80.0), (*person(), 75.0)])
    svc.run_check(world.exam_admins[org.id], batch)
    batch.roster[0].candidate.photo_sha256 = None
    with pytest.raises(Conflict, match="检查之后数据有变化"):
        svc.report(world.exam_admins[org.id], batch)
    assert db.session.scalar(select(CertRecord.id)) is None


def test_who_checks_reports_and_explains(world, db):
    org, other = world.p.orgs[0], world.p.orgs[1]
    batch = world.batch(org, NOV, [(*person(), 80.0)], without_photo={0})
    with pytest.raises(PermissionDenied):
        svc.run_check(world.org_admins[org.id], batch)  # the org admin explains, the exam admin checks
    with pytest.raises(PermissionDenied):
        svc.run_check(world.exam_admins[other.id], batch)
    svc.run_check(world.exam_admins[org.id], batch)
    problem = svc.problems_of(batch)[0]
    with pytest.raises(PermissionDenied):
        svc.explain(world.exam_admins[org.id], problem, "理由")
    with pytest.raises(PermissionDenied):
        svc.explain(world.org_admins[other.id], problem, "理由")
    with pytest.raises(ValidationError, match="说明") as exc:
        svc.explain(world.org_admins[org.id], problem, "  ")
    assert exc.value.field == "explanation"


def test_scope_dates_and_pass_mark_are_checked(world, db):
    org = world.p.orgs[0]
    batch = world.batch(org, NOV, [(*person(), 80.0), (*person(), 70.0)], level=2)  # level 2 is not filed
    batch.filed_at = batch.window_start + timedelta(minutes=30)  # filed after the exam began
    result = db.session.scalar(select(Result).where(Result.batch_id == batch.id).order_by(Result.id))
    result.pass_mark = 50.0  # not the paper's 60
    svc.run_check(world.exam_admins[org.id], batch)
    messages = {(p.roster_entry_id, p.kind): p.message for p in svc.problems_of(batch)}
    entries = [e.id for e in batch.roster]
    assert {k for _e, k in messages} == {"scope", "dates", "pass_mark"}
    assert "2级不在本机构备案的评价范围内" in messages[(entries[0], "scope")]
    assert messages[(entries[0], "dates")] == "考试日期：批次未在考试开始前备案"
    assert messages[(entries[0], "pass_mark")].startswith("成绩与合格线：成绩所用合格线 50")
    assert (entries[1], "pass_mark") not in messages


def test_the_same_person_certified_by_another_organisation_is_a_duplicate(world, db):
    a, b = world.p.orgs[0], world.p.orgs[1]
    twice = person(name="陈杰")
    first = world.batch(b, NOV, [(*twice, 88.0)])
    svc.run_check(world.exam_admins[b.id], first)
    svc.report(world.exam_admins[b.id], first)
    second = world.batch(a, NOV, [(*twice, 70.0), (*person(), 75.0)])
    svc.run_check(world.exam_admins[a.id], second)
    dup = [p for p in svc.problems_of(second) if p.kind == "duplicate"]
    assert len(dup) == 1 and b.name in dup[0].message and dup[0].message.startswith("重复取证：")


def test_a_batch_not_published_is_not_checked(world, db):
    org = world.p.orgs[0]
    batch = world.batch(org, NOV, [(*person(), 80.0)])
    batch.state = "reviewed"
    with pytest.raises(Conflict, match="成绩发布后"):
        svc.run_check(world.exam_admins[org.id], batch)
