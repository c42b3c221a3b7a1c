"""Classical item and test statistics on a score matrix: pure numpy, no database.

Input is a candidates × items matrix of earned scores with NaN where the candidate did not
answer, and each item's maximum score. An unanswered item scores 0 and counts as omitted.
Polytomous items (partial credit, open questions) enter through score / maximum.

Every figure is computed for all items at once from a handful of matrix products, so that
10,000 candidates × 100 items take a few tens of milliseconds: the corrected point-biserial of
item j (its correlation with the rest of the test, total minus the item) needs only the item's
covariance with the total and the two variances, which one product X'T gives for every item.

Variances use the divisor n (population figures) throughout: KR-20 is Σpq / σ² with both
terms population variances, and mixing divisors would bias α for small groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# The classical extreme-group share: with a normal total, 27% maximises the difference
# between the groups while keeping each group large enough to be stable.
GROUP_SHARE = 0.27


@dataclass(frozen=True)
class ItemStats:
    """Per-item figures, one array entry per item (column order of the input)."""

    p: np.ndarray                 # mean score / maximum (facility)
    omitted: np.ndarray           # share of candidates who left the item unanswered
    r_pbis_corrected: np.ndarray  # correlation of item score with total minus the item (NaN if undefined)
    upper_lower: np.ndarray       # (mean of the upper group − mean of the lower group) / maximum
    upper_p: np.ndarray           # mean score / maximum in the upper 27%
    lower_p: np.ndarray           # … and in the lower 27%
    median_seconds: np.ndarray | None = None  # median time spent, when times were given


@dataclass(frozen=True)
class FormStats:
    """Figures of the whole test (form)."""

    n: int
    k: int
    max_total: float
    mean: float
    sd: float
    alpha: float          # Cronbach's α; equals KR-20 when every item is dichotomous
    sem: float            # sd · √(1 − α)
    pass_rate: float | None = None
    histogram: dict = field(default_factory=dict)  # {"edges": [...], "counts": [...]}


@dataclass(frozen=True)
class Groups:
    """Row indices of the lower and upper extreme groups (ranked by total score)."""

    lower: np.ndarray
    upper: np.ndarray


def as_score_matrix(scores, maxima=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(filled scores with NaN → 0, omitted mask, maxima as float array). Raises ValueError on a
    shape mismatch or a non-positive maximum."""
    raw = np.asarray(scores, dtype=float)
    if raw.ndim != 2:
        raise ValueError("scores must be a candidates × items matrix")
    k = raw.shape[1]
    maxima = np.ones(k) if maxima is None else np.asarray(maxima, dtype=float)
    if maxima.shape != (k,):
        raise ValueError(f"{k} items but {maxima.size} maxima")
    if np.any(maxima <= 0):
        raise ValueError("every item's maximum score must be positive")
    omitted = np.isnan(raw)
    return np.where(omitted, 0.0, raw), omitted, maxima


def extreme_groups(totals: np.ndarray, share: float = GROUP_SHARE) -> Groups:
    """The bottom and top `share` of candidates by total (at least one each). Candidates tied at
    a group's boundary are taken in input order, so the result is reproducible."""
    n = totals.size
    g = max(1, int(round(share * n)))
    order = np.argsort(totals, kind="stable")
    return Groups(lower=order[:g], upper=order[n - g:])


def item_statistics(scores, maxima=None, *, seconds=None, groups: Groups | None = None) -> ItemStats:
    """Facility, omission, corrected point-biserial and the upper/lower index for every item.
    `seconds`, if given, is a matrix of the same shape (NaN where unknown) for the median time."""
    x, omitted, m = as_score_matrix(scores, maxima)
    n = x.shape[0]
    if n == 0:
        raise ValueError("no candidates")
    totals = x.sum(axis=1)
    mean_x = x.mean(axis=0)
    # Centred products give every covariance at once; the cost is one (k × n)·(n) product.
    xc = x - mean_x
    tc = totals - totals.mean()
    var_x = np.einsum("ij,ij->j", xc, xc) / n
    var_t = float(tc @ tc) / n
    cov_xt = (xc.T @ tc) / n
    cov_x_rest = cov_xt - var_x
    var_rest = var_t + var_x - 2.0 * cov_xt
    denom = np.sqrt(np.clip(var_x, 0, None) * np.clip(var_rest, 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 1e-12, cov_x_rest / np.where(denom > 1e-12, denom, 1.0), np.nan)
    groups = groups or extreme_groups(totals)
    upper_p = x[groups.upper].mean(axis=0) / m
    lower_p = x[groups.lower].mean(axis=0) / m
    median = None
    if seconds is not None:
        secs = np.asarray(seconds, dtype=float)
        if secs.shape != x.shape:
            raise ValueError("the time matrix must have the shape of the score matrix")
        with np.errstate(all="ignore"):
            all_nan = np.all(np.isnan(secs), axis=0)
            median = np.full(x.shape[1], np.nan)
            if (~all_nan).any():
                median[~all_nan] = np.nanmedian(secs[:, ~all_nan], axis=0)
    return ItemStats(
        p=mean_x / m,
        omitted=omitted.mean(axis=0),
        r_pbis_corrected=r,
        upper_lower=upper_p - lower_p,
        upper_p=upper_p,
        lower_p=lower_p,
        median_seconds=median,
    )


def histogram(totals: np.ndarray, max_total: float, max_bins: int = 20) -> dict:
    """Counts of totals over [0, max_total]: one bin per point when that gives at most `max_bins`
    bins, else `max_bins` equal bins. The last bin is closed on the right."""
    width = 1.0 if max_total <= max_bins else max_total / max_bins
    bins = max(1, int(math.ceil(max_total / width))) if max_total > 0 else 1
    edges = np.linspace(0.0, bins * width, bins + 1)
    counts, _ = np.histogram(np.clip(totals, 0, edges[-1]), bins=edges)
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def form_statistics(scores, maxima=None, *, pass_mark: float | None = None,
                    max_bins: int = 20) -> FormStats:
    """n, mean, SD, α (KR-20 for dichotomous items), SEM, histogram, and the share of totals at
    or above `pass_mark` (a total score, not a share) when given."""
    x, _, m = as_score_matrix(scores, maxima)
    n, k = x.shape
    if n == 0:
        raise ValueError("no candidates")
    totals = x.sum(axis=1)
    var_t = float(totals.var())
    sum_var_items = float(x.var(axis=0).sum())
    alpha = k / (k - 1) * (1.0 - sum_var_items / var_t) if k > 1 and var_t > 0 else float("nan")
    sd = math.sqrt(var_t)
    # α < 0 (items that disagree) gives no meaningful SEM; report the SD as its upper bound.
    sem = sd * math.sqrt(1.0 - alpha) if alpha == alpha and alpha <= 1 else float("nan")
    if alpha == alpha and alpha < 0:
        sem = sd
    max_total = float(m.sum())
    return FormStats(
        n=n, k=k, max_total=max_total, mean=float(totals.mean()), sd=sd, alpha=alpha, sem=sem,
        pass_rate=None if pass_mark is None else float((totals >= pass_mark - 1e-9).mean()),
        histogram=histogram(totals, max_total, max_bins),
    )


def option_shares(choices, n_options, totals, *, groups: Groups | None = None) -> dict[str, np.ndarray]:
    """Distractor analysis. `choices` is candidates × items of the chosen option index (0-based,
    −1 where unanswered); `n_options` the option count per item (or one int for all). Returns
    arrays of shape items × (max options + 1) for the groups "all", "upper", "middle", "lower":
    the share of the group choosing each option, the last column being "not answered"."""
    c = np.asarray(choices, dtype=np.int64)
    n, k = c.shape
    n_opts = np.broadcast_to(np.asarray(n_options, dtype=np.int64), (k,))
    width = int(n_opts.max()) + 1 if k else 1
    col = np.where((c >= 0) & (c < n_opts), c, width - 1)  # out-of-range or blank → last column
    flat = col + np.arange(k)[None, :] * width
    groups = groups or extreme_groups(np.asarray(totals, dtype=float))
    middle_mask = np.ones(n, dtype=bool)
    middle_mask[groups.lower] = False
    middle_mask[groups.upper] = False
    out = {}
    for name, rows in (("all", slice(None)), ("upper", groups.upper),
                       ("middle", np.flatnonzero(middle_mask)), ("lower", groups.lower)):
        sub = flat[rows]
        size = sub.shape[0]
        counts = np.bincount(sub.ravel(), minlength=k * width).reshape(k, width)
        out[name] = counts / size if size else np.zeros((k, width))
    return out


def kr20(scores) -> float:
    """KR-20 from the p·q formula, for dichotomous 0/1 matrices (used as a cross-check of α)."""
    x, _, _ = as_score_matrix(scores)
    k = x.shape[1]
    p = x.mean(axis=0)
    var_t = float(x.sum(axis=1).var())
    return k / (k - 1) * (1.0 - float((p * (1 - p)).sum()) / var_t)
