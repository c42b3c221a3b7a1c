"""The certificate-data pages as each role uses them, through the real login and forms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from examsys.campaign.certdata import services as svc
from examsys.campaign.certdata import warnings
from examsys.campaign.certdata.models import CertProblem, CertReport, CertReturn, CertWarning
from tests.campaign.certdata.conftest import NOV, person
from tests.factories import PASSWORD


def login(client, user) -> None:
    client.post("/logout")
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302


@pytest.fixture
def batch(world, db):
    org = world.p.orgs[0]
    b = world.batch(org, NOV, [(*person(), 80.0), (*person(), 75.0), (*person(), 20.0)], without_photo={1})
    db.session.commit()
    return b


def test_the_exam_admin_checks_the_org_admin_explains_and_the_exam_admin_reports(client, world, batch, db):
    org = world.p.orgs[0]
    login(client, world.exam_admins[org.id])
    page = client.get("/certdata/").get_data(as_text=True)
    assert batch.name in page and "未检查" in page
    assert "证书数据" in client.get("/").get_data(as_text=True)  # the navigation entry
    resp = client.post(f"/certdata/batches/{batch.id}/check", follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "检查完成" in text and "照片：缺少考生照片" in text and "仍有 1 个问题未修正或未说明" in text
    resp = client.post(f"/certdata/batches/{batch.id}/report", follow_redirects=True)
    assert "不能上报：" in resp.get_data(as_text=True)
    assert db.session.scalar(select(CertReport.id)) is None
    problem = db.session.scalar(select(CertProblem))
    login(client, world.org_admins[org.id])
    client.post(f"/certdata/problems/{problem.id}/explain", data={"explanation": ""})
    assert db.session.get(CertProblem, problem.id).explanation is None
    client.post(f"/certdata/problems/{problem.id}/explain", data={"explanation": "考生照片由省平台采集"})
    login(client, world.exam_admins[org.id])
    resp = client.post(f"/certdata/batches/{batch.id}/report")
    assert resp.status_code == 303
    report = db.session.scalar(select(CertReport))
    assert resp.headers["Location"].endswith(f"/certdata/reports/{report.id}")
    page = client.get(f"/certdata/reports/{report.id}").get_data(as_text=True)
    assert "考生照片由省平台采集" in page and "下载 Excel" in page
    resp = client.get(f"/certdata/reports/{report.id}/export.json")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.get_json()["report"]["records"] == 2
    assert client.get(f"/certdata/reports/{report.id}/export.xlsx").status_code == 200
    assert client.get(f"/certdata/reports/{report.id}/export.csv").status_code == 404


def test_the_city_returns_records_and_the_organisation_reports_them_again(client, world, batch, db):
    org = world.p.orgs[0]
    batch.roster[1].candidate.photo_sha256 = "c" * 64
    svc.run_check(world.exam_admins[org.id], batch)
    report = svc.report(world.exam_admins[org.id], batch)
    db.session.commit()
    login(client, world.p.city_admin)
    page = client.get(f"/certdata/reports/{report.id}").get_data(as_text=True)
    assert "登记退回" in page
    resp = client.post(f"/certdata/reports/{report.id}/returns",
                       data={"records": [str(report.records[0].id)], "reason": "other", "note": ""},
                       follow_redirects=True)
    assert "原因为“其他”时请写明具体原因" in resp.get_data(as_text=True)
    client.post(f"/certdata/reports/{report.id}/returns",
                data={"records": [str(report.records[0].id)], "reason": "name", "note": "姓名有生僻字"})
    ret = db.session.scalar(select(CertReturn))
    assert ret.reason == "name" and ret.note == "姓名有生僻字"
    login(client, world.exam_admins[org.id])
    assert client.post(f"/certdata/reports/{report.id}/returns",
                       data={"records": [str(report.records[1].id)], "reason": "name"}).status_code == 403
    page = client.get(f"/certdata/reports/{report.id}").get_data(as_text=True)
    assert "被退回的记录：修正后重新上报" in page
    client.post(f"/certdata/records/{report.records[0].id}/resubmit", data={"note": "已核对身份证，姓名无误"})
    assert db.session.get(CertReturn, ret.id).resolved_at is not None


def test_rates_warnings_and_rules_for_the_province_and_the_city(client, world, batch, db):
    org, other = world.p.orgs[0], world.p.orgs[1]
    batch.roster[1].candidate.photo_sha256 = "c" * 64
    svc.run_check(world.exam_admins[org.id], batch)
    report = svc.report(world.exam_admins[org.id], batch)
    svc.enter_returns(world.p.admin, report, [report.records[0].id], "photo", "")
    b2 = world.batch(other, NOV, [(*person(), 80.0)])
    svc.run_check(world.exam_admins[other.id], b2)
    svc.report(world.exam_admins[other.id], b2)
    db.session.commit()
    login(client, world.p.city_admin)
    page = client.get("/certdata/rates").get_data(as_text=True)
    assert "<svg" in page and "东城市" in page and "西江市" not in page and "50.0%" in page
    client.post("/certdata/warnings/evaluate")
    page = client.get("/certdata/warnings").get_data(as_text=True)
    assert "超过预警阈值" in page and org.name in page and other.name not in page
    assert client.get("/certdata/rules").status_code == 403
    w = db.session.scalar(select(CertWarning).where(CertWarning.organisation_id == org.id))
    client.post(f"/certdata/warnings/{w.id}/close", data={"note": "已督促整改"})
    assert db.session.get(CertWarning, w.id).status == "closed"
    login(client, world.p.admin)
    page = client.get("/certdata/rules").get_data(as_text=True)
    assert "退回率超过阈值" in page and "同一退回原因反复出现" in page
    resp = client.post("/certdata/rules", data={"kind": "rate_above", "rate_above-threshold": "150",
                                                "rate_above-months": "3", "rate_above-active": "y"})
    assert "退回率阈值" in resp.get_data(as_text=True)
    resp = client.post("/certdata/rules", data={"kind": "rate_above", "rate_above-threshold": "8",
                                                "rate_above-months": "4", "rate_above-active": "y"})
    assert resp.status_code == 303
    assert [(r.threshold, r.months) for r in warnings.rules() if r.kind == "rate_above"] == [(0.08, 4)]
    page = client.get("/certdata/targets/returns?year=2026").get_data(as_text=True)
    assert "上报数据退回率" in page and "≤8%" in page
    page = client.get(f"/certdata/targets/checked?year=2026&organisation_id={org.id}").get_data(as_text=True)
    assert "100.0%（1/1）" in page


def test_other_organisations_and_roles_see_nothing(client, world, batch, db, make):
    org, other = world.p.orgs[0], world.p.orgs[1]
    login(client, world.exam_admins[other.id])
    assert client.get(f"/certdata/batches/{batch.id}").status_code == 404
    assert client.post(f"/certdata/batches/{batch.id}/check").status_code == 404
    assert batch.name not in client.get("/certdata/").get_data(as_text=True)
    assert client.get("/certdata/rates").status_code == 403
    assert client.get("/certdata/warnings").status_code == 403
    login(client, world.p.city_admin)  # the first city: org is in it, other is not
    assert client.get(f"/certdata/batches/{batch.id}").status_code == 200
    assert client.get(f"/certdata/targets/checked?organisation_id={other.id}").status_code == 404
    writer = make.user(org=org)
    db.session.commit()
    login(client, writer)
    assert client.get("/certdata/").status_code == 403
    assert "/certdata/" not in client.get("/").get_data(as_text=True)
