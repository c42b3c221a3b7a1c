"""Marking: two independent marks, arbitration over the margin, a marker never marks an item twice
nor arbitrates their own, marks audited, markers see no candidate data, batch → MARKED."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.delivery.models import BatchState, ItemScore
from examsys.delivery.scoring import grading, marking
from examsys.errors import Conflict, PermissionDenied, ValidationError
from tests.delivery.test_grading import PERFECT, GradingWorld


@pytest.fixture
def world(make, db, frozen_clock):
    w = GradingWorld(make, db)
    w.entry, w.attempt = w.candidate("欧阳娜娜", PERFECT)
    grading.score_batch(w.batch)
    w.open = next(s for s in grading.score_attempt(w.attempt) if s.needs_marking)
    return w


def test_two_marks_within_margin_give_the_mean(world, db):
    m1, m2, _ = world.markers
    assert [t.item_score_id for t in marking.queue(world.batch, m1)] == [world.open.id]
    marking.record_mark(m1, world.open, 8, "要点齐全")
    assert world.open.final_score is None
    assert marking.queue(world.batch, m1) == []  # marked it already
    marking.record_mark(m2, world.open, 7)  # |8-7| = 1 ≤ 20 % of 10
    assert world.open.final_score == 7.5
    assert world.batch.state == BatchState.MARKED
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mark.given")
                               .order_by(AuditEvent.id)).all()
    assert [(e.data["round"], e.data["score"]) for e in events] == [(1, 8.0), (2, 7.0)]
    assert events[1].data["final_score"] == 7.5 and all(e.object_type == "mark" for e in events)
    assert all(e.data["marking_code"] == world.open.marking_code for e in events)
    assert all("欧阳娜娜" not in str(e.data) and world.entry.ticket_no not in str(e.data) for e in events)


def test_over_margin_goes_to_a_third_marker(world):
    m1, m2, m3 = world.markers
    marking.record_mark(m1, world.open, 9)
    marking.record_mark(m2, world.open, 4)
    assert world.open.final_score is None and marking.needs_arbitration(world.open)
    # Neither earlier marker may arbitrate; they don't see it in their arbitration queue.
    assert marking.arbitration_queue(world.batch, m1) == []
    with pytest.raises(PermissionDenied):
        marking.record_mark(m1, world.open, 6)
    tasks = marking.arbitration_queue(world.batch, m3)
    assert [t.round for t in tasks] == [3] and sorted(m["score"] for m in tasks[0].other_marks) == [4.0, 9.0]
    mark = marking.record_mark(m3, world.open, 6, "仲裁")
    assert mark.round == 3 and world.open.final_score == 6.0
    assert world.batch.state == BatchState.MARKED


def test_margin_is_configurable(world, app):
    m1, m2, _ = world.markers
    before, app.config["EXAMSYS_MARK_MARGIN"] = app.config["EXAMSYS_MARK_MARGIN"], 0.5
    try:
        marking.record_mark(m1, world.open, 9)
        marking.record_mark(m2, world.open, 4)
    finally:
        app.config["EXAMSYS_MARK_MARGIN"] = before
    assert world.open.final_score == 6.5


def test_same_marker_refused_twice(world):
    m1 = world.markers[0]
    marking.record_mark(m1, world.open, 5)
    with pytest.raises(PermissionDenied):
        marking.record_mark(m1, world.open, 6)
    assert len(world.open.marks) == 1


def test_score_range_checked_and_settled_items_refused(world):
    m1, m2, m3 = world.markers
    with pytest.raises(ValidationError):
        marking.record_mark(m1, world.open, 11)
    with pytest.raises(ValidationError):
        marking.record_mark(m1, world.open, -1)
    marking.record_mark(m1, world.open, 5)
    marking.record_mark(m2, world.open, 5)
    with pytest.raises(Conflict):
        marking.record_mark(m3, world.open, 5)


def test_marker_of_another_organisation_refused(world, make):
    from examsys.permissions import Role

    stranger = make.user(roles=Role.PROCTOR)
    with pytest.raises(PermissionDenied):
        marking.record_mark(stranger, world.open, 5)


def test_marking_pages_show_no_candidate_data(world, client, db):
    from tests.conftest import factories

    m1 = world.markers[0]
    db.session.commit()
    assert client.post("/login", data={"username": m1.username, "password": factories.PASSWORD}).status_code == 302
    urls = (f"/delivery/batches/{world.batch.id}/marking", f"/delivery/marking/{world.open.id}", "/delivery/marking")
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        assert "欧阳娜娜" not in html and world.entry.ticket_no not in html, url
        assert world.entry.candidate.id_number_masked not in html
    form = client.get(f"/delivery/marking/{world.open.id}").get_data(as_text=True)
    assert world.open.marking_code in form and "迅速脱离电源，就地施救。" in form
    resp = client.post(f"/delivery/marking/{world.open.id}", data={"score": "8", "comment": ""})
    assert resp.status_code == 302
    assert db.session.get(ItemScore, world.open.id).marks[0].score == 8.0
    # Marking the same item again through the page: refused.
    assert client.post(f"/delivery/marking/{world.open.id}", data={"score": "8"}).status_code == 403
