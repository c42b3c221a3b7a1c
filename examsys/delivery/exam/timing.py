"""Exam time arithmetic: the server's deadline for an attempt and the seconds left.

Pure functions on aware datetimes; no database, no clock. The server decides time: the browser's
timer only displays `remaining_seconds`, re-synced from every API answer.

Rules:
- deadline = started_at + duration + attempt extensions + batch extensions,
  capped by window_end + batch extensions (a batch-wide extension moves the window's end too;
  a per-candidate one never lets a candidate write past the window);
- saves are accepted up to deadline + grace (network latency), refused after;
- remaining = max(0, deadline - now) in whole seconds, from `total_seconds()`: never
  `timedelta.seconds`, which drops whole days (an Open edX bug).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def effective_deadline(started_at: datetime, duration_minutes: int, window_end: datetime,
                       attempt_extension_minutes: int = 0, batch_extension_minutes: int = 0) -> datetime:
    """min(started_at + duration + attempt ext + batch ext, window_end + batch ext)."""
    _aware(started_at, "started_at")
    _aware(window_end, "window_end")
    by_duration = started_at + timedelta(
        minutes=duration_minutes + attempt_extension_minutes + batch_extension_minutes)
    cap = window_end + timedelta(minutes=batch_extension_minutes)
    return min(by_duration, cap)


def remaining_seconds(deadline: datetime, now: datetime) -> int:
    """Whole seconds left (never negative), across any span of days and any UTC offsets."""
    return max(0, int((_aware(deadline, "deadline") - _aware(now, "now")).total_seconds()))


def save_cutoff(deadline: datetime, grace_seconds: int) -> datetime:
    """The last instant a save still counts: deadline + grace."""
    return deadline + timedelta(seconds=grace_seconds)


def accepts_saves(deadline: datetime, grace_seconds: int, now: datetime) -> bool:
    """True while now <= deadline + grace."""
    return now <= save_cutoff(deadline, grace_seconds)


__all__ = ["accepts_saves", "effective_deadline", "remaining_seconds", "save_cutoff"]
