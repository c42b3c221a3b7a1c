"""One form per candidate (千人千卷): many forms, each exactly meeting the blueprint, pairwise
overlap capped and exposure balanced.

The solver is asked once, for one form. Every item of that form is then replaced, per
candidate, by an item of the same interchangeability group (``grouping.make_groups``: same type,
same content rules, same constrained difficulty and importance, same enemy groups). Items that
no rule tells apart can stand in for each other without changing any count the blueprint
constrains, so every drawn form meets the blueprint exactly as the solved one does; the
independent checker confirms each one anyway before the forms are handed out.

Within a group the draw is round-robin over the items, least used first, so uses never differ
by more than one inside a group (exposure balanced); an item that would push this form's
overlap with an earlier form past the cap is passed over for the next one.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field, replace

from .checker import check_forms
from .formats import AssembledForm, BankItem, FormSpec
from .grouping import eligible_pool, make_groups
from .solver import DEFAULT_TIME_LIMIT, solve

TEMPLATES = 10


@dataclass
class PerCandidateResult:
    status: str                                   # "ok", "infeasible", "timeout" or "error"
    forms: list[AssembledForm] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def per_candidate_forms(
    bank: list[BankItem], spec: FormSpec, count: int, *, max_shared: int,
    seed: int = 0, time_limit: float = DEFAULT_TIME_LIMIT, verify: bool = True,
) -> PerCandidateResult:
    """`count` forms labelled 1..count. `max_shared` caps the items any two forms share.
    With `verify`, every form is checked against the blueprint by the independent checker and
    a failing form turns the result into "error" (a bug, never handed out). Never raises for a
    well-formed blueprint."""
    started = time.monotonic()
    single = replace(spec, forms=1, max_shared_items=0)
    # Several disjoint templates, taken in turn, reach more classes of the bank than one (one
    # template's classes would carry all the exposure); one template when the bank cannot fill more.
    template = None
    for n_templates in (min(TEMPLATES, count), 1):
        template = solve(bank, replace(spec, forms=n_templates, max_shared_items=0), seed=seed,
                         time_limit=time_limit / 2)
        if template.status == "ok" or n_templates == 1:
            break
    stats: dict = {"template_seconds": round(time.monotonic() - started, 3)}
    if template.status != "ok":
        return PerCandidateResult(template.status, reasons=template.reasons, stats=stats)
    stats["templates"] = len(template.forms)
    pool = eligible_pool(bank, single).items
    # Interchangeable for every count the blueprint constrains: same type, content rules,
    # constrained difficulty and importance. Enemy groups are kept per form instead (an enemy
    # item may stand in for a free one and the other way round, just never two of one group).
    classes: dict[tuple, list[BankItem]] = {}
    enemies_of: dict[int, tuple[str, ...]] = {}
    for g in make_groups(pool, single, aggregate=True, trim=False, by_bucket=False):
        classes.setdefault((g.type, g.rules, g.difficulty, g.importance), []).extend(g.items)
        for it in g.items:
            enemies_of[id(it)] = g.enemies
    class_of = {str(it.id): key for key, items in classes.items() for it in items}
    needs: list[dict[tuple, int]] = []
    for tf in template.forms:
        need: dict[tuple, int] = {}
        for item_id in tf.items:
            key = class_of[str(item_id)]
            need[key] = need.get(key, 0) + 1
        needs.append(need)
    rng = random.Random(seed)
    cycles = {key: _Cycle(classes[key], rng) for need in needs for key in need}
    holders: dict[int, list[int]] = {}            # id(item) -> forms holding it
    forms: list[AssembledForm] = []
    section = {s.type: i for i, s in enumerate(spec.sections)}
    for f in range(count):
        form = _FormDraw(f, max_shared, holders, enemies_of)
        chosen: list[BankItem] = []
        for key, want in needs[f % len(needs)].items():
            got = cycles[key].take(want, form.fits, form.take)
            chosen += got
            if len(got) < want:
                return PerCandidateResult("infeasible", reasons=[{
                    "rule": "max_shared_items",
                    "message": f"第 {f + 1} 份试卷无法在每两份共用不超过 {max_shared} 道的条件下抽足同类题目；"
                               f"请提高共用上限、减少份数或扩充题库",
                    "needed": want, "available": len(got)}], stats=stats)
        chosen.sort(key=lambda it: (section[it.type], it.kp, str(it.id)))
        forms.append(AssembledForm(str(f + 1), [it.id for it in chosen]))
    stats["draw_seconds"] = round(time.monotonic() - started - stats["template_seconds"], 3)
    if verify:
        t0 = time.monotonic()
        by_id = {str(it.id): it for it in bank}
        for form in forms:
            if check_forms([by_id[str(i)] for i in form.items], single, [form]):
                return PerCandidateResult("error", reasons=[{
                    "rule": "checker", "message": f"第 {form.label} 份试卷未通过独立校验",
                    "needed": 0, "available": 0}], stats=stats)
        stats["check_seconds"] = round(time.monotonic() - t0, 3)
    stats["wall_seconds"] = round(time.monotonic() - started, 3)
    stats["classes_used"] = len(cycles)
    return PerCandidateResult("ok", forms=forms, stats=stats)


class _FormDraw:
    """The form being drawn: how many items it shares with each earlier form, its enemy groups."""

    def __init__(self, number: int, max_shared: int, holders: dict, enemies_of: dict):
        self.number, self.max_shared = number, max_shared
        self.holders, self.enemies_of = holders, enemies_of
        self.shared_with: dict[int, int] = {}
        self.enemies: set[str] = set()

    def fits(self, it: BankItem) -> bool:
        if any(e in self.enemies for e in self.enemies_of.get(id(it), ())):
            return False
        return all(self.shared_with.get(h, 0) < self.max_shared for h in self.holders.get(id(it), ()))

    def take(self, it: BankItem) -> None:
        for h in self.holders.get(id(it), ()):
            self.shared_with[h] = self.shared_with.get(h, 0) + 1
        self.holders.setdefault(id(it), []).append(self.number)
        self.enemies.update(self.enemies_of.get(id(it), ()))


class _Cycle:
    """A group's items in rounds: every item is used once per round before any is used again
    (uses differ by at most one), and each round is shuffled anew, so that groups of the same
    size do not line up and make the same two forms share an item from each of them."""

    def __init__(self, items: list[BankItem], rng: random.Random):
        first = list(items)
        rng.shuffle(first)
        first.sort(key=lambda it: it.exposure)   # the first round: less exposed first
        self.fresh: deque = deque(first)
        self.spent: list[BankItem] = []
        self.rng = rng

    def take(self, want: int, fits, on_take) -> list[BankItem]:
        got: list[BankItem] = []
        passed: list[BankItem] = []
        while len(got) < want:
            if not self.fresh:
                if not self.spent:
                    break
                # A new round; what this form already took stays out until the next one.
                self.rng.shuffle(self.spent)
                self.fresh.extend(self.spent)
                self.spent = []
            it = self.fresh.popleft()
            if fits(it):
                on_take(it)
                got.append(it)
            else:
                passed.append(it)
        self.fresh.extendleft(reversed(passed))  # passed over: still first in line next time
        self.spent += got
        return got
