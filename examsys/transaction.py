"""The unit of work: one database transaction per web request or CLI command.

The request (or command) owns the transaction. Views, API handlers and services never commit:
services flush, so that a change and its process-record event land together or not at all.

- `commit()` is called in exactly three places: after a view or API handler returned (the app's
  request wrapper, examsys.web.ExamsysFlask), after a CLI command returned (`command`), and by
  the job worker (examsys.jobs.services.run: claiming a job, then its result or its failure);
  and `examsys delivery sweep`, one unit of work per chunk of attempts (examsys.delivery.cli
  says why).
- `fail(exc)` is the one error path: it rolls back everything the request wrote, then writes,
  in a transaction of its own, what must survive a refusal: a permission denial, and whatever a
  service asked for with `on_rollback()` (a failed login, a lock-out, a refused candidate token).
- `refusable()` / `attempt()` let a page show a refusal on its own form: a service call runs in
  a SAVEPOINT, and a DomainError undoes exactly what that call wrote, records what it asked to
  keep, and is handed to the view.

The autosave hot path is the only code that ends a transaction itself, inside
examsys.delivery.exam.autosave (documented there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TypeVar

import click
from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from examsys.audit.actions import AuditAction
from examsys.audit.services import record
from examsys.errors import ConcurrentChange, DomainError
from examsys.extensions import db

T = TypeVar("T")

STALE_MESSAGE = "该记录已被他人修改，您的更改未保存。请刷新页面，查看最新内容后重试。"
DUPLICATE_MESSAGE = "该记录已被他人同时创建或修改，您的更改未保存。请刷新页面后重试。"


# --- what must survive a rollback ----------------------------------------------------------------


def _pending() -> list[Callable[[], object]]:
    if not has_app_context():
        return []
    if "_on_rollback" not in g:
        g._on_rollback = []
    return g._on_rollback


def on_rollback(action: Callable[[], object]) -> None:
    """Ask the error path to run `action` after this unit of work rolls back, in a transaction of
    its own (e.g. record a failed login and count it toward the lock-out). Nothing runs when the
    unit of work commits."""
    _pending().append(action)


def _run_after_rollback(actions: list[Callable[[], object]], *, denial: dict | None) -> None:
    """Write the refusal's records; their failure is logged, never raised over the refusal."""
    if not actions and denial is None:
        return
    if has_request_context() and db.engine.dialect.name == "sqlite":
        g.sqlite_begin_immediate = True  # write at once, waiting for the lock, not failing on it
    try:
        for action in actions:
            action()
        if denial is not None:
            record(AuditAction.PERMISSION_DENIED, data=denial)
        db.session.commit()
    except Exception:  # noqa: BLE001 - a failing record must not mask the refusal itself
        db.session.rollback()
        current_app.logger.exception("could not record a refusal after rollback")


# --- the two ends of a unit of work --------------------------------------------------------------


def before_commit(action: Callable[[], object]) -> None:
    """Run `action` just before this unit of work commits: for bookkeeping writes (a login
    session's last-seen time) that should not take SQLite's one write lock at the start of a
    request and hold it while the view works. Nothing runs when the unit of work rolls back."""
    if has_app_context():
        g.setdefault("_before_commit", []).append(action)
    else:
        action()


def after_commit(action: Callable[[], object]) -> None:
    """Run `action` once this unit of work has committed: to hand a job to the queue, whose
    worker must find the job's row. Nothing runs when the unit of work rolls back."""
    if has_app_context():
        g.setdefault("_after_commit", []).append(action)
    else:
        action()


def commit() -> None:
    """Commit the unit of work. Only the request wrapper and `command` call this."""
    if has_app_context():
        for action in g.pop("_before_commit", ()):
            action()
    # No session made, or nothing begun (a save that committed itself): nothing to end.
    if db.session.registry.has() and (session := db.session()).in_transaction():
        session.commit()
    if has_app_context():
        g.pop("_on_rollback", None)
        for action in g.pop("_after_commit", ()):
            action()


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def fail(exc: BaseException) -> None:
    """The one error path: roll back, then record what must survive the refusal."""
    db.session.rollback()
    if has_app_context():
        g.pop("_before_commit", None)
        g.pop("_after_commit", None)
    actions = _pending()[:]
    _pending().clear()
    denial = None
    if _status_of(exc) == 403 and has_request_context():
        denial = {"endpoint": request.endpoint or "", "path": request.path[:200],
                  "method": request.method}
    _run_after_rollback(actions, denial=denial)


def as_domain_error(exc: BaseException) -> BaseException:
    """Concurrency failures that mean "someone else got there first" become a 409 Conflict:
    an optimistic-locking miss (StaleDataError) and a unique-constraint race."""
    if isinstance(exc, StaleDataError):
        return ConcurrentChange(STALE_MESSAGE, details={"reason": "stale"})
    if isinstance(exc, IntegrityError) and is_unique_violation(exc):
        return ConcurrentChange(DUPLICATE_MESSAGE, details={"reason": "duplicate"})
    return exc


def is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(orig)  # SQLite


# --- refusals shown on the page that asked -------------------------------------------------------


@contextmanager
def refusable() -> Iterator[None]:
    """Run a service call in a SAVEPOINT: a DomainError undoes what the call wrote, keeps what it
    asked to keep (`on_rollback`), and propagates; the rest of the request's work stays pending.
    A concurrency failure is not the call's refusal but the request's: it propagates as
    ConcurrentChange, and the error path rolls the whole request back (409)."""
    mark = len(_pending())
    nested = db.session.begin_nested()
    try:
        yield
        if nested.is_active:
            nested.commit()
    except (StaleDataError, IntegrityError) as exc:
        error = as_domain_error(exc)
        if error is exc:
            raise
        raise error from exc
    except DomainError:
        if nested.is_active:
            nested.rollback()
        # What the call asked to keep is written now, with the rest of the request; it also stays
        # pending, so that a request that then fails (e.g. a view turning the refusal into a 403)
        # still writes it after its rollback. A commit clears it.
        for action in _pending()[mark:]:
            action()
        db.session.flush()
        raise


def attempt(call: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """`call()` inside `refusable()`: (result, None), or (None, the refusal) with nothing of the
    call written. For views that show a refusal on their own page. A ConcurrentChange is not
    returned: it fails the request (409)."""
    try:
        with refusable():
            return call(), None
    except ConcurrentChange:
        raise
    except DomainError as exc:
        return None, exc


def discard() -> None:
    """Roll back what this unit of work wrote so far: a dry run shows what would happen, then
    leaves nothing behind."""
    db.session.rollback()
    _pending().clear()
    if has_app_context():
        g.pop("_after_commit", None)


# --- CLI commands --------------------------------------------------------------------------------


def command(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator for a CLI command: one unit of work, committed when the command returns; on any
    exception rolled back, and a DomainError is shown as the command's error message (exit 1)."""

    @wraps(func)
    def wrapped(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except SystemExit:
            commit()  # the command chose its exit status after its work (e.g. a partial import)
            raise
        except BaseException as exc:
            fail(exc)
            error = as_domain_error(exc)
            if isinstance(error, DomainError):
                raise click.ClickException(error.message) from exc
            raise
        commit()
        return result

    return wrapped
