"""The question-type registry: validation per type, candidate view, scoring, plain text."""

import pytest

from examsys.bank import qtypes
from examsys.bank.models import QType
from examsys.errors import ValidationError
from tests.bank.conftest import CONTENT


def full(qtype, **changes):
    base = {"stem": "", "options": [], "key": None, "reference_answer": "", "scoring_points": [],
            "explanation": ""}
    return {**base, **CONTENT[qtype], **changes}


def opts(*texts):
    return [{"label": "ABCDEFGH"[i], "text": t} for i, t in enumerate(texts)]


def test_every_type_is_registered_with_a_label():
    assert set(qtypes.REGISTRY) == set(QType)
    assert qtypes.LABELS == {"judge": "判断题", "single": "单项选择题", "multi": "多项选择题",
                             "fill": "填空题", "short": "简答题", "calc": "计算题", "essay": "论述题",
                             "case": "案例分析题"}
    assert frozenset({"judge", "single", "multi", "fill"}) == qtypes.OBJECTIVE
    with pytest.raises(ValidationError):
        qtypes.get("matching")


@pytest.mark.parametrize("qtype", ["judge", "single", "multi", "fill"])
def test_valid_objective_content_passes(qtype):
    assert qtypes.get(qtype).validate(full(qtype), 1) == []


def test_valid_open_content_passes():
    assert qtypes.get("short").validate(full("short"), 5) == []
    assert qtypes.get("case").validate(full("short"), None) == []


INVALID = [
    ("judge", {"key": "对"}, "key"),
    ("judge", {"stem": "<p> </p>"}, "stem"),
    ("single", {"key": ["A", "B"]}, "key"),
    ("single", {"key": "E"}, "key"),
    ("single", {"options": opts("50", "", "100", "220")}, "options"),
    ("single", {"options": opts("50", "60", "５０", "220")}, "options"),  # full-width duplicate
    ("single", {"options": opts("Ohm", "<b>ohm</b>", "V", "A")}, "options"),  # case + markup
    ("single", {"options": opts("50")}, "options"),
    ("multi", {"key": ["A"]}, "key"),
    ("multi", {"key": "AB"}, "key"),
    ("multi", {"key": ["A", "Z"]}, "key"),
    ("fill", {"key": [["√3"]]}, "key"),  # two blanks, one answer list
    ("fill", {"key": [["√3"], [""]]}, "key"),
    ("fill", {"key": [["√3"], []]}, "key"),
    ("fill", {"stem": "没有空的题干"}, "stem"),
    ("short", {"reference_answer": ""}, "reference_answer"),
    ("short", {"scoring_points": []}, "scoring_points"),
    ("short", {"scoring_points": [{"text": "要点", "points": 0}]}, "scoring_points"),
    ("short", {"key": "A"}, "key"),
]


@pytest.mark.parametrize(("qtype", "changes", "field"), INVALID)
def test_invalid_content_is_reported_on_its_field(qtype, changes, field):
    problems = qtypes.get(qtype).validate(full(qtype, **changes), 5 if qtype == "short" else 1)
    assert field in {f for f, _ in problems}, problems
    assert all(isinstance(m, str) and m for _, m in problems)


def test_duplicate_option_message_names_both_options():
    problems = qtypes.get("single").validate(full("single", options=opts("50", "60", "５０", "220")), 1)
    assert ("options", "选项C 与选项A 重复") in problems


def test_open_scoring_points_must_add_up_to_the_items_points():
    problems = qtypes.get("short").validate(full("short"), 6)
    assert problems == [("scoring_points", "评分要点分值合计 5 分，与本题分值 6 分不符")]


@pytest.mark.parametrize("stem", ["电压为____V", "电压为（  ）V", "电压为（）V", "电压为(  )V",
                                  "电压为(&nbsp;)V"])
def test_fill_blank_markers(stem):
    assert qtypes.count_blanks(stem) == 1
    assert qtypes.get("fill").validate(full("fill", stem=stem, key=[["220"]]), 1) == []


def test_f_of_x_is_not_a_blank():
    assert qtypes.count_blanks("函数 f() 与 ___ 不是空") == 0


SECRET_FIELDS = ("key", "explanation", "reference_answer", "scoring_points")


@pytest.mark.parametrize("qtype", ["judge", "single", "multi", "fill", "short"])
def test_candidate_view_never_shows_the_answer(qtype):
    content = full(qtype, explanation="解析文字")
    view = qtypes.get(qtype).candidate_view(content)
    assert not set(SECRET_FIELDS) & set(view)
    assert "解析文字" not in repr(view) and "迅速脱离电源" not in repr(view)


def test_candidate_view_follows_the_option_order():
    view = qtypes.get("single").candidate_view(full("single"), ["C", "A", "D", "B"])
    assert [(o["label"], o["value"], o["text"]) for o in view["options"]] == [
        ("A", "C", "100"), ("B", "A", "50"), ("C", "D", "220"), ("D", "B", "60")]
    with pytest.raises(ValueError):
        qtypes.get("single").candidate_view(full("single"), ["A", "B"])
    assert qtypes.get("fill").candidate_view(full("fill"))["blanks"] == 2


SCORES = [
    ("judge", True, 2, False, 2.0),
    ("judge", False, 2, False, 0.0),
    ("judge", "true", 2, False, 0.0),
    ("single", "A", 1, False, 1.0),
    ("single", "B", 1, False, 0.0),
    ("single", None, 1, False, 0.0),
    ("multi", ["A", "B", "D"], 2, False, 2.0),
    ("multi", ["D", "A", "B"], 2, False, 2.0),
    ("multi", "ABD", 2, False, 2.0),
    ("multi", ["A", "B"], 2, False, 0.0),  # 少选, no partial credit
    ("multi", ["A", "B"], 2, True, 1.33),  # 少选得分: 2 of 3, in proportion
    ("multi", ["A"], 3, True, 1.0),
    ("multi", ["A", "C"], 2, True, 0.0),  # 错选不得分
    ("multi", [], 2, True, 0.0),
    ("fill", ["√3", "30"], 2, False, 2.0),
    ("fill", ["1.732", "30"], 2, False, 2.0),
    ("fill", ["１．７３２", " 3 0 "], 2, False, 2.0),  # full width and spaces
    ("fill", ["√3", "60"], 2, False, 1.0),
    ("fill", ["√3"], 2, False, 1.0),
    ("fill", "√3", 2, False, 1.0),
    ("fill", [None, ""], 2, False, 0.0),
    ("short", "任意作答", 5, False, None),
]


@pytest.mark.parametrize(("qtype", "answer", "points", "partial", "expected"), SCORES)
def test_scoring(qtype, answer, points, partial, expected):
    assert qtypes.get(qtype).score(full(qtype), answer, points, partial_credit=partial) == expected


def test_fill_scoring_is_case_insensitive():
    content = full("fill", stem="单位是____", key=[["kW"]])
    assert qtypes.get("fill").score(content, ["ＫＷ"], 1) == 1.0


def test_plain_text_joins_stem_and_options():
    text = qtypes.get("single").plain_text(full("single"))
    assert text == "我国工频交流电的频率为（ ）Hz。 50 60 100 220"
