"""The proctor console: only the batch's own proctors (others 404, other roles 403), the JSON
table with states, flags and remaining time, actions that need a reason and are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import CertificateKind
from examsys.audit.models import AuditEvent
from examsys.delivery.batches import services as svc
from examsys.delivery.exam import proctoring
from examsys.delivery.models import AttemptStatus, Incident, IncidentKind, IntegrityEvent
from examsys.errors import ValidationError
from examsys.permissions import Role
from tests.delivery.test_batches import START, add_attempt, batch_world
from tests.factories import PASSWORD


@pytest.fixture
def live(make, db):
    w = batch_world(make, db, candidates=4)
    svc.file_batch(w.admin, w.batch)
    clock.freeze(START + timedelta(minutes=20))
    svc.ensure_open(w.batch)
    entries = sorted(w.batch.roster, key=lambda e: e.seat_no)
    w.running = add_attempt(db, w, entries[0])
    w.done = add_attempt(db, w, entries[1], AttemptStatus.SUBMITTED)
    db.session.add(IntegrityEvent(attempt_id=w.running.id, kind="page_hidden", source="client", data={},
                                  occurred_at=clock.now()))
    db.session.add(IntegrityEvent(attempt_id=w.running.id, kind="copy", source="client", data={},
                                  occurred_at=clock.now()))
    db.session.commit()
    yield w
    clock.freeze(None)


def _login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302


def test_console_json_lists_states_flags_and_remaining_time(live, client, db):
    _login(client, live.proctors[0])
    page = client.get(f"/delivery/proctor/{live.batch.id}")
    html = page.get_data(as_text=True)
    # A batch that asks for no room code prints none (issue 14, point 5).
    assert page.status_code == 200 and not live.batch.require_access_code
    assert live.batch.rooms[0].access_code not in html and "考场口令" not in html
    live.batch.require_access_code = True
    db.session.commit()
    html = client.get(f"/delivery/proctor/{live.batch.id}").get_data(as_text=True)
    assert live.batch.rooms[0].access_code in html
    assert "<script>" not in html and "js/proctor.js" in html
    data = client.get(f"/delivery/proctor/{live.batch.id}/status.json").get_json()
    rows = {r["ticket_no"]: r for r in data["rooms"][0]["rows"]}
    by_seat = {r["seat"]: r for r in rows.values()}
    assert by_seat[1]["state"] == "in_progress" and by_seat[1]["state_label"] == "作答中"
    assert by_seat[1]["flags"] == 2 and by_seat[1]["remaining_seconds"] == 3600 and by_seat[1]["answered"] == 3
    assert by_seat[2]["state_label"] == "已交卷" and by_seat[2]["remaining_seconds"] is None
    assert by_seat[3]["state_label"] == "未开始"
    assert data["rooms"][0]["counts"] == {"not_started": 2, "in_progress": 1, "submitted": 1, "timed_out": 0,
                                          "terminated": 0}
    assert "id_number" not in str(data) and live.ids[0] not in str(data)


def test_only_the_batchs_proctors_see_the_console(live, client, make):
    stranger = make.user(roles=Role.PROCTOR, org=live.org, certificates=(CertificateKind.EXAMINER,))
    make.db.session.commit()
    _login(client, stranger)
    assert client.get(f"/delivery/proctor/{live.batch.id}").status_code == 404
    assert client.get(f"/delivery/proctor/{live.batch.id}/status.json").status_code == 404
    assert client.post(f"/delivery/proctor/{live.batch.id}/actions",
                       data={"action": "note", "reason": "x"}).status_code == 404
    assert str(live.batch.id) not in client.get("/delivery/proctor").get_data(as_text=True).split("proctor/")[-1][:5]
    _login(client, live.admin)  # exam admins have no console: reading it is for proctors and supervisors
    assert client.get(f"/delivery/proctor/{live.batch.id}").status_code == 404
    assert client.post(f"/delivery/proctor/{live.batch.id}/actions",
                       data={"action": "note", "reason": "x"}).status_code == 403


def test_actions_need_a_reason_and_are_recorded(live, client, db):
    _login(client, live.proctors[1])
    url = f"/delivery/proctor/{live.batch.id}/actions"
    room = live.batch.rooms[0]
    resp = client.post(url, data={"action": "note", "room_id": room.id, "reason": "  "})
    assert resp.status_code == 303
    assert db.session.scalar(select(Incident)) is None
    resp = client.post(url, data={"action": "note", "room_id": room.id, "attempt_id": live.running.id,
                                  "reason": "考生反映鼠标失灵，已更换"})
    assert resp.status_code == 303
    incident = db.session.scalar(select(Incident))
    assert incident.kind == IncidentKind.NOTE and incident.room_id == room.id
    assert incident.attempt_id == live.running.id and incident.recorded_by_id == live.proctors[1].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "incident.noted"))
    assert event.data["reason"] == "考生反映鼠标失灵，已更换" and event.actor_user_id == live.proctors[1].id
    with pytest.raises(ValidationError):
        proctoring.note(live.proctors[1], live.batch, reason="")


def test_extra_time_and_terminate_through_the_attempt_engine(live, db):
    before = live.running.deadline_at
    with pytest.raises(ValidationError):
        proctoring.extend_time(live.proctors[0], live.batch, minutes=10, reason="", attempt_id=live.running.id)
    proctoring.extend_time(live.proctors[0], live.batch, minutes=10, reason="设备故障耽误 10 分钟",
                           attempt_id=live.running.id)
    db.session.refresh(live.running)
    assert live.running.deadline_at >= before  # capped by the window's end, never shortened
    proctoring.terminate(live.proctors[0], live.batch, attempt_id=live.running.id, reason="携带手机查阅答案")
    assert live.running.status == AttemptStatus.TERMINATED
    kinds = [i.kind for i in proctoring.incidents(live.batch)]
    assert kinds == [IncidentKind.EXTRA_TIME, IncidentKind.TERMINATE]  # one record per action
    record = proctoring.room_record(live.batch, live.batch.rooms[0])
    assert (record.expected, record.present, record.absent, record.misconduct) == (4, 2, 2, 1)


def test_proctor_sees_only_own_batches_in_the_list(live, make, db):
    other = batch_world(make, db, candidates=0)
    clock.freeze(datetime(2026, 11, 25, 1, 20, tzinfo=UTC))
    mine = proctoring.proctored_batches(live.proctors[0])
    assert live.batch in mine and other.batch not in mine
