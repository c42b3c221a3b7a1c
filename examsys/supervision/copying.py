"""The answer-copying index for pairs of candidates in the same room: pure functions, no database.

The statistic is Holland's K-index (Holland, P. W. (1996). Assessing unusual agreement between
the incorrect answers of two examinees using the K-index: statistical theory and empirical
support. ETS Research Report RR-94-4), in the regression form K̄ of Sotaridona, L. S. & Meijer,
R. R. (2002). Statistical properties of the K-index for detecting answer copying. Journal of
Educational Measurement, 39(2), 115–132.

For a suspected copier c and source s, over the objective items (judge, single, multi) both
answered: let W be the number of items s got wrong that c also answered, and m the number of
those on which c gave exactly s's wrong answer. Under independent work m ~ Binomial(W, p), where
p is the chance that a candidate as weak as c matches s's wrong answers. p is estimated from the
rest of the batch: every other candidate j gives a point (x_j = j's proportion wrong on the
items j shares with s, y_j = j's rate of matching s's wrong answers), and a line through the
origin (no wrong answers, no identical wrong answers), weighted by j's number of trials, is read
at c's proportion wrong (Sotaridona & Meijer's K̄ fit p by regression on the wrong score in the
same way). A line rather than their quadratic: the weakest candidate of a room is read outside
the reference group's range, where a quadratic bends to zero and flagged independent pairs in
simulation, while a line through the origin over-estimates p there (matching saturates), which
errs on the cautious side. c itself is left out of the fit, so a copier cannot raise its own
baseline. The index is the upper tail K = P(Binomial(W, p) >= m).

Why this one: it needs only the answers and the keys (no IRT calibration, which a batch of a
few dozen candidates cannot support, unlike Wollack's ω), it looks at identical *incorrect*
answers, the evidence a supervisor can check item by item, and its binomial tail is exact
rather than the normal approximation of Frary, Tideman & Watts' g2, which is too liberal in the
far tail where we set the threshold. Its known bias is conservative (false positives below the
nominal level), which is the right side for an accusation.

False positives: a room of n candidates gives n(n-1) directed tests. A pair is flagged when its
stronger direction has K < alpha / (n(n-1)) (Bonferroni), so the chance that a room of
independent candidates shows any flagged pair is at most alpha (0.001 by default); and only
when at least MIN_MATCHES identical incorrect answers back it, so a handful of coincidences
never makes a case. tests/supervision/test_copying.py measures the rate on simulated rooms.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Item types whose answers are a choice among fixed options, so identical answers are comparable.
COPYING_QTYPES = frozenset({"judge", "single", "multi"})
ALPHA = 0.001  # family-wise, per room
MIN_MATCHES = 5
# Fewer shared items than this and a pair is not tested (too little to say anything).
MIN_COMMON_ITEMS = 10
# A fitted matching rate is kept inside (P_FLOOR, 1): a rate near zero (a reference group that
# hardly shares wrong answers) would make a few coincidences look impossible.
P_FLOOR = 0.01


@dataclass(frozen=True)
class KeyedItem:
    """One objective item as the index sees it: its identity shared across forms, type and key."""

    item: Hashable
    qtype: str
    key: Any


@dataclass
class PairResult:
    """One pair, in its stronger direction: `copier`'s identical answers to `source`'s wrong ones."""

    room: Hashable
    copier: Hashable
    source: Hashable
    k_index: float  # P(Binomial(trials, p_match) >= identical_incorrect): the p-value
    identical_incorrect: int
    trials: int  # items the source got wrong and the copier answered
    p_match: float
    expected: float  # trials * p_match
    common_items: int  # objective items both answered
    identical_answers: int  # identical answers, right or wrong
    threshold: float  # alpha / tests of the room
    flagged: bool
    items: list = field(default_factory=list)  # identities of the identically wrong items


@dataclass
class RoomCopying:
    room: Hashable
    candidates: list
    tests: int  # directed tests in the room (the Bonferroni divisor)
    threshold: float
    pairs: list[PairResult]  # every tested pair, strongest evidence first

    @property
    def flagged(self) -> list[PairResult]:
        return [p for p in self.pairs if p.flagged]


def answer_token(qtype: str, answer: Any) -> Hashable | None:
    """A comparable form of an objective answer, or None for a blank or malformed one. A multiple
    choice answer is its set of options (order of clicking does not matter)."""
    if qtype == "judge":
        return answer if isinstance(answer, bool) else None
    if qtype == "single":
        return answer if isinstance(answer, str) and answer else None
    if qtype == "multi":
        if isinstance(answer, str):
            answer = list(answer)
        if isinstance(answer, list | tuple | set | frozenset) and answer \
                and all(isinstance(a, str) for a in answer):
            return tuple(sorted(set(answer)))
        return None
    return None


def binomial_upper_tail(trials: np.ndarray, successes: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X >= successes) for X ~ Binomial(trials, p), elementwise, summed in log space so the far
    tail keeps its precision (exact, no normal approximation)."""
    trials = np.asarray(trials, dtype=int)
    successes = np.asarray(successes, dtype=int)
    p = np.asarray(p, dtype=float)
    top = int(trials.max(initial=0))
    log_fact = np.array([math.lgamma(k + 1) for k in range(top + 1)])
    k = np.arange(top + 1)
    n = trials[..., None]
    kk = np.broadcast_to(k, n.shape[:-1] + k.shape)
    inside = (kk >= successes[..., None]) & (kk <= n)
    nk = np.clip(n - kk, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = (log_fact[np.clip(n, 0, top)] - log_fact[kk] - log_fact[nk]
                   + kk * np.log(p)[..., None] + nk * np.log1p(-p)[..., None])
    log_pmf = np.where(inside, log_pmf, -np.inf)
    peak = log_pmf.max(axis=-1, initial=-np.inf)
    safe = np.where(np.isfinite(peak), peak, 0.0)
    total = np.exp(log_pmf - safe[..., None]).sum(axis=-1)
    with np.errstate(divide="ignore"):
        tail = np.where(np.isfinite(peak), np.exp(safe + np.log(total)), 0.0)
    return np.where(successes <= 0, 1.0, np.minimum(tail, 1.0))


@dataclass
class _Matrices:
    ids: list
    index: dict
    answered: np.ndarray  # candidates × items, bool
    wrong: np.ndarray  # candidates × items, bool (answered and not the key)
    same_wrong: np.ndarray  # candidates × candidates: identical incorrect answers
    same_any: np.ndarray  # candidates × candidates: identical answers
    codes: np.ndarray  # candidates × items: the answer's code, -1 for none
    items: list

    def __post_init__(self):
        answered, wrong = self.answered.astype(np.int32), self.wrong.astype(np.int32)
        self.trials = answered @ wrong.T  # [c, s]: items s got wrong that c answered
        self.common = answered @ answered.T


def _matrices(answers: Mapping[Hashable, Mapping[Hashable, Any]],
              keys: Mapping[Hashable, KeyedItem]) -> _Matrices:
    ids = list(answers)
    items = [i for i, k in keys.items() if k.qtype in COPYING_QTYPES]
    col = {item: c for c, item in enumerate(items)}
    n, width = len(ids), len(items)
    answered = np.zeros((n, width), dtype=bool)
    wrong = np.zeros((n, width), dtype=bool)
    # Every distinct answer to an item gets a column of a one-hot matrix, so identical answers of
    # all pairs come out of one matrix product.
    code_of: dict[tuple, int] = {}
    rows, cols, wrong_flags = [], [], []
    codes = np.full((n, width), -1, dtype=np.int64)
    for r, cid in enumerate(ids):
        for item, raw in (answers[cid] or {}).items():
            c = col.get(item)
            if c is None:
                continue
            keyed = keys[item]
            token = answer_token(keyed.qtype, raw)
            if token is None:
                continue
            answered[r, c] = True
            is_wrong = token != answer_token(keyed.qtype, keyed.key)
            wrong[r, c] = is_wrong
            code = code_of.setdefault((c, token), len(code_of))
            codes[r, c] = code
            rows.append(r)
            cols.append(code)
            wrong_flags.append(is_wrong)
    onehot = np.zeros((n, len(code_of)), dtype=np.int32)
    onehot_wrong = np.zeros_like(onehot)
    if rows:
        onehot[rows, cols] = 1
        onehot_wrong[np.array(rows)[wrong_flags], np.array(cols)[wrong_flags]] = 1
    return _Matrices(ids=ids, index={cid: r for r, cid in enumerate(ids)}, answered=answered, wrong=wrong,
                     same_wrong=onehot_wrong @ onehot_wrong.T, same_any=onehot @ onehot.T, codes=codes,
                     items=items)


def _match_rates(m: _Matrices, source: int, copiers: Sequence[int], min_common: int) -> np.ndarray:
    """The fitted chance p that each of `copiers` matches one of `source`'s wrong answers, each
    fit leaving that copier (and the source) out of the reference group."""
    a = m.answered.astype(float)
    shared = a @ a[source]  # per candidate: items shared with the source
    trials = a @ m.wrong[source].astype(float)  # the source's wrong items each candidate answered
    wrong_shared = m.wrong.astype(float) @ m.answered[source].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(shared > 0, wrong_shared / shared, 0.0)
        y = np.where(trials > 0, m.same_wrong[:, source] / trials, 0.0)
    usable = (trials > 0) & (shared >= min_common)
    usable[source] = False
    w = np.where(usable, trials, 0.0)
    # y = b·x, leave-one-out: the sums without the copier's own point.
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    idx = np.asarray(copiers, dtype=int)
    loo_xx = sxx - w[idx] * x[idx] ** 2
    loo_xy = sxy - w[idx] * x[idx] * y[idx]
    loo_w = w.sum() - w[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        # No slope without the copier (others made no mistakes): their overall rate; nobody
        # else to compare with: p = 1, since chance agreement cannot be estimated, the pair is
        # never flagged.
        loo_mean = np.where(loo_w > 0, (w @ y - w[idx] * y[idx]) / loo_w, 1.0)
        rates = np.where(loo_xx > 1e-12, x[idx] * loo_xy / loo_xx, loo_mean)
    return np.clip(rates, P_FLOOR, 1 - 1e-9)


def _directed(m: _Matrices, copier: int, source: int, p: float) -> dict:
    return {"copier": copier, "source": source, "trials": int(m.trials[copier, source]),
            "same": int(m.same_wrong[copier, source]), "p": p}


def room_copying(answers: Mapping[Hashable, Mapping[Hashable, Any]], keys: Mapping[Hashable, KeyedItem],
                 rooms: Mapping[Hashable, Sequence[Hashable]], *, alpha: float = ALPHA,
                 min_matches: int = MIN_MATCHES, min_common: int = MIN_COMMON_ITEMS) \
        -> dict[Hashable, RoomCopying]:
    """The K-index of every pair of candidates sharing a room.

    `answers`: candidate → {item identity → answer as saved}, for the whole batch (the reference
    group that estimates chance matching); `keys`: item identity → KeyedItem (non-objective items
    are ignored); `rooms`: room → its candidates. Pairs sharing fewer than `min_common` answered
    items are not tested. Returns room → RoomCopying."""
    m = _matrices(answers, keys)
    result: dict[Hashable, RoomCopying] = {}
    for room, members in rooms.items():
        rows = [m.index[c] for c in members if c in m.index]
        tests = len(rows) * (len(rows) - 1)
        threshold = alpha / tests if tests else alpha
        directed = {}
        for s in rows:
            copiers = [c for c in rows if c != s]
            if not copiers:
                continue
            for c, p in zip(copiers, _match_rates(m, s, copiers, min_common), strict=True):
                directed[(c, s)] = _directed(m, c, s, float(p))
        if directed:
            order = list(directed.values())
            tails = binomial_upper_tail(np.array([d["trials"] for d in order]),
                                        np.array([d["same"] for d in order]),
                                        np.array([d["p"] for d in order]))
            for d, tail in zip(order, tails, strict=True):
                d["k"] = float(tail)
        pairs = []
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                common = int(m.common[a, b])
                if common < min_common:
                    continue
                # Both tails can underflow to 0 for a blatant pair, and identical wrong answers
                # count the same both ways: then the direction in which they are the larger share
                # of the source's mistakes (the copier took most of them) is the stronger one.
                d = min(directed[(a, b)], directed[(b, a)],
                        key=lambda d: (d["k"], -(d["same"] / d["trials"] if d["trials"] else 0.0), -d["same"]))
                pairs.append(_pair(m, room, d, common, threshold, min_matches))
        pairs.sort(key=lambda p: (p.k_index, -p.identical_incorrect))
        result[room] = RoomCopying(room=room, candidates=[m.ids[r] for r in rows], tests=tests,
                                   threshold=threshold, pairs=pairs)
    return result


def _pair(m: _Matrices, room, d: dict, common: int, threshold: float, min_matches: int) -> PairResult:
    c, s = d["copier"], d["source"]
    same_items = [m.items[col] for col in np.flatnonzero(m.wrong[s] & (m.codes[c] == m.codes[s]))]
    return PairResult(room=room, copier=m.ids[c], source=m.ids[s], k_index=d["k"],
                      identical_incorrect=d["same"], trials=d["trials"], p_match=d["p"],
                      expected=d["trials"] * d["p"], common_items=common,
                      identical_answers=int(m.same_any[c, s]), threshold=threshold,
                      flagged=d["k"] < threshold and d["same"] >= min_matches, items=same_items)


__all__ = ["ALPHA", "COPYING_QTYPES", "MIN_COMMON_ITEMS", "MIN_MATCHES", "KeyedItem", "PairResult", "RoomCopying",
           "answer_token", "binomial_upper_tail", "room_copying"]
