"""Assemble paper forms that provably meet a blueprint, or say why none exist.

``solve`` is the entry point the app and the CLI use: pre-check the counts,
group interchangeable items (``grouping``), build the integer model over group
counts (``milp``), solve it with HiGHS in a guarded child process
(``highs_worker``), draw concrete items, and verify. ``solve_naive_baseline``
runs the same pipeline with one binary per item per form, for the benchmark.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from .checker import compliance_report
from .diagnosis import precheck, slack_diagnosis
from .formats import AssembledForm, BankItem, FormSpec, SolveResult
from .grouping import Group, assign_items, eligible_pool, make_groups
from .highs_worker import run_milp
from .information import resolve as resolve_theta_cut
from .milp import Model, build_model, sharing_mode

DEFAULT_TIME_LIMIT = 30.0


def solve(
    bank: list[BankItem], spec: FormSpec, *, seed: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> SolveResult:
    """Assemble ``spec.forms`` forms from ``bank``.

    Returns a SolveResult with status "ok" (forms plus compliance report),
    "infeasible" (reasons with rule, message, needed, available), "timeout"
    (the wall-clock cap ``time_limit`` seconds passed; the solver process was
    killed) or "error". Never raises for a well-formed blueprint; the same
    seed gives the same forms."""
    return _solve(bank, spec, seed=seed, time_limit=time_limit, aggregate=True)


def solve_naive_baseline(
    bank: list[BankItem], spec: FormSpec, *, seed: int = 0, time_limit: float = 120.0
) -> SolveResult:
    """The plain model, one binary per eligible item per form; same rules, same
    objective, same guard. Only for comparison."""
    return _solve(bank, spec, seed=seed, time_limit=time_limit, aggregate=False)


def _solve(
    bank: list[BankItem], spec: FormSpec, *, seed: int, time_limit: float, aggregate: bool
) -> SolveResult:
    started = time.monotonic()
    deadline = started + time_limit
    pool = eligible_pool(bank, spec)
    # θ_cut comes from the eligible pool once, before anything else: the model, the draw and the
    # checker all work at the same ability.
    spec = resolve_theta_cut(pool.items, spec)
    stats: dict = {"bank_items": len(bank), "eligible_items": len(pool.items),
                   "aggregated": aggregate, "seed": seed, "time_limit": time_limit}
    if spec.matches_information:
        stats["theta_cut"] = spec.theta_cut

    def finish(result: SolveResult) -> SolveResult:
        stats["wall_seconds"] = round(time.monotonic() - started, 4)
        result.stats = stats
        return result

    reasons = precheck(pool, spec)
    if reasons:
        stats["diagnosis"] = "precheck"
        return finish(SolveResult("infeasible", reasons=reasons))

    stats.update(iterations=0, highs_seconds=0.0, worker_seconds=0.0, peak_rss_kb=0)
    outcome = None
    disjoint = replace(spec, max_shared_items=0)
    if aggregate and sharing_mode(spec) == "pairs" and not precheck(pool, disjoint):
        # Sharing is allowed, not wanted: the model makes forms share as few
        # items as possible, so disjoint forms, when they exist, are its optimum;
        # the disjoint model finds them far faster.
        halfway = time.monotonic() + (deadline - time.monotonic()) / 2
        outcome = _attempt(pool, disjoint, seed, halfway, aggregate, stats)
        if outcome[0] != "ok":
            outcome = None
    if outcome is None:
        outcome = _attempt(pool, spec, seed, deadline, aggregate, stats)
    status, payload = outcome
    if status == "infeasible":
        stats["diagnosis"] = "slack"
        diag = slack_diagnosis(payload, spec, time_limit=deadline - time.monotonic(), seed=seed)
        return finish(SolveResult(diag["status"], reasons=diag["reasons"]))
    if status == "timeout":
        return finish(SolveResult("timeout", reasons=[{
            "rule": "time_limit",
            "message": f"组卷超过时限 {time_limit:g} 秒仍未找到可行方案，已终止求解；"
                       f"请增加时限、减少试卷份数或放宽规则后重试",
            "needed": 0, "available": 0}]))
    if status == "error":
        return finish(SolveResult("error", reasons=[{
            "rule": "solver", "message": f"求解器异常：{payload}", "needed": 0, "available": 0}]))
    chosen = payload
    forms = [AssembledForm(label, _paper_order(items, spec))
             for label, items in zip(spec.labels, chosen, strict=True)]
    report = compliance_report(bank, spec, forms)
    if not report["ok"]:  # a bug, never a user error: refuse to hand out such forms
        return finish(SolveResult("error", reasons=[{
            "rule": "checker", "message": "组卷结果未通过独立校验：" + "；".join(
                report["violations"][:5]), "needed": 0, "available": 0}]))
    return finish(SolveResult("ok", forms=forms, report=report))


def _attempt(pool, spec: FormSpec, seed: int, deadline: float, aggregate: bool, stats: dict):
    """Solve, draw items, and re-solve with split groups until the draw succeeds.
    Returns ("ok", items per form), ("infeasible", groups), ("timeout", None)
    or ("error", message)."""
    split: frozenset[tuple] = frozenset()
    while True:
        stats["iterations"] += 1
        t0 = time.monotonic()
        # Mixed-bucket groups are priced exactly only when forms cannot share;
        # otherwise a cheap item could count on several forms.
        groups = make_groups(pool.items, spec, aggregate=aggregate, split=split,
                             by_bucket=sharing_mode(spec) == "pairs")
        model = build_model(groups, spec)
        arrays = model.arrays()
        stats.update(groups=len(groups), columns=len(arrays["col_cost"]),
                     rows=len(arrays["row_lower"]), nonzeros=len(arrays["a_index"]),
                     sharing=model.mode, build_seconds=round(time.monotonic() - t0, 4))
        total = None
        if aggregate and model.mode == "disjoint":
            aggregate_model = build_model(groups, spec, total=True)
            total = {**aggregate_model.arrays(), "link_t": aggregate_model.c_cols[:, 0],
                     "link_c": model.c_cols}
        run = run_milp(arrays, time_limit=deadline - time.monotonic(), seed=seed, total=total)
        stats["stage"] = run.get("stage")
        stats["highs_seconds"] += run.get("highs_seconds", 0.0)
        stats["worker_seconds"] += run["wall_seconds"]
        stats["peak_rss_kb"] = max(stats["peak_rss_kb"], run.get("peak_rss_kb", 0))
        if run["status"] == "infeasible":
            return "infeasible", groups
        if run["status"] == "timeout":
            return "timeout", None
        if run["status"] not in ("optimal", "feasible"):
            return "error", run.get("message", "")
        stats.update(optimal=run["status"] == "optimal", objective=run["objective"],
                     mip_gap=run["mip_gap"])
        counts = np.rint(run["x"][model.c_cols]).astype(int).tolist()
        chosen, failed = assign_items(groups, counts, _budgets(model, groups, run["x"], spec),
                                      spec.forms, seed)
        if not failed:
            return "ok", chosen
        # The greedy draw could not realise these groups' sharing pattern; give
        # their items individual columns (always realisable) and solve again.
        split = split | failed
        stats["split_groups"] = len(split)


def _budgets(model: Model, groups: list[Group], x: np.ndarray, spec: FormSpec):
    """Per group, how many items each pair of forms may share (None: no limit)."""
    F = spec.forms
    if model.mode == "free":
        return None
    out = []
    for gi in range(len(groups)):
        rem = [[0] * F for _ in range(F)]
        w = model.w_cols.get(gi)
        if w is not None:
            for p, (f, h) in enumerate(model.pairs):
                rem[f][h] = rem[h][f] = int(np.rint(x[w[p]]))
        out.append(rem)
    return out


def _paper_order(items: list[BankItem], spec: FormSpec) -> list:
    section = {s.type: i for i, s in enumerate(spec.sections)}
    return [it.id for it in sorted(items, key=lambda it: (section[it.type], it.kp, str(it.id)))]
