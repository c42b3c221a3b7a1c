"""The mixed-integer model over item groups, as sparse arrays for HiGHS.

Columns ``c[g, f]`` count the items of group g on form f (a group of one item is
a binary, so the plain per-item model is this model with singleton groups).
Every blueprint rule is a row per form. Sharing between forms:

* one form: no coupling;
* ``max_shared_items == 0``: ``sum_f c[g, f] <= n_g`` for each group;
* otherwise integer ``w[g, f, h]`` = items of g that forms f and h share, with
  ``w >= c[g, f] + c[g, h] - n_g`` (two subsets of n items overlap at least
  that much), ``sum_f c[g, f] <= n_g + sum_{f<h} w[g, f, h]`` (an item on m
  forms adds m - 1 <= m(m-1)/2 to the left), and per pair
  ``sum_g w[g, f, h] <= max_shared_items`` (omitted when the cap is at least
  the form size). These are valid for every real selection;
  ``grouping.assign_items`` then realises the w as budgets, and the solver
  splits any group it cannot realise, so the result is exact. Each shared item
  costs more than any exposure saving could, so forms share as few items as
  the rules allow (lexicographically first), then prefer low exposure.

Matching test information (``spec.info_tolerance`` = t%, forms F >= 2): with
I_f = sum_g c[g, f] * I_g the information of form f at θ_cut, two rows per form
keep it within ±t of the mean over forms,
``I_f - (1 + t)/F * sum_h I_h <= 0`` and ``I_f - (1 - t)/F * sum_h I_h >= 0``.
Items of a group differ in information by less than a bucket width, so each
coefficient takes the group's greatest or least information, whichever makes
the row harder (``info_lo``/``info_hi``): any draw from the groups then meets
the rule. The aggregate model over forms leaves these rows out (summed over
forms they always hold), so it stays a relaxation.

With ``slack=True`` every rule row gets penalised slack columns and the
objective only counts slack: the diagnosis reads which rules needed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .formats import FormSpec
from .grouping import Group

INF = float("inf")


def sharing_mode(spec: FormSpec) -> str:
    if spec.forms == 1:
        return "free"
    return "disjoint" if spec.max_shared_items == 0 else "pairs"


@dataclass
class Slack:
    col: int
    rule: str
    form: int | None  # None for rules across forms
    sense: str  # "under": the row's lower bound needed it; "over": the upper bound


@dataclass
class Model:
    mode: str
    c_cols: np.ndarray  # (groups, forms) column index of c[g, f]
    w_cols: dict[int, np.ndarray] = field(default_factory=dict)  # g -> (pairs,) columns
    pairs: list[tuple[int, int]] = field(default_factory=list)
    slacks: list[Slack] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    index: list[np.ndarray] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)
    nnz: int = 0

    def add_cols(self, n: int, cost: float, lo: float, hi, integer: bool) -> np.ndarray:
        first = len(self.cost)
        self.cost.extend([cost] * n if np.isscalar(cost) else cost)
        self.lower.extend([lo] * n)
        self.upper.extend([hi] * n if np.isscalar(hi) else hi)
        self.integer.extend([1 if integer else 0] * n)
        return np.arange(first, first + n, dtype=np.int32)

    def add_row(self, cols, coefs, lo: float, hi: float) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        coefs = np.broadcast_to(np.asarray(coefs, dtype=np.float64), cols.shape)
        self.index.append(cols)
        self.value.append(coefs)
        self.nnz += len(cols)
        self.starts.append(self.nnz)
        self.row_lower.append(lo)
        self.row_upper.append(hi)

    def add_rule_row(self, cols, coefs, lo, hi, rule: str, form: int | None, slack: bool,
                     weight: float = 1.0):
        cols = list(np.asarray(cols, dtype=np.int32))
        coefs = list(np.broadcast_to(np.asarray(coefs, dtype=np.float64), (len(cols),)))
        if slack:
            if lo > -INF and lo > 0:
                (s,) = self.add_cols(1, weight, 0.0, INF, False)
                self.slacks.append(Slack(int(s), rule, form, "under"))
                cols.append(s)
                coefs.append(1.0)
            if hi < INF:
                (s,) = self.add_cols(1, weight, 0.0, INF, False)
                self.slacks.append(Slack(int(s), rule, form, "over"))
                cols.append(s)
                coefs.append(-1.0)
        if cols or lo > 0 or hi < 0:  # an empty row that excludes 0 makes the model infeasible
            self.add_row(cols, coefs, lo, hi)

    def arrays(self) -> dict[str, np.ndarray]:
        """The model as plain arrays, the worker process's input."""
        return {
            "col_cost": np.asarray(self.cost, dtype=np.float64),
            "col_lower": np.asarray(self.lower, dtype=np.float64),
            "col_upper": np.asarray(self.upper, dtype=np.float64),
            "integrality": np.asarray(self.integer, dtype=np.int8),
            "row_lower": np.asarray(self.row_lower, dtype=np.float64),
            "row_upper": np.asarray(self.row_upper, dtype=np.float64),
            "a_start": np.asarray(self.starts, dtype=np.int32),
            "a_index": (np.concatenate(self.index) if self.index else np.zeros(0)).astype(
                np.int32
            ),
            "a_value": (np.concatenate(self.value) if self.value else np.zeros(0)).astype(
                np.float64
            ),
        }


def build_model(
    groups: list[Group], spec: FormSpec, *, slack: bool = False, total: bool = False
) -> Model:
    """The model over ``groups``. ``total=True`` builds the aggregate over forms
    instead: one column T[g] per group with every per-form rule multiplied by
    the number of forms. Summing any solution of the full model over forms
    gives a solution of it with the same cost (cost depends on T alone when
    forms share nothing), so its optimum is a lower bound: a split of its
    optimal T into valid forms is optimal for the full model."""
    F = 1 if total else spec.forms
    scale = spec.forms if total else 1
    G = len(groups)
    mode = "total" if total else sharing_mode(spec)
    model = Model(mode=mode, c_cols=np.zeros((G, F), dtype=np.int32))
    # The slack model must not hide a rule inside a column bound, so its bounds
    # come from the bank and the section sizes only.
    section_count = {s.type: s.count for s in spec.sections}
    ub = [min(g.size, section_count[g.type]) if slack else g.ub for g in groups]
    if total:
        ub = [min(g.size, scale * u) for g, u in zip(groups, ub, strict=True)]
    cost = [0.0 if slack or g.cost is None else float(g.cost) for g in groups]
    for f in range(F):
        model.c_cols[:, f] = model.add_cols(G, cost, 0.0, ub, True)
    if not slack:
        _add_cost_curves(model, groups, ub, F)

    def hi_of(v: int | None) -> float:
        return INF if v is None else v * scale

    by_type: dict[str, list[int]] = {s.type: [] for s in spec.sections}
    by_rule: list[list[int]] = [[] for _ in spec.content]
    by_level: dict[int, list[int]] = {d.level: [] for d in spec.difficulty}
    by_imp: dict[str, list[int]] = {r.importance: [] for r in spec.importance}
    by_enemy: dict[str, list[int]] = {}
    for gi, g in enumerate(groups):
        if ub[gi] <= 0:
            continue
        by_type[g.type].append(gi)
        for r in g.rules:
            by_rule[r].append(gi)
        if g.difficulty in by_level:
            by_level[g.difficulty].append(gi)
        if g.importance in by_imp:
            by_imp[g.importance].append(gi)
        for e in g.enemies:
            by_enemy.setdefault(e, []).append(gi)
    by_type = {k: np.array(v, dtype=np.int32) for k, v in by_type.items()}
    by_rule = [np.array(v, dtype=np.int32) for v in by_rule]
    by_level = {k: np.array(v, dtype=np.int32) for k, v in by_level.items()}
    by_imp = {k: np.array(v, dtype=np.int32) for k, v in by_imp.items()}
    by_enemy = {k: np.array(v, dtype=np.int32) for k, v in sorted(by_enemy.items())}

    for f in range(F):
        col = model.c_cols[:, f]
        for i, s in enumerate(spec.sections):
            # Section sizes define the paper; blame the narrower rules first.
            model.add_rule_row(col[by_type[s.type]], 1.0, s.count * scale, s.count * scale,
                               f"sections[{i}]", f, slack, weight=2.0)
        for r, rule in enumerate(spec.content):
            model.add_rule_row(col[by_rule[r]], 1.0, rule.min * scale, hi_of(rule.max),
                               f"content[{r}]", f, slack)
        for i, d in enumerate(spec.difficulty):
            model.add_rule_row(col[by_level[d.level]], 1.0, d.min * scale, hi_of(d.max),
                               f"difficulty[{i}]", f, slack)
        for i, r in enumerate(spec.importance):
            model.add_rule_row(col[by_imp[r.importance]], 1.0, r.min * scale, INF,
                               f"importance[{i}]", f, slack)
        for e, gs in by_enemy.items():
            if len(gs) > 1 or (len(gs) == 1 and ub[gs[0]] > scale):
                model.add_rule_row(col[gs], 1.0, -INF, scale, f"enemy:{e}", f, slack)

    if mode == "disjoint":
        for gi, g in enumerate(groups):
            if F * ub[gi] > g.size:
                model.add_rule_row(model.c_cols[gi], 1.0, -INF, g.size,
                                   "max_shared_items", None, slack)
    elif mode == "pairs":
        _add_pair_sharing(model, groups, ub, spec, slack)
    if spec.matches_information and not total:
        _add_information_rows(model, groups, ub, spec, slack)
    return model


# Information slack is cheap beside a count rule's (weight 1 per item): when only the
# tolerance cannot be met, the diagnosis blames it rather than a count rule.
INFO_SLACK_WEIGHT = 0.01


def _add_information_rows(model: Model, groups: list[Group], ub: list[int], spec: FormSpec,
                          slack: bool) -> None:
    F = spec.forms
    t = spec.info_tolerance / 100.0
    live = [gi for gi in range(len(groups)) if ub[gi] > 0]
    lo = np.array([groups[gi].info_lo for gi in live])
    hi = np.array([groups[gi].info_hi for gi in live])
    top = max(float(hi.max()) if len(hi) else 0.0, 1e-9)
    weight = INFO_SLACK_WEIGHT / top
    for f in range(F):
        for sense, share in (("over", (1 + t) / F), ("under", (1 - t) / F)):
            cols, coefs = [], []
            for h in range(F):
                own = 1.0 if h == f else 0.0
                # "over" (row <= 0) takes the larger information where the row adds it and the
                # smaller where it subtracts; "under" (row >= 0) the reverse.
                larger = (own - share > 0) == (sense == "over")
                info = hi if larger else lo
                cols.append(model.c_cols[live, h])
                coefs.append((own - share) * info)
            cols_all = np.concatenate(cols)
            coefs_all = np.concatenate(coefs)
            if sense == "over":
                _info_row(model, cols_all, coefs_all, -INF, 0.0, f, slack, weight, "over")
            else:
                _info_row(model, cols_all, coefs_all, 0.0, INF, f, slack, weight, "under")


def _info_row(model: Model, cols, coefs, lo: float, hi: float, form: int, slack: bool,
              weight: float, sense: str) -> None:
    cols, coefs = list(cols), list(coefs)
    if slack:  # add_rule_row only slacks lower bounds above 0; here 0 is the bound
        (s,) = model.add_cols(1, weight, 0.0, INF, False)
        model.slacks.append(Slack(int(s), "information", form, sense))
        cols.append(s)
        coefs.append(1.0 if sense == "under" else -1.0)
    model.add_row(cols, coefs, lo, hi)


def _add_cost_curves(model: Model, groups: list[Group], ub: list[int], F: int) -> None:
    """Exposure cost of groups that mix buckets (only built when forms share
    nothing): z >= C_j + b_j * (T - B_j) for each bucket segment j, where T is
    the group's count over all forms. The segments are convex, so the least z
    is exactly the cost of the T least-exposed items, which assign_items draws
    (unused items first, in exposure order)."""
    for gi, g in enumerate(groups):
        if g.cost is None:
            cols = model.c_cols[gi]
            (z,) = model.add_cols(1, 1.0, 0.0, INF, False)
            before, spent = 0, 0
            for bucket, count in g.cost_curve():
                if before >= ub[gi] * F:
                    break
                # z - b*T >= spent - b*before
                model.add_row([z, *cols], [1.0] + [-float(bucket)] * len(cols),
                              spent - bucket * before, INF)
                spent += bucket * count
                before += count


def _add_pair_sharing(
    model: Model, groups: list[Group], ub: list[int], spec: FormSpec, slack: bool
) -> None:
    F = spec.forms
    model.pairs = [(f, h) for f in range(F) for h in range(f + 1, F)]
    per_pair: list[list[int]] = [[] for _ in model.pairs]
    top_bucket = max((b for g in groups for b, _ in g.cost_curve()), default=0)
    penalty = 0.0 if slack else 1.0 + top_bucket * spec.form_size * F
    for gi, g in enumerate(groups):
        if F * ub[gi] <= g.size:
            continue  # the forms can always take disjoint items of this group
        w = model.add_cols(len(model.pairs), penalty, 0.0, float(ub[gi]), True)
        model.w_cols[gi] = w
        c = model.c_cols[gi]
        if 2 * ub[gi] > g.size:
            for p, (f, h) in enumerate(model.pairs):
                model.add_row([c[f], c[h], w[p]], [1.0, 1.0, -1.0], -INF, g.size)
        model.add_row(np.concatenate([c, w]),
                      np.concatenate([np.ones(F), -np.ones(len(w))]), -INF, g.size)
        for p in range(len(model.pairs)):
            per_pair[p].append(int(w[p]))
    if spec.max_shared_items >= spec.form_size:
        return  # no cap: sharing is only discouraged by its cost
    for p, cols in enumerate(per_pair):
        if cols:
            model.add_rule_row(cols, 1.0, -INF, spec.max_shared_items,
                               f"max_shared_items:{p}", None, slack)
