"""Attempt lifecycle services: server deadline and grace, sweep, extensions, reopen, terminate,
ordered saves, autosave racing submit (RELIABILITY 1, 3, 5, 6, 10, 12)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from examsys import clock
from examsys.audit.models import AuditEvent
from examsys.delivery.exam import services as attempts
from examsys.delivery.models import AttemptStatus, BatchState, Incident, Response, RosterEntry
from examsys.errors import AttemptClosed, Conflict, NotFound, ValidationError
from tests import factories

S = timedelta(seconds=1)


def events(db, action, object_id=None):
    stmt = select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    return db.session.scalar(stmt)


def fi(world, qtype, form="A"):
    return world.form_items[(form, qtype)].id


@pytest.fixture
def started(delivery_world, db):
    att = attempts.start_attempt(delivery_world.entries[0])
    db.session.commit()
    return att


def test_start_is_idempotent_opens_batch_and_sets_deadline(delivery_world, db, started):
    w = delivery_world
    assert started.deadline_at == clock.now() + timedelta(minutes=60)
    assert w.batch.state == BatchState.OPEN
    assert attempts.start_attempt(w.entries[0]).id == started.id
    assert events(db, "attempt.started") == 1 and events(db, "batch.opened") == 1
    assert attempts.start_attempt(w.entries[1]).form_id == w.forms["B"].id
    assert events(db, "batch.opened") == 1


def test_a_started_attempt_is_in_the_session_as_if_loaded(delivery_world, db):
    """The first start inserts in Core and puts the returned row in the session: the same object
    as a query gives, typed as the ORM types it (enum, aware datetimes), nothing pending."""
    from sqlalchemy import inspect, select

    from examsys.delivery.models import Attempt, AttemptStatus

    att = attempts.start_attempt(delivery_world.entries[0])
    state = inspect(att)
    assert state.persistent and not db.session.dirty and not state.modified
    assert att.status is AttemptStatus.IN_PROGRESS and att.started_at.tzinfo is not None
    assert att.answered_count == 0 and att.version == 1
    assert db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == delivery_world.entries[0].id)) is att
    assert att.batch is delivery_world.batch  # relationships load as for any loaded attempt


def test_start_refused_outside_window_or_state(delivery_world, db, frozen_clock):
    w = delivery_world
    w.entries[0].start_delay_seconds = 30 * 60  # admitted 20 min from now
    with pytest.raises(Conflict) as exc:
        attempts.start_attempt(w.entries[0])
    assert exc.value.code == "not_started"
    w.batch.state = BatchState.PLANNED
    with pytest.raises(Conflict):
        attempts.start_attempt(w.entries[1])
    w.batch.state = BatchState.FILED
    frozen_clock.advance(timedelta(hours=3))
    with pytest.raises(Conflict) as exc:
        attempts.start_attempt(w.entries[1])
    assert exc.value.code == "window_closed"


def test_late_start_capped_by_window(delivery_world, db, frozen_clock):
    frozen_clock.advance(timedelta(hours=2, minutes=30))  # 20 min before window end
    att = attempts.start_attempt(delivery_world.entries[0])
    assert att.deadline_at == delivery_world.batch.window_end


# --- RELIABILITY 1: the server's deadline and grace ---------------------------------------------


def test_save_one_second_before_deadline_stored_after_grace_refused(delivery_world, db, started, frozen_clock):
    item = fi(delivery_world, "single")
    frozen_clock.freeze(started.deadline_at - S)
    assert attempts.save_response(started, item, "A", 1).stored
    db.session.commit()
    frozen_clock.freeze(started.deadline_at + timedelta(seconds=15))  # inside grace: counts
    assert attempts.save_response(started, item, "B", 2).stored
    db.session.commit()
    frozen_clock.freeze(started.deadline_at + timedelta(seconds=16))
    with pytest.raises(AttemptClosed):
        attempts.save_response(started, item, "C", 3)
    db.session.commit()
    stored = db.session.scalar(select(Response).where(Response.attempt_id == started.id))
    assert (stored.answer, stored.seq) == ("B", 2)
    # the refused save's touch finalised it at the deadline, not now
    assert started.status == AttemptStatus.TIMED_OUT and started.finished_at == started.deadline_at


def test_client_cannot_choose_time(delivery_world, db, started, frozen_clock):
    # `now` is only a test hook inside services; the API never passes client time.
    frozen_clock.freeze(started.deadline_at + timedelta(minutes=5))
    with pytest.raises(AttemptClosed):
        attempts.save_response(started, fi(delivery_world, "judge"), True, 1)


# --- RELIABILITY 3: sweeper ---------------------------------------------------------------------


def test_sweep_finalises_at_deadline_once(delivery_world, db, frozen_clock):
    w = delivery_world
    a = attempts.start_attempt(w.entries[0])
    attempts.save_response(a, fi(w, "judge"), False, 1)
    frozen_clock.advance(timedelta(minutes=5))
    b = attempts.start_attempt(w.entries[1])
    db.session.commit()
    frozen_clock.freeze(a.deadline_at + timedelta(minutes=1))  # a overdue, b inside grace? no: b +4 min
    assert attempts.sweep() == 1
    db.session.commit()
    assert a.status == AttemptStatus.TIMED_OUT and a.finished_at == a.deadline_at
    assert b.status == AttemptStatus.IN_PROGRESS
    assert attempts.sweep() == 0
    frozen_clock.freeze(b.deadline_at + timedelta(hours=1))
    assert attempts.sweep() == 1
    assert attempts.sweep() == 0
    db.session.commit()
    assert b.finished_at == b.deadline_at
    assert events(db, "attempt.timed_out", a.id) == 1 and events(db, "attempt.timed_out", b.id) == 1
    assert db.session.scalar(select(Response.answer).where(Response.attempt_id == a.id)) is False


def test_cli_sweep(app, delivery_world, db, started, frozen_clock):
    frozen_clock.freeze(started.deadline_at + timedelta(minutes=1))
    from examsys.delivery.cli import delivery_cli

    runner = app.test_cli_runner()
    result = runner.invoke(delivery_cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "finalised 1" in result.output
    assert "finalised 0" in runner.invoke(delivery_cli, ["sweep"]).output
    db.session.refresh(started)
    assert started.status == AttemptStatus.TIMED_OUT


def test_cli_sweep_commits_chunk_by_chunk(app, delivery_world, db, frozen_clock, monkeypatch):
    """Three overdue attempts, chunks of two: two units of work, each committed (the batch's
    chain is free between them), every attempt closed and sealed once."""
    from examsys.delivery import cli
    from examsys.delivery.exam import services as exam

    w = delivery_world
    started = [attempts.start_attempt(w.entries[n]) for n in range(3)]
    db.session.commit()
    monkeypatch.setattr(exam, "SWEEP_CHUNK", 2)
    commits = []
    real_commit = cli.transaction.commit
    monkeypatch.setattr(cli.transaction, "commit", lambda: (commits.append(1), real_commit()))
    frozen_clock.freeze(max(a.deadline_at for a in started) + timedelta(minutes=1))
    result = app.test_cli_runner().invoke(cli.delivery_cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "finalised 3" in result.output
    assert len(commits) >= 3  # two chunks, then the command's own
    for a in started:
        db.session.refresh(a)
        assert a.status == AttemptStatus.TIMED_OUT and events(db, "attempt.sealed", None) == 3


# --- RELIABILITY 5: deadline crossing mid-request -------------------------------------------------


def test_deadline_crossing_reply_matches_storage(delivery_world, db, started, frozen_clock):
    item = fi(delivery_world, "multi")
    for offset, expect_stored in [(-1, True), (15, True), (16, False), (3600, False)]:
        frozen_clock.freeze(started.deadline_at + offset * S)
        try:
            result = attempts.save_response(started, item, ["A"], 100 + offset)
            acknowledged = result.stored
        except AttemptClosed:
            acknowledged = False
        db.session.commit()
        stored = db.session.scalar(select(Response.seq).where(Response.attempt_id == started.id))
        assert acknowledged is expect_stored
        assert (stored == 100 + offset) is acknowledged


# --- RELIABILITY 10: ordered, idempotent retries ---------------------------------------------------


def test_seq_replay_and_stale(delivery_world, db, started):
    item = fi(delivery_world, "fill")
    r1 = attempts.save_response(started, item, ["50", "220"], 6)
    assert r1.stored
    replay = attempts.save_response(started, item, ["50", "220"], 6)
    assert not replay.stored and replay.duplicate and replay.seq == 6
    stale = attempts.save_response(started, item, ["1"], 5)
    assert not stale.stored and not stale.duplicate and stale.answer == ["50", "220"] and stale.seq == 6
    db.session.commit()
    rows = db.session.scalars(select(Response).where(Response.attempt_id == started.id)).all()
    assert len(rows) == 1 and rows[0].seq == 6 and rows[0].answer == ["50", "220"]
    assert started.answered_count == 1


@pytest.mark.parametrize("qtype,answer", [("judge", "yes"), ("single", "Z"), ("multi", ["A", "A"]),
                                          ("multi", "AC"), ("fill", ["1", "2", "3"]), ("short", 5)])
def test_bad_answer_shapes(delivery_world, db, started, qtype, answer):
    with pytest.raises(ValidationError) as exc:
        attempts.save_response(started, fi(delivery_world, qtype), answer, 1)
    assert delivery_world.canary not in exc.value.message


def test_item_of_other_form_is_not_found(delivery_world, db, started):
    with pytest.raises(NotFound):
        attempts.save_response(started, fi(delivery_world, "judge", form="B"), True, 1)
    with pytest.raises(ValidationError):
        attempts.save_response(started, fi(delivery_world, "judge"), True, 0)


# --- submit ------------------------------------------------------------------------------------


def test_submit_idempotent_and_closes(delivery_world, db, started):
    attempts.save_response(started, fi(delivery_world, "judge"), True, 1)
    assert attempts.submit(started).status == AttemptStatus.SUBMITTED
    assert attempts.submit(started).status == AttemptStatus.SUBMITTED
    db.session.commit()
    assert events(db, "attempt.submitted", started.id) == 1
    with pytest.raises(AttemptClosed):
        attempts.save_response(started, fi(delivery_world, "judge"), False, 2)


def test_submit_after_grace_is_a_timeout(delivery_world, db, started, frozen_clock):
    frozen_clock.freeze(started.deadline_at + timedelta(seconds=20))
    assert attempts.submit(started).status == AttemptStatus.TIMED_OUT
    assert started.finished_at == started.deadline_at


# --- RELIABILITY 6: extensions and reopen -------------------------------------------------------


def test_extension_applies_only_where_granted(delivery_world, db, frozen_clock):
    w = delivery_world
    a = attempts.start_attempt(w.entries[0])
    b = attempts.start_attempt(w.entries[1])
    da, db_ = a.deadline_at, b.deadline_at
    attempts.grant_extension(w.proctor, batch=w.batch, attempt=a, minutes=10, reason="设备故障")
    assert a.deadline_at == da + timedelta(minutes=10) and b.deadline_at == db_
    attempts.grant_extension(w.proctor, batch=w.batch, minutes=5, reason="全场停电")
    db.session.commit()
    assert a.deadline_at == da + timedelta(minutes=15) and b.deadline_at == db_ + timedelta(minutes=5)
    # a candidate who starts later also gets the batch-wide extension
    c = attempts.start_attempt(w.entries[2])
    assert c.deadline_at == clock.now() + timedelta(minutes=65)
    assert events(db, "attempt.extended", a.id) == 1 and events(db, "batch.extended") == 1
    assert db.session.scalar(select(func.count(Incident.id))) == 2
    with pytest.raises(ValidationError):
        attempts.grant_extension(w.proctor, batch=w.batch, attempt=a, minutes=5, reason=" ")


def test_extension_never_revives_an_overdue_attempt(delivery_world, db, started, frozen_clock):
    w = delivery_world
    frozen_clock.freeze(started.deadline_at + timedelta(minutes=2))
    attempts.grant_extension(w.proctor, batch=w.batch, attempt=started, minutes=30, reason="补时")
    assert started.status == AttemptStatus.TIMED_OUT


def test_reopen_within_deadline_and_past_it(delivery_world, db, started, frozen_clock):
    w = delivery_world
    attempts.submit(started)
    attempts.reopen(w.proctor, started, reason="误点交卷")
    assert started.status == AttemptStatus.IN_PROGRESS and started.finished_at is None
    assert attempts.save_response(started, fi(w, "judge"), True, 1).stored
    attempts.submit(started)
    frozen_clock.freeze(started.deadline_at + timedelta(minutes=1))
    attempts.reopen(w.proctor, started, reason="再次开放")
    # past its effective deadline: finalised again at once, at the deadline, no new time
    assert started.status == AttemptStatus.TIMED_OUT and started.finished_at == started.deadline_at
    db.session.commit()
    assert events(db, "attempt.reopened", started.id) == 2
    # with an extension first, the reopened attempt does get the time
    attempts.grant_extension(w.proctor, batch=w.batch, attempt=started, minutes=10, reason="补时")
    attempts.reopen(w.proctor, started, reason="补时后开放")
    assert started.status == AttemptStatus.IN_PROGRESS
    with pytest.raises(Conflict):
        attempts.reopen(w.proctor, started, reason="x")


def test_terminate(delivery_world, db, started):
    w = delivery_world
    attempts.terminate(w.proctor, started, reason="夹带资料")
    assert started.status == AttemptStatus.TERMINATED
    with pytest.raises(Conflict):
        attempts.terminate(w.proctor, started, reason="again")
    with pytest.raises(AttemptClosed):
        attempts.save_response(started, fi(w, "judge"), True, 1)
    assert attempts.submit(started).status == AttemptStatus.TERMINATED
    db.session.commit()
    assert events(db, "attempt.terminated", started.id) == 1


# --- RELIABILITY 12: autosave racing submit, interleaved in-process -------------------------------


def test_autosave_racing_submit_1000_interleavings(delivery_world, db, frozen_clock, make):
    """Each round: saves s1..sk, then submit placed at a random point among later saves. The final
    answers equal the last save acknowledged before the submit; later saves are refused. Each
    round is a new candidate of the batch (the process record keeps every attempt)."""
    import random

    rng = random.Random(12)
    w = delivery_world
    label_of = {f.id: label for label, f in w.forms.items()}
    base = clock.now()
    rounds = 0
    for i in range(1000):
        frozen_clock.freeze(base)
        cand = make.candidate(w.org, name=f"轮次{i}", id_number=factories.valid_id_number(20_000 + i))
        entry = RosterEntry(batch_id=w.batch.id, candidate_id=cand.id, ticket_no=f"R{w.batch.id:04d}{i:05d}",
                            room_id=w.room.id, seat_no=10 + i, order_seed=5000 + i, start_delay_seconds=0)
        db.session.add(entry)
        db.session.flush()
        att = attempts.start_attempt(entry)
        item = fi(w, "single", form=label_of[att.form_id])
        n = rng.randint(1, 6)
        submit_at = rng.randint(0, n)
        last_ack = None
        for k in range(n + 1):
            if k == submit_at:
                attempts.submit(att)
            if k == n:
                break
            value = "ABCD"[rng.randint(0, 3)]
            try:
                if attempts.save_response(att, item, value, k + 1).stored:
                    last_ack = value
            except AttemptClosed:
                assert k >= submit_at
        stored = db.session.scalar(select(Response.answer).where(Response.attempt_id == att.id))
        assert stored == last_ack
        assert att.status == AttemptStatus.SUBMITTED
        rounds += 1
    assert rounds == 1000


def test_round_robin_forms_follow_ticket_order_with_one_roster_read(delivery_world, db):
    """Forms go A, B, A by ticket order whatever order candidates start in; the batch's roster
    is read once for all its first starts (not counted again before each ticket)."""
    from sqlalchemy import event

    w = delivery_world
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        forms = {k: attempts.start_attempt(w.entries[k]).form_id for k in (2, 0, 1)}
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert forms == {0: w.forms["A"].id, 1: w.forms["B"].id, 2: w.forms["A"].id}
    roster_reads = [s for s in statements if s.startswith("SELECT roster_entries.ticket_no \nFROM roster_entries")]
    assert len(roster_reads) == 1
    assert not [s for s in statements if "count(" in s.lower() and "roster_entries" in s]
