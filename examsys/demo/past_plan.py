"""The script of the demo's past sitting: what each candidate does and when, planned from a fixed
seed before anything is written (pure functions, no database). `examsys.demo.past_batch` replays
it through the exam services, so the process record holds what a real sitting would leave.

Every candidate signs in before the window opens, starts within a few minutes of it, answers the
items in order (some several times: a change of mind, or one click per option of a multiple
choice item), marks a few for review, goes back over them and hands in; two are still working
at the deadline and are closed by the sweeper. Answers come from a simple ability model: the
chance of a right answer falls with the item's difficulty, and a wrong answer of a choice item
favours one plausible distractor, as real wrong answers do. Among them:

- a copying pair on the same form in the same room: the copier, a weak candidate, takes most of
  the source's answers, wrong ones included, each a little after the source saved it;
- a candidate who leaves the exam page again and again (page hidden / focus lost), whom the
  proctor notes in the room's record;
- a few ordinary candidates with one or two departures or a fullscreen exit.

Times are aware UTC; no two steps of a candidate share an instant, so the replay order is the
order of the steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SECOND = timedelta(seconds=1)
SOURCE, COPIER, FOCUS = 8, 10, 16  # roster positions: seats 9 and 11 sit the same form (A)
TIMEOUTS = (5, 21)  # still answering at the deadline: one slow, one who never pressed 交卷
STRAY = {2: ("focus_lost",), 13: ("page_hidden", "page_hidden"), 19: ("fullscreen_exit",)}
FOCUS_DEPARTURES = 11
COPY_SHARE = 0.88  # of the items the copier takes from the source


@dataclass(frozen=True)
class PlanItem:
    """One objective item of a form as the script sees it (form item id, type, key, options).
    `place` names it by form and position (such as "A-3"): it seeds what must not depend on
    database ids, so the sitting is the same whatever ids the rows get."""

    ref: int
    qtype: str
    key: Any
    options: tuple[str, ...]
    difficulty: int
    place: str


@dataclass(frozen=True)
class Step:
    """One thing a candidate (index into the roster) does: login, start, save, signal, submit,
    survey; or the system / staff: note (the proctor's record about `who`), sweep."""

    at: datetime
    who: int
    kind: str
    item: int | None = None
    answer: Any = None
    seq: int = 0
    flagged: bool | None = None
    data: dict = field(default_factory=dict)


@dataclass
class _Candidate:
    """One candidate's script as it is written: steps, the clock, per-item seq numbers."""

    index: int
    t: datetime
    steps: list[Step] = field(default_factory=list)
    seqs: dict[int, int] = field(default_factory=dict)

    def step(self, kind: str, gap: float = 1.0, **kw) -> Step:
        self.t += timedelta(seconds=max(gap, 1.0))
        s = Step(at=self.t.replace(microsecond=0) + timedelta(microseconds=_micro(self)), who=self.index,
                 kind=kind, **kw)
        self.steps.append(s)
        return s

    def save(self, item: PlanItem, answer: Any, gap: float, flagged: bool | None = None) -> Step:
        self.seqs[item.ref] = self.seqs.get(item.ref, 0) + 1
        return self.step("save", gap, item=item.ref, answer=answer, seq=self.seqs[item.ref], flagged=flagged)


def _micro(c: _Candidate) -> int:
    # Sub-second part of a step's time: stable per candidate and step, never a round second.
    return (c.index * 7919 + len(c.steps) * 104729) % 1_000_000


def p_right(ability: float, difficulty: int) -> float:
    return min(0.98, max(0.05, ability + (3 - difficulty) * 0.07))


def wrong_answer(item: PlanItem, rng: random.Random, seed: int) -> Any:
    """A wrong answer, favouring the item's one attractive distractor (fixed per item)."""
    if item.qtype == "judge":
        return not item.key
    lure = random.Random(f"{seed}-{item.place}")
    if item.qtype == "single":
        wrong = [o for o in item.options if o != item.key]
        favoured = lure.choice(wrong)
        return rng.choices(wrong, weights=[4 if o == favoured else 1 for o in wrong])[0]
    key = sorted(item.key)
    others = [o for o in item.options if o not in key]
    favoured = lure.choice(others) if others else None
    roll = rng.random()
    if roll < 0.45 or not others:  # 少选: one right option left out
        return sorted(set(key) - {rng.choice(key)})
    if roll < 0.8:
        return sorted(set(key) | {favoured})
    return sorted((set(key) - {rng.choice(key)}) | {rng.choice(others)})


def answer_for(item: PlanItem, ability: float, rng: random.Random, seed: int) -> Any:
    if rng.random() < p_right(ability, item.difficulty):
        return sorted(item.key) if item.qtype == "multi" else item.key
    return wrong_answer(item, rng, seed)


def _other(item: PlanItem, final: Any, rng: random.Random, seed: int) -> Any:
    """Another answer than `final` (what the candidate first chose before changing their mind)."""
    right = sorted(item.key) if item.qtype == "multi" else item.key
    for _ in range(8):
        candidate = right if final != right and rng.random() < 0.5 else wrong_answer(item, rng, seed)
        if candidate != final:
            return candidate
    return not final if item.qtype == "judge" else right


def _answer_item(c: _Candidate, item: PlanItem, final: Any, gap: float, rng: random.Random, seed: int,
                 change: bool, flagged: bool | None = None) -> None:
    if item.qtype == "multi":
        clicks = list(final)
        rng.shuffle(clicks)
        extra = [o for o in item.options if o not in final]
        chosen: list[str] = []
        for n, option in enumerate(clicks):
            chosen = sorted({*chosen, option})
            c.save(item, chosen, gap if n == 0 else rng.uniform(2, 7), flagged if n == 0 else None)
            if change and extra and n == 0:  # a wrong option ticked, then unticked
                stray = rng.choice(extra)
                c.save(item, sorted({*chosen, stray}), rng.uniform(2, 6))
                c.save(item, chosen, rng.uniform(5, 25))
        return
    if change:
        c.save(item, _other(item, final, rng, seed), gap, flagged)
        c.save(item, final, rng.uniform(4, 40))
        return
    c.save(item, final, gap, flagged)


@dataclass
class Profile:
    ability: float
    pace_minutes: float  # the first pass over every item
    changes: float  # chance of a change of mind on an item
    marks: float  # chance of marking an item for review
    skips: float  # chance of leaving an item for later


def profiles(n: int, rng: random.Random) -> list[Profile]:
    out = [Profile(ability=rng.uniform(0.42, 0.88), pace_minutes=rng.uniform(42, 68), changes=rng.uniform(0.02, 0.12),
                   marks=rng.uniform(0.0, 0.06), skips=rng.uniform(0.0, 0.04)) for _ in range(n)]
    out[SOURCE].ability, out[COPIER].ability = 0.66, 0.4
    out[TIMEOUTS[0]].pace_minutes = 94.0  # does not reach the last items
    out[TIMEOUTS[1]].pace_minutes = 70.0  # finishes, then reviews until the time is up
    return out


def _first_pass(c: _Candidate, items: list[PlanItem], prof: Profile, rng: random.Random, seed: int,
                deadline: datetime) -> tuple[dict[int, Any], list[PlanItem], list[PlanItem], dict[int, datetime]]:
    """(final answers, items marked, items skipped, time of each item's first save)."""
    base = prof.pace_minutes * 60 / len(items)
    finals: dict[int, Any] = {}
    marked, skipped, when = [], [], {}
    for item in items:
        gap = base * rng.uniform(0.55, 1.45) * (0.8 + 0.1 * item.difficulty)
        if c.t + timedelta(seconds=gap + 60) >= deadline:
            break
        if rng.random() < prof.skips:
            c.t += timedelta(seconds=gap / 2)
            skipped.append(item)
            continue
        final = answer_for(item, prof.ability, rng, seed)
        mark = rng.random() < prof.marks
        _answer_item(c, item, final, gap, rng, seed, rng.random() < prof.changes, True if mark else None)
        finals[item.ref] = final
        when[item.ref] = c.t
        if mark:
            marked.append(item)
    return finals, marked, skipped, when


def _review(c: _Candidate, items: list[PlanItem], finals: dict, marked: list, skipped: list, prof: Profile,
            rng: random.Random, seed: int, cap: datetime) -> None:
    """Back over the skipped and marked items (while time allows, up to `cap`), then a few
    second thoughts for a few minutes more."""
    for item in [*skipped, *marked]:
        gap = rng.uniform(15, 70)
        if c.t + timedelta(seconds=gap) >= cap:
            return
        if item in skipped:
            finals[item.ref] = answer_for(item, prof.ability, rng, seed)
            _answer_item(c, item, finals[item.ref], gap, rng, seed, False)
            continue
        if rng.random() < 0.4:
            finals[item.ref] = answer_for(item, prof.ability + 0.1, rng, seed)
        c.save(item, finals[item.ref], gap, flagged=False)
    until = min(cap, c.t + timedelta(minutes=rng.uniform(1, 5)))
    for item in rng.sample(items, k=min(len(items), rng.randint(1, 4))):
        gap = rng.uniform(15, 70)
        if c.t + timedelta(seconds=gap) >= until:
            return
        if item.qtype != "multi" and item.ref in finals and rng.random() < 0.5:
            finals[item.ref] = _other(item, finals[item.ref], rng, seed)
            c.save(item, finals[item.ref], gap)


def _copier(c: _Candidate, items: list[PlanItem], source: tuple[dict, dict[int, datetime]], prof: Profile,
            rng: random.Random, seed: int, deadline: datetime) -> None:
    """Most answers taken from the source's screen a little after the source saved them."""
    answers, when = source
    base = prof.pace_minutes * 60 / len(items)
    for item in items:
        own = c.t + timedelta(seconds=base * rng.uniform(0.5, 1.3))
        if item.ref in answers and rng.random() < COPY_SHARE:
            at, answer = max(own, when[item.ref] + timedelta(seconds=rng.uniform(15, 80))), answers[item.ref]
        else:
            at, answer = own, answer_for(item, prof.ability, rng, seed)
        if at >= deadline - timedelta(minutes=2):
            break
        c.save(item, answer, (at - c.t).total_seconds())


def _departures(c: _Candidate, kinds: list[str], start: datetime, end: datetime, rng: random.Random) -> list[Step]:
    """Client integrity signals between start and end (evenly spread, jittered)."""
    span = (end - start).total_seconds()
    out = []
    for n, kind in enumerate(kinds):
        at = start + timedelta(seconds=span * (n + rng.uniform(0.2, 0.8)) / len(kinds))
        out.append(Step(at=at, who=c.index, kind="signal", data={"kind": kind}))
    return out


def candidate_script(index: int, items: list[PlanItem], prof: Profile, *, window_start: datetime,
                     duration: timedelta, grace: timedelta, seed: int, rng: random.Random,
                     source: tuple[dict, dict[int, datetime]] | None = None) -> tuple[list[Step], dict, dict]:
    """One candidate's steps, the answers of the first pass and the time of each of them."""
    c = _Candidate(index, window_start - timedelta(minutes=rng.uniform(4, 14)))
    c.steps.append(Step(at=c.t, who=index, kind="login"))
    c.t = window_start + timedelta(seconds=rng.uniform(3, 150))
    c.steps.append(Step(at=c.t, who=index, kind="start"))
    deadline = c.t + duration
    c.t += timedelta(seconds=rng.uniform(20, 60))  # reading the instructions
    if index == COPIER and source is not None:
        _copier(c, items, source, prof, rng, seed, deadline)
        finals, when = {}, {}
    else:
        finals, marked, skipped, when = _first_pass(c, items, prof, rng, seed, deadline)
        seen = dict(finals)  # what a neighbour could see on the screen during the first pass
        cap = deadline - (timedelta(seconds=rng.uniform(8, 20)) if index in TIMEOUTS else timedelta(minutes=2))
        _review(c, items, finals, marked, skipped, prof, rng, seed, cap)
        finals = seen
    end = c.t
    if index not in TIMEOUTS:
        c.step("submit", rng.uniform(20, 90))
        c.step("survey", rng.uniform(20, 60), data={f"q{q}": rng.choices([3, 4, 5], [1, 3, 6])[0]
                                                     for q in range(1, 6)})
    kinds = list(STRAY.get(index, ()))
    if index == FOCUS:
        kinds = [rng.choice(("page_hidden", "focus_lost")) for _ in range(FOCUS_DEPARTURES)]
    c.steps += _departures(c, kinds, window_start + timedelta(minutes=6), end - timedelta(minutes=1), rng)
    if index in TIMEOUTS:
        sweep_at = (deadline + grace + timedelta(minutes=1)).replace(second=0, microsecond=0) + 2 * SECOND
        c.steps.append(Step(at=sweep_at, who=index, kind="sweep"))
    if index == FOCUS:
        sixth = sorted(s.at for s in c.steps if s.kind == "signal")[5]
        c.steps.append(Step(at=sixth + timedelta(minutes=2, seconds=17), who=index, kind="note"))
    return c.steps, finals, when


def script(forms: list[list[PlanItem]], *, window_start: datetime, duration: timedelta, grace: timedelta,
           seed: int) -> list[Step]:
    """Every step of the sitting in time order; `forms[i]` are the items candidate i sees, in
    order. Candidates SOURCE and COPIER must sit the same form."""
    rng = random.Random(seed)
    profs = profiles(len(forms), rng)
    steps: list[Step] = []
    source = None
    for index in [SOURCE, *[i for i in range(len(forms)) if i != SOURCE]]:
        got, finals, when = candidate_script(index, forms[index], profs[index], window_start=window_start,
                                             duration=duration, grace=grace, seed=seed,
                                             rng=random.Random(f"{seed}/{index}"), source=source)
        if index == SOURCE:
            source = (finals, when)
        steps += got
    return sorted(steps, key=lambda s: (s.at, s.who))
