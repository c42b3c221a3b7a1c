"""An assigned supervisor of the province reads a batch of another organisation whole and
read-only — the workspace's timelines and the reused delivery and assembly pages — and every
look at a candidate's record is recorded; a batch not assigned to them is not found."""

from __future__ import annotations

from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.permissions import Role
from examsys.supervision import services as supervision
from tests.supervision.conftest import login


def _urls(batch, attempt_id, item_ref):
    return [f"/supervision/batches/{batch.id}", f"/supervision/attempts/{attempt_id}",
            f"/supervision/attempts/{attempt_id}/items/{item_ref}", f"/delivery/batches/{batch.id}",
            f"/delivery/proctor/{batch.id}", f"/delivery/proctor/{batch.id}/status.json",
            f"/delivery/batches/{batch.id}/results", f"/assembly/papers/{batch.paper_id}"]


def test_the_assigned_supervisor_reads_the_batch_of_another_organisation(client, delivery_world, authority, sat):
    w, aid, ref = delivery_world, sat[0], sat[1]
    assert authority.supervisor.organisation_id != w.batch.organisation_id
    login(client, authority.supervisor)
    for url in _urls(w.batch, aid, ref):
        assert client.get(url).status_code == 200, url
    assert w.batch.name in client.get("/supervision/").get_data(as_text=True)

    batch_page = client.get(f"/supervision/batches/{w.batch.id}").get_data(as_text=True)
    for label in ("开始作答", "交卷", "委派督导员", "封存作答记录"):
        assert label in batch_page, label
    assert '"answer_sha256"' not in batch_page and "{&#34;" not in batch_page  # data as tables, not JSON

    person = client.get(f"/supervision/attempts/{aid}").get_data(as_text=True)
    for text in ("考生登录（会话）", "保存答案", "考试页面失去焦点", "交卷", "设备（浏览器）"):
        assert text in person, text

    history = client.get(f"/supervision/attempts/{aid}/items/{ref}").get_data(as_text=True)
    assert history.count("<tr><td>") >= 2  # both saves, in order
    assert history.index(">A</td>") < history.index(">C</td>")  # the letters the candidate saw

    console = client.get(f"/delivery/proctor/{w.batch.id}").get_data(as_text=True)
    assert "考场监控（只读）" in console and "ROOM01" not in console
    assert 'name="reason"' not in console  # no proctor actions
    assert client.post(f"/delivery/proctor/{w.batch.id}/actions",
                       data={"action": "note", "reason": "x"}).status_code == 403


def test_a_batch_not_assigned_is_not_found(client, delivery_world, authority, sat, make, db):
    other = make.user(roles=Role.SUPERVISOR, org=authority.province)
    db.session.commit()
    login(client, other)
    for url in _urls(delivery_world.batch, sat[0], sat[1]):
        assert client.get(url).status_code == 404, url
    assert delivery_world.batch.name not in client.get("/supervision/").get_data(as_text=True)
    assert client.post(f"/supervision/batches/{delivery_world.batch.id}/findings",
                       data={"category": "other", "text": "x"}).status_code == 404


def test_an_ended_assignment_closes_the_batch(client, delivery_world, authority, db):
    supervision.end_assignment(authority.admin, authority.assignment)
    db.session.commit()
    login(client, authority.supervisor)
    assert client.get(f"/supervision/batches/{delivery_world.batch.id}").status_code == 404


def test_every_look_at_a_candidates_record_is_recorded(client, delivery_world, authority, sat, db):
    aid, ref = sat[0], sat[1]
    login(client, authority.supervisor)
    client.get(f"/supervision/attempts/{aid}")
    client.get(f"/supervision/attempts/{aid}/items/{ref}")
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempt.viewed_for_supervision")
                              .order_by(AuditEvent.id)).all()
    assert [r.data["view"] for r in rows] == ["timeline", "item_history"]
    assert {r.scope for r in rows} == {f"batch/{delivery_world.batch.id}"}
    assert {r.actor_user_id for r in rows} == {authority.supervisor.id}
    assert rows[1].data["item"] == ref and all(r.object_id == str(aid) for r in rows)
