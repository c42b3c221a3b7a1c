"""Which items the solver may use, which of them are interchangeable, and how
concrete items are drawn from a group once the solver has fixed the counts.

Items that no rule tells apart (same type, same content rules, same constrained
difficulty and importance, same enemy groups, same exposure bucket and, when the
blueprint matches test information, the same information bucket) form one
``Group``; the model gives each group one integer count per form. After the
solve, ``assign_items`` picks concrete items so that every pair of forms shares
no more items of a group than the model allowed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .formats import BankItem, FormSpec, kp_matches
from .information import bucket_width, item_information


@dataclass
class Group:
    type: str
    rules: tuple[int, ...]  # indices of the content rules its items count towards
    difficulty: int  # 0 when no difficulty rule names the level
    importance: str  # "" when no importance rule names it
    enemies: tuple[str, ...]  # enemy groups (with >= 2 eligible items) it belongs to
    cost: int | None  # exposure bucket; None: items of several buckets (see cost_curve)
    info_bin: int | None = None  # information bucket; None when information is not matched
    items: list[BankItem] = field(default_factory=list)
    ub: int = 0  # the most items of this group a single form can hold
    # Least and greatest information at θ_cut of the group's items (0 when not matched).
    info_lo: float = 0.0
    info_hi: float = 0.0
    _curve: list[tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple:
        return (self.type, self.rules, self.difficulty, self.importance, self.info_bin,
                self.enemies, self.cost)

    @property
    def size(self) -> int:
        return len(self.items)

    def cost_curve(self) -> list[tuple[int, int]]:
        """(bucket, items) in ascending bucket order: taking the T least-exposed
        items costs a convex piecewise-linear function of T."""
        if self.cost is not None:
            return [(self.cost, self.size)]
        if self._curve is None:
            per: dict[int, int] = {}
            for it in self.items:
                b = exposure_bucket(it.exposure)
                per[b] = per.get(b, 0) + 1
            self._curve = sorted(per.items())
        return self._curve


@dataclass
class Pool:
    items: list[BankItem]
    excluded: list[BankItem]  # listed in spec.exclude
    overexposed: list[BankItem]  # exposure above spec.max_exposure


def eligible_pool(bank: list[BankItem], spec: FormSpec) -> Pool:
    """Items of a section type that are neither excluded nor over the exposure cap."""
    types = {s.type for s in spec.sections}
    pool, excluded, over = [], [], []
    for it in bank:
        if it.type not in types:
            continue
        if str(it.id) in spec.exclude:
            excluded.append(it)
        elif spec.max_exposure is not None and it.exposure > spec.max_exposure:
            over.append(it)
        else:
            pool.append(it)
    return Pool(pool, excluded, over)


def rule_matches(spec: FormSpec, item: BankItem) -> tuple[int, ...]:
    return tuple(
        r
        for r, rule in enumerate(spec.content)
        if kp_matches(item.kp, rule.kp_prefix) and (rule.types is None or item.type in rule.types)
    )


def enemy_memberships(pool: list[BankItem], spec: FormSpec) -> dict[str, tuple[str, ...]]:
    """Item id (as str) -> enemy groups that hold at least two eligible items.

    A group with a single eligible item constrains nothing, so it must not keep
    that item out of an aggregate group."""
    members: dict[str, list[str]] = {}
    for it in pool:
        if it.enemy_group is not None:
            members.setdefault("item:" + it.enemy_group, []).append(str(it.id))
    ids = {str(it.id) for it in pool}
    for n, extra in enumerate(spec.enemy_groups):
        members[f"spec:{n}"] = sorted(i for i in extra if i in ids)
    out: dict[str, list[str]] = {}
    for name, group in sorted(members.items()):
        if len(group) >= 2:
            for item_id in group:
                out.setdefault(item_id, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def exposure_bucket(exposure: int) -> int:
    # Power-of-two buckets: 0, 1, 2-3, 4-7, ... keep the number of groups small
    # while still steering the solver away from heavily used items.
    return int(exposure).bit_length()


def make_groups(
    pool: list[BankItem],
    spec: FormSpec,
    *,
    aggregate: bool = True,
    split: frozenset[tuple] = frozenset(),
    trim: bool | None = None,
    by_bucket: bool = True,
) -> list[Group]:
    """Group the pool. ``aggregate=False`` gives every item its own group (the
    plain model); keys in ``split`` are broken into single-item groups.
    ``trim`` (default: same as ``aggregate``) drops dominated items first.
    ``by_bucket=False`` keeps exposure buckets together (cost=None): valid when
    forms cannot share items, where a group's cost depends only on how many of
    its items all forms take together (or, with free sharing, each form).
    When ``spec`` matches information (θ_cut resolved), items are also bucketed by
    their information at θ_cut and each group records its items' least and
    greatest information."""
    levels = {r.level for r in spec.difficulty}
    importances = {r.importance for r in spec.importance}
    enemies = enemy_memberships(pool, spec)
    match_cache: dict[tuple[str, str], tuple[int, ...]] = {}
    keyed = []
    only_own_enemies = not spec.enemy_groups
    info: dict[int, float] = {}
    width = 1.0
    if spec.matches_information:
        info = {id(it): item_information(it, spec.theta_cut) for it in pool}
        width = bucket_width(pool, spec)
    for it in pool:
        ck = (it.kp, it.type)
        rules = match_cache.get(ck)
        if rules is None:
            rules = match_cache[ck] = rule_matches(spec, it)
        cls = (
            it.type,
            rules,
            it.difficulty if it.difficulty in levels else 0,
            it.importance if it.importance in importances else "",
            int(info[id(it)] // width) if info else None,
        )
        own_only = only_own_enemies and it.enemy_group is None
        enemy = () if own_only else enemies.get(str(it.id), ())
        keyed.append((cls, it.exposure.bit_length(), enemy, it))  # == exposure_bucket
    if aggregate if trim is None else trim:
        keyed = _drop_dominated(keyed, spec)
    groups: dict[tuple, Group] = {}
    for cls, bucket, enemy, it in keyed:
        if not by_bucket and aggregate:
            bucket = None
        key = (*cls, enemy, bucket)
        if not aggregate or key in split:
            key = (*key, str(it.id))
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(cls[0], cls[1], cls[2], cls[3], enemy, bucket, cls[4])
        g.items.append(it)
    out = [groups[k] for k in sorted(groups, key=repr)]
    for g in out:
        g.ub = group_upper_bound(g, spec)
        if info:
            g.info_lo = min(info[id(it)] for it in g.items)
            g.info_hi = max(info[id(it)] for it in g.items)
    return out


def _drop_dominated(keyed: list, spec: FormSpec) -> list:
    """Drop items that some optimal selection never needs.

    Take a class of items no rule tells apart (ignoring exposure and enemy
    groups); a form holds at most ``cap`` of them, so all forms together use at
    most ``forms * cap``. If the class's items without an enemy group in
    exposure buckets <= b number at least that many, then whenever a selection
    uses a class item in a bucket above b, or one with an enemy group in bucket
    b or above, some enemy-free item in bucket <= b is unused by every form:
    swapping it in keeps every rule count, adds no overlap and no enemy
    conflict, and costs no more. So those items can go without losing
    feasibility or optimality, and the model shrinks to the cheap buckets."""
    supply: dict[tuple, dict[int, int]] = {}
    for cls, bucket, enemy, _ in keyed:
        if not enemy:
            per = supply.setdefault(cls, {})
            per[bucket] = per.get(bucket, 0) + 1
    cut: dict[tuple, int] = {}
    for cls, per in supply.items():
        need, total = spec.forms * _class_cap(cls, spec), 0
        for bucket in sorted(per):
            total += per[bucket]
            if total >= need:
                cut[cls] = bucket
                break
    return [
        row for row in keyed
        if row[0] not in cut or row[1] < cut[row[0]] or (row[1] == cut[row[0]] and not row[2])
    ]


def _class_cap(cls: tuple, spec: FormSpec) -> int:
    item_type, rules, level = cls[0], cls[1], cls[2]
    cap = next(s.count for s in spec.sections if s.type == item_type)
    for r in rules:
        if spec.content[r].max is not None:
            cap = min(cap, spec.content[r].max)
    for rule in spec.difficulty:
        if rule.level == level and rule.max is not None:
            cap = min(cap, rule.max)
    return cap


def group_upper_bound(g: Group, spec: FormSpec) -> int:
    ub = min(g.size, _class_cap((g.type, g.rules, g.difficulty), spec))
    if g.enemies:
        ub = min(ub, 1)
    return ub


DRAW_ATTEMPTS = 24  # form orders tried per group before asking for a re-solve


def assign_items(
    groups: list[Group],
    counts: list[list[int]],
    budgets: list[list[list[int]] | None] | None,
    forms: int,
    seed: int,
) -> tuple[list[list[BankItem]], set[tuple]]:
    """Choose counts[g][f] concrete items of each group for each form.

    ``budgets[g][f][h]`` is how many items of group g forms f and h may share
    (None: unlimited). Items no form has used yet come first, so a group whose
    counts sum to at most its size gives disjoint forms, and for two forms the
    overlap is exactly max(0, c_f + c_h - n), the least possible. With three or
    more forms a greedy draw can miss a realisable pattern: it retries with
    other form orders, and groups that still fail are returned in the second
    value for the caller to re-solve item by item. Within those preferences
    the draw spreads each form over assessment points and prefers
    less-exposed items; ties are broken by a seeded RNG.
    """
    rng = random.Random(seed)
    chosen: list[list[BankItem]] = [[] for _ in range(forms)]
    kp_used: list[dict[str, int]] = [{} for _ in range(forms)]
    failed: set[tuple] = set()
    for gi, g in enumerate(groups):
        if not any(counts[gi]):
            continue
        order = list(g.items)
        rng.shuffle(order)
        order.sort(key=lambda it: it.exposure)
        start = gi % forms  # rotate who picks first so no form always gets the best items
        form_orders = [[(start + k) % forms for k in range(forms)]]
        if budgets is not None and sum(counts[gi]) > g.size:
            form_orders += [rng.sample(range(forms), forms) for _ in range(DRAW_ATTEMPTS - 1)]
        for form_order in form_orders:
            rem = None if budgets is None else [row[:] for row in budgets[gi]]
            picks = _draw_group(order, counts[gi], rem, kp_used, form_order)
            if picks is not None:
                break
        if picks is None:
            failed.add(g.key)
            continue
        for f, items in enumerate(picks):
            chosen[f].extend(items)
            for it in items:
                kp_used[f][it.kp] = kp_used[f].get(it.kp, 0) + 1
    return chosen, failed


def _draw_group(order, counts, rem, kp_used, form_order) -> list[list[BankItem]] | None:
    """One round-robin draw from a group (items in preference order), or None."""
    forms = len(counts)
    need = list(counts)
    buckets = {id(it): exposure_bucket(it.exposure) for it in order}
    rank = {id(it): n for n, it in enumerate(order)}
    unused = list(order)
    used: list[BankItem] = []
    holders: dict[int, list[int]] = {}  # id(item) -> forms holding it
    picks: list[list[BankItem]] = [[] for _ in range(forms)]
    local = [dict(kp_used[f]) for f in range(forms)]
    while any(need):
        for f in form_order:
            if not need[f]:
                continue
            item = _pick_unused(unused, local[f], buckets)
            if item is None:
                item = _pick_shared(used, holders, f, rem, local[f], rank)
                if item is None:
                    return None
                if rem is not None:
                    for h in holders[id(item)]:
                        rem[f][h] -= 1
                        rem[h][f] -= 1
            else:
                used.append(item)
                holders[id(item)] = []
            holders[id(item)].append(f)
            picks[f].append(item)
            local[f][item.kp] = local[f].get(item.kp, 0) + 1
            need[f] -= 1
    return picks


def _pick_unused(
    unused: list[BankItem], kp_used: dict[str, int], buckets: dict[int, int]
) -> BankItem | None:
    """The least-exposed unused item, trading only within its exposure bucket
    for an assessment point this form has used less (the model priced buckets)."""
    best_idx, best_use = -1, None
    head = buckets[id(unused[0])] if unused else None
    for idx, it in enumerate(unused):
        if buckets[id(it)] != head:
            break
        use = kp_used.get(it.kp, 0)
        if best_use is None or use < best_use:
            best_idx, best_use = idx, use
            if use == 0:  # cannot do better; the list is already in preference order
                break
    return None if best_idx < 0 else unused.pop(best_idx)


def _pick_shared(
    used: list[BankItem],
    holders: dict[int, list[int]],
    f: int,
    rem: list[list[int]] | None,
    kp_used: dict[str, int],
    rank: dict[int, int],
) -> BankItem | None:
    best, best_key = None, None
    for it in used:
        forms_of = holders[id(it)]
        if f in forms_of:
            continue
        if rem is None:
            slack = 0
        else:
            slack = min(rem[f][h] for h in forms_of)
            if slack < 1:
                continue
        # Fewest holders first, then the pairs with most budget left, so later
        # forms still find partners.
        key = (len(forms_of), -slack, kp_used.get(it.kp, 0), rank[id(it)])
        if best_key is None or key < best_key:
            best, best_key = it, key
    return best
