"""The paper's fast path (examsys.delivery.exam.paperfast): the common paper request answered from
one Core read, the same body as the general path; everything else left to the general path,
which refuses, finalises and records as before."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys.delivery.exam import services as exam
from examsys.delivery.models import Attempt, AttemptStatus, CandidateSession, IntegrityEvent
from tests.api.conftest import fast_path_calls


@pytest.fixture
def fast_calls(monkeypatch):
    return fast_path_calls(monkeypatch, "paper_fast")


def test_fast_and_general_paths_answer_the_same_paper(delivery_world, candidate_api, fast_calls, monkeypatch):
    candidate_api.login(0)
    aid = candidate_api.start()
    fast = candidate_api.get(f"/attempts/{aid}/paper")
    assert fast.status_code == 200 and fast_calls == [True]
    monkeypatch.setattr(exam, "paper_fast", lambda *a, **k: None)
    general = candidate_api.get(f"/attempts/{aid}/paper")
    assert general.status_code == 200
    assert fast.get_json() == general.get_json()
    body = fast.get_json()
    assert body["attempt_id"] == aid and body["exam_id"] == delivery_world.batch.id
    assert body["title"] == delivery_world.batch.name and len(body["items"]) == 5
    assert fast.headers["Cache-Control"] == general.headers["Cache-Control"] == "no-store"


def test_someone_elses_attempt_and_an_ended_session_take_the_general_path(delivery_world, candidate_api,
                                                                          fast_calls):
    candidate_api.login(0)
    mine = candidate_api.start()
    first = candidate_api.token
    candidate_api.login(1)
    assert candidate_api.get(f"/attempts/{mine}/paper").status_code == 404
    assert candidate_api.get(f"/attempts/{mine}/paper", token="nonsense").status_code == 401
    candidate_api.login(0)  # replaces the first session
    replaced = candidate_api.get(f"/attempts/{mine}/paper", token=first)
    assert replaced.status_code == 401 and replaced.get_json()["error"]["code"] == "session_replaced"
    assert fast_calls == [False, False, False]
    assert candidate_api.get(f"/attempts/{mine}/paper").status_code == 200 and fast_calls[-1] is True


def test_an_overdue_attempt_is_finalised_by_the_general_path(delivery_world, candidate_api, fast_calls,
                                                            frozen_clock, db):
    candidate_api.login(0)
    aid = candidate_api.start()
    frozen_clock.advance(timedelta(minutes=60, seconds=16))  # past deadline + grace
    resp = candidate_api.get(f"/attempts/{aid}/paper")
    assert resp.status_code == 200 and fast_calls == [False]
    db.session.expire_all()
    assert db.session.get(Attempt, aid).status == AttemptStatus.TIMED_OUT
    again = candidate_api.get(f"/attempts/{aid}/paper")  # closed now: nothing to finalise, the fast path serves it
    assert again.status_code == 200 and fast_calls == [False, True] and again.get_json() == resp.get_json()


def test_a_due_last_seen_touch_is_written_by_the_general_path(delivery_world, candidate_api, fast_calls,
                                                             frozen_clock, db):
    candidate_api.login(0)
    aid = candidate_api.start()
    frozen_clock.advance(timedelta(minutes=2))
    assert candidate_api.get(f"/attempts/{aid}/paper").status_code == 200
    session = db.session.scalar(select(CandidateSession).where(CandidateSession.ended_at.is_(None)))
    db.session.refresh(session)
    assert session.last_seen_at == frozen_clock.now()
    assert candidate_api.get(f"/attempts/{aid}/paper").status_code == 200
    assert fast_calls == [False, True]


def test_safe_exam_browser_check_on_the_fast_path(delivery_world, candidate_api, fast_calls, db):
    w = delivery_world
    candidate_api.login(0)
    aid = candidate_api.start()
    key = "c" * 64
    w.batch.seb_config_key = key
    db.session.commit()
    refused = candidate_api.get(f"/attempts/{aid}/paper")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "seb_required"
    assert db.session.scalar(select(IntegrityEvent.kind).where(IntegrityEvent.attempt_id == aid)) == "seb_check_failed"
    url = f"http://localhost/api/v1/attempts/{aid}/paper"
    good = {"X-SafeExamBrowser-ConfigKeyHash": hashlib.sha256((url + key).encode()).hexdigest()}
    assert candidate_api.get(f"/attempts/{aid}/paper", headers=good).status_code == 200
    assert fast_calls == [False, True]
