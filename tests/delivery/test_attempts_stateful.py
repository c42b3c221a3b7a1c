"""RELIABILITY 15 and issue 15 point 8: a hypothesis state machine over start / save / stale save
/ submit / tick / sweep / extend / reopen / terminate, checked against a small in-process model of
the rules:
- a save is stored iff the attempt is open and now <= deadline + grace and seq > stored seq;
- the stored answer is always the last stored save's (no acknowledged save lost or regressed);
- submitted, timed out and terminated are final: nothing but an explicit reopen moves the attempt
  or its finish time, and a refused terminate leaves nothing behind;
- a closed-by-time attempt finishes exactly at its deadline; sweep twice changes nothing;
- one attempt per roster entry; one submission per opening (and as many as the model made);
- exactly one process-record event per transition;
- after every step the process record of the attempt's batch verifies (examsys.audit.verify:
  the chains link by link, the attempt's seal, the answer history against the saves).

Each example sits in a batch of its own (on the world's frozen paper), so each verification reads
one short batch chain and one attempt chain."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from examsys import clock
from examsys.audit.models import AuditEvent
from examsys.audit.verify import batch_scopes, verify_database
from examsys.delivery.exam import services as attempts
from examsys.delivery.models import Attempt, AttemptStatus, Batch, BatchRoom, BatchState, Response, RosterEntry
from examsys.errors import AttemptClosed, Conflict
from tests import factories, reliability
from tests.delivery.world import build_world

TRANSITIONS = ("attempt.submitted", "attempt.timed_out", "attempt.reopened", "attempt.terminated")
FINAL = (AttemptStatus.SUBMITTED, AttemptStatus.TIMED_OUT, AttemptStatus.TERMINATED)


@pytest.fixture
def machine_env(db, frozen_clock):
    return db


def test_attempt_state_machine(machine_env):
    db = machine_env
    world = build_world(db)
    db.session.commit()
    base = clock.now()
    make = factories.Factories(db)
    examples = itertools.count()

    class AttemptMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            clock.freeze(base)
            # A new batch and candidate per example: the process record keeps every attempt, and
            # a batch of its own keeps each example's chains short to verify.
            n = next(examples)
            b = world.batch
            self.batch = Batch(organisation_id=b.organisation_id, standard_id=b.standard_id, level=b.level,
                               name=f"状态机批次{n}", venue=b.venue, window_start=base - timedelta(minutes=10),
                               window_end=base + timedelta(hours=3), paper_id=b.paper_id, state=BatchState.FILED,
                               duration_minutes=b.duration_minutes, grace_seconds=b.grace_seconds,
                               created_by_id=b.created_by_id, filed_at=base - timedelta(days=1))
            db.session.add(self.batch)
            db.session.flush()
            room = BatchRoom(batch_id=self.batch.id, name="第1考场", position=0, capacity=30, access_code="ROOM01")
            db.session.add(room)
            cand = make.candidate(world.org, name=f"状态机{n}", id_number=factories.valid_id_number(30_000 + n))
            db.session.flush()
            self.entry = RosterEntry(batch_id=self.batch.id, candidate_id=cand.id, ticket_no=f"M{n:07d}",
                                     room_id=room.id, seat_no=1, order_seed=7000 + n, start_delay_seconds=0)
            db.session.add(self.entry)
            db.session.commit()
            self.audit_start = db.session.scalar(select(func.max(AuditEvent.id))) or 0
            self.attempt = None
            self.seq = 0
            self.stored = None  # (seq, answer) as the model expects
            self.status = None
            self.transitions = 0
            self.submissions = 0
            self.openings = 0  # the first start and every reopen
            self.finished_at = None  # of a final attempt, as the database first said
            self.item = None

        def _grace_ok(self):
            return clock.now() <= self.attempt.deadline_at + timedelta(seconds=15)

        @rule()
        def start(self):
            if self.attempt is None and clock.now() >= self.batch.window_end:
                # No first start once the window has closed (the attempt engine refuses it).
                with pytest.raises(Conflict):
                    attempts.start_attempt(self.entry)
                db.session.rollback()
                return
            a = attempts.start_attempt(self.entry)
            if self.attempt is None:
                self.attempt = a
                self.status = AttemptStatus.IN_PROGRESS
                self.openings = 1
                label = "A" if a.form_id == world.forms["A"].id else "B"
                self.item = world.form_items[(label, "single")].id
            else:
                assert a.id == self.attempt.id
                self._model_touch()
            db.session.commit()

        def _model_touch(self):
            if self.status == AttemptStatus.IN_PROGRESS and not self._grace_ok():
                self.status = AttemptStatus.TIMED_OUT
                self.transitions += 1

        @precondition(lambda self: self.attempt is not None)
        @rule(value=st.sampled_from("ABCD"))
        def save(self, value):
            self.seq += 1
            self._save(value, self.seq)

        @precondition(lambda self: self.attempt is not None and self.seq > 0)
        @rule(value=st.sampled_from("ABCD"), back=st.integers(0, 3))
        def stale_save(self, value, back):
            self._save(value, max(1, self.seq - back))

        def _save(self, value, seq):
            self._model_touch()
            expect = self.status == AttemptStatus.IN_PROGRESS and (self.stored is None or seq > self.stored[0])
            try:
                result = attempts.save_response(self.attempt, self.item, value, seq)
                stored = result.stored
            except AttemptClosed:
                stored = False
                assert self.status != AttemptStatus.IN_PROGRESS
            db.session.commit()
            assert stored == expect
            if stored:
                self.stored = (seq, value)

        @precondition(lambda self: self.attempt is not None)
        @rule()
        def submit(self):
            self._model_touch()
            attempts.submit(self.attempt)
            db.session.commit()
            if self.status == AttemptStatus.IN_PROGRESS:
                self.status = AttemptStatus.SUBMITTED
                self.transitions += 1
                self.submissions += 1

        @rule(seconds=st.sampled_from([1, 10, 14, 15, 16, 60, 600, 1800, 3600]))
        def tick(self, seconds):
            clock.advance(timedelta(seconds=seconds))

        @rule()
        def sweep(self):
            attempts.sweep()
            db.session.commit()
            if self.attempt is not None:
                self._model_touch()
            assert attempts.sweep() == 0

        @precondition(lambda self: self.attempt is not None)
        @rule(minutes=st.integers(1, 30))
        def extend(self, minutes):
            self._model_touch()
            attempts.grant_extension(world.proctor, batch=self.batch, attempt=self.attempt,
                                     minutes=minutes, reason="补时")
            db.session.commit()

        @precondition(lambda self: self.attempt is not None and self.status != AttemptStatus.IN_PROGRESS)
        @rule()
        def reopen(self):
            attempts.reopen(world.proctor, self.attempt, reason="重新开放")
            db.session.commit()
            self.transitions += 1
            self.openings += 1
            self.finished_at = None
            if clock.now() >= self.attempt.deadline_at:
                self.status = AttemptStatus.TIMED_OUT
                self.transitions += 1
            else:
                self.status = AttemptStatus.IN_PROGRESS

        @precondition(lambda self: self.attempt is not None)
        @rule()
        def terminate(self):
            # As a request would: a refusal rolls back everything the call did, including the
            # timeout that closing an overdue attempt first records.
            before = (self.status, self.transitions)
            self._model_touch()
            expect = self.status == AttemptStatus.IN_PROGRESS
            try:
                attempts.terminate(world.proctor, self.attempt, reason="违纪")
            except Conflict:
                db.session.rollback()
                assert not expect
                self.status, self.transitions = before
                return
            db.session.commit()
            assert expect
            self.status = AttemptStatus.TERMINATED
            self.transitions += 1

        @invariant()
        def matches_model(self):
            if self.attempt is None:
                return
            db.session.refresh(self.attempt)
            assert self.attempt.status == self.status
            if self.status in FINAL:
                # Final: the finish time never moves until an explicit reopen.
                if self.finished_at is None:
                    self.finished_at = self.attempt.finished_at
                assert self.attempt.finished_at == self.finished_at is not None
            else:
                self.finished_at = None
            if self.status == AttemptStatus.TIMED_OUT:
                assert self.attempt.finished_at == self.attempt.deadline_at
            row = db.session.scalar(select(Response).where(Response.attempt_id == self.attempt.id))
            assert (None if row is None else (row.seq, row.answer)) == self.stored
            n = db.session.scalar(select(func.count(AuditEvent.id)).where(
                AuditEvent.id > self.audit_start, AuditEvent.action.in_(TRANSITIONS),
                AuditEvent.object_id == str(self.attempt.id)))
            assert n == self.transitions
            submitted = db.session.scalar(select(func.count(AuditEvent.id)).where(
                AuditEvent.id > self.audit_start, AuditEvent.action == "attempt.submitted",
                AuditEvent.object_id == str(self.attempt.id)))
            assert submitted == self.submissions <= self.openings
            assert db.session.scalar(select(func.count(Attempt.id)).where(
                Attempt.roster_entry_id == self.entry.id)) == 1

        @invariant()
        def record_verifies(self):
            report = verify_database(batch_scopes(self.batch.id))
            assert report.ok, report.failures[:3]

    # `make reliability` asks for more examples (EXAMSYS_STATEFUL_EXAMPLES) than CI's 60.
    max_examples, steps = int(os.environ.get("EXAMSYS_STATEFUL_EXAMPLES", "60")), 40
    AttemptMachine.TestCase.settings = settings(
        max_examples=max_examples, stateful_step_count=steps, deadline=None, suppress_health_check=list(HealthCheck))
    AttemptMachine.TestCase().runTest()  # raises unless every invariant held in every example
    reliability.record("lifecycle", {"database": db.engine.dialect.name, "max_examples": max_examples,
                                     "examples_run": next(examples), "steps_per_example_max": steps})
