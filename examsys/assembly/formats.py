"""The solver's data contract: the dataclasses the solver accepts and returns (the in-app
``PaperBlueprint`` converts to ``FormSpec``) and the constants they use. Reading and writing the
JSON files (BANK.json, BP.json, FORMS.json) lives in ``jsonfiles``; see docs/assembly-formats.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ITEM_TYPES = ("judge", "single", "multi", "fill", "short", "essay", "calc", "case")
TYPE_NAMES = {
    "judge": "判断题",
    "single": "单项选择题",
    "multi": "多项选择题",
    "fill": "填空题",
    "short": "简答题",
    "essay": "论述题",
    "calc": "计算题",
    "case": "案例分析题",
}
IMPORTANCE_LEVELS = ("X", "Y", "Z")
DIFFICULTY_LEVELS = (1, 2, 3, 4, 5)
MAX_FORMS = 26  # form labels are single letters A..Z
MAX_REPORTED_ERRORS = 50
# Matching test information at the pass mark (``FormSpec.info_tolerance``). Items are 2PL in the
# logistic metric (no D = 1.7): P(θ) = 1 / (1 + exp(−a(θ − b))), information a²·P·(1 − P).
# An item without estimates from exam data takes a = 1 and b from its difficulty level: for
# θ ~ N(0, 1) these give marginal facilities of about 0.84, 0.70, 0.50, 0.30, 0.16, the middles of
# the five levels' facility bands (≥0.8, 0.6–0.8, 0.4–0.6, 0.2–0.4, <0.2).
FALLBACK_A = 1.0
FALLBACK_B = {1: -2.0, 2: -1.0, 3: 0.0, 4: 1.0, 5: 2.0}
MAX_INFO_TOLERANCE = 50.0  # percent

ItemId = str | int


@dataclass(frozen=True, slots=True)
class BankItem:
    id: ItemId
    type: str
    kp: str
    difficulty: int
    importance: str
    points: float = 1.0
    exposure: int = 0
    enemy_group: str | None = None
    # 2PL parameters estimated from exam data; None: the fallback above (see FALLBACK_A/B).
    a: float | None = None
    b: float | None = None


@dataclass(frozen=True, slots=True)
class Section:
    type: str
    count: int
    points: float = 1.0


@dataclass(frozen=True, slots=True)
class ContentRule:
    kp_prefix: str
    min: int = 0
    max: int | None = None
    types: tuple[str, ...] | None = None  # None: every type


@dataclass(frozen=True, slots=True)
class DifficultyRule:
    level: int
    min: int = 0
    max: int | None = None


@dataclass(frozen=True, slots=True)
class ImportanceRule:
    importance: str
    min: int


@dataclass(frozen=True)
class FormSpec:
    """What the solver must assemble: a paper blueprint's rules as plain values (not named
    Blueprint: that word is the domain's ``PaperBlueprint``, and ``bp`` a Flask blueprint).
    All counts are per form. ``enemy_groups`` adds groups to the items' own
    ``enemy_group`` (the app keeps enemy relations apart from the items)."""

    sections: tuple[Section, ...]
    forms: int = 1
    max_shared_items: int = 0
    content: tuple[ContentRule, ...] = ()
    difficulty: tuple[DifficultyRule, ...] = ()
    importance: tuple[ImportanceRule, ...] = ()
    exclude: frozenset[str] = frozenset()  # item ids as strings
    max_exposure: int | None = None
    enemy_groups: tuple[frozenset[str], ...] = ()
    # Test information at the pass mark matched across forms: with ``info_tolerance`` = t (percent)
    # every form's information at ``theta_cut`` lies within ±t% of the mean over the forms. Only
    # with two or more forms. ``theta_cut`` None: the solver takes the θ at which a form drawn from
    # the eligible pool is expected to score ``pass_fraction`` of its points.
    info_tolerance: float | None = None
    theta_cut: float | None = None
    pass_fraction: float | None = None

    @property
    def matches_information(self) -> bool:
        return self.info_tolerance is not None and self.forms >= 2

    @property
    def labels(self) -> list[str]:
        return [chr(ord("A") + i) for i in range(self.forms)]

    @property
    def form_size(self) -> int:
        return sum(s.count for s in self.sections)


@dataclass
class AssembledForm:
    label: str
    items: list[ItemId]


@dataclass
class SolveResult:
    status: str  # "ok" | "infeasible" | "timeout" | "error"
    forms: list[AssembledForm] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """The FORMS.json document."""
        if self.status == "ok":
            return {
                "status": "ok",
                "forms": [{"label": f.label, "items": list(f.items)} for f in self.forms],
                "report": self.report,
                "stats": self.stats,
            }
        return {"status": self.status, "reasons": self.reasons, "stats": self.stats}


def num(value, default=0.0) -> float:
    """A form field or JSON value as a float; `default` when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def kp_matches(kp: str, prefix: str) -> bool:
    """Prefixes match whole code segments: "A-01" covers "A-01-003", not "A-010-1"."""
    return kp == prefix or kp.startswith(prefix + "-")
