"""The question-type registry: one class per item type (CONTENT_FORMAT.md), each owning its
content validation, the data a candidate may see, scoring, and plain text for search.

Pure: no database, no Flask. Look a type up with `get(qtype)`; iterate `REGISTRY` for all.

Structural checks shared with the importers come from `examsys.interchange.checks`; this module
adds what only the bank knows: blanks written as ASCII `(  )`, duplicate options compared after
NFKC normalisation, and, for open types, a required reference answer and scoring points that
add up to the item's points. A draft may still lack the reference answer and the scoring points
(an imported open question often has neither): `validate(..., draft=True)` leaves them out, and
`missing_for_review` names what is missing so the bank can flag the draft; submission checks
them (`validate` without `draft`).

Scoring rules (documented for candidates and auditors):
- judge, single: all or nothing.
- multi: all or nothing by default. With `partial_credit=True` (少选得分): any wrong option
  selected scores 0 (错选不得分); a non-empty subset of the key scores in proportion to the
  correct options chosen, `points * chosen / len(key)`, rounded half-up to 0.01.
- fill: each blank is right when the answer, normalised (NFKC so full/half width agree, all
  whitespace removed, case folded), equals one of that blank's accepted answers normalised the
  same way; points are split evenly across blanks, total rounded half-up to 0.01.
- short, calc, essay, case: None, i.e. marked by people.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from examsys.bank import richtext
from examsys.bank.models import QType
from examsys.errors import ValidationError
from examsys.interchange.checks import BLANK_RE as _INTERCHANGE_BLANK
from examsys.interchange.checks import validate_content as _structural_checks

OPTION_LABELS = "ABCDEFGH"
# ASCII parentheses holding only spaces also mark a blank; at least one space is required so
# that "f()" in a formula is not taken for one.
_ASCII_BLANK = re.compile(r"\((?:[ \t\u3000\u00a0]|&nbsp;)+\)")
BLANK_RE = re.compile(f"{_INTERCHANGE_BLANK.pattern}|{_ASCII_BLANK.pattern}")

Problem = tuple[str, str]


def count_blanks(stem: str) -> int:
    return len(BLANK_RE.findall(stem or ""))


def normalise_answer(text: Any) -> str:
    """Text as compared for fill-in answers and duplicate options: NFKC (full/half width),
    no whitespace at all, case folded."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def _round(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class QTypeBase:
    """A question type. Subclasses set `qtype`, `label`, `objective` and override as needed."""

    qtype: ClassVar[QType]
    label: ClassVar[str]
    objective: ClassVar[bool]

    def validate(self, content: Any, points: float | None = None, *, draft: bool = False) -> list[Problem]:
        """Every problem with `content` as (field, message) pairs; [] when it may enter the bank.
        With `draft`, what a draft may still lack (`missing_for_review`) is not a problem."""
        problems = _structural_checks(self.qtype.value, self._for_structural_check(content))
        if isinstance(content, dict):
            problems += self._extra_checks(content, points)
            if draft:
                missing = set(self.missing_for_review(content))
                problems = [p for p in problems if p not in missing]
        return _unique(problems)

    def missing_for_review(self, content: dict) -> list[Problem]:
        """The parts a draft may lack but a version submitted for review may not."""
        return []

    def _for_structural_check(self, content: Any) -> Any:
        return content

    def _extra_checks(self, content: dict, points: float | None) -> list[Problem]:
        return []

    def candidate_view(self, content: dict, option_order: Sequence[str] | None = None) -> dict:
        """What a candidate may see: never the key, explanation, reference answer or scoring
        points. Built from an allow-list, so fields added to content later stay hidden."""
        return {"qtype": self.qtype.value, "stem": content.get("stem", "")}

    def score(self, content: dict, answer: Any, points: float, *,
              partial_credit: bool = False) -> float | None:
        """Points earned by `answer`, or None when a person must mark it."""
        return None

    def plain_text(self, content: dict) -> str:
        """Stem and options as plain text, for search and near-duplicate detection."""
        parts = [richtext.to_plain(content.get("stem"))]
        for opt in content.get("options") or []:
            if isinstance(opt, dict):
                parts.append(richtext.to_plain(opt.get("text")))
        return " ".join(p for p in parts if p)


REGISTRY: dict[QType, QTypeBase] = {}


def register(cls: type[QTypeBase]) -> type[QTypeBase]:
    REGISTRY[cls.qtype] = cls()
    return cls


def get(qtype: str | QType) -> QTypeBase:
    """The registered type; raises ValidationError for an unknown one."""
    try:
        return REGISTRY[QType(qtype)]
    except ValueError:
        raise ValidationError(f"未知题型：{qtype}", field="qtype") from None


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


# --- objective types ---------------------------------------------------------------------------


@register
class Judge(QTypeBase):
    qtype = QType.JUDGE
    label = "判断题"
    objective = True

    def score(self, content, answer, points, *, partial_credit=False):
        return float(points) if isinstance(answer, bool) and answer is content.get("key") else 0.0


class _Choice(QTypeBase):
    objective = True

    def _extra_checks(self, content, points):
        problems = []
        seen: dict[str, str] = {}
        for opt in content.get("options") or []:
            if not isinstance(opt, dict):
                continue
            norm = normalise_answer(richtext.to_plain(opt.get("text")))
            label = opt.get("label")
            if not norm or "<img" in str(opt.get("text", "")):
                continue  # empty options are reported by the structural check; images differ by src
            if norm in seen:
                problems.append(("options", f"选项{label} 与选项{seen[norm]} 重复"))
            else:
                seen[norm] = label
        return problems

    def candidate_view(self, content, option_order=None):
        options = {o["label"]: o for o in content.get("options") or []}
        order = list(option_order) if option_order is not None else list(options)
        if sorted(order) != sorted(options):
            raise ValueError(f"option_order {order!r} is not a permutation of {sorted(options)}")
        return {
            "qtype": self.qtype.value,
            "stem": content.get("stem", ""),
            # `value` is what the candidate's answer carries; `label` is what the screen shows.
            "options": [{"label": OPTION_LABELS[i], "value": value, "text": options[value]["text"]}
                        for i, value in enumerate(order)],
        }


@register
class Single(_Choice):
    qtype = QType.SINGLE
    label = "单项选择题"

    def score(self, content, answer, points, *, partial_credit=False):
        return float(points) if isinstance(answer, str) and answer == content.get("key") else 0.0


@register
class Multi(_Choice):
    qtype = QType.MULTI
    label = "多项选择题"

    def score(self, content, answer, points, *, partial_credit=False):
        key = set(content.get("key") or [])
        if isinstance(answer, str):
            answer = list(answer)
        if not isinstance(answer, list | tuple | set | frozenset) or not key:
            return 0.0
        chosen = set(answer)
        if chosen == key:
            return float(points)
        if not partial_credit or not chosen or not chosen <= key:
            return 0.0
        return _round(points * len(chosen) / len(key))


@register
class Fill(QTypeBase):
    qtype = QType.FILL
    label = "填空题"
    objective = True

    def _for_structural_check(self, content):
        # The shared check knows underscores and full-width brackets; ASCII "(  )" blanks are
        # rewritten to underscores so both count the same blanks.
        if isinstance(content, dict) and isinstance(content.get("stem"), str):
            return {**content, "stem": _ASCII_BLANK.sub("____", content["stem"])}
        return content

    def candidate_view(self, content, option_order=None):
        return {"qtype": self.qtype.value, "stem": content.get("stem", ""),
                "blanks": count_blanks(content.get("stem", ""))}

    def score(self, content, answer, points, *, partial_credit=False):
        key = content.get("key") or []
        if not key:
            return 0.0
        if isinstance(answer, str):
            answer = [answer]
        if not isinstance(answer, list | tuple):
            return 0.0
        right = 0
        for i, accepted in enumerate(key):
            given = normalise_answer(answer[i]) if i < len(answer) and answer[i] is not None else ""
            if given and given in {normalise_answer(a) for a in accepted}:
                right += 1
        return _round(points * right / len(key))


# --- open types (marked by people) ------------------------------------------------------------


MISSING_REFERENCE = ("reference_answer", "缺少参考答案：主观题提交审核前须填写参考答案")
MISSING_SCORING = ("scoring_points", "缺少评分要点：主观题提交审核前须列出评分要点"
                                     "（每行一条，分值写在括号中，如“说明接地原理（2分）”）")


class _Open(QTypeBase):
    objective = False

    def missing_for_review(self, content):
        missing = []
        if not richtext.to_plain(content.get("reference_answer")) and \
                "<img" not in str(content.get("reference_answer") or ""):
            missing.append(MISSING_REFERENCE)
        if not content.get("scoring_points"):
            missing.append(MISSING_SCORING)
        return missing

    def _extra_checks(self, content, points):
        problems = self.missing_for_review(content)
        scoring = content.get("scoring_points")
        if scoring and points is not None and isinstance(scoring, list):
            values = [sp.get("points") for sp in scoring if isinstance(sp, dict)]
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                total = sum(values)
                if abs(total - float(points)) > 1e-6:
                    problems.append(("scoring_points", f"评分要点分值合计 {show_number(total)} 分，"
                                                       f"与本题分值 {show_number(points)} 分不符"))
        return problems


def show_number(value: float) -> str:
    """Points for people: 2, not 2.0; 2.5 stays 2.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@register
class Short(_Open):
    qtype = QType.SHORT
    label = "简答题"


@register
class Calc(_Open):
    qtype = QType.CALC
    label = "计算题"


@register
class Essay(_Open):
    qtype = QType.ESSAY
    label = "论述题"


@register
class Case(_Open):
    qtype = QType.CASE
    label = "案例分析题"


LABELS: dict[str, str] = {q.value: t.label for q, t in REGISTRY.items()}
OBJECTIVE: frozenset[str] = frozenset(q.value for q, t in REGISTRY.items() if t.objective)


def missing_labels(qtype: str | QType, content: dict) -> list[str]:
    """Short flags for what a draft still lacks before review: ["缺少评分要点", ...]."""
    return [message.split("：", 1)[0] for _field, message in get(qtype).missing_for_review(content or {})]
