"""Shared plumbing of API v1: Bearer authentication of candidates, the attempt ownership check
(IDOR → 404) and the Safe Exam Browser check (both the exam service's), JSON bodies, rate
limits, error responses and headers. The request wrapper commits (examsys.transaction); the
error path has already rolled back, and recorded what must survive, when a handler here runs."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache, wraps

from flask import current_app, g, jsonify, request
from limits import parse
from sqlalchemy.exc import DBAPIError

from examsys import ratelimit, sqlite_writer
from examsys.api.blueprint import bp
from examsys.delivery.exam import services as exam
from examsys.errors import DomainError, RateLimited, ValidationError
from examsys.extensions import db

_log = logging.getLogger(__name__)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def session_key(token_sha256: str | None = None) -> str:
    """Rate-limit key per candidate session (the token's hash), falling back to the IP."""
    if token_sha256 is None:
        token = bearer_token()
        token_sha256 = exam.token_hash(token) if token else None
    if token_sha256:
        return "cand-session:" + token_sha256[:32]
    return "cand-ip:" + (request.remote_addr or "")


# Autosave's limit. With Redis configured (EXAMSYS_REDIS_URL: required for more than one node) it is
# counted there, so that it holds as configured however the saves are spread over workers and
# nodes (DESIGN: no per-process state may matter) -- in leases (`SharedLeases`): a process takes
# a few hits of a key's window at once, one round trip (an INCRBY with its expiry, in one script)
# per lease instead of per save, and spends them locally. Without Redis -- one node, SQLite or
# the database's counters -- it is counted per worker process, in memory (`ProcessWindow`): a
# database counter would add a write to every save, the hottest request of an exam; a runaway
# client is then bounded at workers x the rate. Should Redis fail, the process's own count stands
# in rather than stop the exam. Not `limits`' MemoryStorage: while hits keep arriving it starts a
# timer thread every 10 ms to sweep every key, i.e. a hundred thread starts a second in each
# worker of an exam room, competing with the saves for the interpreter.
class ProcessWindow:
    """Fixed-window counters of this process: at most `amount` hits per key per window of
    `seconds`, the window starting at the key's first hit. Expired keys are dropped when the
    table passes SWEEP_AT keys, so memory stays bounded without a sweeper thread."""

    SWEEP_AT = 20_000

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, amount: int, seconds: float, now: float) -> float | None:
        """Count a hit; None when allowed, else the seconds until the key's window ends."""
        with self._lock:
            end, used = self._windows.get(key, (0.0, 0))
            if now >= end:
                end, used = now + seconds, 0
            if used >= amount:
                return end - now
            self._windows[key] = (end, used + 1)
            if len(self._windows) > self.SWEEP_AT:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        return None


# INCRBY the window's counter by a lease, starting the window (its expiry) on the first hit;
# returns the new count and the milliseconds left in the window.
_LEASE_SCRIPT = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
return {used, left}
"""


class SharedLeases:
    """A fixed window per key in Redis, shared by every worker and node, taken in leases.

    A lease is `amount // LEASE_PER` hits of the current window (at least one): the process adds
    it to the shared count, keeps what fits under `amount` and spends it without asking again
    until it is used up or the window ends; a window found full is remembered until it ends, so
    a runaway client costs no round trips either. A key whose hits spread over several processes
    may be refused up to (lease - 1) hits per process earlier.

    Before its first lease of a window, a process lets a key through `free` hits (a fifth of a
    lease: 2 of a 600-a-minute autosave limit) without asking Redis. Autosave is a guard against
    runaway clients: a candidate saving every 10 to 30 seconds, whose saves spread over every
    worker of every node, sends each worker a save or two a minute, and each of those saves
    would otherwise cost a round trip to Redis, the first of a lease that is never used up. So
    a key gets at most `amount` hits a window through the shared count, plus at most 2 x `free`
    per process (a window of this process's own may overlap two of Redis's). With rates of under
    5 x LEASE_PER a window (tests: 3 a minute), `free` is 0, and every hit is counted in Redis
    before it is let through (a lease is one hit when the rate is under LEASE_PER)."""

    LEASE_PER = 60  # 600 a minute: leases of 10
    FREE_PER_LEASE = 5  # 600 a minute: 2 free hits per process and window
    SWEEP_AT = 20_000

    def __init__(self) -> None:
        self._leases: dict[str, tuple[float, int]] = {}  # key -> (window end, hits left; -1: full)
        self._lock = threading.Lock()
        self._scripts: dict[int, object] = {}

    def _script(self, client):
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts.setdefault(id(client), client.register_script(_LEASE_SCRIPT))
        return script

    def hit(self, storage, key: str, amount: int, seconds: int, now: float) -> float | None:
        """Count a hit; None when allowed, else the seconds until the key's window ends. Raises
        the storage's errors when Redis fails."""
        lease = max(1, amount // self.LEASE_PER)
        with self._lock:
            end, left = self._leases.get(key, (0.0, 0))
            if now < end:
                if left > 0:
                    self._leases[key] = (end, left - 1)
                    return None
                if left < 0:  # the window is full
                    return end - now
            else:
                free = lease // self.FREE_PER_LEASE
                if free:  # a new window of this process: its free hits first
                    self._leases[key] = (now + seconds, free - 1)
                    self._sweep(now)
                    return None
        client = storage.get_connection()
        used, left_ms = self._script(client)(keys=[storage.prefixed_key(key)], args=[lease, seconds * 1000])
        end = now + left_ms / 1000
        granted = max(0, min(lease, amount - (used - lease)))
        with self._lock:
            self._leases[key] = (end, granted - 1)  # -1: nothing granted, the window is full
            self._sweep(now)
        return None if granted else max(0.0, end - now)

    def _sweep(self, now: float) -> None:
        if len(self._leases) > self.SWEEP_AT:
            self._leases = {k: v for k, v in self._leases.items() if v[0] > now}


_LOCAL_WINDOWS = ProcessWindow()
_SHARED_LEASES = SharedLeases()


@lru_cache(maxsize=16)
def _parsed(rate: str) -> tuple[int, int]:
    limit = parse(rate)
    return limit.amount, limit.get_expiry()


def save_limit(rate: str, key: str) -> None:
    """RateLimited (429, Retry-After) when `key` has used up `rate`: in Redis when it is
    configured (every worker and node counts together, in leases), else in this process."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    amount, seconds = _parsed(rate)
    storage = current_app.extensions.get(ratelimit.EXTENSION_KEY) if current_app.config.get(
        "EXAMSYS_REDIS_URL") else None
    if storage is not None:
        try:
            wait = _SHARED_LEASES.hit(storage, f"examsys-save/{amount}/{seconds}/{key}", amount, seconds,
                                      time.monotonic())
        except storage.base_exceptions as exc:
            _log.warning("autosave limit: Redis failed (%s), counting in this process", type(exc).__name__)
        else:
            if wait is not None:
                raise RateLimited("操作过于频繁，请稍后再试", details={"retry_after": max(1, math.ceil(wait))})
            return
    wait = _LOCAL_WINDOWS.hit(key, amount, seconds, time.monotonic())
    if wait is not None:
        raise RateLimited("操作过于频繁，请稍后再试", details={"retry_after": max(1, math.ceil(wait))})


def candidate_required(view):
    """Authenticate the Bearer token; sets g.candidate_session, g.roster_entry and the audit
    context. A token ended by a newer login gets 401 `session_replaced` (its use is recorded
    once, by the error path after the rollback)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        short = getattr(view, "short_write", False)
        session = exam.authenticate(bearer_token(), defer_touch=short, path=request.path, ip=request.remote_addr)
        entry = session.roster_entry
        g.candidate_session_touch = session.id if short and exam.touch_due(session) else None
        g.candidate_session = session
        g.roster_entry = entry
        g.audit_context = exam.candidate_context(
            entry, ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
        return view(*args, **kwargs)

    return wrapped


def short_write(view):
    """Mark a mutating candidate view that reads first and then writes in one short transaction
    (the exam service's `write_phase`): on SQLite its reads run in a deferred transaction,
    without the write lock, and the session's last-seen touch waits for the write phase."""
    view.short_write = True
    return view


def own_attempt(attempt_id: int):
    """The bearer's own attempt, or 404 (also for someone else's: no hint that it exists).
    Enforces the batch's Safe Exam Browser requirement (403, recorded as evidence)."""
    return exam.own_attempt(g.roster_entry, attempt_id, url=request.url,
                            seb_header=request.headers.get(exam.SEB_HEADER), path=request.path)


def check_seb(attempt=None) -> None:
    """403 `seb_required` unless the bearer's batch needs no Safe Exam Browser or the config-key
    hash header matches this URL (the failure is recorded by the error path)."""
    exam.check_seb(g.roster_entry, attempt, url=request.url, header=request.headers.get(exam.SEB_HEADER),
                   path=request.path)


# No database column can hold these: NUL (PostgreSQL text and JSONB refuse it) and a lone UTF-16
# surrogate (a JSON "\ud800" escape; not encodable as UTF-8). Left in, they would fail at the
# INSERT — as a 503 "retry later" that a client would retry for ever.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def unstorable_path(value, path: str = "") -> str | None:
    """The JSON path (e.g. `data.note`, `answer[2]`) of the first string, key or value, holding a
    character no database column can store; None when there is none."""
    if isinstance(value, str):
        return path or "$" if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and UNSTORABLE.search(key):
                return where
            found = unstorable_path(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


def json_body() -> dict:
    """The request's JSON object; 422 for anything else, or for a string no database can store
    (the error names where)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("请求内容应为 JSON 对象")
    where = unstorable_path(data)
    if where:
        raise ValidationError(f"{where}：含有无法保存的字符（空字符或不成对的代理项）",
                              field=where.split(".")[0].split("[")[0])
    return data


@bp.before_request
def _sqlite_begin_immediate():
    """On SQLite, a mutating request's transaction starts with BEGIN IMMEDIATE (examsys.web): a
    deferred transaction that reads and then writes fails at once ("database is locked", no busy
    wait) when another writer committed in between; taking the lock first makes it wait instead.
    Such a request takes its writer turn (examsys.sqlite_writer) here and gives it back at the
    end of the request. `short_write` views (autosave) read without either and take them only
    for `write_phase`."""
    if request.method in ("POST", "PUT", "DELETE", "PATCH") and db.engine.dialect.name == "sqlite":
        view = current_app.view_functions.get(request.endpoint)
        g.sqlite_begin_immediate = not _is_short_write(view)
        if g.sqlite_begin_immediate:  # the whole request is one write: it queues once, up front
            sqlite_writer.acquire(db.engine.url.database)
            g.sqlite_writer_turn = True


@bp.teardown_request
def _sqlite_end_turn(_exc):
    if g.pop("sqlite_writer_turn", False):
        sqlite_writer.release()


@lru_cache(maxsize=256)
def _is_short_write(view) -> bool:
    while view is not None:
        if getattr(view, "short_write", False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    error = {"code": exc.code, "message": exc.message}
    if exc.field:
        error["field"] = exc.field
    if exc.details:
        error["details"] = exc.details
    response = jsonify({"error": error})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="examsys"'
    if exc.status == 429:
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 1))
    return response


@bp.errorhandler(DBAPIError)
def _database_error(exc: DBAPIError):
    """A lock timeout, serialisation failure or lost connection: nothing was acknowledged, the
    client should retry (its save carries the same seq, so a retry is harmless)."""
    current_app.logger.warning("database error in API request: %s", exc.__class__.__name__)
    response = jsonify({"error": {"code": "retry_later", "message": "服务器繁忙，答案尚未保存，请稍后重试"}})
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response
