"""The shape of a candidate's answer, per question type, checked before it is stored.

Shapes (what the exam page sends as `answer`; `null` clears an answer):
- judge: true | false
- single: one option value (the original label the paper API gives as `value`)
- multi: a list of distinct option values (stored sorted)
- fill: a list of strings, one per blank (shorter lists leave the last blanks empty)
- short, calc, essay, case: a string (plain text or the editor's HTML)

Errors name the problem, never the key: nothing here reads `key`, explanations or scoring points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from examsys.bank import qtypes
from examsys.errors import ValidationError

MAX_BLANK_CHARS = 500
MAX_TEXT_CHARS = 20_000


def _option_values(content: dict) -> set[str]:
    return {o.get("label") for o in content.get("options") or [] if isinstance(o, dict)}


@dataclass(frozen=True)
class AnswerSpec:
    """What checking an answer needs from an item version: its type, option values and number of
    blanks. Derived from immutable content, so it may be cached per (form item, version)."""

    qtype: str
    options: frozenset[str]
    blanks: int


def spec_of(qtype: str, content: dict) -> AnswerSpec:
    options = frozenset(_option_values(content)) if qtype in ("single", "multi") else frozenset()
    blanks = max(1, qtypes.count_blanks(content.get("stem", ""))) if qtype == "fill" else 0
    return AnswerSpec(qtype=qtype, options=options, blanks=blanks)


def normalise(qtype: str, content: dict, answer: Any) -> Any:
    """The answer as stored, or ValidationError (field "answer") when its shape is wrong."""
    return normalise_spec(spec_of(qtype, content), answer)


def normalise_spec(spec: AnswerSpec, answer: Any) -> Any:
    """`normalise` against a precomputed AnswerSpec (the autosave hot path)."""
    qtype = spec.qtype
    if answer is None:
        return None
    if qtype == "judge":
        if not isinstance(answer, bool):
            raise ValidationError("判断题的答案应为“对”或“错”", field="answer")
        return answer
    if qtype == "single":
        if not isinstance(answer, str) or answer not in spec.options:
            raise ValidationError("单项选择题的答案应为一个选项", field="answer")
        return answer
    if qtype == "multi":
        values = spec.options
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer) \
                or len(set(answer)) != len(answer) or not set(answer) <= values:
            raise ValidationError("多项选择题的答案应为若干个不重复的选项", field="answer")
        return sorted(answer)
    if qtype == "fill":
        blanks = spec.blanks
        if isinstance(answer, str):
            answer = [answer]
        if not isinstance(answer, list) or len(answer) > blanks \
                or not all(a is None or isinstance(a, str) for a in answer):
            raise ValidationError(f"填空题的答案应为不超过 {blanks} 个空的文字", field="answer")
        if any(a is not None and len(a) > MAX_BLANK_CHARS for a in answer):
            raise ValidationError(f"每个空的答案不能超过 {MAX_BLANK_CHARS} 个字符", field="answer")
        return answer
    if not isinstance(answer, str):
        raise ValidationError("主观题的答案应为文字", field="answer")
    if len(answer) > MAX_TEXT_CHARS:
        raise ValidationError(f"答案不能超过 {MAX_TEXT_CHARS} 个字符", field="answer")
    return answer


def is_answered(answer: Any) -> bool:
    """Whether an answer counts as given (for the navigator and the answered count)."""
    if answer is None:
        return False
    if isinstance(answer, bool):
        return True
    if isinstance(answer, str):
        return bool(answer.strip())
    if isinstance(answer, list):
        return any(is_answered(a) if not isinstance(a, str) else bool(a.strip()) for a in answer)
    return True
