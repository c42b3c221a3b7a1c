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


def test_a_fetched_row_is_the_row_execute_gives(db):
    """`fetch` applies the columns' result processors (aware datetimes, JSON, enums) and names them."""
    moment = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
    conn = db.session.connection()
    meta.create_all(conn)
    try:
        row_id = conn.execute(STATEMENT, {"status": "in_progress", "at": moment, "data": {"答案": ["A", 1]},
                                          "n": 7}).first()[0]
        query = select(probe.c.status, probe.c.at.label("when"), probe.c.data, probe.c.n).where(
            probe.c.id == bindparam("probe_id"))
        via_sqlalchemy = conn.execute(query, {"probe_id": row_id}).first()
        via_driver = rawsql.fetch(conn, query, {"probe_id": row_id})
        assert tuple(via_driver) == tuple(via_sqlalchemy) == ("in_progress", moment, {"答案": ["A", 1]}, 7)
        assert via_driver.when == moment and via_driver.when.tzinfo is not None
        assert rawsql.fetch(conn, query, {"probe_id": row_id + 1}) is None
    finally:
        db.session.rollback()
        meta.drop_all(db.engine)


def test_a_returning_clause_is_fetched_as_execute_gives_it(db):
    """An INSERT's RETURNING row comes back processed and named, as a SELECT's does (the first
    start inserts its attempt so)."""
    moment = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
    conn = db.session.connection()
    meta.create_all(conn)
    try:
        statement = insert(probe).values(status=bindparam("status"), at=bindparam("at", type_=UTCDateTime()),
                                         data=bindparam("data", type_=PortableJSON), n=bindparam("n")).returning(
            probe.c.at, probe.c.data, probe.c.n, probe.c.id)
        values = {"status": "in_progress", "at": moment, "data": {"答案": ["A", 1]}, "n": 7}
        via_sqlalchemy = conn.execute(statement, values).first()
        via_driver = rawsql.fetch(conn, statement, values)
        assert tuple(via_driver)[:3] == tuple(via_sqlalchemy)[:3] == (moment, {"答案": ["A", 1]}, 7)
        assert via_driver.at.tzinfo is not None and via_driver.id == via_sqlalchemy.id + 1
    finally:
        db.session.rollback()
        meta.drop_all(db.engine)
