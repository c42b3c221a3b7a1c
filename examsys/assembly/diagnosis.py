"""Why no paper exists: a cheap pre-check on counts, then a penalised-slack model.

Both produce reasons a bank manager can act on, in Chinese, with the numbers:
``{"rule": "content[3]", "message": "...", "needed": N, "available": M}``.
The pre-check only counts eligible items; it is also what the blueprint editor
can call for live feedback (``rule_availability``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .formats import TYPE_NAMES, BankItem, FormSpec, kp_matches
from .grouping import Group, Pool
from .highs_worker import run_milp
from .milp import build_model, sharing_mode


def distinct_needed(per_form: int, spec: FormSpec) -> int:
    """Fewest distinct items that let every form hold ``per_form`` of them.

    By Bonferroni, j forms with pairwise overlap <= k cover at least
    j*m - C(j, 2)*k items; the best j gives the bound."""
    if per_form <= 0:
        return 0
    if sharing_mode(spec) == "free":
        return per_form
    k = spec.max_shared_items
    return max(j * per_form - j * (j - 1) // 2 * k for j in range(1, spec.forms + 1))


def _types_text(types) -> str:
    return "、".join(TYPE_NAMES[t] for t in types)


def _scope_text(spec: FormSpec, rule: str) -> str:
    kind, _, rest = rule.partition("[")
    i = int(rest.rstrip("]")) if rest else 0
    if kind == "sections":
        return TYPE_NAMES[spec.sections[i].type]
    if kind == "content":
        r = spec.content[i]
        types = _types_text(r.types) if r.types else "试题"
        return f"鉴定范围 {r.kp_prefix} 的{types}"
    if kind == "difficulty":
        return f"难度 {spec.difficulty[i].level} 的试题"
    if kind == "importance":
        return f"重要程度 {spec.importance[i].importance} 的试题"
    return rule


def _tally(items: list[BankItem]) -> tuple[Counter, Counter, Counter, Counter]:
    types, kp_types, levels, imps = Counter(), Counter(), Counter(), Counter()
    for it in items:
        types[it.type] += 1
        kp_types[(it.kp, it.type)] += 1
        levels[it.difficulty] += 1
        imps[it.importance] += 1
    return types, kp_types, levels, imps


def _rule_counts(spec: FormSpec, items: list[BankItem]) -> list[tuple[str, int, int]]:
    """(rule id, per-form minimum, matching items) for every counting rule."""
    types, kp_types, levels, imps = _tally(items)
    section_types = {s.type for s in spec.sections}
    out = [(f"sections[{i}]", s.count, types[s.type]) for i, s in enumerate(spec.sections)]
    for i, r in enumerate(spec.content):
        allowed = set(r.types) if r.types else section_types
        n = sum(c for (kp, t), c in kp_types.items() if t in allowed and kp_matches(kp, r.kp_prefix))
        out.append((f"content[{i}]", r.min, n))
    out += [(f"difficulty[{i}]", d.min, levels[d.level]) for i, d in enumerate(spec.difficulty)]
    out += [(f"importance[{i}]", r.min, imps[r.importance]) for i, r in enumerate(spec.importance)]
    return out


def rule_availability(pool: Pool, spec: FormSpec) -> list[dict]:
    """Per rule: per-form minimum, distinct items needed over all forms, eligible
    items, and how many more were excluded or over the exposure cap."""
    excluded = {rule: n for rule, _, n in _rule_counts(spec, pool.excluded)}
    over = {rule: n for rule, _, n in _rule_counts(spec, pool.overexposed)}
    return [
        {"rule": rule, "per_form": per_form, "needed": distinct_needed(per_form, spec),
         "available": n, "excluded": excluded[rule], "overexposed": over[rule]}
        for rule, per_form, n in _rule_counts(spec, pool.items)
    ]


def precheck(pool: Pool, spec: FormSpec) -> list[dict]:
    """Conflicts visible from counts alone; an empty list proves nothing."""
    reasons: list[dict] = []
    size = spec.form_size
    type_count = {s.type: s.count for s in spec.sections}
    for kind, rules in (("content", spec.content), ("difficulty", spec.difficulty)):
        for i, r in enumerate(rules):
            if r.max is not None and r.min > r.max:
                reasons.append(_reason(f"{kind}[{i}]", f"{_scope_text(spec, f'{kind}[{i}]')}"
                               f"最少 {r.min} 道，却最多只允许 {r.max} 道", r.min, r.max))
    for i, r in enumerate(spec.content):
        cap = sum(type_count[t] for t in (r.types or type_count))
        if r.min > cap:
            reasons.append(_reason(f"content[{i}]", f"{_scope_text(spec, f'content[{i}]')}每份试卷"
                           f"至少需要 {r.min} 道，但试卷中这些题型一共只有 {cap} 道", r.min, cap))
    for kind, rules in (("difficulty", spec.difficulty), ("importance", spec.importance)):
        for i, r in enumerate(rules):
            if r.min > size:
                reasons.append(_reason(f"{kind}[{i}]", f"{_scope_text(spec, f'{kind}[{i}]')}每份试卷"
                               f"至少需要 {r.min} 道，但每份试卷一共只有 {size} 道", r.min, size))
    if reasons:
        return reasons

    for row in rule_availability(pool, spec):
        if row["available"] >= row["needed"]:
            continue
        scope = _scope_text(spec, row["rule"])
        msg = f"{scope}每份试卷需要 {row['per_form']} 道"
        if row["needed"] > row["per_form"]:
            share = ("互不重复" if spec.max_shared_items == 0
                     else f"任意两份最多共用 {spec.max_shared_items} 道")
            msg += f"，{spec.forms} 份试卷（{share}）共需至少 {row['needed']} 道不同的题"
        msg += f"，题库中符合条件的仅 {row['available']} 道"
        dropped = []
        if row["excluded"]:
            dropped.append(f"{row['excluded']} 道在排除清单中")
        if row["overexposed"]:
            dropped.append(f"{row['overexposed']} 道曝光次数超过上限 {spec.max_exposure}")
        if dropped:
            msg += "（另有 " + "、".join(dropped) + "）"
        reasons.append(_reason(row["rule"], msg, row["needed"], row["available"]))

    reasons.extend(_sum_checks(pool.items, spec, size))
    return reasons


def _sum_checks(pool: list[BankItem], spec: FormSpec, size: int) -> list[dict]:
    reasons = []
    if spec.difficulty:
        lo = sum(d.min for d in spec.difficulty)
        if lo > size:
            reasons.append(_reason("difficulty", f"各难度等级的最少题数之和为 {lo} 道，"
                           f"超过每份试卷的 {size} 道", lo, size))
        levels = {d.level for d in spec.difficulty}
        if all(d.max is not None for d in spec.difficulty) and all(
            it.difficulty in levels for it in pool
        ):
            hi = sum(d.max for d in spec.difficulty)
            if hi < size:
                reasons.append(_reason("difficulty", f"各难度等级的最多题数之和仅 {hi} 道，"
                               f"不足每份试卷的 {size} 道", size, hi))
    untyped = [(i, r) for i, r in enumerate(spec.content) if not r.types]
    # Rules whose prefixes do not nest cover disjoint items, so their minimums add up.
    for family in (
        [(i, r) for i, r in untyped
         if not any(j != i and kp_matches(o.kp_prefix, r.kp_prefix) and o.kp_prefix != r.kp_prefix
                    for j, o in untyped)],
        [(i, r) for i, r in untyped
         if not any(j != i and kp_matches(r.kp_prefix, o.kp_prefix) and o.kp_prefix != r.kp_prefix
                    for j, o in untyped)],
    ):
        total = sum(r.min for _, r in family)
        if total > size:
            names = "、".join(r.kp_prefix for _, r in family)
            reasons.append(_reason("content", f"鉴定范围 {names} 的最少题数之和为 {total} 道，"
                           f"超过每份试卷的 {size} 道", total, size))
            break
    return reasons


def _reason(rule: str, message: str, needed: int, available: int, **extra) -> dict:
    return {"rule": rule, "message": message, "needed": int(needed),
            "available": int(available), **extra}


def slack_diagnosis(groups: list[Group], spec: FormSpec, *, time_limit: float, seed: int) -> dict:
    """Relax every rule with penalised slack and report those that needed it.

    Returns {"status": "infeasible", "reasons": [...]} or, when even the relaxed
    model ran out of time, {"status": "timeout", "reasons": [...]}."""
    model = build_model(groups, spec, slack=True)
    run = run_milp(model.arrays(), time_limit=time_limit, seed=seed)
    if run["status"] not in ("optimal", "feasible"):
        return {"status": "timeout", "reasons": [_reason(
            "time_limit", "试卷模型无可行解，且在时限内未能定位冲突的规则；请放宽规则后重试", 0, 0)]}
    x = run["x"]
    labels = spec.labels
    by_rule: dict[tuple[str, str], dict[int | None, int]] = {}
    info_forms: set[int] = set()
    for s in model.slacks:
        if s.rule == "information":  # measured in information, not in items
            if x[s.col] > 1e-6:
                info_forms.add(s.form)
            continue
        amount = int(np.rint(x[s.col]))
        if amount > 0:
            by_rule.setdefault((s.rule, s.sense), {})[s.form] = amount
    reasons = [
        _slack_reason(spec, rule, sense, per_form, labels, model.pairs)
        for (rule, sense), per_form in sorted(by_rule.items())
    ]
    if info_forms:
        reasons.append(_information_reason(groups, model, x, spec, sorted(info_forms)))
    if not reasons:
        reasons.append(_reason("max_shared_items", "各规则单独看均可满足，但无法按共用题目上限"
                       "把题目分配到各份试卷；请增加题量或放宽 max_shared_items", 0, 0))
    return {"status": "infeasible", "reasons": reasons}


def _information_reason(groups: list[Group], model, x, spec: FormSpec, forms: list[int]) -> dict:
    """The tolerance on test information cannot be met: the figures of the closest plan the
    relaxed model found (each group counted at the middle of its information range)."""
    labels = spec.labels
    counts = np.rint(x[model.c_cols])
    mid = np.array([(g.info_lo + g.info_hi) / 2 for g in groups])
    per_form = [float(mid @ counts[:, f]) for f in range(spec.forms)]
    mean = sum(per_form) / len(per_form)
    worst = max(abs(v - mean) / mean * 100 for v in per_form) if mean > 0 else 0.0
    shown = "、".join(f"{labels[f]} {v:.2f}" for f, v in enumerate(per_form))
    names = "、".join(labels[f] for f in forms)
    msg = (f"各套试卷在合格线能力 θ={spec.theta_cut:.3f} 处的测验信息量须在各套平均值的 "
           f"±{spec.info_tolerance:g}% 以内，但在其他规则约束下做不到（试卷 {names} 超出）；"
           f"最接近的方案中各套信息量为 {shown}（平均 {mean:.2f}，最大偏差约 {worst:.1f}%）。"
           f"请放宽信息量容差，或补充区分度与难度相近的试题")
    return _reason("information", msg, int(np.ceil(worst)), int(spec.info_tolerance),
                   forms=[labels[f] for f in forms])


def _slack_reason(spec, rule, sense, per_form, labels, pairs) -> dict:
    worst = max(per_form.values())
    forms = [labels[f] for f in sorted(k for k in per_form if k is not None)]
    on = f"（试卷 {'、'.join(forms)}）" if forms else ""
    kind = rule.partition("[")[0].partition(":")[0]
    if kind == "max_shared_items":
        k = spec.max_shared_items
        if rule == "max_shared_items":
            msg = (f"{spec.forms} 份试卷不得共用题目，但按其他规则还需 {worst} 道以上的题被"
                   f"重复使用（题库中可用的题不足以组成互不重复的试卷）")
            if len(per_form) == 1:
                msg = msg.replace(f"{worst} 道以上", f"{sum(per_form.values())} 道")
            return _reason(rule, msg, k + sum(per_form.values()), k, slack=sum(per_form.values()))
        f, h = pairs[int(rule.partition(":")[2])]
        return _reason("max_shared_items", f"试卷 {labels[f]} 与 {labels[h]} 最多共用 {k} 道，"
                       f"但按其他规则需要共用 {k + worst} 道", k + worst, k, slack=worst)
    if kind == "enemy":
        name = rule.partition(":")[2].partition(":")[2]
        return _reason(rule, f"互斥组 {name} 的题每份试卷最多 1 道，但其他规则需要 {1 + worst} 道"
                       f"{on}", 1 + worst, 1, slack=worst, forms=forms)
    scope = _scope_text(spec, rule)
    target = _target(spec, rule, sense)
    if sense == "under":
        msg = (f"{scope}每份试卷需要 {target} 道，在其他规则约束下最多只能安排 "
               f"{target - worst} 道，差 {worst} 道{on}")
        return _reason(rule, msg, target, target - worst, slack=worst, forms=forms)
    msg = (f"{scope}每份试卷最多 {target} 道，但其他规则迫使其达到 {target + worst} 道，"
           f"超出 {worst} 道{on}")
    return _reason(rule, msg, target + worst, target, slack=worst, forms=forms)


def _target(spec: FormSpec, rule: str, sense: str) -> int:
    kind, _, rest = rule.partition("[")
    i = int(rest.rstrip("]"))
    if kind == "sections":
        return spec.sections[i].count
    r = {"content": spec.content, "difficulty": spec.difficulty, "importance": spec.importance}[kind][i]
    return r.min if sense == "under" else r.max
