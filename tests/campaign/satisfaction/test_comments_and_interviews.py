"""Comments answered by the organisation (stored once, audited, shown to the authority) and
interview records (the authority records them; listed per organisation); the access decisions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from examsys.audit.models import AuditEvent
from examsys.campaign.satisfaction import questionnaires as qs
from examsys.campaign.satisfaction import services
from examsys.campaign.satisfaction.models import CommentAnswer, Interview
from examsys.errors import PermissionDenied, ValidationError
from examsys.permissions import (
    may_answer_comment,
    may_manage_questionnaires,
    may_record_interview,
    may_view_satisfaction,
)
from examsys.supervision import services as supervision
from tests.campaign.satisfaction.conftest import login
from tests.campaign.satisfaction.test_questionnaires import _distributed


def _comment(sat, org_index: int):
    org = sat.p.orgs[org_index]
    return services.comments_of(org, 2026)[0], org


def test_the_organisation_answers_a_comment_once_and_the_authority_reads_it(sat, db, client):
    comment, org = _comment(sat, 1)
    admin = sat.p.org_admins[org.id]
    login(client, admin)
    resp = client.post(f"/satisfaction/comments/{comment.id}/answer", data={"text": "已调整空调温度", "org_id": org.id})
    assert resp.status_code == 303
    row = db.session.scalar(select(CommentAnswer))
    assert row.text == "已调整空调温度" and row.answered_by_id == admin.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey_comment.answered"))
    assert event.organisation_id == org.id
    client.post(f"/satisfaction/comments/{comment.id}/answer", data={"text": "再答一次", "org_id": org.id})
    html = client.get(f"/satisfaction/organisations/{org.id}?year=2026").get_data(as_text=True)
    assert "该条意见已经答复过" in html
    assert db.session.scalar(select(func.count()).select_from(CommentAnswer)) == 1
    login(client, sat.p.admin)
    html = client.get(f"/satisfaction/organisations/{org.id}?year=2026").get_data(as_text=True)
    assert "已调整空调温度" in html and "机构答复" in html


def test_only_the_organisations_admin_answers(sat, db, client):
    comment, org = _comment(sat, 1)
    with pytest.raises(ValidationError):
        services.answer_comment(sat.p.org_admins[org.id], comment.id, "  ")
    with pytest.raises(PermissionDenied):
        services.answer_comment(sat.p.admin, comment.id, "省里替机构答复")
    login(client, sat.p.org_admins[sat.p.orgs[0].id])  # another organisation: no hint the comment exists
    assert client.post(f"/satisfaction/comments/{comment.id}/answer", data={"text": "越权"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CommentAnswer)) == 0


def test_interviews_are_recorded_by_the_authority_and_listed(sat, db, client):
    p = sat.p
    # a supervisor records interviews only while supervising one of the organisation's batches
    login(client, p.supervisors[1])
    assert p.orgs[1] not in services.interviewable(p.supervisors[1])
    supervision.assign(p.admin, next(b for b in p.batches if b.organisation_id == p.orgs[1].id), p.supervisors[1])
    assert p.orgs[1] in services.interviewable(p.supervisors[1])
    resp = client.post("/satisfaction/interviews/", data={
        "organisation": p.orgs[1].id, "held_on": "2026-11-20", "interviewee_role": "candidate",
        "interviewee": "张某", "summary": "考生反映考场指引清楚", "satisfied": "no", "findings": "候考区座位不足"})
    assert resp.status_code == 303
    row = db.session.scalar(select(Interview))
    assert (row.organisation_id, row.satisfied, row.findings) == (p.orgs[1].id, False, "候考区座位不足")
    assert db.session.scalar(select(AuditEvent.organisation_id).where(
        AuditEvent.action == "interview.recorded")) == p.orgs[1].id
    html = client.post("/satisfaction/interviews/", data={
        "organisation": p.orgs[1].id, "held_on": "2026-12-30", "interviewee_role": "staff",
        "summary": "未来的访谈", "satisfied": "yes"}).get_data(as_text=True)
    assert "访谈日期不能晚于今天" in html
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 1
    login(client, p.city_admin)  # city 1 does not see city 2's interview
    assert "考生反映考场指引清楚" not in client.get("/satisfaction/interviews/").get_data(as_text=True)
    login(client, p.org_admins[p.orgs[1].id])
    html = client.get(f"/satisfaction/organisations/{p.orgs[1].id}?year=2026").get_data(as_text=True)
    assert "考生反映考场指引清楚" in html and "记录一次访谈" not in client.get(
        "/satisfaction/interviews/").get_data(as_text=True)


def test_a_city_records_interviews_only_in_its_city(sat):
    p = sat.p
    with pytest.raises(PermissionDenied):
        services.record_interview(p.city_admin, p.orgs[1], held_on=date(2026, 11, 1), interviewee_role="staff",
                                  interviewee="", summary="越界访谈", satisfied=True, findings="")
    row = services.record_interview(p.city_admin, p.orgs[0], held_on=date(2026, 11, 1), interviewee_role="staff",
                                    interviewee="", summary="本市访谈", satisfied=True, findings="")
    assert row.id


def test_decisions(sat):
    p = sat.p
    c1_org, c2_org = p.orgs[0], p.orgs[1]
    assert may_view_satisfaction(p.admin, c2_org)
    assert may_view_satisfaction(p.city_admin, c1_org)
    assert may_view_satisfaction(p.city_admin, c2_org).code == "satisfaction.not_yours"
    assert may_view_satisfaction(p.org_admins[c1_org.id], c1_org)
    assert not may_view_satisfaction(p.org_admins[c1_org.id], c2_org)
    assert may_answer_comment(p.org_admins[c1_org.id], c1_org.id)
    assert may_answer_comment(p.admin, c1_org.id).code == "satisfaction.answer_denied"
    assert may_manage_questionnaires(p.city_admin) and not may_manage_questionnaires(p.org_admins[c1_org.id])
    assert may_record_interview(p.supervisors[0], c2_org, supervised=True)
    assert may_record_interview(p.supervisors[0], c2_org).code == "interview.denied"  # not supervising it
    assert may_view_satisfaction(p.supervisors[0], c2_org, supervised=True)
    assert may_view_satisfaction(p.supervisors[0], c2_org).code == "satisfaction.not_yours"
    assert may_record_interview(p.org_admins[c1_org.id], c1_org).code == "interview.denied"


def test_the_supervision_file_shows_satisfaction_questionnaires_and_interviews(sat, db, client):
    p = sat.p
    row, entries = _distributed(sat, db)
    scale, single = row.questions[0], row.questions[1]
    qs.submit(row, entries[0][0], {f"q{scale.id}": ["2"], f"q{single.id}": ["0"]})
    services.record_interview(p.admin, p.orgs[0], held_on=date(2026, 11, 2), interviewee_role="staff",
                              interviewee="", summary="工作人员熟悉流程", satisfied=True, findings="")
    db.session.commit()
    login(client, p.city_admin)
    html = client.get(f"/oversight/organisations/{p.orgs[0].id}").get_data(as_text=True)
    assert "9/11" in html  # 9 of the 10 survey answers, plus the unsatisfied questionnaire answer
    assert row.title in html and "工作人员熟悉流程" in html
    pdf = client.get(f"/oversight/organisations/{p.orgs[0].id}/file.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
