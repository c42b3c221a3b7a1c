"""Benchmark of item and test statistics, IRT and per-candidate forms.

Run ``python bench/analysis.py [--skip-forms]``. Prints a table, then ONE line of JSON with the
figures and ``"targets_met"``. Targets, each against a baseline measured in the same run:

1. Every classical statistic (p, omission, corrected point-biserial, upper/lower index, option
   shares by group; n, mean, SD, α, SEM, histogram) for 10,000 candidates × 100 items in under
   1 s, next to the same figures from a plain-Python loop (which must agree).
2. 2PL on the same responses: item parameters correlating at 0.99 or better with girth's
   (the maintained library we evaluated), in no more time than girth takes.
3. 1,000 per-candidate forms (千人千卷) from a 20,000-item bank in under 30 s, every form meeting
   the blueprint (checked independently: the assembly checker per form, and every pair's overlap
   from the incidence matrix), pairwise overlap capped, exposure balanced.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from assembly import make_bank, make_spec  # noqa: E402  (bench/assembly.py: same bank and blueprint)

from examsys.analysis import classical, irt  # noqa: E402
from examsys.assembly.checker import check_forms  # noqa: E402
from examsys.assembly.per_candidate import per_candidate_forms  # noqa: E402

N, K, N_OPTIONS = 10_000, 100, 4
FORMS, BANK, MAX_SHARED = 1_000, 20_000, 10


def make_data(seed: int = 1):
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(0, 0.3, K), rng.normal(0, 1, K)
    x, _ = irt.simulate(N, a, b, rng=rng)
    # wrong answers spread over the distractors; 3% left blank
    choices = np.where(x == 1, 0, rng.integers(1, N_OPTIONS, x.shape))
    blank = rng.random(x.shape) < 0.03
    x[blank], choices[blank] = np.nan, -1
    return x, choices, a, b


def numpy_stats(x, choices):
    items = classical.item_statistics(x)
    form = classical.form_statistics(x, pass_mark=60)
    shares = classical.option_shares(choices, N_OPTIONS, np.nan_to_num(x).sum(axis=1))
    return items, form, shares


def python_stats(rows: list[list[float]], choice_rows: list[list[int]]):
    """The same figures the way one writes them without numpy."""
    n, k = len(rows), len(rows[0])
    filled = [[0.0 if v != v else v for v in row] for row in rows]
    totals = [sum(row) for row in filled]
    mean_t = sum(totals) / n
    var_t = sum((t - mean_t) ** 2 for t in totals) / n
    order = sorted(range(n), key=lambda i: totals[i])
    g = max(1, round(0.27 * n))
    lower, upper = order[:g], order[n - g:]
    p, omitted, r, ul, item_vars, shares = [], [], [], [], [], []
    for j in range(k):
        col = [row[j] for row in filled]
        mean_x = sum(col) / n
        rest = [t - v for t, v in zip(totals, col, strict=True)]
        mean_r = sum(rest) / n
        cov = sum((v - mean_x) * (q - mean_r) for v, q in zip(col, rest, strict=True)) / n
        var_x = sum((v - mean_x) ** 2 for v in col) / n
        var_r = sum((q - mean_r) ** 2 for q in rest) / n
        p.append(mean_x)
        omitted.append(sum(1 for row in rows if row[j] != row[j]) / n)
        r.append(cov / math.sqrt(var_x * var_r) if var_x > 0 and var_r > 0 else float("nan"))
        ul.append(sum(col[i] for i in upper) / g - sum(col[i] for i in lower) / g)
        item_vars.append(var_x)
        counts = [0] * (N_OPTIONS + 1)
        for i in upper:
            c = choice_rows[i][j]
            counts[c if c >= 0 else N_OPTIONS] += 1
        shares.append([c / g for c in counts])
    alpha = k / (k - 1) * (1 - sum(item_vars) / var_t)
    sd = math.sqrt(var_t)
    return {"p": p, "omitted": omitted, "r": r, "upper_lower": ul, "alpha": alpha, "sd": sd,
            "sem": sd * math.sqrt(1 - alpha), "upper_shares": shares}


def bench_classical(x, choices) -> dict:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        items, form, shares = numpy_stats(x, choices)
        times.append(time.perf_counter() - t0)
    rows, choice_rows = x.tolist(), choices.tolist()
    t0 = time.perf_counter()
    ref = python_stats(rows, choice_rows)
    python_seconds = time.perf_counter() - t0
    agree = bool(
        np.allclose(items.p, ref["p"]) and np.allclose(items.omitted, ref["omitted"])
        and np.allclose(items.r_pbis_corrected, ref["r"]) and np.allclose(items.upper_lower, ref["upper_lower"])
        and math.isclose(form.alpha, ref["alpha"]) and math.isclose(form.sem, ref["sem"])
        and np.allclose(shares["upper"], ref["upper_shares"]))
    numpy_seconds = min(times)
    return {"candidates": N, "items": K, "numpy_seconds": round(numpy_seconds, 4),
            "numpy_seconds_runs": [round(t, 4) for t in times],
            "python_loop_seconds": round(python_seconds, 3),
            "speedup": round(python_seconds / numpy_seconds, 1), "agree": agree,
            "alpha": round(form.alpha, 4),
            "targets_met": bool(agree and numpy_seconds < 1.0)}


def bench_irt(x, a_true, b_true) -> dict:
    import girth  # heavy, bench only: the library we compare against

    responses = np.nan_to_num(x)
    t0 = time.perf_counter()
    ours = irt.fit(responses, model="2pl")
    ours_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = girth.twopl_mml(responses.T.astype(int))
    girth_seconds = time.perf_counter() - t0
    r_a = float(np.corrcoef(ours.a, theirs["Discrimination"])[0, 1])
    r_b = float(np.corrcoef(ours.b, theirs["Difficulty"])[0, 1])
    return {"ours_seconds": round(ours_seconds, 3), "girth_seconds": round(girth_seconds, 3),
            "iterations": ours.iterations, "converged": ours.converged,
            "r_a_girth": round(r_a, 5), "r_b_girth": round(r_b, 5),
            "r_a_true": round(float(np.corrcoef(ours.a, a_true)[0, 1]), 4),
            "r_b_true": round(float(np.corrcoef(ours.b, b_true)[0, 1]), 4),
            "mean_se_a": round(float(np.mean(ours.se_a)), 4), "mean_se_b": round(float(np.mean(ours.se_b)), 4),
            "girth_version": getattr(girth, "__version__", "0.8.0"),
            "targets_met": bool(min(r_a, r_b) >= 0.99 and ours_seconds <= girth_seconds)}


def bench_forms() -> dict:
    from scipy import sparse  # heavy, bench only: the independent overlap check

    bank = make_bank(BANK)
    spec = make_spec(bank, 1)
    t0 = time.perf_counter()
    result = per_candidate_forms(bank, spec, FORMS, max_shared=MAX_SHARED, seed=1, verify=False)
    seconds = time.perf_counter() - t0
    out = {"bank_items": BANK, "forms": FORMS, "max_shared": MAX_SHARED, "status": result.status,
           "seconds": round(seconds, 3), "stats": result.stats}
    if result.status != "ok":
        return {**out, "targets_met": False, "reasons": result.reasons}
    # Independent checks: the assembly checker on every form, the overlap of every pair.
    t0 = time.perf_counter()
    by_id = {str(it.id): it for it in bank}
    failing = sum(1 for f in result.forms
                  if check_forms([by_id[str(i)] for i in f.items], spec, [f]))
    index = {str(it.id): n for n, it in enumerate(bank)}
    rows = np.repeat(np.arange(FORMS), [len(f.items) for f in result.forms])
    cols = np.array([index[str(i)] for f in result.forms for i in f.items])
    inc = sparse.csr_matrix((np.ones(rows.size, dtype=np.int32), (rows, cols)), shape=(FORMS, BANK))
    overlap = (inc @ inc.T).toarray()
    np.fill_diagonal(overlap, 0)
    uses = np.asarray(inc.sum(axis=0)).ravel()
    used = uses[uses > 0]
    check_seconds = time.perf_counter() - t0
    return {**out, "forms_failing_blueprint": failing, "max_pair_overlap": int(overlap.max()),
            "mean_pair_overlap": round(float(overlap.sum() / (FORMS * (FORMS - 1))), 3),
            "items_used": int(used.size), "max_item_uses": int(used.max()),
            "check_seconds": round(check_seconds, 3),
            "targets_met": bool(failing == 0 and overlap.max() <= MAX_SHARED and seconds < 30)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-forms", action="store_true")
    args = parser.parse_args()
    x, choices, a, b = make_data()
    classical_fig = bench_classical(x, choices)
    print(f"classical {N}×{K}: numpy {classical_fig['numpy_seconds']} s, plain Python "
          f"{classical_fig['python_loop_seconds']} s (x{classical_fig['speedup']}), agree {classical_fig['agree']}",
          flush=True)
    irt_fig = bench_irt(x, a, b)
    print(f"2PL {N}×{K}: ours {irt_fig['ours_seconds']} s, girth {irt_fig['girth_seconds']} s; "
          f"r(a) {irt_fig['r_a_girth']}, r(b) {irt_fig['r_b_girth']}", flush=True)
    out = {"classical": classical_fig, "irt_2pl": irt_fig}
    if not args.skip_forms:
        forms_fig = bench_forms()
        print(f"per-candidate forms: {FORMS} from {BANK} items: {forms_fig['status']} in {forms_fig['seconds']} s, "
              f"failing {forms_fig.get('forms_failing_blueprint')}, max overlap {forms_fig.get('max_pair_overlap')}",
              flush=True)
        out["per_candidate_forms"] = forms_fig
    out["targets_met"] = all(part["targets_met"] for part in out.values())
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
