"""Concurrent changes to delivery's versioned models (Batch, Attempt) through their current
routes: someone committed a change after the request loaded the row, so the flush finds its
version moved on. The answer is 409 with the Chinese message, never a 500 or a lost update, and
nothing of the refused request is stored. (The other versioned models: test_conflicts.py.)"""

from __future__ import annotations

from sqlalchemy import func, select

from examsys.audit.models import AuditEvent
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState
from tests.concurrency import assert_conflict_page, changed_underneath
from tests.delivery import test_batches_views, test_proctor
from tests.factories import PASSWORD

w = test_batches_views.w  # a planned batch with its roster and frozen paper
live = test_proctor.live  # an open batch with a running attempt


def _login(client, user):
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _events(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_batch_filed_while_someone_changes_it_is_409(w, client, db):
    _login(client, w.admin)
    before = _events(db)
    with changed_underneath(Batch, w.batch.id) as fired:
        resp = client.post(f"/delivery/batches/{w.batch.id}/file")
    assert fired
    assert_conflict_page(resp)
    db.session.expire_all()
    assert db.session.get(Batch, w.batch.id).state == BatchState.PLANNED and _events(db) == before


def test_batch_closed_while_someone_changes_it_is_409(live, client, db):
    _login(client, live.admin)
    before = _events(db)
    with changed_underneath(Batch, live.batch.id) as fired:
        resp = client.post(f"/delivery/batches/{live.batch.id}/close", data={"force": "y", "reason": "提前结束"})
    assert fired
    assert_conflict_page(resp)
    db.session.expire_all()
    assert db.session.get(Batch, live.batch.id).state != BatchState.CLOSED and _events(db) == before


def test_attempt_terminated_after_the_candidate_submitted_is_refused(live, client, db):
    """Attempts change state by compare-and-set on their status (examsys.delivery.exam.attempts), so
    the loser of a race (here: a proctor terminating an attempt the candidate has just
    submitted) is refused with the Chinese message, the winner's state stands, and the refused
    action leaves no record. The proctor console shows the refusal on its own page."""
    _login(client, live.proctors[0])
    room = live.batch.rooms[0]
    assert client.get(f"/delivery/proctor/{live.batch.id}").status_code == 200
    attempt = db.session.get(Attempt, live.running.id)
    attempt.status = AttemptStatus.SUBMITTED  # the candidate's submit wins the race
    db.session.commit()
    before = _events(db)
    resp = client.post(f"/delivery/proctor/{live.batch.id}/actions", data={
        "action": "terminate", "room_id": room.id, "attempt_id": live.running.id, "reason": "违纪，终止考试"},
        follow_redirects=True)
    assert resp.status_code in (200, 409) and "该考生已结束作答" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attempt, live.running.id).status == AttemptStatus.SUBMITTED and _events(db) == before
