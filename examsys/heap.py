"""The web worker's garbage collector, tuned for serving (called by wsgi.py, once per worker).

A worker holds a few hundred thousand long-lived objects after start-up: the app, its views,
the ORM's mappers and compiled statements, translations. CPython's full collection walks all of
them; measured in-process on the start storm's requests that was one pause of about 200 ms
every few thousand requests, with every thread of the worker stopped, which is what a save's
p99 sees. `settle()`:

- collects once and freezes what is left (`gc.freeze`): start-up objects are never walked
  again, so a full collection only walks what requests have made long-lived since;
- raises the young generation's threshold, so that a request's short-lived cycles are
  collected young and fewer of them are promoted (a young collection stays a few ms);
- after `REFREEZE_AFTER` requests, when the caches that requests fill (compiled statements,
  papers) have filled, does the same once more.

Reference counting still frees everything without cycles at once; only cyclic garbage that was
already frozen would wait for the process's end, and start-up leaves none (it is collected
first).
"""

from __future__ import annotations

import gc
import threading

YOUNG_THRESHOLD = (10_000, 10, 10)
REFREEZE_AFTER = 2_000

_lock = threading.Lock()
_count = 0


def settle() -> None:
    """Collect, freeze the survivors and set the serving thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_THRESHOLD)


def count_request() -> bool:
    """Count one request; the `REFREEZE_AFTER`-th settles the heap once more (and says so)."""
    global _count
    with _lock:
        _count += 1
        due = _count == REFREEZE_AFTER
    if due:
        settle()
    return due


def install(app) -> None:
    """Settle the heap of this worker now and once more after its first `REFREEZE_AFTER`
    requests (the counting hook then takes itself off the app)."""
    settle()

    def _count_request(_exc=None) -> None:
        if count_request():
            funcs = app.teardown_request_funcs.get(None, [])
            if _count_request in funcs:
                funcs.remove(_count_request)

    app.teardown_request(_count_request)
