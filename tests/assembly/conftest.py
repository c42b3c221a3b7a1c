"""Fixtures for the pure solver tests: small synthetic banks and blueprints."""

import random

import pytest

from examsys.assembly.formats import (
    BankItem,
    ContentRule,
    DifficultyRule,
    FormSpec,
    ImportanceRule,
    Section,
)


def build_bank(n: int, seed: int = 0, *, enemy_every: int = 0) -> list[BankItem]:
    """n items over ranges A-C, sub-ranges 01-03, judge/single/multi, difficulty 1-5."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        items.append(BankItem(
            id=f"I{i:04d}",
            type=rng.choices(["judge", "single", "multi"], [3, 5, 2])[0],
            kp=f"{rng.choice('ABC')}-{rng.randint(1, 3):02d}-{rng.randint(1, 9):03d}",
            difficulty=rng.choices([1, 2, 3, 4, 5], [1, 2, 4, 2, 1])[0],
            importance=rng.choices("XYZ", [3, 5, 2])[0],
            exposure=rng.choice([0, 0, 1, 2, 3, 5, 8, 13]),
            enemy_group=f"E{i // enemy_every}" if enemy_every and i % enemy_every < 2 else None,
        ))
    return items


def build_blueprint(**overrides) -> FormSpec:
    """A small paper: 判断 4, 单选 6, 多选 2, with content, difficulty and X rules."""
    base = {
        "sections": (Section("judge", 4), Section("single", 6), Section("multi", 2)),
        "content": (ContentRule("A", min=3, max=5), ContentRule("B", min=3, max=5),
                    ContentRule("C-01", types=("single",), min=1, max=3)),
        "difficulty": (DifficultyRule(3, min=3, max=6), DifficultyRule(5, min=0, max=2)),
        "importance": (ImportanceRule("X", 3),),
    }
    base.update(overrides)
    return FormSpec(**base)


@pytest.fixture
def bank():
    return build_bank(300, seed=1, enemy_every=25)


@pytest.fixture
def make_bank():
    return build_bank


@pytest.fixture
def make_spec():
    return build_blueprint
