"""Autosave: storing one answer of an open attempt — the hottest path of an exam (every change of
every candidate in a room).

One implementation of the write (`write`), used by both callers (`saving` runs them):
- `attempts.save_response` (ORM attempt in hand: services, tests, the general path);
- the fast path: `load` reads, in ONE query and without ORM objects, everything a save of
  the common case needs (live session, own attempt in progress inside deadline + grace, the item
  on the attempt's form and its effective version, the batch's grace and SEB key). Any other
  case returns None and the caller takes the general path, which raises the right error and
  records what must be recorded (finalising an overdue attempt, a stale session, a failed SEB
  check). So the fast path decides nothing the general path would decide differently.

Both writes are fixed statements built once (bound parameters, compiled-statement cache hits).
`write` (general): the guarded bookkeeping UPDATE of the attempt (doubles as the lock: only an
open attempt inside deadline + grace matches, so a save never gets in after a submit), the stored
response's seq, the conditional upsert (newer seq only) and, when answered-ness changed, the
count. `write_fast`: usually ONE guarded upsert that re-checks in the database everything the
read relied on; the bookkeeping UPDATE only when there is something to record.
"""

from examsys.delivery.exam.autosave.read import FastSave, load
from examsys.delivery.exam.autosave.specs import answer_spec, spec_for
from examsys.delivery.exam.autosave.types import (
    ATTEMPT_SEEN_EVERY,
    MAX_SEQ,
    SaveResult,
    SaveTarget,
    Written,
    check_save_input,
)
from examsys.delivery.exam.autosave.writes import alone_facts, needs_bookkeeping, prepare_link, write, write_fast

__all__ = ["ATTEMPT_SEEN_EVERY", "MAX_SEQ", "FastSave", "SaveResult", "SaveTarget", "Written", "alone_facts",
           "answer_spec", "check_save_input", "load", "needs_bookkeeping", "prepare_link", "spec_for", "write",
           "write_fast"]
