"""PostgreSQL: the statements that guard a save or a transition by the attempt's state find the
attempt by its id, however stale the table's statistics are.

At the start of an exam the attempts table holds hundreds of open attempts that its statistics
have never seen (autovacuum analyses it a minute or more later; a prepared statement keeps its
plan for the connection's life). With "status = in_progress AND deadline_at >= :cutoff" as
plain conditions, the planner took ix_attempts_status_deadline and filtered on the id: every
save scanned every open attempt. `still_open` keeps those conditions off any index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text, update

from examsys import clock, create_app, rawsql
from examsys.accounts.models import Candidate
from examsys.delivery.exam.autosave.writes import _TOUCH_ATTEMPT, _upsert
from examsys.delivery.models import Attempt, AttemptStatus, RosterEntry, still_open
from examsys.extensions import db as _db
from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name
from tests.delivery.world import build_world

pytestmark = pytest.mark.skipif(not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"),
                                reason="EXAMSYS_TEST_DATABASE_URL (PostgreSQL) not set")

OPEN_ATTEMPTS = 300


@pytest.fixture
def crowded():
    """A batch with OPEN_ATTEMPTS open attempts the statistics have never seen (autovacuum off
    for the table, never analysed); yields (app, one attempt's id)."""
    schema = f"examsys_plans_{worker_name()}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_schema_url(TEST_DB_URL, schema),
                      "SECRET_KEY": "t", "EXAMSYS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLWtleSE="})
    with app.app_context():
        _db.create_all()
        _db.session.execute(text("ALTER TABLE attempts SET (autovacuum_enabled = false)"))  # never analysed
        world = build_world(_db)
        form = next(iter(world.forms.values()))
        now = clock.now()
        candidates = _db.session.scalars(insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True), [
            {"organisation_id": world.org.id, "name": f"考生{k}", "id_number_ciphertext": b"x",
             "id_number_index": f"plan-{k}", "id_number_masked": "1101**********0000", "version": 1}
            for k in range(OPEN_ATTEMPTS)]).all()
        entries = _db.session.scalars(insert(RosterEntry).returning(RosterEntry.id, sort_by_parameter_order=True), [
            {"batch_id": world.batch.id, "candidate_id": c, "ticket_no": f"P{k:06d}", "room_id": world.room.id,
             "seat_no": k + 1, "order_seed": k, "start_delay_seconds": 0} for k, c in enumerate(candidates)]).all()
        attempts = _db.session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), [
            {"batch_id": world.batch.id, "roster_entry_id": e, "form_id": form.id, "order_seed": k,
             "status": AttemptStatus.IN_PROGRESS, "started_at": now, "deadline_at": now + timedelta(hours=1),
             "answered_count": 0, "version": 1} for k, e in enumerate(entries)]).all()
        _db.session.commit()
        try:
            yield app, attempts[OPEN_ATTEMPTS // 2]
        finally:
            _db.session.remove()
            _db.engine.dispose()
            drop_pg_schema(TEST_DB_URL, schema)


def _plan(statement, params) -> str:
    conn = _db.session.connection()
    sql, args = rawsql.bound(conn, statement, params)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute("EXPLAIN " + sql, args)
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        cursor.close()


def test_the_guarded_statements_find_the_attempt_by_its_id(crowded):
    app, attempt_id = crowded
    now = clock.now()
    with app.app_context():
        plans = {
            "the save's guarded upsert": _plan(_upsert("postgresql", False, "alone"), {
                "attempt_id": attempt_id, "form_item_id": 1, "answer": "A", "seq": 2, "flagged": False,
                "saved_at": now, "expect_seq": 1, "cutoff": now, "session_id": 1, "version_id": 1,
                "next_scope": f"attempt/{attempt_id}", "next_seq": 3}),
            "the save's bookkeeping": _plan(_TOUCH_ATTEMPT, {
                "p_attempt": attempt_id, "p_cutoff": now, "p_now": now, "p_ip": None, "p_ua": None, "p_delta": 0}),
            "a transition": _plan(update(Attempt).where(Attempt.id == attempt_id,
                                                        still_open(Attempt.deadline_at < now))
                                  .values(status=AttemptStatus.SUBMITTED), {}),
        }
    for what, plan in plans.items():
        assert "ix_attempts_status_deadline" not in plan, f"{what}:\n{plan}"
