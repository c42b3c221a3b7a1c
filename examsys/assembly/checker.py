"""Independent verification of assembled forms, and the compliance report.

``check_forms`` recomputes every blueprint rule from the bank, the blueprint
and the chosen item ids alone; it shares no code with the model or the
grouping, so tests and the benchmark can trust it to catch a solver bug.
``compliance_report`` gives the same counts as target vs actual per form.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from .formats import (
    FALLBACK_A,
    FALLBACK_B,
    TYPE_NAMES,
    AssembledForm,
    BankItem,
    FormSpec,
    kp_matches,
)


@dataclass(frozen=True)
class Violation:
    rule: str
    form: str | None
    message: str

    def __str__(self) -> str:
        where = f"试卷 {self.form}: " if self.form else ""
        return f"{where}{self.rule}: {self.message}"


def _within(actual: int, lo: int, hi: int | None) -> bool:
    return actual >= lo and (hi is None or actual <= hi)


def _counts(items: list[BankItem], spec: FormSpec) -> dict[str, int]:
    """Actual count for each rule id on one form."""
    out: dict[str, int] = {}
    for i, s in enumerate(spec.sections):
        out[f"sections[{i}]"] = sum(1 for it in items if it.type == s.type)
    for i, r in enumerate(spec.content):
        out[f"content[{i}]"] = sum(
            1 for it in items
            if kp_matches(it.kp, r.kp_prefix) and (r.types is None or it.type in r.types)
        )
    for i, d in enumerate(spec.difficulty):
        out[f"difficulty[{i}]"] = sum(1 for it in items if it.difficulty == d.level)
    for i, r in enumerate(spec.importance):
        out[f"importance[{i}]"] = sum(1 for it in items if it.importance == r.importance)
    return out


def _bounds(spec: FormSpec) -> dict[str, tuple[int, int | None]]:
    out: dict[str, tuple[int, int | None]] = {}
    for i, s in enumerate(spec.sections):
        out[f"sections[{i}]"] = (s.count, s.count)
    for i, r in enumerate(spec.content):
        out[f"content[{i}]"] = (r.min, r.max)
    for i, d in enumerate(spec.difficulty):
        out[f"difficulty[{i}]"] = (d.min, d.max)
    for i, r in enumerate(spec.importance):
        out[f"importance[{i}]"] = (r.min, None)
    return out


def _information_at(items: list[BankItem], theta: float) -> float:
    """Sum over the items of a²·P(1 − P) at θ, 2PL in the logistic metric; items without
    estimates take the documented fallback (formats.FALLBACK_A/B)."""
    total = 0.0
    for it in items:
        has_data = it.a is not None and it.b is not None
        a = float(it.a) if has_data else FALLBACK_A
        b = float(it.b) if has_data else FALLBACK_B.get(it.difficulty, 0.0)
        p = 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, a * (theta - b)))))
        total += a * a * p * (1.0 - p)
    return total


def information_figures(per_form: dict[str, list[BankItem]], spec: FormSpec) -> dict[str, Any]:
    """Each form's information at θ_cut, the mean over forms and the allowed band."""
    values = {label: _information_at(items, spec.theta_cut) for label, items in per_form.items()}
    mean = sum(values.values()) / max(1, len(values))
    t = spec.info_tolerance / 100.0
    return {"theta_cut": spec.theta_cut, "tolerance": spec.info_tolerance,
            "pass_fraction": spec.pass_fraction, "per_form": values, "mean": mean,
            "low": (1 - t) * mean, "high": (1 + t) * mean,
            "items_with_data": {label: sum(1 for it in items if it.a is not None and it.b is not None)
                                for label, items in per_form.items()}}


def _information_violations(per_form: dict[str, list[BankItem]], spec: FormSpec) -> list[Violation]:
    if spec.theta_cut is None:
        return [Violation("information", None, "细目表要求匹配测验信息量，但未给出合格线对应的能力值 θ，无法核对")]
    fig = information_figures(per_form, spec)
    slack = 1e-9 * max(1.0, fig["mean"])
    out = []
    for label, value in fig["per_form"].items():
        if value < fig["low"] - slack or value > fig["high"] + slack:
            out.append(Violation("information", label,
                                 f"合格线能力 θ={spec.theta_cut:.3f} 处的测验信息量为 {value:.3f}，"
                                 f"超出各套平均值 {fig['mean']:.3f} 的 ±{spec.info_tolerance:g}%"
                                 f"（{fig['low']:.3f}–{fig['high']:.3f}）"))
    return out


def check_forms(
    bank: list[BankItem], spec: FormSpec, forms: list[AssembledForm] | list[dict]
) -> list[Violation]:
    """Every way the forms break the blueprint; an empty list means compliant."""
    by_id = {str(it.id): it for it in bank}
    forms = [f if isinstance(f, AssembledForm) else AssembledForm(f["label"], f["items"])
             for f in forms]
    out: list[Violation] = []
    if len(forms) != spec.forms:
        out.append(Violation("forms", None, f"需要 {spec.forms} 份试卷，实际 {len(forms)} 份"))
    section_types = {s.type for s in spec.sections}
    enemy_of: dict[str, set[str]] = {}
    for it in bank:
        if it.enemy_group is not None:
            enemy_of.setdefault(str(it.id), set()).add("item:" + it.enemy_group)
    for n, extra in enumerate(spec.enemy_groups):
        for item_id in extra:
            enemy_of.setdefault(str(item_id), set()).add(f"spec:{n}")
    bounds = _bounds(spec)
    sets: list[tuple[str, set[str]]] = []
    for form in forms:
        ids = [str(i) for i in form.items]
        dupes = [i for i, n in Counter(ids).items() if n > 1]
        if dupes:
            out.append(Violation("items", form.label, f"题目重复出现：{', '.join(dupes[:5])}"))
        missing = [i for i in ids if i not in by_id]
        if missing:
            out.append(Violation("items", form.label, f"题库中没有这些题：{', '.join(missing[:5])}"))
        items = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        sets.append((form.label, set(ids)))
        for it in items:
            if it.type not in section_types:
                out.append(Violation("sections", form.label, f"题 {it.id} 的题型 {it.type} 不在试卷中"))
            if str(it.id) in spec.exclude:
                out.append(Violation("exclude", form.label, f"题 {it.id} 在排除清单中"))
            if spec.max_exposure is not None and it.exposure > spec.max_exposure:
                out.append(Violation("max_exposure", form.label,
                                     f"题 {it.id} 曝光 {it.exposure} 次，超过上限 {spec.max_exposure}"))
        for rule, actual in _counts(items, spec).items():
            lo, hi = bounds[rule]
            if not _within(actual, lo, hi):
                want = f"{lo}" if lo == hi else f"{lo}–{'∞' if hi is None else hi}"
                out.append(Violation(rule, form.label, f"需要 {want} 道，实际 {actual} 道"))
        enemy_hits = Counter(e for it in items for e in enemy_of.get(str(it.id), ()))
        for e, n in sorted(enemy_hits.items()):
            if n > 1:
                out.append(Violation("enemy_group", form.label, f"互斥组 {e} 出现 {n} 道（最多 1 道）"))
    for (a, sa), (b, sb) in combinations(sets, 2):
        shared = len(sa & sb)
        if shared > spec.max_shared_items:
            out.append(Violation("max_shared_items", f"{a}/{b}",
                                 f"共用 {shared} 道，上限 {spec.max_shared_items} 道"))
    if spec.info_tolerance is not None and len(forms) >= 2:
        out += _information_violations(
            {f.label: [by_id[i] for i in dict.fromkeys(str(x) for x in f.items) if i in by_id]
             for f in forms}, spec)
    return out


def compliance_report(
    bank: list[BankItem], spec: FormSpec, forms: list[AssembledForm]
) -> dict[str, Any]:
    """Every rule: target vs actual per form (the admin reviews this before freezing)."""
    by_id = {str(it.id): it for it in bank}
    per_form = {f.label: [by_id[str(i)] for i in f.items] for f in forms}
    counts = {label: _counts(items, spec) for label, items in per_form.items()}
    bounds = _bounds(spec)

    def entry(rule: str, **describe) -> dict:
        lo, hi = bounds[rule]
        actual = {label: c[rule] for label, c in counts.items()}
        return {"rule": rule, **describe, "min": lo, "max": hi, "actual": actual,
                "ok": all(_within(v, lo, hi) for v in actual.values())}

    shared = [
        {"forms": [a, b], "shared": len({str(i) for i in fa.items} & {str(i) for i in fb.items})}
        for (a, fa), (b, fb) in combinations([(f.label, f) for f in forms], 2)
    ]
    exposure = {
        label: {"max": max((it.exposure for it in items), default=0),
                "mean": round(sum(it.exposure for it in items) / max(1, len(items)), 2)}
        for label, items in per_form.items()
    }
    kp_spread = {
        label: {"assessment_points": len({it.kp for it in items}),
                "most_on_one_point": max(Counter(it.kp for it in items).values(), default=0)}
        for label, items in per_form.items()
    }
    report = {
        "sections": [entry(f"sections[{i}]", type=s.type, name=TYPE_NAMES[s.type],
                           points=s.points) for i, s in enumerate(spec.sections)],
        "content": [entry(f"content[{i}]", kp_prefix=r.kp_prefix,
                          types=list(r.types) if r.types else None)
                    for i, r in enumerate(spec.content)],
        "difficulty": [entry(f"difficulty[{i}]", level=d.level)
                       for i, d in enumerate(spec.difficulty)],
        "importance": [entry(f"importance[{i}]", importance=r.importance)
                       for i, r in enumerate(spec.importance)],
        "shared_items": {"max": spec.max_shared_items, "pairs": shared,
                         "ok": all(p["shared"] <= spec.max_shared_items for p in shared)},
        "exposure": {"max_exposure": spec.max_exposure, "per_form": exposure},
        "spread": kp_spread,
        "points": {label: sum(s.points * counts[label][f"sections[{i}]"]
                              for i, s in enumerate(spec.sections)) for label in per_form},
    }
    if spec.info_tolerance is not None and len(forms) >= 2 and spec.theta_cut is not None:
        fig = information_figures(per_form, spec)
        fig["ok"] = not _information_violations(per_form, spec)
        report["information"] = fig
    report["violations"] = [str(v) for v in check_forms(bank, spec, forms)]
    report["ok"] = not report["violations"]
    return report
