"""examsys.rawsql stores exactly what SQLAlchemy's own execution stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select

from examsys import rawsql
from examsys.dbtypes import PortableJSON, UTCDateTime
from examsys.delivery.models import AttemptStatus

meta = MetaData()
probe = Table("rawsql_probe", meta, Column("id", Integer, primary_key=True), Column("status", String(20)),
              Column("at", UTCDateTime()), Column("data", PortableJSON), Column("n", Integer))
STATEMENT = insert(probe).values(status=bindparam("status"), at=bindparam("at", type_=UTCDateTime()),
                                 data=bindparam("data", type_=PortableJSON), n=bindparam("n")).returning(probe.c.id)


def test_a_prepared_statement_stores_what_execute_stores(db):
    moment = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
    conn = db.session.connection()
    meta.create_all(conn)
    try:
        values = {"status": AttemptStatus.IN_PROGRESS.value, "at": moment, "data": {"答案": ["A", 1]}, "n": 7}
        via_sqlalchemy = conn.execute(STATEMENT, values).first()[0]
        via_driver = rawsql.run(conn, STATEMENT, values)[0]
        rows = {r.id: r for r in conn.execute(select(probe))}
        a, b = rows[via_sqlalchemy], rows[via_driver]
        assert (a.status, a.at, a.data, a.n) == (b.status, b.at, b.data, b.n) == (
            "in_progress", moment, {"答案": ["A", 1]}, 7)
        assert rawsql.prepare(STATEMENT, conn.dialect) is rawsql.prepare(STATEMENT, conn.dialect)  # compiled once
    finally:
        db.session.rollback()
        meta.drop_all(db.engine)
