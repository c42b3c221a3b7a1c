"""The questionnaire builder and its distribution: questions of four kinds in order, publishing
freezes them (a change is a copy), distribution only to batches of the owner's area, the public
page where a candidate identifies with ticket + ID number only (once per questionnaire, one
message for every failure, failures counted toward the ticket's lock-out), results and xlsx."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from examsys.audit.models import AuditEvent
from examsys.campaign.satisfaction import questionnaires as qs
from examsys.campaign.satisfaction import results
from examsys.campaign.satisfaction.models import QuestionnaireResponse
from examsys.errors import Conflict, PermissionDenied
from tests.campaign.satisfaction.conftest import login


def _build(user, title="考生服务满意度问卷"):
    row = qs.create(user, title, "请如实填写")
    qs.add_question(user, row, kind="scale", text="您对考务安排是否满意？")
    qs.add_question(user, row, kind="single", text="您如何得知本次评价？", options=["机构通知", "网站", "其他"])
    qs.add_question(user, row, kind="multiple", text="哪些方面需要改进？", options=["场地", "设备", "服务"],
                    required=False)
    qs.add_question(user, row, kind="text", text="其他意见", required=False)
    return row


def test_build_order_publish_and_copy(sat, db):
    admin = sat.p.admin
    row = _build(admin)
    assert [q.kind for q in row.questions] == ["scale", "single", "multiple", "text"]
    qs.move_question(admin, row, row.questions[3].id, up=True)
    assert [q.kind for q in row.questions] == ["scale", "single", "text", "multiple"]
    assert [q.position for q in row.questions] == [1, 2, 3, 4]
    with pytest.raises(Exception, match="至少需要两个选项"):
        qs.add_question(admin, row, kind="single", text="只有一个选项", options=["是"])
    qs.publish(admin, row)
    assert row.status == "published" and row.token
    with pytest.raises(Conflict, match="复制"):
        qs.add_question(admin, row, kind="text", text="再加一题")
    with pytest.raises(Conflict):
        qs.remove_question(admin, row, row.questions[0].id)
    copy = qs.copy(admin, row)
    assert copy.status == "draft" and copy.copied_from_id == row.id
    assert [(q.kind, q.text) for q in copy.questions] == [(q.kind, q.text) for q in row.questions]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "questionnaire.published")) == 1


def test_a_city_changes_only_its_own_and_distributes_only_in_its_city(sat, db):
    p = sat.p
    province_q = _build(p.admin)
    with pytest.raises(PermissionDenied):
        qs.add_question(p.city_admin, province_q, kind="text", text="市里加的题")
    city_q = _build(p.city_admin, "东城市问卷")
    assert city_q.city_id == p.cities[0].id
    qs.publish(p.city_admin, city_q)
    choices = {b.organisation_id for b in qs.distributable_batches(p.city_admin, city_q)}
    assert choices and all(o.city_id == p.cities[0].id for o in p.orgs if o.id in choices)
    other_city_batch = next(b for b in p.batches if b.organisation_id == p.orgs[1].id)
    with pytest.raises(PermissionDenied):
        qs.distribute(p.city_admin, city_q, [other_city_batch.id])
    assert city_q.distributions == []
    assert province_q not in qs.visible(p.org_admins[p.orgs[0].id])


def _distributed(sat, db):
    p = sat.p
    row = _build(p.admin)
    qs.publish(p.admin, row)
    batch = p.batches[0]  # orgs[0]'s first batch, with candidates
    qs.distribute(p.admin, row, [batch.id])
    db.session.commit()
    return row, sat.entries[batch.id]


def test_a_candidate_answers_once_with_ticket_and_id_number(sat, db, client):
    row, entries = _distributed(sat, db)
    (entry, number) = entries[0]
    url = f"/satisfaction/q/{row.token}"
    page = client.get(url).get_data(as_text=True)
    assert "准考证号" in page and "身份证号" in page and row.questions[0].text in page
    scale, single, multiple, free = row.questions
    form = {"ticket_no": entry.ticket_no, "id_number": number, f"q{scale.id}": "5", f"q{single.id}": "1",
            f"q{multiple.id}": ["0", "2"], f"q{free.id}": "很好"}
    html = client.post(url, data=form).get_data(as_text=True)
    assert "问卷已提交" in html
    stored = db.session.scalar(select(QuestionnaireResponse))
    assert stored.answers == {str(scale.id): 5, str(single.id): 1, str(multiple.id): [0, 2], str(free.id): "很好"}
    assert stored.satisfied is True and stored.organisation_id == entry.batch.organisation_id
    html = client.post(url, data=form).get_data(as_text=True)
    assert "已填写过本问卷" in html
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 1


def test_missing_answer_wrong_id_and_other_batches_are_refused_with_nothing_stored(sat, db, client):
    row, entries = _distributed(sat, db)
    url = f"/satisfaction/q/{row.token}"
    (entry, number) = entries[1]
    scale = row.questions[0]
    html = client.post(url, data={"ticket_no": entry.ticket_no, "id_number": number}).get_data(as_text=True)
    assert "第 1 题：请作答" in html
    html = client.post(url, data={"ticket_no": entry.ticket_no, "id_number": entries[2][1],
                                  f"q{scale.id}": "4"}).get_data(as_text=True)
    assert qs.IDENTIFY_FAILED in html
    outsider, outsider_id = sat.entries[next(b for b in sat.p.batches if b.organisation_id == sat.p.orgs[1].id).id][0]
    html = client.post(url, data={"ticket_no": outsider.ticket_no, "id_number": outsider_id,
                                  f"q{scale.id}": "4"}).get_data(as_text=True)
    assert qs.IDENTIFY_FAILED in html
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0
    failed = db.session.scalars(select(AuditEvent.data).where(AuditEvent.action == "questionnaire.login_failed")).all()
    assert {d["reason"] for d in failed} == {"id_mismatch", "not_distributed"}
    assert all(number not in str(d) for d in failed)


def test_repeated_failures_lock_the_ticket(sat, db, client, app):
    row, entries = _distributed(sat, db)
    url = f"/satisfaction/q/{row.token}"
    entry, number = entries[0]
    for _ in range(app.config["EXAMSYS_CANDIDATE_LOCKOUT_THRESHOLD"]):
        client.post(url, data={"ticket_no": entry.ticket_no, "id_number": entries[1][1]})
    html = client.post(url, data={"ticket_no": entry.ticket_no, "id_number": number,
                                  f"q{row.questions[0].id}": "5", f"q{row.questions[1].id}": "0"}
                       ).get_data(as_text=True)
    assert "次数过多" in html
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0


def test_results_pages_qr_and_xlsx(sat, db, client):
    row, entries = _distributed(sat, db)
    scale, single, multiple, _free = row.questions
    for (entry, _n), score in zip(entries[:4], (5, 4, 2, 5), strict=True):
        qs.submit(row, entry, {f"q{scale.id}": [str(score)], f"q{single.id}": ["0"], f"q{multiple.id}": ["1"]})
    db.session.commit()
    result = results.results(row)
    assert (result.responses, result.satisfied, result.rated) == (4, 3, 4)
    bars = {label: n for label, n, _s in result.questions[0].bars}
    assert bars["5 非常满意"] == 2 and bars["2 不满意"] == 1
    assert result.questions[1].bars[0][1:] == (4, 1.0)
    login(client, sat.p.admin)
    html = client.get(f"/satisfaction/questionnaires/{row.id}").get_data(as_text=True)
    assert row.token in html and "<svg" in html and "答卷 4 份" in html
    assert client.get(f"/satisfaction/questionnaires/{row.id}/qr.svg").data.startswith(b"<svg")
    resp = client.get(f"/satisfaction/questionnaires/{row.id}/results.xlsx")
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["汇总", "答卷"] and book["答卷"].max_row == 5
    login(client, sat.p.org_admins[sat.p.orgs[0].id])
    assert client.get(f"/satisfaction/questionnaires/{row.id}").status_code == 403


def test_the_builder_through_the_pages(sat, db, client):
    login(client, sat.p.admin)
    resp = client.post("/satisfaction/questionnaires/", data={"title": "页面问卷", "intro": ""})
    assert resp.status_code == 303
    qid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/satisfaction/questionnaires/{qid}/questions", data={"kind": "scale", "text": "总体满意吗？",
                                                                      "required": "y"})
    client.post(f"/satisfaction/questionnaires/{qid}/questions", data={"kind": "single", "text": "选一个",
                                                                      "options": "甲\n乙", "required": "y"})
    html = client.get(f"/satisfaction/questionnaires/{qid}").get_data(as_text=True)
    assert "总体满意吗？" in html and "甲；乙" in html
    client.post(f"/satisfaction/questionnaires/{qid}/publish")
    resp = client.post(f"/satisfaction/questionnaires/{qid}/distribute", data={"batches": [str(sat.p.batches[0].id)]})
    assert resp.status_code == 303
    html = client.get(f"/satisfaction/questionnaires/{qid}").get_data(as_text=True)
    assert "已发布" in html and sat.p.batches[0].name in html and "<svg" in html
