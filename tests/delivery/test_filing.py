"""Filing changes (备案变更): reason required, before/after kept with an audit event, the paper
never changes, and a change may not break a filing rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.audit.models import AuditEvent
from examsys.delivery.batches import filing
from examsys.delivery.batches import services as svc
from examsys.delivery.models import FilingChange
from examsys.errors import Conflict, ValidationError
from tests.delivery.test_batches import batch_world, make_paper


@pytest.fixture
def filed(make, db):
    w = batch_world(make, db)
    svc.file_batch(w.admin, w.batch)
    yield w
    clock.freeze(None)


def test_change_records_before_and_after_with_an_audit_event(filed, db):
    b = filed.batch
    room = b.rooms[0]
    old_venue = b.venue
    row = filing.change(filed.admin, b, "考点装修，改到二号楼", venue="二号楼三层",
                        proctors={room.id: [filed.proctors[0].id, filed.proctors[2].id]})
    assert isinstance(row, FilingChange) and row.reason == "考点装修，改到二号楼"
    assert row.changes["venue"] == {"before": old_venue, "after": "二号楼三层"}
    assert row.changes["rooms"]["before"][0]["proctors"] == sorted([filed.proctors[0].id, filed.proctors[1].id])
    assert row.changes["rooms"]["after"][0]["proctors"] == sorted([filed.proctors[0].id, filed.proctors[2].id])
    assert b.venue == "二号楼三层"
    assert {s.user_id for s in svc.proctors_of(b, room)} == {filed.proctors[0].id, filed.proctors[2].id}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.filing_changed"))
    assert event.data["reason"] == row.reason and event.data["filing_change_id"] == row.id
    assert filing.history(b) == [row]


def test_change_needs_a_reason(filed):
    with pytest.raises(ValidationError, match="变更原因"):
        filing.change(filed.admin, filed.batch, "  ", venue="别处")


def test_paper_standard_and_roster_never_change_after_filing(filed, db):
    other = make_paper(filed.org, filed.standard, filed.admin)
    with pytest.raises(Conflict, match="不能变更试卷"):
        filing.change(filed.admin, filed.batch, "换卷", paper_id=other.id)
    with pytest.raises(Conflict, match="不能变更等级"):
        filing.change(filed.admin, filed.batch, "改等级", level=3)
    assert filed.batch.paper_id == filed.paper.id


def test_change_may_not_break_the_certificate_rule(filed, db):
    room = filed.batch.rooms[0]
    with pytest.raises(ValidationError, match=filed.uncertified.display_name):
        filing.change(filed.admin, filed.batch, "临时换人",
                      proctors={room.id: [filed.proctors[0].id, filed.uncertified.id]})


def test_change_of_window_to_the_past_is_refused_and_planned_batches_edit_directly(make, db, filed):
    with pytest.raises(ValidationError, match="晚于当前时间"):
        filing.change(filed.admin, filed.batch, "提前", window_start=clock.now() - timedelta(hours=1))
    row = filing.change(filed.admin, filed.batch, "推迟一小时",
                        window_start=filed.batch.window_start + timedelta(hours=1),
                        window_end=filed.batch.window_end + timedelta(hours=1))
    assert set(row.changes) == {"window_start", "window_end"}
    assert filing.change(filed.admin, filed.batch, "无变化", venue=filed.batch.venue) is None
    planned = batch_world(make, db, candidates=0).batch
    with pytest.raises(Conflict, match="直接编辑"):
        filing.change(filed.admin, planned, "x", venue="y")
