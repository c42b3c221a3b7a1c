"""Every GIFT file of the conformance corpus parses the way GIFT-grammar-PEG.js says it
should (type, stem, choices, which are correct, category) for the supported types; the
unsupported ones are reported one by one and descriptions are skipped with a note."""

from __future__ import annotations

import html
import json
import re

import pytest

from examsys.interchange import parse_file
from examsys.interchange.convert import category_to_path

from .conftest import conformance_files

SUPPORTED = {"TF", "MC", "Short", "Essay"}
UNSUPPORTED = {"Numerical", "Matching"}


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _mine_as(fragment: str, fmt: str) -> str:
    """Our HTML seen the way the expected parse writes that format."""
    if fmt == "html":
        return _collapse(fragment)
    return _collapse(html.unescape(re.sub(r"<br\s*/?>", "\n", fragment)))


def _weight(choice) -> float:
    if choice["weight"] is not None:
        return float(choice["weight"])
    return 100.0 if choice["isCorrect"] else 0.0


def _expected_correct(choices) -> list[int]:
    """Full-credit answers when any, else every positive weight (split credit)."""
    weights = [_weight(c) for c in choices]
    full = [i for i, w in enumerate(weights) if w >= 100]
    return full or [i for i, w in enumerate(weights) if w > 0]


@pytest.mark.parametrize("name", conformance_files("gift", "*.gift"))
def test_gift_file_matches_expected_parse(gift_dir, name):
    expected = json.loads((gift_dir / name.replace(".gift", ".json")).read_text("utf-8"))
    result = parse_file(name, (gift_dir / name).read_bytes())
    assert result.errors == []

    category: list[str] = []
    questions = []
    for q in expected:
        if q["type"] == "Category":
            category = category_to_path(q["title"])
        elif q["type"] in SUPPORTED:
            questions.append((q, category))
    assert len(result.items) == len(questions)
    assert len(result.unsupported) == sum(q["type"] in UNSUPPORTED for q in expected)
    descriptions = [n for n in result.notes if "description" in n.message]
    assert len(descriptions) == sum(q["type"] == "Description" for q in expected)

    for draft, (q, kp_path) in zip(result.items, questions, strict=True):
        content = draft.content
        assert draft.kp_path == kp_path
        assert draft.source.name == q["title"]
        assert draft.external_id == q.get("id")
        assert draft.tags == (q.get("tags") or [])
        stem_fmt = q["stem"]["format"]
        want_stem = _collapse(q["stem"]["text"])
        if q["type"] == "TF":
            assert draft.qtype == "judge"
            assert content["key"] is q["isTrue"]
        elif q["type"] == "Essay":
            assert draft.qtype == "essay"
        elif q["type"] == "MC":
            correct = _expected_correct(q["choices"])
            assert draft.qtype == ("single" if len(correct) == 1 else "multi")
            texts = [
                _mine_as(o["text"], c["text"]["format"]) for o, c in zip(content["options"], q["choices"], strict=True)
            ]
            assert texts == [_collapse(c["text"]["text"]) for c in q["choices"]]
            labels = [content["options"][i]["label"] for i in correct]
            assert content["key"] == (labels[0] if len(labels) == 1 else labels)
        elif q["type"] == "Short":
            assert draft.qtype == "fill"
            correct = [c for c in q["choices"] if _weight(c) >= 100]
            assert content["key"] == [[_collapse(c["text"]["text"]) for c in correct]]
            if "_____" not in want_stem:
                want_stem = f"{want_stem} _____"
        assert _mine_as(content["stem"], stem_fmt) == want_stem
        if q.get("globalFeedback"):
            assert _mine_as(content["explanation"], q["globalFeedback"]["format"]) == _collapse(
                q["globalFeedback"]["text"]
            )
