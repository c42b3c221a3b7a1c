"""Where Flask-Limiter keeps its counters: per app, and shared by every worker and node.

Flask-Limiter holds one storage for all apps in a process (the last `init_app` wins), and its
default keeps counters in each worker's memory, so `make run`'s two workers doubled every limit
and each node added its own. Here the limiter's storage is `AppStorage`, which hands each call to
the storage of the app serving the request, made from that app's RATELIMIT_STORAGE_URI:

- `redis://…` (EXAMSYS_REDIS_URL set): Redis, as the `limits` library provides it;
- `examsys-db://` (the default): `DatabaseStorage`, the app's own database, table
  `rate_limit_hits`; correct across workers and nodes with nothing else to run;
- `memory://`: per process, for tests only.

`DatabaseStorage` writes on a connection of its own, committed at once, so a hit counts whether
the request then commits or rolls back (a refused login rolls back). Each key is serialised while
it is counted: by an advisory transaction lock on PostgreSQL, by SQLite's write lock on SQLite
(the first statement writes, after queueing with the app's other writers). Both strategies work:
moving window (entries with their time) and fixed window (entries sharing their window's end)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial

from flask import current_app, has_app_context
from flask_limiter import Limiter
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from sqlalchemy import Float, Index, Integer, String, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from examsys import sqlite_writer
from examsys.extensions import db, limiter

DB_SCHEME = "examsys-db"
APP_SCHEME = "examsys-app"
EXTENSION_KEY = "examsys.ratelimit"
# One hit in this many also clears the expired entries of every key, so the table stays small.
PURGE_ONE_IN = 200


class RateLimitHit(db.Model):
    """One counted request under a rate-limit key, until `expires_at` (seconds since the epoch)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


HITS = RateLimitHit.__table__


class DatabaseStorage(Storage, MovingWindowSupport):
    """`limits` storage in the app's database (scheme `examsys-db://`; needs an app context)."""

    STORAGE_SCHEME = [DB_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @contextmanager
    def _locked(self, key: str, now: float) -> Iterator:
        """A transaction of its own in which `key` is counted by one caller at a time; its entries
        that have expired are gone when the body runs. On SQLite it queues with the app's other
        writers (examsys.sqlite_writer) rather than sleeping in SQLite's busy handler."""
        queue = sqlite_writer.turn(db.engine.url.database) if db.engine.dialect.name == "sqlite" else nullcontext()
        with queue, db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
            # On SQLite this write takes the database's write lock for the rest of the transaction.
            conn.execute(delete(HITS).where(HITS.c.key == key, HITS.c.expires_at <= now))
            if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - spreading upkeep, not security
                conn.execute(delete(HITS).where(HITS.c.expires_at <= now))
            yield conn

    @staticmethod
    def _count(conn, key: str, since: float) -> tuple[int, float | None]:
        count, oldest = conn.execute(select(func.count(), func.min(HITS.c.at))
                                     .where(HITS.c.key == key, HITS.c.at > since)).one()
        return count, oldest

    # moving window

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._locked(key, now) as conn:
            count, _ = self._count(conn, key, now - expiry)
            if count + amount > limit:
                return False
            conn.execute(insert(HITS), [{"key": key, "at": now, "expires_at": now + expiry}] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with db.engine.connect() as conn:
            count, oldest = self._count(conn, key, now - expiry)
        return (oldest if oldest is not None else now), count

    # fixed window: the entries of one window share its end as their expiry

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._locked(key, now) as conn:
            end = conn.scalar(select(func.max(HITS.c.expires_at)).where(HITS.c.key == key)) or now + expiry
            conn.execute(insert(HITS), [{"key": key, "at": now, "expires_at": end}] * amount)
            return conn.scalar(select(func.count()).where(HITS.c.key == key))

    def get(self, key: str) -> int:
        with db.engine.connect() as conn:
            return conn.scalar(select(func.count()).where(HITS.c.key == key, HITS.c.expires_at > time.time()))

    def get_expiry(self, key: str) -> float:
        with db.engine.connect() as conn:
            end = conn.scalar(select(func.max(HITS.c.expires_at)).where(HITS.c.key == key))
        return end if end is not None else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with db.engine.begin() as conn:
            return conn.execute(delete(HITS)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(HITS).where(HITS.c.key == key))


class AppStorage(Storage, MovingWindowSupport):
    """The limiter's storage (scheme `examsys-app://`): each call goes to the storage of the
    current app (`init_app`). Outside an app context there is nothing to count or reset."""

    STORAGE_SCHEME = [APP_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return (SQLAlchemyError, ConnectionError)

    @staticmethod
    def backend() -> Storage | None:
        return current_app.extensions.get(EXTENSION_KEY) if has_app_context() else None

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self.backend().acquire_entry(key, limit, expiry, amount)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self.backend().get_moving_window(key, limit, expiry)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.backend().incr(key, expiry, amount)

    def get(self, key: str) -> int:
        return self.backend().get(key)

    def get_expiry(self, key: str) -> float:
        return self.backend().get_expiry(key)

    def check(self) -> bool:
        backend = self.backend()
        return backend.check() if backend is not None else True

    def reset(self) -> int | None:
        backend = self.backend()
        return backend.reset() if backend is not None else None

    def clear(self, key: str) -> None:
        backend = self.backend()
        if backend is not None:
            backend.clear(key)


def retry_after() -> int:
    """Seconds until the limit that refused this request lets one through again (at least 1):
    the 429's Retry-After (RATELIMIT_HEADERS_ENABLED is off, so Flask-Limiter sets none)."""
    refused = limiter.current_limit
    return max(1, int(refused.reset_at - time.time())) if refused is not None else 1


def init_limiter(app) -> None:
    """Bind Flask-Limiter, with decorator limits only, and make this app's counter storage from
    its RATELIMIT_STORAGE_URI. Flask-Limiter 4 always adds a before_request pass that applies
    default and application-wide limits to every request; examsys has none (each limit is a
    decorator on its route, which checks it itself), so that pass is taken out again: it cost
    about a tenth of a millisecond on every request, autosaves included. So are its after-request
    pass, which adds the X-RateLimit headers (RATELIMIT_HEADERS_ENABLED is off) and applies
    `deduct_when` limits (examsys has none), and its teardown, which clears the per-request state
    that the request's context takes with it anyway: together a few hundredths of a millisecond
    on every request, for nothing."""
    app.extensions[EXTENSION_KEY] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                                        **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
    limiter.init_app(app)
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return  # someone configured global limits: keep the pass that applies them
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [h for h in hooks if h != limiter._check_request_limit]
    if app.config.get("RATELIMIT_HEADERS_ENABLED"):
        return
    inject = getattr(Limiter, "_Limiter__inject_headers", None)
    after = app.after_request_funcs.get(None, [])
    after[:] = [h for h in after if not (isinstance(h, partial) and h.func is inject)]
    teardown = app.teardown_request_funcs.get(None, [])
    teardown[:] = [h for h in teardown if h != getattr(limiter, "_Limiter__release_context", None)]


__all__ = ["APP_SCHEME", "DB_SCHEME", "AppStorage", "DatabaseStorage", "RateLimitHit", "init_limiter", "retry_after"]
