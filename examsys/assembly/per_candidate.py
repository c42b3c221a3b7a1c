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
overlap with an earlier form past the cap is passed over for the next one. When a whole group
is passed over (small groups: a bank where many items are alone in their group), the slots it
could not fill take the least used items of the same type from other groups, as long as every
count the blueprint constrains stays within its bounds (``_RuleCounts``); the checker confirms.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from .checker import check_forms
from .formats import AssembledForm, BankItem, FormSpec, kp_matches
from .grouping import eligible_pool, make_groups
from .solver import DEFAULT_TIME_LIMIT, solve

TEMPLATES = 10
# The draw's own budget (seconds) once the template is solved: forms that need the MILP take
# about half a second each on a bank of a few hundred items.
DRAW_LIMIT = 600.0


@dataclass
class PerCandidateResult:
    status: str                                   # "ok", "infeasible", "timeout" or "error"
    forms: list[AssembledForm] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def per_candidate_forms(
    bank: list[BankItem], spec: FormSpec, count: int, *, max_shared: int,
    seed: int = 0, time_limit: float = DEFAULT_TIME_LIMIT, verify: bool = True,
    draw_limit: float = DRAW_LIMIT, on_form=None,
) -> PerCandidateResult:
    """`count` forms labelled 1..count. `max_shared` caps the items any two forms share.
    With `verify`, every form is checked against the blueprint by the independent checker and
    a failing form turns the result into "error" (a bug, never handed out). `on_form(i)` is
    called before form i is drawn (progress). Never raises for a well-formed blueprint."""
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
    deadline = time.monotonic() + draw_limit
    counts = _RuleCounts(single, pool, holders, deadline)
    forms: list[AssembledForm] = []
    section = {s.type: i for i, s in enumerate(spec.sections)}
    for f in range(count):
        if time.monotonic() > deadline:
            return PerCandidateResult("timeout", reasons=[{
                "rule": "time", "message": f"抽取到第 {f + 1} 份时超过 {draw_limit:g} 秒；请提高共用上限或减少份数",
                "needed": count, "available": f}], stats=stats)
        if on_form is not None:
            on_form(f)
        form = _FormDraw(f, max_shared, holders, enemies_of)
        chosen: list[BankItem] = []
        missing: list[BankItem] = []              # one stand-in per slot its class could not fill
        for key, want in needs[f % len(needs)].items():
            got = cycles[key].take(want, form.fits, form.take)
            chosen += got
            missing += [classes[key][0]] * (want - len(got))
        if missing:
            got = counts.fill(chosen, missing, form)
            if got is None:
                # The items drawn so far may be what blocks (they used up the cap early): the whole
                # form solved at once, against every earlier form's overlap.
                form.untake(chosen)
                missing, chosen = [classes[class_of[str(it.id)]][0] for it in chosen] + missing, []
                got = counts.fill(chosen, missing, form)
            if got is None:
                return PerCandidateResult("infeasible", reasons=[{
                    "rule": "max_shared_items",
                    "message": f"第 {f + 1} 份试卷无法在每两份共用不超过 {max_shared} 道的条件下抽足符合细目表的题目；"
                               f"请提高共用上限、减少份数或扩充题库",
                    "needed": len(missing), "available": 0}], stats=stats)
            chosen += got
            stats["forms_filled_across_classes"] = stats.get("forms_filled_across_classes", 0) + 1
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


class _RuleCounts:
    """Filling the slots a class could not fill (every item of it would push this form's overlap
    with an earlier one past the cap) with items of other classes of the same type, as long as
    every rule the blueprint counts stays within its bounds: the missing slots' own classes are a
    completion within bounds (the template met the blueprint), so each stand-in is taken only if
    the form, completed with the remaining missing classes, still is. Least used items first."""

    def __init__(self, spec: FormSpec, pool: list[BankItem], holders: dict, deadline: float):
        self.holders, self.deadline = holders, deadline
        self.by_type: dict[str, list[BankItem]] = {}
        for it in pool:
            self.by_type.setdefault(it.type, []).append(it)
        self.bounds: list[tuple[int, int | None]] = []
        self.tests = []
        for r in spec.content:
            self.bounds.append((r.min, r.max))
            self.tests.append(lambda it, r=r: kp_matches(it.kp, r.kp_prefix)
                              and (r.types is None or it.type in r.types))
        for d in spec.difficulty:
            self.bounds.append((d.min, d.max))
            self.tests.append(lambda it, d=d: it.difficulty == d.level)
        for r in spec.importance:
            self.bounds.append((r.min, None))
            self.tests.append(lambda it, r=r: it.importance == r.importance)

    def _vector(self, it: BankItem) -> list[int]:
        return [1 if test(it) else 0 for test in self.tests]

    def fill(self, chosen: list[BankItem], missing: list[BankItem], form: _FormDraw) -> list[BankItem] | None:
        """Items for the missing slots, taken into `form`; None when no choice keeps the rules."""
        got = self._greedy(chosen, missing, form)
        if got is None:
            got = self._solve(chosen, missing, form, time_limit=max(0.1, min(10.0, self.deadline - time.monotonic())))
            for it in got or ():
                form.take(it)
        return got

    def _greedy(self, chosen: list[BankItem], missing: list[BankItem], form: _FormDraw) -> list[BankItem] | None:
        total = [0] * len(self.tests)
        for it in chosen + missing:
            for k, v in enumerate(self._vector(it)):
                total[k] += v
        taken: list[BankItem] = []
        inside = {id(it) for it in chosen}
        # What taking them would do, kept aside until all slots are filled (a stuck greedy leaves
        # the form as it was, for the MILP).
        shared = dict(form.shared_with)
        enemies = set(form.enemies)

        def fits(it: BankItem) -> bool:
            return (not any(e in enemies for e in form.enemies_of.get(id(it), ()))
                    and all(shared.get(h, 0) < form.max_shared for h in self.holders.get(id(it), ())))

        for slot in missing:
            slot_vec = self._vector(slot)
            best = None
            for it in self.by_type.get(slot.type, ()):
                if id(it) in inside or not fits(it):
                    continue
                vec = self._vector(it)
                if all(lo <= total[k] - slot_vec[k] + vec[k] and (hi is None or total[k] - slot_vec[k] + vec[k] <= hi)
                       for k, (lo, hi) in enumerate(self.bounds)):
                    uses = len(self.holders.get(id(it), ()))
                    if best is None or uses < best[0]:
                        best = (uses, it, vec)
                        if uses == 0:
                            break
            if best is None:
                return None
            _, it, vec = best
            for k in range(len(total)):
                total[k] += vec[k] - slot_vec[k]
            inside.add(id(it))
            taken.append(it)
            for h in self.holders.get(id(it), ()):
                shared[h] = shared.get(h, 0) + 1
            enemies.update(form.enemies_of.get(id(it), ()))
        for it in taken:
            form.take(it)
        return taken


    def _solve(self, chosen: list[BankItem], missing: list[BankItem], form: _FormDraw,
               time_limit: float = 10.0) -> list[BankItem] | None:
        """The slots filled all at once where one at a time gets stuck (a stand-in may only keep a
        count in bounds together with another): a small MILP (HiGHS) over the items that fit,
        choosing as many of each type as are missing, every rule's count within its bounds, each
        earlier form's overlap within the cap and one item per enemy group, least used first."""
        import highspy  # heavy: only a per-candidate draw that gets stuck loads it

        inside = {id(it) for it in chosen}
        want: dict[str, int] = {}
        for slot in missing:
            want[slot.type] = want.get(slot.type, 0) + 1
        cands = [it for t in want for it in self.by_type.get(t, ()) if id(it) not in inside and form.fits(it)]
        if not cands:
            return None
        base = [0] * len(self.tests)
        for it in chosen:
            for k, v in enumerate(self._vector(it)):
                base[k] += v
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", time_limit)
        n = len(cands)
        costs = [float(len(self.holders.get(id(it), ()))) for it in cands]
        h.addVars(n, np.zeros(n), np.ones(n))
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger] * n))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(costs))

        def row(lo: float, hi: float, cols: list[int]) -> None:
            if cols:
                h.addRow(lo, hi, len(cols), np.array(cols, dtype=np.int32), np.ones(len(cols)))

        for t, count in want.items():
            row(count, count, [j for j, it in enumerate(cands) if it.type == t])
        vectors = [self._vector(it) for it in cands]
        for k, (lo, hi) in enumerate(self.bounds):
            cols = [j for j in range(n) if vectors[j][k]]
            upper = highspy.kHighsInf if hi is None else hi - base[k]
            if lo - base[k] > len(cols) or upper < 0:
                return None
            row(max(0, lo - base[k]), upper, cols)
        earlier: dict[int, list[int]] = {}
        for j, it in enumerate(cands):
            for f in self.holders.get(id(it), ()):
                earlier.setdefault(f, []).append(j)
        for f, cols in earlier.items():
            room = form.max_shared - form.shared_with.get(f, 0)
            if len(cols) > room:
                row(0, room, cols)
        groups: dict[str, list[int]] = {}
        for j, it in enumerate(cands):
            for g in form.enemies_of.get(id(it), ()):
                groups.setdefault(g, []).append(j)
        for cols in groups.values():
            if len(cols) > 1:
                row(0, 1, cols)
        h.run()
        if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        x = h.getSolution().col_value
        return [cands[j] for j in range(n) if x[j] > 0.5]


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

    def untake(self, items: list[BankItem]) -> None:
        """Give back what this form took (nothing else may have been taken since)."""
        for it in items:
            self.holders[id(it)].remove(self.number)
        self.shared_with = {}
        self.enemies = set()

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
