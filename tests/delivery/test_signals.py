"""Delivery's services send their signals once, at the moment the change is made."""

from contextlib import contextmanager
from datetime import timedelta

import pytest

from examsys import signals
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import services as exam
from examsys.delivery.models import AttemptStatus, BatchState
from examsys.delivery.scoring import marking
from examsys.delivery.scoring import services as scoring
from tests.delivery.test_marking import world as marking_world  # noqa: F401 (fixture)
from tests.delivery.test_results import _marked_world


@contextmanager
def caught(signal):
    got = []

    def receiver(sender, **kwargs):
        got.append((sender, kwargs))

    signal.connect(receiver)
    try:
        yield got
    finally:
        signal.disconnect(receiver)


def test_first_start_sends_attempt_started_and_opens_the_batch_once(delivery_world, db):
    w = delivery_world
    with caught(signals.attempt_started) as started, caught(signals.batch_state_changed) as changed:
        attempt = exam.start_attempt(w.entries[0])
        assert exam.start_attempt(w.entries[0]) is attempt  # the same attempt: nothing new
        exam.start_attempt(w.entries[1])
    assert [s for s, _ in started] == [attempt, exam.attempt_of(w.entries[1])]
    assert changed == [(w.batch, {"old": BatchState.FILED, "new": BatchState.OPEN})]


def test_submit_sends_attempt_finalised_once(delivery_world, db):
    attempt = exam.start_attempt(delivery_world.entries[0])
    with caught(signals.attempt_finalised) as finalised:
        exam.submit(attempt)
        exam.submit(attempt)
    assert finalised == [(attempt, {"how": AttemptStatus.SUBMITTED})]


def test_timeout_by_the_sweeper_sends_attempt_finalised_once(delivery_world, db, frozen_clock):
    attempt = exam.start_attempt(delivery_world.entries[0])
    frozen_clock.advance(timedelta(hours=2))
    with caught(signals.attempt_finalised) as finalised:
        assert exam.sweep() == 1
        assert exam.sweep() == 0
    assert finalised == [(attempt, {"how": AttemptStatus.TIMED_OUT})]


def test_terminate_sends_attempt_finalised(delivery_world, db):
    attempt = exam.start_attempt(delivery_world.entries[0])
    with caught(signals.attempt_finalised) as finalised:
        exam.terminate(delivery_world.proctor, attempt, reason="夹带资料")
    assert finalised == [(attempt, {"how": AttemptStatus.TERMINATED})]


def test_closing_sends_batch_state_changed_and_batch_closed(delivery_world, db):
    w = delivery_world
    exam.submit(exam.start_attempt(w.entries[0]))
    with caught(signals.batch_state_changed) as changed, caught(signals.batch_closed) as closed:
        batches.close_batch(w.admin, w.batch)
    assert changed == [(w.batch, {"old": BatchState.OPEN, "new": BatchState.CLOSED})]
    assert closed == [(w.batch, {})]


def test_marking_completed_when_the_last_final_score_is_settled(marking_world):  # noqa: F811
    w = marking_world
    with caught(signals.marking_completed) as completed:
        marking.record_mark(w.markers[0], w.open, 8)
        assert completed == []
        marking.record_mark(w.markers[1], w.open, 8)
    assert completed == [(w.batch, {})]


@pytest.fixture
def marked(make, db, frozen_clock):
    return _marked_world(make, db)


def test_publish_sends_results_published_once(marked):
    w = marked
    scoring.compute_results(w.batch, w.admin)
    scoring.review_batch(w.batch, w.admin2)
    with caught(signals.results_published) as published, caught(signals.batch_state_changed) as changed:
        scoring.publish(w.batch, w.admin)
    assert published == [(w.batch, {})]
    assert changed == [(w.batch, {"old": BatchState.REVIEWED, "new": BatchState.PUBLISHED})]
