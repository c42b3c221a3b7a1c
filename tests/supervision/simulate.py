"""Simulated rooms of independent candidates for the copying index's error rates: a 3PL-like
chance of the right answer (per-candidate ability, per-item difficulty and discrimination, a
guessing floor) and, when wrong, a distractor drawn with unequal, item-specific attractiveness."""

from __future__ import annotations

import numpy as np

from examsys.supervision.copying import KeyedItem

OPTIONS = np.array(list("ABCD"))


class Paper:
    """`count` four-option single-choice items with a key, difficulty, discrimination and the
    distractors' attractiveness (Dirichlet(0.8): one distractor often draws most wrong answers,
    as in real papers)."""

    def __init__(self, rng: np.random.Generator, count: int = 80):
        self.rng = rng
        self.names = [f"q{i}" for i in range(count)]
        self.key = rng.integers(4, size=count)
        self.difficulty = rng.normal(-0.6, 1.0, size=count)
        self.discrimination = rng.uniform(0.6, 2.0, size=count)
        self.attractiveness = rng.dirichlet([0.8, 0.8, 0.8], size=count)
        self.keys = {n: KeyedItem(n, "single", str(OPTIONS[k])) for n, k in zip(self.names, self.key, strict=True)}

    def sheets(self, abilities) -> list[dict]:
        """One answer sheet (item → option) per ability; about 1% of items left blank."""
        abilities = np.asarray(abilities, dtype=float)[:, None]
        p_right = 0.2 + 0.8 / (1 + np.exp(-1.7 * self.discrimination * (abilities - self.difficulty)))
        right = self.rng.random(p_right.shape) < p_right
        cumulative = np.cumsum(self.attractiveness, axis=1)
        pick = (self.rng.random(p_right.shape)[..., None] > cumulative[None, :, :]).sum(axis=2)
        pick = np.minimum(pick, 2)
        wrong_option = (self.key + 1 + pick) % 4  # the three options other than the key
        chosen = np.where(right, self.key, wrong_option)
        blank = self.rng.random(p_right.shape) < 0.01
        return [{n: str(OPTIONS[c]) for n, c, b in zip(self.names, row, skip, strict=True) if not b}
                for row, skip in zip(chosen, blank, strict=True)]

    def room(self, size: int = 30) -> dict:
        return {f"c{i}": sheet for i, sheet in enumerate(self.sheets(self.rng.normal(0, 1, size)))}


def copy_from(rng: np.random.Generator, source: dict, own: dict, share: float) -> dict:
    """`own` with a random `share` of the items replaced by the source's answers, wrong ones too."""
    copied = dict(own)
    for item, answer in source.items():
        if rng.random() < share:
            copied[item] = answer
    return copied
