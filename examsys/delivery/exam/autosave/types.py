"""What a save takes and gives back: the result, the target as read, the write's outcome, and
the check of the request's own fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from examsys.errors import ValidationError

MAX_SEQ = 2**31 - 1
# How stale an attempt's last-seen time may get while its candidate keeps saving (the proctor
# console shows minutes; a long silence is minutes): saves in between skip that UPDATE.
ATTEMPT_SEEN_EVERY = timedelta(seconds=15)


@dataclass
class SaveResult:
    """`stored`: this call changed the response. Otherwise the stored state is returned: for a
    replay of the stored seq with the same answer (`duplicate`), or a stale seq (API: 409)."""

    stored: bool
    seq: int
    saved_at: datetime
    answer: Any
    flagged: bool = False
    duplicate: bool = False


@dataclass(slots=True)
class SaveTarget:
    """What a save needs to know about its attempt, as read before the write."""

    attempt_id: int
    started_at: datetime
    last_seen_at: datetime | None
    last_ip: str | None
    last_user_agent: str | None
    grace_seconds: int
    organisation_id: int | None = None


@dataclass(slots=True)
class Written:
    """The outcome of `write`: None `result` when the attempt was no longer open (nothing stored);
    `answered_count` after the write."""

    result: SaveResult | None
    answered_count: int = 0
    bookkeeping: bool = False  # the attempt row was updated (last seen, address, browser, count)
    # The save's link in the attempt's chain when it is the chain's head at commit (no other
    # event was appended after it in this transaction), else None.
    link: tuple[int, str] | None = None


def check_save_input(seq: Any, flagged: Any) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise ValidationError("seq 应为正整数", field="seq")
    if flagged is not None and not isinstance(flagged, bool):
        raise ValidationError("flagged 应为 true 或 false", field="flagged")
