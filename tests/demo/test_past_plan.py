"""The past sitting's script is a function of the seed and the forms' content alone: the same
forms under other database ids give the same steps (CI's PostgreSQL hands out ids in the
thousands; the scripted copying pair must still be the copier copying the source)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from examsys.demo import past_plan


def _form(label: str, first_id: int) -> list[past_plan.PlanItem]:
    items = []
    for n in range(1, 41):
        qtype = ("judge", "single", "multi")[n % 3]
        options = () if qtype == "judge" else ("A", "B", "C", "D")
        key = (n % 2 == 0) if qtype == "judge" else ("B" if qtype == "single" else ["A", "C"])
        items.append(past_plan.PlanItem(ref=first_id + n, qtype=qtype, key=key, options=options,
                                        difficulty=1 + n % 5, place=f"{label}-{n}"))
    return items


def _script(first_ids: dict[str, int]) -> list[tuple]:
    forms = {label: _form(label, first) for label, first in first_ids.items()}
    places = {i.ref: i.place for f in forms.values() for i in f}
    steps = past_plan.script([forms["AB"[i % 2]] for i in range(24)],
                             window_start=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
                             duration=timedelta(minutes=90), grace=timedelta(minutes=5), seed=20261120)
    return [(s.at, s.who, s.kind, places.get(s.item), s.answer, s.seq, s.flagged) for s in steps]


def test_script_does_not_depend_on_item_ids():
    assert _script({"A": 0, "B": 100}) == _script({"A": 4000, "B": 7000})


def test_wrong_answer_lure_follows_place_not_ref():
    item = _form("A", 0)[1]
    moved = replace(item, ref=item.ref + 4004)
    picks = [past_plan.wrong_answer(i, random.Random(7), 1) for i in (item, moved)]
    assert picks[0] == picks[1]
