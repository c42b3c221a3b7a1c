"""Running a SQLAlchemy Core statement on the driver's cursor, for the hottest request of an exam.

`Connection.execute` costs more than the statement itself on an autosave: per call it builds the
statement's cache key, looks the compiled form up, makes an execution context and a Result. A
`Prepared` statement is compiled once per dialect and keeps what execution needs: the SQL text,
the order of its parameters, the values of literals bound in the statement and the bind
processors of each parameter's type (the same conversions SQLAlchemy applies: enums to their
stored text, datetimes for SQLite, JSON). `run` then converts the values and executes on the
DBAPI cursor of the connection's current transaction: the same SQL and the same stored values
as `conn.execute`, without the machinery. Its results come back as the driver gives them
(SQLite: booleans as 0/1); `fetch` also applies the result processors of a SELECT's (or a RETURNING
clause's) columns (the same values as SQLAlchemy's Row: enums, aware datetimes) and names them."""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import Connection, Dialect


@dataclass(frozen=True)
class Prepared:
    sql: str
    names: tuple[str, ...] | None  # positional drivers (SQLite): the parameters in order
    literals: dict[str, Any]  # values bound in the statement itself
    processors: dict[str, Any]  # parameter name -> bind processor
    row: Any = None  # a SELECT's result row: a named tuple of its columns' keys
    results: tuple[tuple[int, Any], ...] = ()  # (column index, result processor)


_CACHE: dict[tuple[str, int], Prepared] = {}
_LOCK = threading.Lock()


def prepare(statement, dialect: Dialect) -> Prepared:
    """`statement` compiled for `dialect`, once (cached by dialect name and statement)."""
    key = (dialect.name, id(statement))
    found = _CACHE.get(key)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    processors, literals = {}, {}
    for bind, name in compiled.bind_names.items():  # each parameter under the name the SQL uses
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
        if bind.value is not None and not bind.required:
            literals[name] = bind.value
    names = tuple(compiled.positiontup) if compiled.positional else None
    row, results = None, ()
    # A SELECT's columns, or what an INSERT / UPDATE / DELETE returns (its RETURNING clause).
    if getattr(statement, "is_dml", False):
        columns = statement.exported_columns if getattr(statement, "_returning", ()) else None
    else:
        columns = getattr(statement, "selected_columns", None)
    if columns is not None:
        keys = tuple(columns.keys())
        row = namedtuple("Row", keys, rename=True)
        results = tuple((i, p) for i, column in enumerate(columns)
                        if (p := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None)
    prepared = Prepared(compiled.string, names, literals, processors, row, results)
    with _LOCK:
        _CACHE[key] = prepared  # statements passed here live for the process: their id stays theirs
    return prepared


def bound(conn: Connection, statement, params: dict[str, Any]) -> tuple[str, tuple | dict]:
    """(SQL, arguments) as the driver takes them: `statement` compiled for `conn`'s dialect and
    `params` converted as SQLAlchemy would (named drivers get a dict, to which more named
    arguments may be added when the SQL is embedded in a larger statement)."""
    prepared = prepare(statement, conn.dialect)
    values = {**prepared.literals, **params}
    for name, processor in prepared.processors.items():
        values[name] = processor(values[name])
    return prepared.sql, tuple(values[n] for n in prepared.names) if prepared.names is not None else values


def _execute(conn: Connection, statement, params: dict[str, Any], *, every: bool):
    """Execute `statement` with `params` on `conn`'s DBAPI cursor: its rows (`every`) or first row."""
    sql, args = bound(conn, statement, params)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall() if every else cursor.fetchone()
    finally:
        cursor.close()


def run(conn: Connection, statement, params: dict[str, Any]) -> tuple | None:
    """Execute `statement` with `params` in `conn`'s transaction; its first row, or None."""
    return _execute(conn, statement, params, every=False)


def _processed(prepared: Prepared, row: tuple) -> list:
    """`row` with the result processors of its columns (a SELECT's or a RETURNING clause's) applied."""
    out = list(row)
    for i, processor in prepared.results:
        out[i] = processor(out[i])
    return out


def fetch(conn: Connection, statement, params: dict[str, Any]):
    """The first row of SELECT `statement` (or what a statement's RETURNING clause returns) as
    SQLAlchemy would give it (result processors applied, columns by name), or None; without the
    machinery, as `run`."""
    prepared = prepare(statement, conn.dialect)
    out = run(conn, statement, params)
    if out is None:
        return None
    return prepared.row._make(_processed(prepared, out) if prepared.results else out)


def fetch_all(conn: Connection, statement, params: dict[str, Any]) -> list[tuple]:
    """Every row of SELECT `statement`, as `fetch` gives its first (as tuples)."""
    prepared = prepare(statement, conn.dialect)
    rows = _execute(conn, statement, params, every=True)
    return [tuple(_processed(prepared, row)) for row in rows] if prepared.results else rows


def idle(conn: Connection) -> bool:
    """PostgreSQL (psycopg): nothing sent on `conn` since its last commit, no transaction open."""
    return conn.connection.driver_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@contextmanager
def autocommit(conn: Connection) -> Iterator[None]:
    """PostgreSQL (psycopg): each statement sent inside is its own transaction (no BEGIN, durable
    when it returns). `conn` must be `idle`; it is back in transactional mode afterwards (unless
    it was in autocommit already: then it stays so, for the enclosing block to end)."""
    driver = conn.connection.driver_connection
    if driver.autocommit:
        yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False


__all__ = ["Prepared", "autocommit", "bound", "fetch", "fetch_all", "idle", "prepare", "run"]
