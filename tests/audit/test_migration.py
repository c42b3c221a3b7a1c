"""The migration that introduced the chains: events recorded before it become links of their
organisation's chain that verify, and the migrated database refuses UPDATE and DELETE on the
process record (the triggers come with the migration, not only with the models)."""

from __future__ import annotations

import flask_migrate
import pytest
from sqlalchemy import text

from examsys import create_app
from examsys.audit.verify import verify_database
from examsys.extensions import db as _db

BEFORE = "4ac915e0722b"


def test_existing_events_are_chained_and_the_record_becomes_append_only(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True,
                      "SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            for n in range(5):
                conn.execute(text("INSERT INTO audit_events (occurred_at, action, object_type, data, ip) "
                                  "VALUES (CURRENT_TIMESTAMP, 'permission.denied', NULL, :d, '10.0.0.1')"),
                             {"d": f'{{"n": {n}, "path": "/秘密"}}'})
        flask_migrate.upgrade()
        with _db.engine.connect() as conn:
            links = conn.execute(text("SELECT scope, seq FROM audit_events ORDER BY id")).all()
        assert [tuple(r) for r in links] == [("province", n) for n in range(1, 6)]
        report = verify_database()
        assert report.ok and report.events == 5, report.failures
        _db.session.remove()
        for statement in ("UPDATE audit_events SET ip = '6.6.6.6'", "DELETE FROM audit_events"):
            with pytest.raises(Exception, match="只能追加"), _db.engine.begin() as conn:
                conn.execute(text(statement))
        flask_migrate.downgrade(revision=BEFORE)
        with _db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET ip = NULL"))  # the triggers went with the downgrade
        flask_migrate.downgrade(revision="base")
        _db.engine.dispose()
