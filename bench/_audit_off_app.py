"""bench/audit.py's baseline: the app exactly as shipped except that an acknowledged save writes
neither its answer-history row nor its link in the attempt's chain: `history.saved` does nothing,
and `history.upsert_and_save` (PostgreSQL's one statement for the upsert, its history row and its
link) runs the upsert alone. Bench only: never serve this."""

from contextlib import nullcontext

from examsys import rawsql
from examsys.audit import chain, history
from wsgi import app


def _off(conn, **_kwargs):
    return 0, chain.GENESIS


def _upsert_only(conn, upsert_sql, upsert_params, *, head, alone=False, **_kwargs):
    """The save's upsert as upsert_and_save would run it (alone: in autocommit), nothing else;
    the chain's head stays the one given (no link was added), for the next save to follow."""
    with rawsql.autocommit(conn) if alone else nullcontext(), conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(upsert_sql, upsert_params)
        row = cursor.fetchone()
    return None if row is None else (bool(row[0]), head)


history.saved = _off
history.upsert_and_save = _upsert_only

__all__ = ["app"]
