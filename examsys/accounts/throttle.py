"""Lock-out per name tried at a sign-in: a username that matches no account, or a candidate's
admission-ticket number. The counters live in the database (`login_throttles`), so they hold
across workers and nodes, and they do not depend on whether the name exists: a name that does
not exist locks after the same number of failures as one that does.

Failures are counted by the refusal's error path (`transaction.on_rollback`), with one atomic
upsert per failure, so concurrent failures on several workers are all counted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from examsys import clock
from examsys.accounts.models import LoginThrottle
from examsys.extensions import db

MAX_LOCK = timedelta(hours=24)


def key_for(kind: str, name: str) -> str:
    return f"{kind}:{name.strip().lower()[:90]}"


def locked_until(key: str) -> datetime | None:
    """When the lock on `key` ends, or None when it is not locked now."""
    return lookup(key)[1]


def lookup(key: str) -> tuple[bool, datetime | None]:
    """(whether `key` has counted failures or lock-outs, when its lock ends or None when it is
    not locked now): one read, so that a sign-in without earlier failures need not `clear`."""
    row = db.session.execute(select(LoginThrottle.locked_until).where(LoginThrottle.key == key)).first()
    return state(row is not None, row[0] if row is not None else None)


def columns(key) -> tuple:
    """`lookup` as two columns to add to another query (whether `key` has a row, its
    locked_until), for `state`: a sign-in reads its lock with what it reads anyway. `key`: the
    key, or a bind parameter for it (a statement built once)."""
    t = LoginThrottle.__table__
    return (select(t.c.key).where(t.c.key == key).exists().label("throttle_found"),
            select(t.c.locked_until).where(t.c.key == key).scalar_subquery().label("throttle_until"))


def state(found: bool, until: datetime | None) -> tuple[bool, datetime | None]:
    """`lookup`'s answer from what `columns` read."""
    if not found:
        return False, None
    return True, (until if until is not None and until > clock.now() else None)


def lock_length(base: timedelta, lockouts: int, *, escalate: bool, cap: timedelta = MAX_LOCK) -> timedelta:
    """`base`, or with `escalate` doubled for each earlier lock-out, up to `cap`."""
    if not escalate:
        return base
    return min(base * (2 ** min(lockouts, 16)), cap)


def record_failure(key: str, *, threshold: int, base: timedelta, escalate: bool = False,
                   cap: timedelta = MAX_LOCK) -> datetime | None:
    """Count a failure on `key`; at `threshold` failures lock it (the count starts again) and
    return when the lock ends, else None. With `escalate` each lock lasts twice the one before
    (up to `cap`), until a successful sign-in `clear`s the key."""
    now = clock.now()
    table = LoginThrottle.__table__
    insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    stmt = insert.values(key=key, failures=1, lockouts=0, locked_until=None, updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.key],
                                      set_={"failures": table.c.failures + 1, "updated_at": now})
    failures, lockouts = db.session.execute(stmt.returning(table.c.failures, table.c.lockouts)).one()
    if failures < threshold:
        return None
    until = now + lock_length(base, lockouts, escalate=escalate, cap=cap)
    db.session.execute(table.update().where(table.c.key == key).values(
        failures=0, lockouts=table.c.lockouts + 1,
        locked_until=case((table.c.locked_until > until, table.c.locked_until), else_=until)))
    return until


def clear(key: str) -> None:
    """Forget the failures of `key` after a successful sign-in."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
