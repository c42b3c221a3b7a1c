"""The process record is append-only in the database itself: triggers refuse UPDATE and DELETE
on audit_events and answer_history, whoever connects (SQLite and PostgreSQL). The same
statements are created by the migration that introduced them and, for databases built from the
models (tests), right after each table is created.

PostgreSQL's TRUNCATE fires no row trigger: the README asks deployments to revoke TRUNCATE on
these tables from the application's role (a statement-level trigger would also block the
owner's legitimate maintenance, which TRUNCATE by the owner is)."""

from __future__ import annotations

from sqlalchemy import DDL, event

from examsys.audit.models import AnswerHistory, AuditEvent

TABLES = ("audit_events", "answer_history")
MESSAGE = "过程记录只能追加，不能修改或删除"


def sqlite_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ]


POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION examsys_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$")


def postgresql_statements(table: str) -> list[str]:
    return [
        POSTGRESQL_FUNCTION,
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION examsys_refuse_change()",
    ]


def _attach(table) -> None:
    for stmt in sqlite_statements(table.name):
        event.listen(table, "after_create", DDL(stmt).execute_if(dialect="sqlite"))
    for stmt in postgresql_statements(table.name):
        event.listen(table, "after_create", DDL(stmt).execute_if(dialect="postgresql"))


for _table in (AuditEvent.__table__, AnswerHistory.__table__):
    _attach(_table)

__all__ = ["MESSAGE", "TABLES", "postgresql_statements", "sqlite_statements"]
