"""Test information at the pass mark, the model's side: each item's 2PL information at θ_cut,
θ_cut itself from the pass fraction, and the information buckets that keep grouping small.

The independent checker computes information with its own code (``checker``); the two share
only the data contract in ``formats`` (the fallback parameters).
"""

from __future__ import annotations

import math
from dataclasses import replace

from .formats import FALLBACK_A, FALLBACK_B, BankItem, FormSpec

THETA_RANGE = (-6.0, 6.0)
# Items whose information differs by less than this share of (tolerance × mean item information)
# may share a group; the model then uses the group's least and greatest information, so the
# result always holds and the margin given away is at most this share of the tolerance.
BUCKET_SHARE = 0.05


def params(it: BankItem) -> tuple[float, float]:
    if it.a is not None and it.b is not None:
        return float(it.a), float(it.b)
    return FALLBACK_A, FALLBACK_B.get(it.difficulty, 0.0)


def probability(a: float, b: float, theta: float) -> float:
    v = a * (theta - b)
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def item_information(it: BankItem, theta: float) -> float:
    a, b = params(it)
    p = probability(a, b, theta)
    return a * a * p * (1.0 - p)


def expected_fraction(pool: list[BankItem], spec: FormSpec, theta: float) -> float:
    """The expected share of a form's points at θ for a form drawn at random from ``pool``:
    per section, its points times the mean probability of the pool's items of that type."""
    total, got = 0.0, 0.0
    for s in spec.sections:
        items = [it for it in pool if it.type == s.type]
        weight = s.count * s.points
        total += weight
        if items:
            got += weight * sum(probability(*params(it), theta) for it in items) / len(items)
    return got / total if total > 0 else 0.0


def theta_for_fraction(pool: list[BankItem], spec: FormSpec, fraction: float) -> float:
    """The θ at which ``expected_fraction`` equals ``fraction`` (bisection; clamped to
    THETA_RANGE when the pool cannot reach it)."""
    lo, hi = THETA_RANGE
    if expected_fraction(pool, spec, lo) >= fraction:
        return lo
    if expected_fraction(pool, spec, hi) <= fraction:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        if expected_fraction(pool, spec, mid) < fraction:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 6)


def resolve(pool: list[BankItem], spec: FormSpec) -> FormSpec:
    """``spec`` with θ_cut filled in from its pass fraction when information is matched."""
    if not spec.matches_information or spec.theta_cut is not None:
        return spec
    return replace(spec, theta_cut=theta_for_fraction(pool, spec, spec.pass_fraction or 0.6))


def bucket_width(pool: list[BankItem], spec: FormSpec) -> float:
    if not pool:
        return 1.0
    mean = sum(item_information(it, spec.theta_cut) for it in pool) / len(pool)
    return max(1e-9, BUCKET_SHARE * spec.info_tolerance / 100.0 * mean)
