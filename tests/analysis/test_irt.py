"""IRT estimates: parameter recovery on simulated data, standard errors of the right size,
agreement with girth (the maintained library we compared against), degenerate items."""

from __future__ import annotations

import math

import numpy as np
import pytest

from examsys.analysis import irt


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(3)
    k = 20
    a, b = rng.lognormal(0, 0.3, k), rng.normal(0, 1, k)
    x, _ = irt.simulate(3000, a, b, rng=rng)
    return x, a, b


def test_2pl_recovers_the_generating_parameters(simulated):
    x, a, b = simulated
    fit = irt.fit(x, model="2pl")
    assert fit.converged
    assert np.corrcoef(fit.a, a)[0, 1] > 0.95
    assert np.corrcoef(fit.b, b)[0, 1] > 0.99
    # standard errors describe the actual error: standardised errors have SD near 1
    z_a = (fit.a - a) / fit.se_a
    z_b = (fit.b - b) / fit.se_b
    assert 0.5 < np.std(z_a) < 1.6 and 0.5 < np.std(z_b) < 1.6


def test_rasch_reports_unit_slopes_and_the_ability_scale(simulated):
    x, _, b = simulated
    fit = irt.fit(x, model="rasch")
    assert np.all(fit.a == 1) and np.all(np.isnan(fit.se_a))
    assert 0.8 < fit.scale < 1.3
    assert np.corrcoef(fit.b, b)[0, 1] > 0.95  # the data have unequal slopes
    assert np.all((fit.se_b > 0) & (fit.se_b < 0.2))


def test_2pl_agrees_with_girth(simulated):
    girth = pytest.importorskip("girth")
    x, _, _ = simulated
    ours = irt.fit(x, model="2pl")
    theirs = girth.twopl_mml(x.T.astype(int))
    assert np.corrcoef(ours.a, theirs["Discrimination"])[0, 1] > 0.99
    assert np.corrcoef(ours.b, theirs["Difficulty"])[0, 1] > 0.99


def test_a_reversed_key_gives_a_negative_slope(simulated):
    x, _, _ = simulated
    flipped = x.copy()
    flipped[:, 0] = 1 - flipped[:, 0]
    assert irt.fit(flipped, model="2pl").a[0] < 0


def test_items_without_variance_get_no_parameters(simulated):
    x, _, _ = simulated
    x = x.copy()
    x[:, 3] = 1
    fit = irt.fit(x, model="2pl")
    assert math.isnan(fit.b[3]) and math.isnan(fit.se_b[3])
    assert np.isfinite(fit.b[np.arange(20) != 3]).all()


def test_polytomous_items_enter_as_binomial_trials():
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(2000)
    b = np.linspace(-1, 1, 8)
    maxima = np.array([1, 1, 1, 1, 2, 2, 4, 4])
    prob = 1 / (1 + np.exp(-(theta[:, None] - b)))
    x = rng.binomial(maxima, prob).astype(float)
    fit = irt.fit(x, maxima, model="2pl")
    assert np.corrcoef(fit.b, b)[0, 1] > 0.98
    assert fit.a[6:].mean() == pytest.approx(1, abs=0.25)


def test_unknown_model_is_refused():
    with pytest.raises(ValueError):
        irt.fit(np.zeros((5, 3)), model="3pl")


def test_items_not_presented_carry_no_information():
    """Two forms sharing ten anchor items, calibrated together: every item's parameters are found,
    on one scale, as well as from the complete data; and they equal a fit where the missing cells
    were simply never there (the same rows sliced out give the same estimates for a form alone)."""
    rng = np.random.default_rng(11)
    n, k = 3000, 30
    a, b = rng.lognormal(0, 0.25, k), np.linspace(-1.5, 1.5, k)
    x, _ = irt.simulate(n, a, b, rng=rng)
    shown = np.ones((n, k), dtype=bool)
    shown[: n // 2, 20:] = False      # form A: items 0-19
    shown[n // 2:, 10:20] = False     # form B: items 0-9 and 20-29
    noisy = np.where(shown, x, rng.integers(0, 2, x.shape))  # what is not shown must not matter
    fit = irt.fit(noisy, model="2pl", presented=shown)
    assert np.isfinite(fit.b).all() and np.isfinite(fit.se_b).all()
    assert np.corrcoef(fit.b, b)[0, 1] > 0.99 and np.corrcoef(fit.a, a)[0, 1] > 0.8
    # the unshown items have larger standard errors than the anchors seen by everyone
    assert fit.se_b[:10].mean() < fit.se_b[10:].mean()
    # every cell presented: the same as no mask at all
    full = irt.fit(x, model="2pl")
    same = irt.fit(x, model="2pl", presented=np.ones((n, k), dtype=bool))
    assert np.allclose(full.b, same.b)
    rasch = irt.fit(noisy, model="rasch", presented=shown)
    assert np.corrcoef(rasch.b, b)[0, 1] > 0.98


def test_few_candidates_many_items_still_get_standard_errors():
    """60 candidates, 150 items: the joint information is singular; each item's own block gives
    finite, positive standard errors that shrink with more candidates."""
    rng = np.random.default_rng(3)
    b = np.linspace(-1.5, 1.5, 150)
    small, _ = irt.simulate(60, np.ones(150), b, rng=rng)
    large, _ = irt.simulate(240, np.ones(150), b, rng=rng)
    s, big = irt.fit(small, model="rasch"), irt.fit(large, model="rasch")
    ok = np.isfinite(s.b)
    assert ok.sum() > 140 and (s.se_b[ok] > 0).all() and np.isfinite(s.se_b[ok]).all()
    assert np.nanmedian(big.se_b) < np.nanmedian(s.se_b)
    two = irt.fit(large, model="2pl")
    fine = np.isfinite(two.b)
    assert (two.se_a[fine] > 0).all() and (two.se_b[fine] > 0).all()
