"""The K-index: its exact binomial tail, comparable answers, the false-positive rate measured on
simulated rooms of independent candidates (reported in the terminal summary), and detection of a
candidate who copied 60% of a neighbour's answers, wrong ones included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from examsys.supervision.copying import ALPHA, KeyedItem, answer_token, binomial_upper_tail, room_copying
from tests.supervision.simulate import Paper, copy_from

ROOMS, SIZE, ITEMS = 200, 30, 80


@pytest.mark.parametrize(("n", "k", "p"), [(30, 5, 0.1), (25, 17, 0.2), (80, 80, 0.5), (12, 1, 0.01), (9, 0, 0.3)])
def test_binomial_tail_is_exact(n, k, p):
    exact = sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))
    got = binomial_upper_tail(np.array([n]), np.array([k]), np.array([p]))[0]
    assert got == pytest.approx(exact, rel=1e-9)


def test_binomial_tail_of_more_successes_than_trials_is_zero():
    assert binomial_upper_tail(np.array([3]), np.array([4]), np.array([0.5]))[0] == 0.0


def test_answers_compare_by_meaning():
    assert answer_token("multi", ["C", "A"]) == answer_token("multi", "AC") == ("A", "C")
    assert answer_token("judge", False) is False
    assert answer_token("judge", "false") is None
    assert answer_token("single", "") is None
    assert answer_token("multi", []) is None
    assert answer_token("short", "文字") is None


def test_false_positive_rate_on_independent_rooms(record_property):
    """200 rooms of 30 independent candidates on their own 80-item paper: no room may show a
    flagged pair more often than the nominal family-wise level allows."""
    rng = np.random.default_rng(20261124)
    pairs = flagged = rooms_flagged = 0
    for _ in range(ROOMS):
        paper = Paper(rng, ITEMS)
        answers = paper.room(SIZE)
        room = room_copying(answers, paper.keys, {"r": list(answers)})["r"]
        assert room.tests == SIZE * (SIZE - 1)
        pairs += len(room.pairs)
        flagged += len(room.flagged)
        rooms_flagged += bool(room.flagged)
    pair_rate, room_rate = flagged / pairs, rooms_flagged / ROOMS
    record_property("supervision", f"copying K-index, independent candidates: {flagged} of {pairs} pairs "
                                   f"flagged ({pair_rate:.2e}), {rooms_flagged} of {ROOMS} rooms "
                                   f"(nominal family-wise level per room {ALPHA})")
    print(f"false positives: pairs {pair_rate:.2e}, rooms {room_rate:.3f}")
    assert pair_rate < ALPHA
    # At most alpha per room: 200 rooms at 0.001 expect 0.2; more than one would be suspicious.
    assert rooms_flagged <= 1


def _copied_room(rng, share=0.6, source_ability=-0.3):
    paper = Paper(rng, ITEMS)
    answers = paper.room(SIZE)
    source = paper.sheets([source_ability])[0]
    answers["c0"] = source
    answers["c1"] = copy_from(rng, source, answers["c1"], share)
    return paper, answers


def test_a_candidate_who_copied_sixty_percent_is_flagged_with_the_items():
    # A weak source (about half its answers wrong), the case the index is built for: a strong
    # source gives little wrong to copy, see the detection rates below.
    paper, answers = _copied_room(np.random.default_rng(7), source_ability=-1.0)
    room = room_copying(answers, paper.keys, {"r": list(answers)})["r"]
    pair = room.pairs[0]
    assert {pair.copier, pair.source} == {"c0", "c1"}
    assert pair.flagged and room.flagged == [pair]
    assert pair.k_index < room.threshold == ALPHA / room.tests
    assert pair.identical_incorrect >= 5 and pair.identical_incorrect > 2 * pair.expected
    # The evidence: exactly the items both answered the same wrong way.
    wrong_alike = {i for i, a in answers[pair.source].items()
                   if a != paper.keys[i].key and answers[pair.copier].get(i) == a}
    assert set(pair.items) == wrong_alike and len(pair.items) == pair.identical_incorrect


def test_detection_rate_of_sixty_percent_copying(record_property):
    rng = np.random.default_rng(11)
    rates = []
    for ability in (0.5, 0.0, -0.5, -1.0):
        found = 0
        for _ in range(50):
            paper, answers = _copied_room(rng, source_ability=ability)
            room = room_copying(answers, paper.keys, {"r": list(answers)})["r"]
            found += any({p.copier, p.source} == {"c0", "c1"} for p in room.flagged)
        rates.append(f"source ability {ability:+.1f}: {found / 50:.0%}")
    record_property("supervision", "copying K-index, 60% copied (50 rooms each): " + ", ".join(rates))
    assert int(rates[-1].split(": ")[1].rstrip("%")) >= 50


def test_pairs_are_tested_only_within_a_room_and_on_enough_shared_items():
    keys = {f"q{i}": KeyedItem(f"q{i}", "single", "A") for i in range(20)}
    same = {f"q{i}": "B" for i in range(20)}
    answers = {"a": dict(same), "b": dict(same), "c": {"q0": "B"}, "d": {f"q{i}": "A" for i in range(20)}}
    rooms = room_copying(answers, keys, {1: ["a", "c", "d"], 2: ["b"]})
    assert rooms[2].pairs == [] and rooms[2].tests == 0
    # a and c share one item: not tested; a and d share 20 but d made no mistake to copy.
    assert [(p.copier, p.source) for p in rooms[1].pairs] in ([("d", "a")], [("a", "d")])
    assert rooms[1].pairs[0].identical_incorrect == 0 and not rooms[1].flagged


def test_open_and_fill_items_are_left_out():
    keys = {"q": KeyedItem("q", "fill", [["50"]]), "s": KeyedItem("s", "short", None)}
    rooms = room_copying({"a": {"q": ["40"], "s": "x"}, "b": {"q": ["40"], "s": "x"}}, keys, {1: ["a", "b"]})
    assert rooms[1].pairs == []
