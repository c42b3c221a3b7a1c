"""The first start's fast path (examsys.delivery.exam.startfast): a first start of an open batch
authenticated from one Core read, recorded exactly as the general path records it; every other
start left to the general path, which opens, resumes and refuses as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.audit.verify import verify_database
from examsys.delivery.models import Attempt, BatchState
from tests.api.conftest import fast_path_calls


@pytest.fixture
def fast_calls(monkeypatch):
    return fast_path_calls(monkeypatch, "start_fast")


def _started_event(db, attempt_id):
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.started",
                                                      AuditEvent.object_id == str(attempt_id)))


def test_first_start_of_an_open_batch_is_fast_and_recorded_as_the_general_one(delivery_world, candidate_api,
                                                                               fast_calls, db):
    w = delivery_world
    candidate_api.login(0)
    first = candidate_api.post(f"/exams/{w.batch.id}/attempt", headers={"User-Agent": "UA-1"})
    assert first.status_code == 201 and fast_calls == [False]  # a filed batch: the general path opens it
    db.session.refresh(w.batch)
    assert w.batch.state == BatchState.OPEN
    candidate_api.login(1)
    second = candidate_api.post(f"/exams/{w.batch.id}/attempt", headers={"User-Agent": "UA-1"})
    assert second.status_code == 201 and fast_calls == [False, True]
    a, b = first.get_json(), second.get_json()
    assert set(a) == set(b) and b["status"] == "in_progress" and b["grace_seconds"] == a["grace_seconds"] == 15
    assert b["remaining_seconds"] == 3600 and b["exam_id"] == w.batch.id
    attempt = db.session.get(Attempt, b["attempt_id"])
    assert attempt.roster_entry_id == w.entries[1].id and attempt.order_seed == w.entries[1].order_seed
    general, fast = _started_event(db, a["attempt_id"]), _started_event(db, b["attempt_id"])
    for name in ("actor_roles", "organisation_id", "ip", "user_agent", "scope"):
        assert (getattr(fast, name) is None) == (getattr(general, name) is None), name
    assert fast.actor_label == f"candidate:{w.tickets[1]}" and fast.actor_roles == general.actor_roles
    assert fast.organisation_id == general.organisation_id and fast.user_agent == "UA-1"
    assert fast.data["ticket_no"] == w.tickets[1] and set(fast.data) == set(general.data)
    assert verify_database().ok
    # Starting again resumes: the general path answers 200 with the same attempt.
    again = candidate_api.post(f"/exams/{w.batch.id}/attempt")
    assert again.status_code == 200 and again.get_json()["attempt_id"] == b["attempt_id"]
    assert fast_calls == [False, True, False]


def test_refusals_are_the_general_paths(delivery_world, candidate_api, fast_calls, db):
    w = delivery_world
    w.batch.state = BatchState.OPEN
    w.entries[0].start_delay_seconds = 10**6  # opens long after now
    db.session.commit()
    candidate_api.login(0)
    late = candidate_api.post(f"/exams/{w.batch.id}/attempt")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "not_started"
    assert candidate_api.post(f"/exams/{w.batch.id + 1}/attempt").status_code == 404
    assert candidate_api.post(f"/exams/{w.batch.id}/attempt", token="nonsense").status_code == 401
    w.batch.seb_config_key = "d" * 64
    db.session.commit()
    candidate_api.login(1)
    seb = candidate_api.post(f"/exams/{w.batch.id}/attempt")
    assert seb.status_code == 403 and seb.get_json()["error"]["code"] == "seb_required"
    assert fast_calls == [False, False, False, False]
    assert db.session.scalar(select(Attempt.id)) is None


def test_a_due_last_seen_touch_takes_the_general_path(delivery_world, candidate_api, fast_calls, db, frozen_clock):
    w = delivery_world
    w.batch.state = BatchState.OPEN
    db.session.commit()
    candidate_api.login(0)
    frozen_clock.advance(timedelta(minutes=2))
    assert candidate_api.post(f"/exams/{w.batch.id}/attempt").status_code == 201
    assert fast_calls == [False]
