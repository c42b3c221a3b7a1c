"""RELIABILITY 13: 20 parallel submits of one attempt → one transition, one audit event; on a
file-based SQLite database and (when EXAMSYS_TEST_DATABASE_URL is set) on PostgreSQL. The usual
`db` fixture wraps a test in one transaction, so these tests build their own app and engine."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from examsys import create_app
from examsys.audit.models import AuditEvent
from examsys.delivery.exam import services as attempts
from examsys.delivery.models import Attempt, AttemptStatus, Response
from examsys.extensions import db as _db
from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name
from tests.delivery.world import build_world


def _app(url: str):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t",
                      "EXAMSYS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLWtleSE=",
                      "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost",
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        _db.create_all()
    return app


def _retrying(app, fn, tries=50):
    """What a client does on 503: retry. SQLite refuses a write whose read snapshot is stale."""
    for _ in range(tries):
        with app.app_context():
            try:
                out = fn()
                _db.session.commit()
                return out
            except OperationalError:
                _db.session.rollback()
                time.sleep(0.01)
            finally:
                _db.session.remove()
    raise AssertionError("gave up")


def _race(app, attempt_id, n=20):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def submit_once():
        attempt = _db.session.get(Attempt, attempt_id)
        return attempts.submit(attempt).status

    def worker():
        try:
            barrier.wait()
            results.append(_retrying(app, submit_once))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [AttemptStatus.SUBMITTED] * n


def _check(app, frozen_clock):
    with app.app_context():
        world = build_world(_db)
        attempt = attempts.start_attempt(world.entries[0])
        ref = world.form_items[("A", "judge")].id
        attempts.save_response(attempt, ref, True, 1)
        _db.session.commit()
        attempt_id = attempt.id
        _db.session.remove()
    _race(app, attempt_id)
    with app.app_context():
        n_events = _db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "attempt.submitted", AuditEvent.object_id == str(attempt_id)))
        assert n_events == 1
        att = _db.session.get(Attempt, attempt_id)
        assert att.status == AttemptStatus.SUBMITTED
        assert _db.session.scalar(select(Response.answer).where(Response.attempt_id == attempt_id)) is True
        _db.session.remove()


def test_parallel_submits_sqlite_file(tmp_path, frozen_clock):
    app = _app("sqlite:///" + str(tmp_path / "race.db"))
    try:
        _check(app, frozen_clock)
    finally:
        with app.app_context():
            _db.engine.dispose()


@pytest.mark.skipif(not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"),
                    reason="EXAMSYS_TEST_DATABASE_URL (PostgreSQL) not set")
def test_parallel_submits_postgresql(frozen_clock):
    schema = f"examsys_race_{worker_name()}"
    app = _app(pg_schema_url(TEST_DB_URL, schema))
    try:
        _check(app, frozen_clock)
    finally:
        with app.app_context():
            _db.engine.dispose()
        drop_pg_schema(TEST_DB_URL, schema)
