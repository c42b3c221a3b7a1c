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
