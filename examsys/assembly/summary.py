"""The compliance report of a paper with one form per candidate (千人千卷), as a summary.

An ordinary paper's report (``checker.compliance_report``) has a column per form and a row per
pair of forms: with 1,000 forms that is 1,000 columns and half a million pairs, which no page can
show and no row should store. This report keeps what the admin checks before freezing: for every
blueprint rule the target and the lowest and highest count over all forms; every form checked by
the independent checker (``check_forms`` through ``compliance_report``, one form at a time);
the largest overlap of any two forms against the cap, counted here from the forms alone (an
incidence matrix, not the drawing's own bookkeeping); and how evenly the items were used.

Pure: bank items, the blueprint's FormSpec and the forms in, a JSON-ready dict out.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import sparse

from .checker import compliance_report
from .formats import AssembledForm, BankItem, FormSpec

RULE_GROUPS = ("sections", "content", "difficulty", "importance")
SHOWN_VIOLATIONS = 50


def overlap_stats(forms: list[AssembledForm]) -> dict:
    """Pairwise overlap (items two forms share) and item uses over all forms."""
    index: dict[str, int] = {}
    rows, cols = [], []
    for f, form in enumerate(forms):
        for item_id in dict.fromkeys(str(i) for i in form.items):
            rows.append(f)
            cols.append(index.setdefault(item_id, len(index)))
    n = len(forms)
    if n == 0 or not index:
        return {"overlap_max": 0, "overlap_mean": 0.0, "items_used": 0, "uses_min": 0, "uses_max": 0}
    inc = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(index)))
    overlap = (inc @ inc.T).toarray()
    np.fill_diagonal(overlap, 0)
    uses = np.asarray(inc.sum(axis=0)).ravel()
    pairs = n * (n - 1)
    return {"overlap_max": int(overlap.max()),
            "overlap_mean": round(float(overlap.sum() / pairs), 3) if pairs else 0.0,
            "overlap_matrix": overlap,
            "items_used": int(uses.size), "uses_min": int(uses.min()), "uses_max": int(uses.max())}


def summary_report(bank: list[BankItem], spec: FormSpec, forms: list[AssembledForm]) -> dict:
    """Every rule: target vs the range of actual counts over the forms; the overlap cap
    (spec.max_shared_items) against the largest pairwise overlap; item uses. `ok` only when
    every form meets the blueprint and no two forms share more than the cap."""
    by_id = {str(it.id): it for it in bank}
    single = replace(spec, forms=1)
    merged: dict[str, list[dict]] = {group: [] for group in RULE_GROUPS}
    violations: list[str] = []
    failing: list[str] = []
    points: list[float] = []
    exposure_max = 0
    for form in forms:
        items = [by_id[str(i)] for i in dict.fromkeys(str(i) for i in form.items) if str(i) in by_id]
        report = compliance_report(items, single, [form])
        if report["violations"] or len(items) != len(form.items):
            failing.append(form.label)
            violations += report["violations"] or [f"试卷 {form.label}: 有试题不在题库中"]
        points.append(report["points"][form.label])
        exposure_max = max(exposure_max, report["exposure"]["per_form"][form.label]["max"])
        for group in RULE_GROUPS:
            for n, entry in enumerate(report[group]):
                value = entry["actual"][form.label]
                if len(merged[group]) <= n:
                    merged[group].append({k: v for k, v in entry.items() if k != "actual"}
                                         | {"actual_min": value, "actual_max": value})
                else:
                    row = merged[group][n]
                    row["actual_min"], row["actual_max"] = min(row["actual_min"], value), max(row["actual_max"], value)
                    row["ok"] = row["ok"] and entry["ok"]
    stats = overlap_stats(forms)
    overlap = stats.pop("overlap_matrix", None)
    cap = spec.max_shared_items
    over = int((np.triu(overlap, 1) > cap).sum()) if overlap is not None else 0
    if over:
        violations.append(f"有 {over} 对试卷共用试题超过 {cap} 道（最多 {stats['overlap_max']} 道）")
    return {
        "per_candidate": True, "forms": len(forms), **merged,
        "shared_items": {"max": cap, "observed_max": stats["overlap_max"], "mean": stats["overlap_mean"],
                         "pairs_over": over, "ok": over == 0},
        "uses": {"items": stats["items_used"], "min": stats["uses_min"], "max": stats["uses_max"]},
        "points": {"min": min(points, default=0), "max": max(points, default=0)},
        "exposure": {"max_exposure": spec.max_exposure, "item_max": exposure_max},
        "failing_forms": failing[:SHOWN_VIOLATIONS], "failing_count": len(failing),
        "violations": violations[:SHOWN_VIOLATIONS], "ok": not violations,
    }


__all__ = ["overlap_stats", "summary_report"]
