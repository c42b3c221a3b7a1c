"""The demo's past batch, loaded with the whole demo through `load_demo`: sat two weeks before the
load, closed, checked by a second person and published; its process record verifies; the
supervisor's flags find the scripted copying pair and the candidate who kept leaving the page;
the provincial supervisor is assigned; the clock is given back as it was; a second load adds
nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from examsys import clock
from examsys.accounts.models import User
from examsys.audit.models import AnswerHistory
from examsys.audit.verify import verify_database
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchState, IntegrityEvent, Result, ResultReview
from examsys.demo import past_batch, past_plan
from examsys.demo.loader import load_demo
from examsys.supervision import flags as flags_view
from examsys.supervision import services as supervision
from examsys.supervision.evidence import batch_anomalies

pytestmark = pytest.mark.slow


def _attempts(db, batch: Batch) -> dict[int, Attempt]:
    """Seat number → attempt."""
    return {a.roster_entry.seat_no: a for a in db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id))}


def test_past_batch_is_published_with_a_verifiable_record_and_the_scripted_flags(db, frozen_clock):
    loaded_at = clock.now()
    summary = load_demo()
    assert clock.now() == loaded_at  # the clock is given back

    batch = db.session.scalar(select(Batch).where(Batch.name == past_batch.NAME))
    assert {"id": batch.id, "name": batch.name, "state": "published"} in summary["batches"]
    assert batch.state == BatchState.PUBLISHED
    assert batch.filed_at < batch.window_start < batch.window_end < batch.published_at < loaded_at
    assert clock.to_display(batch.window_start).date() == clock.to_display(loaded_at).date() - timedelta(days=14)
    assert len(batch.roster) == 24 and len(batch.rooms) == 1

    attempts = _attempts(db, batch)
    assert len(attempts) == 24
    statuses = sorted(a.status for a in attempts.values())
    assert statuses.count(AttemptStatus.TIMED_OUT) == 2 and statuses.count(AttemptStatus.SUBMITTED) == 22
    saves = db.session.scalar(select(func.count()).select_from(AnswerHistory)
                              .where(AnswerHistory.attempt_id.in_([a.id for a in attempts.values()])))
    assert saves > 24 * 100  # changes of mind and per-click saves of multiple choice items

    results = db.session.scalars(select(Result).where(Result.batch_id == batch.id)).all()
    assert len(results) == 24 and all(r.reviewed_at is not None for r in results)
    review = db.session.scalar(select(ResultReview).where(ResultReview.batch_id == batch.id))
    checker = db.session.scalar(select(User).where(User.username == "examadmin2"))
    assert review.passed and review.reviewer_id == checker.id
    assert {r.computed_by_id for r in results} == {db.session.scalar(select(User.id).where(
        User.username == "examadmin"))}

    report = verify_database()
    assert report.ok, report.failures[:3]

    anomalies = batch_anomalies(batch.id)
    source, copier = attempts[past_plan.SOURCE + 1], attempts[past_plan.COPIER + 1]
    assert source.form_id == copier.form_id
    pairs = anomalies.flagged_pairs
    assert [(p.copier, p.source) for p in pairs] == [(copier.id, source.id)]
    assert pairs[0].identical_incorrect >= 10
    focus = attempts[past_plan.FOCUS + 1]
    flags = {a: {f.code for f in fs} for a, fs in anomalies.flags.items() if fs}
    assert flags == {copier.id: {"copying"}, source.id: {"copying"}, focus.id: {"focus_loss"}}
    departures = db.session.scalar(select(func.count()).select_from(IntegrityEvent).where(
        IntegrityEvent.attempt_id == focus.id, IntegrityEvent.kind.in_(["focus_lost", "page_hidden"])))
    assert departures >= 8
    # What the supervisor reads: copying evidence names items by their place on the paper, in
    # time order, with true/false answers in words.
    shown = flags_view.attempt_anomalies(copier.id).flags[0]
    places = [int(m) for e in shown.evidence for m in re.findall(r"第 (\d+) 题", e.detail)]
    assert places and all(1 <= p <= 100 for p in places)
    assert [e.label[:14] for e in shown.evidence] == sorted(e.label[:14] for e in shown.evidence)
    assert not any("True" in e.detail or "False" in e.detail for e in shown.evidence)

    supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
    assert [a.supervisor_id for a in supervision.running_assignments(batch)] == [supervisor.id]
    assert batch.supervisor_id == supervisor.id

    loaded = db.session.scalar(select(func.count()).select_from(Batch))  # with the supervision demo's history
    again = load_demo()
    assert again["batches"] == summary["batches"]
    assert db.session.scalar(select(func.count()).select_from(Batch)) == loaded
