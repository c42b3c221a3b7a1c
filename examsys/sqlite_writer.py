"""One queue for the writers of a SQLite database, across threads and worker processes.

SQLite lets one connection write at a time. A connection that finds the database locked waits
in SQLite's busy handler, which sleeps and retries (1, 2, 5, 10 … 100 ms): when the writer
before it commits, the waiter is usually still asleep, so under load the lock sits idle between
writers and a save can wait hundreds of milliseconds. Writers of the app queue here instead:
first on a lock of their own process (threads), then on an OS file lock (`flock`) on a file beside
the database (processes), which wakes the next writer the moment the previous one lets go. Once
through, their BEGIN IMMEDIATE finds the database free.

This is only a queue in front of SQLite's own locking, never a replacement for it: a writer that
does not queue here (a CLI command, another program) still takes and waits for the database lock
as usual, and correctness never depends on this module. The lock is reentrant per thread (only
the outermost holder touches the file lock). Databases without a file (in memory) use the
process lock only; so does a database whose directory refuses the lock file (logged once).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager

log = logging.getLogger(__name__)

LOCK_SUFFIX = "-writer.lock"

_PROCESS_LOCK = threading.RLock()
_local = threading.local()
_files: dict[tuple[int, str], int | None] = {}  # (pid, database path) → open lock file (None: refused)
_files_lock = threading.Lock()


def lock_path(database: str | None) -> str | None:
    """The lock file of a SQLite database path, or None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + LOCK_SUFFIX


def _lock_fd(path: str) -> int | None:
    # Keyed by pid: a descriptor inherited across fork() shares its flock with the parent, so
    # each process opens its own.
    key = (os.getpid(), path)
    with _files_lock:
        if key not in _files:
            try:
                _files[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.warning("SQLite writer queue: cannot open %s (%s); writers wait in SQLite's busy handler",
                            path, exc)
                _files[key] = None
        return _files[key]


def acquire(database: str | None) -> None:
    """Wait for this database's writer turn (blocking; reentrant per thread)."""
    _PROCESS_LOCK.acquire()
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    if depth:
        return
    path = lock_path(database)
    fd = _lock_fd(path) if path else None
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        except BaseException:
            _local.depth = 0
            _PROCESS_LOCK.release()
            raise
    _local.fd = fd


def release() -> None:
    """End the turn taken by the matching `acquire`."""
    _local.depth -= 1
    if _local.depth == 0:
        fd, _local.fd = getattr(_local, "fd", None), None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
    _PROCESS_LOCK.release()


def held() -> bool:
    """Whether this thread holds the writer turn."""
    return getattr(_local, "depth", 0) > 0


@contextmanager
def turn(database: str | None):
    """`with turn(path): …` — the body runs as the database's only queued writer."""
    acquire(database)
    try:
        yield
    finally:
        release()


__all__ = ["LOCK_SUFFIX", "acquire", "held", "lock_path", "release", "turn"]
