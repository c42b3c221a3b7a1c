"""Working-day arithmetic for score-review deadlines (成绩复核申请与答复期限).

A working day is a calendar day in Asia/Shanghai that is Monday–Friday and not a configured
holiday, or a configured make-up working day (调休上班, usually a Saturday or Sunday).

Statutory holidays are NOT built in: the State Council publishes them each year, so they must be
configured — `EXAMSYS_HOLIDAYS` (ISO dates, e.g. ["2026-10-01", "2026-10-02", …]) and
`EXAMSYS_EXTRA_WORKDAYS` (the 调休 weekend days that are working days). Without them only
weekends are excluded.

Deadlines count whole working days after the day of the starting instant: a period of n working
days starting on day D ends at the end (24:00 local time) of the n-th working day after D. The
starting day itself never counts, whatever the hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app

from examsys import clock


def calendar() -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, extra working days) from the app's config; empty outside an app context."""
    try:
        cfg = current_app.config
    except RuntimeError:
        return frozenset(), frozenset()
    return cfg["EXAMSYS_HOLIDAYS"], cfg["EXAMSYS_EXTRA_WORKDAYS"]  # parsed by examsys.config


def is_workday(day: date, holidays: frozenset[date] | None = None,
               extra_workdays: frozenset[date] | None = None) -> bool:
    if holidays is None or extra_workdays is None:
        h, e = calendar()
        holidays = h if holidays is None else holidays
        extra_workdays = e if extra_workdays is None else extra_workdays
    if day in extra_workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_workdays(start: datetime, days: int, *, holidays: frozenset[date] | None = None,
                 extra_workdays: frozenset[date] | None = None) -> datetime:
    """The aware UTC instant at which a period of `days` working days starting at `start` ends
    (local midnight after the last working day). Raises ValueError for a negative count."""
    if days < 0:
        raise ValueError("days must be ≥ 0")
    if holidays is None or extra_workdays is None:
        h, e = calendar()
        holidays = h if holidays is None else holidays
        extra_workdays = e if extra_workdays is None else extra_workdays
    local = clock.to_display(start)
    assert local is not None
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day, holidays, extra_workdays):
            counted += 1
    end_local = datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.DISPLAY_TZ)
    return end_local.astimezone(UTC)
