"""The loader: a batch's saves, signals and sessions from the database, through the real exam
services, become each attempt's flags and each room's copying pairs, in a fixed number of
queries and without writing anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from examsys.delivery.exam import services as exam
from examsys.errors import NotFound
from examsys.supervision.evidence import attempt_anomalies, batch_anomalies

IP1, IP2 = "10.0.0.5", "10.0.0.77"


def _answer(attempt, world, single: str, seq=1, ip=IP1):
    """Form A's objective items: judge and multi wrong, every single-choice item `single` (the
    key is B)."""
    fi = world.form_items
    exam.save_response(attempt, fi[("A", "judge")].id, False, seq, ip=ip, user_agent="UA1")
    exam.save_response(attempt, fi[("A", "multi")].id, ["B", "E"], seq, ip=ip, user_agent="UA1")
    for item in [fi[("A", "single")], *world.extra_items]:
        exam.save_response(attempt, item.id, single, seq, ip=ip, user_agent="UA1")


@pytest.fixture
def sat_batch(db, delivery_world, frozen_clock):
    """Candidates 0 and 2 (form A, same room) give identical wrong answers; candidate 3 (form
    A) errs too, but its own way; candidate 0's address changes mid-exam, and it signs in again
    from a second device while its first session is live; candidate 1 (form B) works normally."""
    w = delivery_world
    for i in range(4):
        exam.login(w.tickets[i], w.id_numbers[i], ip=IP1, user_agent="UA1")
    attempts = [exam.start_attempt(e) for e in w.entries]
    frozen_clock.advance(timedelta(minutes=3))
    _answer(attempts[0], w, "D")
    _answer(attempts[2], w, "D")
    _answer(attempts[3], w, "A")
    exam.save_response(attempts[1], w.form_items[("B", "judge")].id, True, 1, ip=IP1, user_agent="UA1")
    frozen_clock.advance(timedelta(minutes=3))
    exam.save_response(attempts[0], w.form_items[("A", "single")].id, "C", 2, ip=IP2, user_agent="UA1")
    exam.save_response(attempts[0], w.form_items[("A", "single")].id, "D", 3, ip=IP2, user_agent="UA1")
    exam.login(w.tickets[0], w.id_numbers[0], ip=IP2, user_agent="UA2")
    db.session.commit()
    return w, attempts


def test_a_batch_is_analysed_from_its_record(sat_batch, db):
    world, (a0, a1, a2, a3) = sat_batch
    result = batch_anomalies(world.batch.id)
    codes = {a: {f.code for f in flags} for a, flags in result.flags.items()}
    assert codes[a0.id] >= {"ip_change", "concurrent_login", "device_change", "copying"}
    assert codes[a1.id] == set()
    assert codes[a2.id] == {"copying"} and codes[a3.id] == set()
    ip_flag = next(f for f in result.flags[a0.id] if f.code == "ip_change")
    assert ip_flag.evidence[0].source == "answer_history" and ip_flag.evidence[0].details["ip"] == IP2
    assert all(e.at.tzinfo is not None for f in result.flags[a0.id] for e in f.evidence if e.at)
    [pair] = result.flagged_pairs
    assert {pair.copier, pair.source} == {a0.id, a2.id}
    versions = {world.items[("A", q)].active_version_id for q in ("judge", "single", "multi")} | {
        fi.item_version_id for fi in world.extra_items}
    assert pair.identical_incorrect == 15 and set(pair.items) == versions
    assert result.room_names == {world.room.id: world.room.name}
    assert result.rooms[world.room.id].tests == 12
    copy_flag = next(f for f in result.flags[a2.id] if f.code == "copying")
    assert {e.source_id for e in copy_flag.evidence} == versions
    assert all(e.at is not None and e.details["other_saved_at"] is not None for e in copy_flag.evidence)


def test_pairs_sharing_few_items_are_not_tested(sat_batch):
    world, _ = sat_batch
    result = batch_anomalies(world.batch.id, min_common=16)
    assert result.flagged_pairs == [] and result.rooms[world.room.id].pairs == []


def test_one_attempt_and_an_unknown_one(sat_batch):
    world, (a0, a1, _a2, _a3) = sat_batch
    assert attempt_anomalies(a1.id) == []
    assert "concurrent_login" in {f.code for f in attempt_anomalies(a0.id)}
    with pytest.raises(NotFound):
        attempt_anomalies(10 ** 9)


def test_the_loader_reads_only_and_in_a_fixed_number_of_queries(sat_batch, db):
    world, _ = sat_batch
    batch_id = world.batch.id  # read before listening: the committed world reloads on access
    statements = []

    def _watch(_conn, _cursor, statement, *_a):
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", _watch)
    try:
        batch_anomalies(batch_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", _watch)
    assert not db.session.new and not db.session.dirty
    # The test's own session opens a SAVEPOINT on first use; nothing else but reads.
    assert set(statements) <= {"SELECT", "SAVEPOINT"} and statements.count("SELECT") <= 8


def test_a_batch_without_attempts_is_empty(delivery_world):
    result = batch_anomalies(delivery_world.batch.id)
    assert result.flags == {} and result.rooms == {} and result.median_rate is None
