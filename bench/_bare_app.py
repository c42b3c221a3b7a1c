"""The baseline of bench/delivery.py: a bare Flask endpoint doing ONE upsert per save.

    gunicorn -w 4 --threads 2 --pythonpath bench _bare_app:app     (BENCH_BARE_DATABASE_URL=...)

`PUT /bare/<attempt_id>/<item_ref>` with `{answer, seq}` upserts into `bench_bare_responses`, a
table of the same shape as the app's `responses` (id, attempt_id, form_item_id, answer JSON/JSONB,
seq, flagged, saved_at; unique (attempt_id, form_item_id); the same foreign keys), keeping the
newer seq only, and answers `{seq, saved_at}` after the commit (409 with the stored seq for a stale
one). No authentication, no ORM, no checks: it is the floor the real save path is compared with.
The connection settings are the app's (examsys/web.py): on SQLite WAL, synchronous=FULL,
foreign_keys=ON, busy_timeout=10000 and SQLAlchemy-managed BEGIN; on PostgreSQL the defaults.

Not a benchmark by itself: `make bench` runs every bench/*.py, so running this file directly only
says so and exits 0.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import JSON

TABLE = "bench_bare_responses"
metadata = MetaData()
# Stand-ins for the app's tables, only so that the foreign keys resolve (never created here).
Table("attempts", metadata, Column("id", Integer, primary_key=True))
Table("paper_form_items", metadata, Column("id", Integer, primary_key=True))
bare_responses = Table(
    TABLE, metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False),
    Column("form_item_id", Integer, ForeignKey("paper_form_items.id", ondelete="RESTRICT"), nullable=False),
    Column("answer", JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    Column("seq", Integer, nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("attempt_id", "form_item_id", name=f"uq_{TABLE}_attempt_id_form_item_id"),
)


def create_table(engine) -> None:
    """Create bench_bare_responses next to the app's tables (which must exist)."""
    bare_responses.create(engine, checkfirst=True)


def _on_connect(dbapi_conn, _record) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):  # the same settings as examsys/web.py
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


def _on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str):
    from examsys.config import engine_options

    engine = create_engine(url, **engine_options(url))  # the app's SQLALCHEMY_ENGINE_OPTIONS
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(bare_responses)
    return stmt.on_conflict_do_update(
        index_elements=["attempt_id", "form_item_id"],
        set_={"answer": stmt.excluded.answer, "seq": stmt.excluded.seq, "saved_at": stmt.excluded.saved_at},
        where=stmt.excluded.seq > bare_responses.c.seq).returning(bare_responses.c.seq)


def create_app(url: str | None = None):
    from flask import Flask, jsonify, request

    engine = make_engine(url or os.environ["BENCH_BARE_DATABASE_URL"])
    upsert = _upsert(engine.dialect.name)
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.put("/bare/<int:attempt_id>/<int:item_ref>")
    def save(attempt_id: int, item_ref: int):
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
            return jsonify({"error": {"code": "validation", "message": "answer and seq required"}}), 400
        now = datetime.now(UTC)
        with engine.begin() as conn:  # committed before the answer below
            result = conn.execute(upsert, {"attempt_id": attempt_id, "form_item_id": item_ref,
                                           "answer": data.get("answer"), "seq": data["seq"],
                                           "flagged": False, "saved_at": now})
            if result.first() is not None:  # a row comes back only when this seq was stored
                return jsonify({"seq": data["seq"], "saved_at": now.isoformat()})
            row = conn.execute(select(bare_responses.c.seq, bare_responses.c.saved_at).where(
                bare_responses.c.attempt_id == attempt_id, bare_responses.c.form_item_id == item_ref)).one()
        return jsonify({"error": {"code": "stale_seq", "message": "stale"}, "seq": row.seq}), 409

    return app


app = create_app() if os.environ.get("BENCH_BARE_DATABASE_URL") else None

if __name__ == "__main__":
    print("bench/_bare_app.py is the baseline server of bench/delivery.py, not a benchmark; nothing to do")
