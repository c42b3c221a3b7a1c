"""Deadline arithmetic (RELIABILITY 2 and 4)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsys.delivery.exam.timing import accepts_saves, effective_deadline, remaining_seconds

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)

# window 01:00–03:00, duration 90; (start offset, attempt ext, batch ext) → expected deadline offset
TABLE = [
    ("start on time", 0, 0, 0, 90),
    ("late start capped by window end", 60, 0, 0, 120),
    ("very late start", 110, 0, 0, 120),
    ("attempt ext within window", 0, 20, 0, 110),
    ("attempt ext capped by window", 20, 20, 0, 120),
    ("batch ext moves the cap", 20, 0, 15, 125),
    ("batch ext on time start", 0, 0, 15, 105),
    ("overlapping attempt + batch ext", 0, 20, 15, 125),
    ("overlapping, capped at window + batch ext", 30, 20, 15, 135),
    ("two attempt exts summed", 0, 5 + 10, 0, 105),
]


@pytest.mark.parametrize("name,start,att,batch,expected", TABLE, ids=[r[0] for r in TABLE])
def test_deadline_table(name, start, att, batch, expected):
    deadline = effective_deadline(T0 + start * M, 90, T0 + 120 * M, att, batch)
    assert deadline == T0 + expected * M
    # state at time t, row by row: open before the deadline, grace after, closed after grace
    assert remaining_seconds(deadline, deadline - timedelta(seconds=1)) == 1
    assert remaining_seconds(deadline, deadline) == 0
    assert accepts_saves(deadline, 15, deadline + timedelta(seconds=15))
    assert not accepts_saves(deadline, 15, deadline + timedelta(seconds=16))


def test_naive_datetimes_refused():
    with pytest.raises(ValueError):
        remaining_seconds(datetime(2026, 1, 1), T0)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)
spans = st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=40))


@settings(max_examples=500, deadline=None)
@given(now=instants, span=spans, tz=offsets)
def test_remaining_is_total_seconds_across_days_and_offsets(now, span, tz):
    deadline = (now + span).astimezone(tz)
    got = remaining_seconds(deadline, now)
    assert got == max(0, int(span.total_seconds()))
    if span >= timedelta(days=1):
        assert got >= 86_400  # whole days are never lost (timedelta.seconds would drop them)


@settings(max_examples=300, deadline=None)
@given(start=instants, duration=st.integers(1, 600), window=st.integers(1, 3 * 24 * 60),
       att=st.integers(0, 240), batch=st.integers(0, 240), tz=offsets)
def test_deadline_properties(start, duration, window, att, batch, tz):
    window_end = (start + timedelta(minutes=window)).astimezone(tz)
    d = effective_deadline(start, duration, window_end, att, batch)
    assert d <= start + timedelta(minutes=duration + att + batch)
    assert d <= window_end + timedelta(minutes=batch)
    assert d in (start + timedelta(minutes=duration + att + batch), window_end + timedelta(minutes=batch))
    # monotone in extensions
    assert effective_deadline(start, duration, window_end, att + 1, batch) >= d
    assert effective_deadline(start, duration, window_end, att, batch + 1) >= d
