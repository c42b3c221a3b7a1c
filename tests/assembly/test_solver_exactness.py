"""The grouped model is exact: on random small instances it agrees with the
plain one-binary-per-item model on feasibility and on the optimal exposure
cost, and every form it returns passes the independent checker."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examsys.assembly.checker import check_forms
from examsys.assembly.formats import (
    BankItem,
    ContentRule,
    DifficultyRule,
    FormSpec,
    ImportanceRule,
    Section,
)
from examsys.assembly.solver import solve, solve_naive_baseline

KPS = ["A-01-001", "A-02-001", "B-01-001"]

items = st.lists(
    st.tuples(
        st.sampled_from(["judge", "single"]),
        st.sampled_from(KPS),
        st.integers(1, 2),
        st.sampled_from("XY"),
        st.sampled_from([0, 1, 3, 9]),
        st.sampled_from([None, None, None, None, "E1", "E2"]),
    ),
    min_size=6,
    max_size=24,
)


@st.composite
def instances(draw):
    """Few distinct attributes, so groups are large and forms must often share."""
    raw = draw(items)
    bank = [BankItem(f"Q{i}", t, kp, d, imp, exposure=e, enemy_group=en)
            for i, (t, kp, d, imp, e, en) in enumerate(raw)]
    content = ()
    if draw(st.booleans()):
        content = (ContentRule("A", min=draw(st.integers(0, 2)), max=draw(st.integers(2, 5))),)
        if draw(st.booleans()):
            content += (ContentRule("A-01", types=("single",), min=draw(st.integers(0, 1))),)
    difficulty = ()
    if draw(st.booleans()):
        difficulty = (DifficultyRule(2, min=draw(st.integers(0, 2)), max=3),)
    spec = FormSpec(
        sections=(Section("judge", draw(st.integers(0, 3))),
                  Section("single", draw(st.integers(1, 4)))),
        forms=draw(st.integers(1, 5)),
        max_shared_items=draw(st.sampled_from([0, 1, 1, 2, 3, 4])),
        content=content,
        difficulty=difficulty,
        importance=(ImportanceRule("X", draw(st.integers(0, 2))),),
        max_exposure=draw(st.sampled_from([None, None, 3])),
    )
    return bank, spec


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_grouped_model_matches_the_plain_model(instance):
    bank, spec = instance
    grouped = solve(bank, spec, seed=1, time_limit=20)
    plain = solve_naive_baseline(bank, spec, seed=1, time_limit=20)
    assert grouped.status == plain.status, (grouped.reasons, plain.reasons)
    if grouped.status == "ok":
        assert check_forms(bank, spec, grouped.forms) == []
        assert check_forms(bank, spec, plain.forms) == []
        assert abs(grouped.stats["objective"] - plain.stats["objective"]) < 1e-6
    else:
        assert grouped.status == "infeasible" and grouped.reasons
