"""The checks an item version must pass before review: its content (by the question-type
registry) and its classification, with the names of the fields reviewers comment on. Used when
writing (items) and when submitting (workflow)."""

from __future__ import annotations

from examsys.bank import qtypes
from examsys.bank.models import QType
from examsys.errors import ValidationError

REVIEW_FIELDS = {
    "stem": "题干", "options": "选项", "key": "答案", "explanation": "解析",
    "reference_answer": "参考答案", "scoring_points": "评分要点", "point": "鉴定点",
    "levels": "等级", "difficulty": "难度", "points": "分值",
}


def readiness_problems(qtype: QType, content: dict, point: object | None, levels: list[int],
                       points: float | None) -> list[tuple[str, str]]:
    """Everything that keeps a version out of review: content (registry) and classification.
    `point` is the assessment point or its id (only its presence is checked here)."""
    problems = list(qtypes.get(qtype).validate(content, points))
    if point is None:
        problems.append(("point", "请选择鉴定点"))
    if not levels:
        problems.append(("levels", "请至少选择一个等级"))
    return problems


def raise_problems(problems: list[tuple[str, str]]) -> None:
    """Raise one ValidationError listing every problem as "field: message"."""
    if problems:
        lines = [f"{REVIEW_FIELDS.get(f, f)}: {m}" for f, m in problems]
        raise ValidationError("试题未通过检查：\n" + "\n".join(lines),
                              details={"problems": [{"field": f, "message": m} for f, m in problems]})
