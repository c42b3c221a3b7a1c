"""50 appenders at once leave every chain contiguous: same organisation chain, one batch chain
(the seals of a deadline's submits) and their own attempt chains, on a file SQLite database and
on PostgreSQL. The `db` fixture wraps a test in one transaction, so this test builds its own app."""

from __future__ import annotations

import threading
import time

import pytest
from flask import g
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from examsys import audit, create_app
from examsys.audit import chain, verify
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.audit.verify import verify_database
from examsys.extensions import db as _db
from tests import factories
from tests.audit.tampering import disable_triggers
from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name

APPENDERS = 50
EACH = 4


def _app(url: str):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t",
                      "EXAMSYS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLWtleSE=",
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        _db.create_all()
    return app


def _append(app, org_id: int, n: int, errors: list, barrier: threading.Barrier) -> None:
    barrier.wait()
    for k in range(EACH):
        for _try in range(200):  # SQLite answers a stale read snapshot with "locked": retry, as a client would
            with app.app_context():
                g.sqlite_begin_immediate = True  # as a writing request does (examsys.web)
                try:
                    audit.record(AuditAction.ORGANISATION_UPDATED, object_type="organisation", object_id=org_id,
                                 organisation_id=org_id, data={"appender": n, "k": k})
                    audit.record(AuditAction.PERMISSION_DENIED, scope=chain.batch_scope(1), data={"appender": n})
                    audit.record(AuditAction.PERMISSION_DENIED, scope=chain.attempt_scope(1000 + n),
                                 data={"k": k})
                    _db.session.commit()
                    break
                except OperationalError:
                    _db.session.rollback()
                    time.sleep(0.005)
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    _db.session.rollback()
                    errors.append(exc)
                    return
                finally:
                    _db.session.remove()
        else:
            errors.append(AssertionError("gave up"))


def _check(app) -> None:
    with app.app_context():
        org = factories.Factories(_db).org()
        _db.session.commit()
        org_id = org.id
    errors: list = []
    barrier = threading.Barrier(APPENDERS)
    threads = [threading.Thread(target=_append, args=(app, org_id, n, errors, barrier)) for n in range(APPENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        for scope, expected in ((chain.org_scope(org_id), APPENDERS * EACH + 1),
                                (chain.batch_scope(1), APPENDERS * EACH),
                                (chain.attempt_scope(1000), EACH)):
            seqs = list(_db.session.scalars(select(AuditEvent.seq).where(AuditEvent.scope == scope)
                                            .order_by(AuditEvent.seq)))
            assert seqs == list(range(1, expected + 1)), scope
        # + the organisation's creation + its city's (the province's own entry, made with the first organisation)
        assert _db.session.scalar(select(func.count(AuditEvent.id))) == APPENDERS * EACH * 3 + 2
        report = verify_database()
        assert report.ok, report.failures[:3]
        _parallel_matches_single(report)


def _parallel_matches_single(single) -> None:
    """The forked verification of a large record finds what one process finds, tampering too."""
    verify.PARALLEL_FROM, before = 1, verify.PARALLEL_FROM
    try:
        parallel = verify_database(workers=2)
        assert parallel.ok and (parallel.events, parallel.scopes, parallel.heads) == \
            (single.events, single.scopes, single.heads)
        disable_triggers(_db)
        _db.session.execute(text("UPDATE audit_events SET ip = '6.6.6.6' WHERE scope = 'batch/1' AND seq = 7"))
        _db.session.commit()
        found = verify_database(workers=2)
        assert [(f.scope, f.seq) for f in found.failures] == [("batch/1", 7)]
        assert [(f.scope, f.seq) for f in verify_database(workers=1).failures] == [("batch/1", 7)]
    finally:
        verify.PARALLEL_FROM = before


def test_concurrent_appenders_sqlite_file(tmp_path):
    app = _app("sqlite:///" + str(tmp_path / "chains.db"))
    try:
        _check(app)
    finally:
        with app.app_context():
            _db.engine.dispose()


@pytest.mark.skipif(not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"),
                    reason="EXAMSYS_TEST_DATABASE_URL (PostgreSQL) not set")
def test_concurrent_appenders_postgresql():
    schema = f"examsys_chains_{worker_name()}"
    app = _app(pg_schema_url(TEST_DB_URL, schema))
    try:
        _check(app)
    finally:
        with app.app_context():
            _db.engine.dispose()
        drop_pg_schema(TEST_DB_URL, schema)
