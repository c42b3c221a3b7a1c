"""One form per candidate: every form meets the blueprint (independent checker), pairwise overlap
stays under the cap, enemy groups are respected, uses are balanced."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from examsys.assembly.checker import check_forms
from examsys.assembly.formats import BankItem, ContentRule, DifficultyRule, FormSpec, Section
from examsys.assembly.per_candidate import per_candidate_forms


def bank(n=600):
    items = []
    for i in range(n):
        items.append(BankItem(id=f"Q{i}", type="single" if i % 3 else "judge", kp=f"{'AB'[i % 2]}-01-{i % 7:03d}",
                              difficulty=1 + i % 5, importance="XY"[i % 2],
                              enemy_group=f"E{i // 10}" if i % 10 < 3 else None))
    return items


SPEC = FormSpec(sections=(Section("judge", 5), Section("single", 10)),
                content=(ContentRule("A", min=7, max=8),),
                difficulty=(DifficultyRule(3, min=3, max=3),))


def test_every_form_meets_the_blueprint_and_the_overlap_cap():
    items = bank()
    result = per_candidate_forms(items, SPEC, 60, max_shared=3, seed=2)
    assert result.status == "ok", result.reasons
    assert len(result.forms) == 60
    by_id = {it.id: it for it in items}
    for form in result.forms:
        assert check_forms([by_id[i] for i in form.items], SPEC, [form]) == []
    sets = [set(f.items) for f in result.forms]
    assert max(len(a & b) for a, b in combinations(sets, 2)) <= 3
    uses = Counter(i for f in result.forms for i in f.items)
    assert len({f.label for f in result.forms}) == 60
    assert max(uses.values()) <= 60 * 15 // len(uses) + 3  # spread, not a few favourites


def test_an_impossible_cap_is_reported_not_broken():
    result = per_candidate_forms(bank(60), SPEC, 40, max_shared=0, seed=1)
    assert result.status == "infeasible"
    assert result.reasons[0]["rule"] == "max_shared_items"


def _lonely_bank():
    """Forty single-choice items no two of which the blueprint counts alike (own point, own
    difficulty): every interchangeable group holds one item, so swapping within groups cannot make
    two forms differ at all."""
    return [BankItem(id=f"L{i}", type="single", kp=f"{'AB'[i % 2]}-{i // 2:02d}", difficulty=1 + i % 5,
                     importance="X") for i in range(40)]


LONELY = FormSpec(sections=(Section("single", 10),),
                  content=(ContentRule("A", min=4, max=6), ContentRule("B", min=4, max=6)),
                  difficulty=(DifficultyRule(1, min=1, max=3), DifficultyRule(5, min=1, max=3)))


def test_forms_are_filled_across_groups_when_groups_are_single_items():
    """A bank of one-item groups (the demo's bank has 71 of 136) used to need a cap of nearly the
    whole form; the slots a group cannot fill now take items of other groups (the whole form
    solved at once where one slot at a time gets stuck), each form still meeting the blueprint."""
    items = _lonely_bank()
    result = per_candidate_forms(items, LONELY, 12, max_shared=4, seed=3)
    assert result.status == "ok", result.reasons
    assert result.stats["forms_filled_across_classes"] >= 1
    by_id = {it.id: it for it in items}
    for form in result.forms:
        assert check_forms([by_id[i] for i in form.items], LONELY, [form]) == []
    sets = [set(f.items) for f in result.forms]
    assert max(len(a & b) for a, b in combinations(sets, 2)) <= 4
    assert len(set.union(*sets)) >= 30  # most of the bank takes part, not one form's ten items


def test_the_draw_stops_at_its_budget():
    result = per_candidate_forms(_lonely_bank(), LONELY, 12, max_shared=4, seed=3, draw_limit=0.0)
    assert result.status == "timeout" and "超过" in result.reasons[0]["message"]
