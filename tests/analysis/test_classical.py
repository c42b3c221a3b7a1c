"""Classical statistics against figures worked out by hand, and against an independent,
item-by-item computation (scipy) on generated data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from examsys.analysis import classical

NAN = float("nan")

# Five candidates, three 0/1 items. Worked by hand:
# totals 3, 2, 1, 1, 0 → mean 1.4, population variance 3 − 1.96 = 1.04;
# item variances p·q = .24, .24, .16 (sum .64) → α = 3/2 · (1 − .64/1.04) = 0.576923…;
# SEM = √(1.04 · (1 − α)) = √0.44 = 0.663325…
# q1 vs rest (2,1,0,1,0): cov .12, var rest .56 → r = .12/√(.24·.56) = 0.327327…
# q2 vs rest (2,1,1,0,0): the same, 0.327327…; q3 vs rest (2,2,1,1,0): .16/√(.16·.56) = 0.534522…
SMALL = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]]


def test_small_fixture_item_figures_match_the_hand_computation():
    items = classical.item_statistics(SMALL)
    assert items.p.tolist() == pytest.approx([0.6, 0.6, 0.2])
    assert items.omitted.tolist() == [0, 0, 0]
    assert items.r_pbis_corrected.tolist() == pytest.approx([0.327327, 0.327327, 0.534522], abs=1e-6)
    # one candidate per group (round(.27·5) = 1): c1 (3) above, c5 (0) below
    assert items.upper_lower.tolist() == [1, 1, 1]


def test_small_fixture_test_figures_match_the_hand_computation():
    form = classical.form_statistics(SMALL, pass_mark=2)
    assert (form.n, form.k, form.max_total) == (5, 3, 3)
    assert form.mean == pytest.approx(1.4)
    assert form.sd == pytest.approx(math.sqrt(1.04))
    assert form.alpha == pytest.approx(0.576923, abs=1e-6)
    assert form.alpha == pytest.approx(classical.kr20(SMALL))
    assert form.sem == pytest.approx(0.663325, abs=1e-6)
    assert form.pass_rate == pytest.approx(0.4)
    assert form.histogram == {"edges": [0, 1, 2, 3], "counts": [1, 2, 2]}


# Ten candidates; q1 is 0/1, q2 is worth 2; NaN = not answered.
# q1: 5 of 10 → p .5, one blank → omitted .1; q2: 11 of 20 points → p .55, three blanks → .3.
# Groups of round(2.7) = 3. Upper: c1–c3 (total 3). Lower: c8, c9 (0), then the first of the
# three tied at 1 in input order, c6 → q1 lower mean 1/3, q2 lower mean 0.
# upper_lower = 1 − 1/3 for q1, 1 − 0 for q2.
TEN = [[1, 2], [1, 2], [1, 2], [0, 2], [1, 1], [1, NAN], [0, 1], [0, NAN], [NAN, NAN], [0, 1]]


def test_polytomous_items_omissions_and_tied_groups():
    items = classical.item_statistics(TEN, [1, 2])
    assert items.p.tolist() == pytest.approx([0.5, 0.55])
    assert items.omitted.tolist() == pytest.approx([0.1, 0.3])
    assert items.upper_p.tolist() == pytest.approx([1, 1])
    assert items.lower_p.tolist() == pytest.approx([1 / 3, 0])
    assert items.upper_lower.tolist() == pytest.approx([2 / 3, 1])


def test_option_shares_by_score_group():
    # totals 0..5, groups of round(1.62) = 2; option 0 is the key, −1 = blank
    shares = classical.option_shares([[1], [2], [0], [-1], [0], [0]], 3, np.arange(6.0))
    assert shares["lower"][0].tolist() == [0, 0.5, 0.5, 0]
    assert shares["middle"][0].tolist() == [0.5, 0, 0, 0.5]
    assert shares["upper"][0].tolist() == [1, 0, 0, 0]
    assert shares["all"][0].tolist() == pytest.approx([3 / 6, 1 / 6, 1 / 6, 1 / 6])


def test_undefined_correlations_are_nan_not_errors():
    items = classical.item_statistics([[1, 1], [1, 0], [1, 1]])
    assert math.isnan(items.r_pbis_corrected[0])  # everybody right: no variance


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        classical.item_statistics([[1, 0]], [1])
    with pytest.raises(ValueError):
        classical.item_statistics([[1, 0]], [1, 0])


def test_generated_data_matches_an_independent_item_by_item_computation():
    rng = np.random.default_rng(7)
    n, k = 400, 12
    theta = rng.standard_normal(n)
    maxima = np.array([1] * 9 + [2, 3, 5], dtype=float)
    prob = 1 / (1 + np.exp(-(theta[:, None] - rng.normal(0, 1, k))))
    x = rng.binomial(maxima.astype(int), prob).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    items = classical.item_statistics(x, maxima)
    form = classical.form_statistics(x, maxima)
    filled = np.nan_to_num(x)
    total = filled.sum(axis=1)
    for j in range(k):
        rest = total - filled[:, j]
        assert items.r_pbis_corrected[j] == pytest.approx(stats.pearsonr(filled[:, j], rest)[0], abs=1e-10)
        assert items.p[j] == pytest.approx(sum(filled[:, j]) / n / maxima[j])
        assert items.omitted[j] == pytest.approx(sum(math.isnan(v) for v in x[:, j]) / n)
    item_vars = sum(stats.tvar(filled[:, j]) * (n - 1) / n for j in range(k))
    alpha = k / (k - 1) * (1 - item_vars / (stats.tvar(total) * (n - 1) / n))
    assert form.alpha == pytest.approx(alpha, abs=1e-10)
    assert form.sd == pytest.approx(np.std(total), abs=1e-10)
    assert form.sem == pytest.approx(np.std(total) * math.sqrt(1 - alpha), abs=1e-10)
    ranked = sorted(range(n), key=lambda i: total[i])  # Python's sort is stable, like the module's
    g = round(0.27 * n)
    for j in range(k):
        upper = sum(filled[i, j] for i in ranked[-g:]) / g
        lower = sum(filled[i, j] for i in ranked[:g]) / g
        assert items.upper_lower[j] == pytest.approx((upper - lower) / maxima[j])
