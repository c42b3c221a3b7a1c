"""Provoking concurrency failures from a test: another writer gets to a row first.

`changed_underneath(Model, id)` makes the next flush that updates or deletes that row find its
version moved on (as if another request had committed a change after this one loaded the row),
so the ORM's optimistic lock fails with StaleDataError. `created_underneath(Model, **values)`
inserts a conflicting row just before the next flush that inserts one of `Model` (two creates of
the same code racing past the existence check). Both work through session events, so they need
no knowledge of which module calls the service.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from examsys import transaction


@contextmanager
def changed_underneath(model, row_id: int):
    table = model.__table__
    version = model.__mapper__.version_id_col
    assert version is not None, f"{model.__name__} has no optimistic lock"
    fired = []

    def before_flush(session, _ctx, _instances):
        if fired:
            return
        touched = [o for o in (*session.dirty, *session.deleted)
                   if isinstance(o, model) and getattr(o, "id", None) == row_id]
        if touched and (touched[0] in session.deleted or session.is_modified(touched[0])):
            fired.append(True)
            session.connection().execute(
                table.update().where(table.c.id == row_id).values({version.name: version + 1}))

    event.listen(Session, "before_flush", before_flush)
    try:
        yield fired
    finally:
        event.remove(Session, "before_flush", before_flush)


@contextmanager
def created_underneath(model, **values):
    fired = []

    def before_flush(session, _ctx, _instances):
        if not fired and any(isinstance(o, model) for o in session.new):
            fired.append(True)
            session.connection().execute(insert(model.__table__).values(**values))

    event.listen(Session, "before_flush", before_flush)
    try:
        yield fired
    finally:
        event.remove(Session, "before_flush", before_flush)


def assert_conflict_page(resp, message: str = transaction.STALE_MESSAGE) -> None:
    assert resp.status_code == 409, resp.get_data(as_text=True)[:800]
    assert message in resp.get_data(as_text=True)
