"""Per-process memory of autosave reads, so that the next save of the same item by the same
session skips the read (`autosave.load`) and is one guarded statement.

An entry is what `autosave.load` read for (token hash, attempt, item), updated after each save
this process stores for it. It is only ever a shortcut: the guarded upsert re-checks in the
database everything the entry stands for (session still live, attempt open inside deadline +
grace, the item's version unchanged, the stored seq still the one remembered), and a save whose
check fails is rolled back, forgets its entry and is read afresh once (`saving.save_fast`; the
general path answers when that read or write fails too). Python checks the
rest before using an entry (session age, deadline as known, the Safe Exam Browser key, the seq
above the stored one). Entries live HOT_TTL at most, so settings read with them (grace, the SEB
key, a proctor's extension) are never older than that; the table is bounded (HOT_SIZE).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from examsys.delivery.exam import answers, timing
from examsys.delivery.exam.autosave import FastSave
from examsys.delivery.exam.candidate_auth import LAST_SEEN_EVERY, session_live

HOT_TTL = 30.0  # seconds
HOT_SIZE = 20_000

_HOT: OrderedDict[tuple[str, int, int], tuple[float, FastSave]] = OrderedDict()
_LOCK = threading.Lock()


def lookup(key: tuple[str, int, int], seq: Any, *, now: datetime, seb_ok) -> FastSave | None:
    """The remembered read for `key` if it may stand in for a new one, else None. The entry is
    shared: callers must not change it."""
    with _LOCK:
        hit = _HOT.get(key)
    if hit is None:
        return None
    stamp, fast = hit
    if time.monotonic() - stamp > HOT_TTL:
        forget(key)
        return None
    if not session_live(None, fast.session_created_at, now) \
            or not timing.accepts_saves(fast.deadline_at, fast.target.grace_seconds, now):
        return None
    if fast.seb_config_key and not seb_ok(fast.seb_config_key):
        return None
    if not isinstance(seq, int) or (fast.stored_seq is not None and seq <= fast.stored_seq):
        return None
    if now - fast.session_seen_at > LAST_SEEN_EVERY:
        return None  # the session's last-seen time is due: the fresh read takes care of it
    return fast


def remember(key: tuple[str, int, int], fast: FastSave, *, seq: int, value: Any, flagged: bool, now: datetime,
             ip: str | None, user_agent: str | None, answered_count: int, bookkeeping: bool,
             touched_session: bool, fresh: bool) -> None:
    """After a stored save: the entry as the database now stands. `fresh`: `fast` came from a
    read in this request (it restarts the entry's time to live)."""
    target = fast.target
    if bookkeeping:
        target = dataclasses.replace(target, last_seen_at=now, last_ip=ip or target.last_ip,
                                     last_user_agent=(user_agent or target.last_user_agent or "")[:255] or None)
    entry = dataclasses.replace(fast, target=target, stored_seq=seq, was_answered=answers.is_answered(value),
                                stored_flagged=flagged,
                                answered_count=answered_count, touch_session=False, head=None,
                                session_seen_at=now if touched_session else fast.session_seen_at)
    with _LOCK:
        old = _HOT.get(key)
        stamp = time.monotonic() if fresh or old is None else old[0]
        _HOT[key] = (stamp, entry)
        _HOT.move_to_end(key)
        while len(_HOT) > HOT_SIZE:
            _HOT.popitem(last=False)


def forget(key: tuple[str, int, int]) -> None:
    with _LOCK:
        _HOT.pop(key, None)


__all__ = ["HOT_SIZE", "HOT_TTL", "forget", "lookup", "remember"]
