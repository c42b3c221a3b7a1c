"""Item response theory: Rasch and 2PL item parameters with standard errors (numpy only).

Why our own estimator rather than a library. We evaluated `girth` (PyPI, 0.8.0): its 2PL is a
marginal-maximum-likelihood fit of the same model and agrees with ours (bench/analysis.py
checks r ≥ 0.99 on every run), but it gives no standard errors (only a bootstrap that refits
hundreds of times), handles only 0/1 or graded categories, and loops over items in Python, so it
is several times slower on 10,000 × 100 than this module. `mirt` is an R package, not on the
Python index. So examsys estimates with its own vectorised Bock–Aitkin EM and keeps girth as a
development dependency to check against.

Model, in slope–intercept form with θ ~ N(0, 1) on Gauss–Hermite nodes:
    P_j(θ) = 1 / (1 + exp(−(a_j θ + d_j))),   b_j = −d_j / a_j.
A polytomous item with maximum m_j enters as m_j Bernoulli trials at P_j (score ~ Bin(m_j, P)),
which is the 2PL itself for m_j = 1 and lets partial-credit scores be used as they are.
Rasch: one common slope. Reported in the Rasch metric (a = 1, ability SD = the common slope):
b_j = −d_j, and the ability SD comes back as `scale`.

Standard errors come from the cross-product of each candidate's score vector (the empirical
information of the marginal likelihood, "XPD"), inverted for all parameters at once, so they
reflect the uncertainty of θ and of the other items as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_NODES = 41
SLOPE_BOUNDS = (-6.0, 6.0)   # a wrong key gives a negative slope; keep it, but finite
INTERCEPT_BOUNDS = (-20.0, 20.0)


@dataclass(frozen=True)
class IrtResult:
    model: str           # "rasch" or "2pl"
    a: np.ndarray        # discrimination (all 1 for Rasch)
    b: np.ndarray        # difficulty (NaN for an item everybody or nobody scored on)
    se_a: np.ndarray     # NaN for Rasch (a is fixed)
    se_b: np.ndarray
    scale: float         # ability SD in the reported metric (1 for 2PL)
    iterations: int
    converged: bool
    loglik: float


def _nodes(n: int = N_NODES) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def _log_sigmoid(v: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -v)


def _posterior(x: np.ndarray, rest: np.ndarray, a, d, z, log_w, trials=None) -> tuple[np.ndarray, float]:
    """Posterior weights over the nodes per candidate (n × Q) and the marginal log-likelihood.
    `trials` (n × k) is given when candidates were not all presented every item."""
    # x·log P + (m − x)·log(1 − P) = x·logit + m·log(1 − P): one product, the rest per node only.
    logit = np.outer(z, a) + d                       # Q × k
    if trials is None:
        m = rest[0] + x[0]
        ll = x @ logit.T + (_log_sigmoid(-logit) @ m + log_w)  # n × Q
    else:
        ll = x @ logit.T + trials @ _log_sigmoid(-logit).T + log_w
    top = ll.max(axis=1, keepdims=True)
    post = np.exp(ll - top)
    s = post.sum(axis=1, keepdims=True)
    return post / s, float((np.log(s) + top).sum())


def fit(scores, maxima=None, *, model: str = "2pl", max_iter: int = 500, tol: float = 1e-4,
        n_nodes: int = N_NODES, presented=None) -> IrtResult:
    """Marginal maximum likelihood by EM. `scores`: candidates × items, NaN = not answered (0).
    `presented` (candidates × items, bool), when given, says which items each candidate was shown:
    the others carry no information (several forms or batches calibrated together on the items
    they share). Raises ValueError for an unknown model or too little data."""
    if model not in ("rasch", "2pl"):
        raise ValueError(f"unknown IRT model {model!r} (rasch or 2pl)")
    x = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    n, k = x.shape
    m = np.ones(k) if maxima is None else np.asarray(maxima, dtype=float)
    if n < 2 or k < 2:
        raise ValueError("IRT needs at least two candidates and two items")
    shown = None if presented is None else np.asarray(presented, dtype=bool)
    if shown is not None and shown.all():
        shown = None
    if shown is None:
        trials = None
        rest = m[None, :] - x
        p = np.clip(x.mean(axis=0) / m, 1e-3, 1 - 1e-3)
        alive = (x.min(axis=0) < x.max(axis=0))      # items with any variance
    else:
        x = np.where(shown, x, 0.0)
        trials = shown * m[None, :]
        rest = trials - x
        seen = shown.sum(axis=0)
        p = np.clip(x.sum(axis=0) / np.maximum(trials.sum(axis=0), 1e-9), 1e-3, 1 - 1e-3)
        hi = np.where(shown, x, -np.inf).max(axis=0)
        lo = np.where(shown, x, np.inf).min(axis=0)
        alive = (seen >= 2) & (lo < hi)
    if not alive.all():
        # An item everybody (or nobody) scored on has no finite estimate and would keep EM
        # walking towards infinity: fit the others and leave it without parameters.
        if alive.sum() < 2:
            raise ValueError("IRT needs at least two items that some candidates score on and others not")
        part = fit(x[:, alive], m[alive], model=model, max_iter=max_iter, tol=tol, n_nodes=n_nodes,
                   presented=None if shown is None else shown[:, alive])
        full = {}
        for name in ("a", "b", "se_a", "se_b"):
            column = np.full(k, np.nan)
            column[alive] = getattr(part, name)
            full[name] = column
        return IrtResult(model=model, scale=part.scale, iterations=part.iterations,
                         converged=part.converged, loglik=part.loglik, **full)
    z, w = _nodes(n_nodes)
    log_w = np.log(w)
    a = np.ones(k)
    d = np.log(p / (1 - p))                          # a first guess: the logit of p
    converged, loglik, iterations = False, -np.inf, 0
    while iterations < max_iter:
        iterations += 1
        post, loglik = _posterior(x, rest, a, d, z, log_w, trials)
        r = (x.T @ post).T                           # Q × k expected score (this order is the fast one)
        # Q × k expected trials
        big_n = post.sum(axis=0)[:, None] * m[None, :] if trials is None else (trials.T @ post).T
        a_old, d_old = a.copy(), d.copy()
        for _ in range(2):                           # a couple of Newton steps per M-step
            prob = 1.0 / (1.0 + np.exp(-(np.outer(z, a) + d)))
            resid = r - big_n * prob
            wgt = big_n * prob * (1 - prob)
            g_d = resid.sum(axis=0)
            h_dd = wgt.sum(axis=0) + 1e-9
            if model == "2pl":
                g_a = z @ resid
                h_aa = (z ** 2) @ wgt + 1e-9
                h_ad = z @ wgt
                det = h_aa * h_dd - h_ad ** 2
                ok = det > 1e-12
                step_a = np.where(ok, (h_dd * g_a - h_ad * g_d) / np.where(ok, det, 1), 0.0)
                step_d = np.where(ok, (h_aa * g_d - h_ad * g_a) / np.where(ok, det, 1), g_d / h_dd)
                a = np.clip(a + np.clip(step_a, -1, 1), *SLOPE_BOUNDS)
                d = np.clip(d + np.clip(step_d, -2, 2), *INTERCEPT_BOUNDS)
            else:
                d = np.clip(d + np.clip(g_d / h_dd, -2, 2), *INTERCEPT_BOUNDS)
                prob = 1.0 / (1.0 + np.exp(-(np.outer(z, a) + d)))
                resid = r - big_n * prob
                wgt = big_n * prob * (1 - prob)
                g = float((z @ resid).sum())
                h = float(((z ** 2) @ wgt).sum()) + 1e-9
                a = np.full(k, float(np.clip(a[0] + np.clip(g / h, -1, 1), 0.05, SLOPE_BOUNDS[1])))
        change = max(np.abs(a - a_old).max(), np.abs(d - d_old).max())
        if change < tol:
            converged = True
            break
    se_a, se_d, cov_ad = _xpd_errors(x, rest, a, d, z, log_w, model, alive, trials)
    if model == "2pl":
        with np.errstate(divide="ignore", invalid="ignore"):
            b = -d / a
            # delta method for b = −d/a
            var_b = (se_d ** 2) / a ** 2 + (d ** 2) * (se_a ** 2) / a ** 4 - 2 * d * cov_ad / a ** 3
        se_b = np.sqrt(np.clip(var_b, 0, None))
        out_a, out_se_a, scale = a, se_a, 1.0
    else:
        b, se_b = -d, se_d
        out_a, out_se_a, scale = np.ones(k), np.full(k, np.nan), float(a[0])
    return IrtResult(model=model, a=out_a, b=b, se_a=out_se_a, se_b=se_b, scale=scale,
                     iterations=iterations, converged=converged, loglik=loglik)


def _xpd_errors(x, rest, a, d, z, log_w, model, alive, trials=None):
    """Standard errors of (a, d) from the inverse of Σ_i g_i g_iᵀ, g_i being candidate i's score
    of the marginal log-likelihood. Items without variance are left out (their SE is NaN)."""
    post, _ = _posterior(x, rest, a, d, z, log_w, trials)
    prob = 1.0 / (1.0 + np.exp(-(np.outer(z, a) + d)))        # Q × k
    # ∂ log L_i / ∂ d_j = Σ_q post_iq (x_ij − m_j P_jq) = x_ij − m_j Σ_q post_iq P_jq
    m = x + rest
    e_p = post @ prob                                          # n × k
    e_zp = post @ (z[:, None] * prob)
    e_z = post @ z                                             # n
    g_d = x - m * e_p
    g_a = x * e_z[:, None] - m * e_zp
    idx = np.flatnonzero(alive)
    k = a.size
    se_a, se_d, cov_ad = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    if model == "2pl":
        g = np.concatenate([g_a[:, idx], g_d[:, idx]], axis=1)
    else:
        g = np.concatenate([g_a[:, idx].sum(axis=1, keepdims=True), g_d[:, idx]], axis=1)
    j = idx.size
    if g.shape[1] >= g.shape[0] // 2:
        # Too few candidates for the joint information to be of full rank (a concurrent
        # calibration of many items on few candidates): each item's own block instead.
        return _block_errors(post, prob, m, z, a, model, idx, k)
    info = g.T @ g
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    diag = np.sqrt(np.clip(np.diag(cov), 0, None))
    if model == "2pl":
        se_a[idx], se_d[idx] = diag[:j], diag[j:]
        cov_ad[idx] = cov[np.arange(j), j + np.arange(j)]
    else:
        se_d[idx] = diag[1:]
        cov_ad[idx] = 0.0
    return se_a, se_d, cov_ad


def _block_errors(post, prob, m, z, a, model, idx, k):
    """Standard errors from each item's expected information alone (θ taken as known on the
    posterior): wider than nothing, used when the joint information cannot be inverted."""
    big_n = (m.T @ post).T                                    # Q × k expected trials per node
    w = big_n * prob * (1 - prob)
    i_dd, i_ad, i_aa = w.sum(axis=0), z @ w, (z ** 2) @ w
    se_a, se_d, cov_ad = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if model == "2pl":
            det = i_aa * i_dd - i_ad ** 2
            se_a[idx] = np.sqrt(i_dd[idx] / det[idx])
            se_d[idx] = np.sqrt(i_aa[idx] / det[idx])
            cov_ad[idx] = -i_ad[idx] / det[idx]
        else:
            se_d[idx] = 1 / np.sqrt(i_dd[idx])
            cov_ad[idx] = 0.0
    return se_a, se_d, cov_ad


def simulate(n: int, a, b, *, rng: np.random.Generator, theta=None) -> tuple[np.ndarray, np.ndarray]:
    """0/1 responses of `n` candidates under the 2PL with θ ~ N(0, 1) (or the given θ):
    (responses n × k, θ). For tests, benches and the demo."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    theta = rng.standard_normal(n) if theta is None else np.asarray(theta, float)
    prob = 1.0 / (1.0 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    return (rng.random(prob.shape) < prob).astype(float), theta
