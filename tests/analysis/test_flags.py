"""Flags with their evidence, from figures set by hand."""

from __future__ import annotations

from examsys.analysis.flags import FlagKind, item_flags


def kinds(flags):
    return sorted((f.item, f.kind.value) for f in flags)


def test_facility_and_discrimination_flags():
    flags = item_flags(100, p=[0.95, 0.1, 0.5, 0.5], r=[0.3, 0.3, 0.1, -0.2], d=[0.1, 0.1, 0.05, -0.3])
    assert kinds(flags) == [(0, "too_easy"), (1, "too_hard"), (2, "low_discrimination"),
                            (3, "negative_discrimination")]
    easy = flags[0]
    assert easy.evidence["p"] == 0.95 and "0.95" in easy.reason("第1题")


def test_dead_distractor_and_wrong_key_from_option_shares():
    options = [{
        "labels": ["A", "B", "C", "D"], "key": "A",
        "all": [0.40, 0.45, 0.14, 0.01],
        "upper": [0.20, 0.75, 0.05, 0.0],
        "lower": [0.55, 0.15, 0.28, 0.02],
    }]
    flags = item_flags(200, p=[0.4], r=[-0.25], d=[-0.35], options=options)
    by_kind = {f.kind: f for f in flags}
    assert set(by_kind) == {FlagKind.DEAD_DISTRACTOR, FlagKind.LIKELY_WRONG_KEY, FlagKind.NEGATIVE_DISCRIMINATION}
    assert by_kind[FlagKind.DEAD_DISTRACTOR].evidence["option"] == "D"
    wrong = by_kind[FlagKind.LIKELY_WRONG_KEY]
    assert (wrong.evidence["option"], wrong.evidence["key"]) == ("B", "A")
    assert wrong.evidence["upper_option"] == 0.75 and wrong.evidence["upper_key"] == 0.20
    assert "B" in wrong.reason() and "75%" in wrong.reason()


def test_no_flags_from_too_few_candidates():
    assert item_flags(12, p=[0.99], r=[-0.5], d=[-0.5]) == []


def test_a_hard_but_discriminating_item_is_not_a_wrong_key():
    options = [{"labels": ["A", "B"], "key": "A", "all": [0.2, 0.8], "upper": [0.3, 0.7], "lower": [0.0, 1.0]}]
    assert FlagKind.LIKELY_WRONG_KEY not in {f.kind for f in item_flags(100, p=[0.2], r=[0.4], d=[0.3],
                                                                         options=options)}
