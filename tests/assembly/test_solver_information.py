"""Matching the forms' test information at the pass mark: solved forms within the tolerance (by
the checker and by a calculation of the test's own), θ_cut from the pass fraction, a tolerance
that cannot be met explained, the checker catching a violating form, and the BP/BANK.json
fields."""

import math
import random
from dataclasses import replace

import pytest

from examsys.assembly.checker import check_forms
from examsys.assembly.formats import AssembledForm, BankItem, FormSpec, Section
from examsys.assembly.jsonfiles import FormatError, parse_bank, parse_blueprint
from examsys.assembly.solver import solve

# The documented fallback for items without estimates: a = 1, b by difficulty level.
FALLBACK_B = {1: -2.0, 2: -1.0, 3: 0.0, 4: 1.0, 5: 2.0}


def info(item: BankItem, theta: float) -> float:
    """2PL information in the logistic metric, written out here independently of the app."""
    a = item.a if item.a is not None else 1.0
    b = item.b if item.b is not None else FALLBACK_B[item.difficulty]
    p = 1 / (1 + math.exp(-a * (theta - b)))
    return a * a * p * (1 - p)


def form_information(bank, form, theta):
    by_id = {it.id: it for it in bank}
    return sum(info(by_id[i], theta) for i in form.items)


def calibrated_bank(make_bank, seed=5):
    """The shared 300-item bank, two items in three with 2PL estimates of their own."""
    rng = random.Random(seed)
    return [replace(it, a=round(rng.uniform(0.4, 2.2), 3), b=round(rng.gauss(0, 1.2), 3)) if i % 3 else it
            for i, it in enumerate(make_bank(300, seed=1, enemy_every=25))]


@pytest.mark.parametrize("tolerance", [5.0, 1.0])
def test_solved_forms_match_information_within_the_tolerance(make_bank, make_spec, tolerance):
    bank = calibrated_bank(make_bank)
    spec = make_spec(forms=3, info_tolerance=tolerance, pass_fraction=0.6)
    result = solve(bank, spec, seed=2)
    assert result.status == "ok", result.reasons
    theta = result.stats["theta_cut"]
    assert check_forms(bank, replace(spec, theta_cut=theta), result.forms) == []
    values = [form_information(bank, f, theta) for f in result.forms]
    mean = sum(values) / len(values)
    assert all(abs(v - mean) <= tolerance / 100 * mean + 1e-9 for v in values)
    report = result.report["information"]
    assert report["ok"] is True and report["tolerance"] == tolerance
    assert [report["per_form"][f.label] for f in result.forms] == pytest.approx(values)
    with_data = {it.id for it in bank if it.a is not None}
    assert report["items_with_data"] == {f.label: len(set(f.items) & with_data) for f in result.forms}


def test_without_the_tolerance_forms_may_differ_and_nothing_is_reported(make_bank, make_spec):
    bank = calibrated_bank(make_bank)
    result = solve(bank, make_spec(forms=3), seed=2)
    assert result.status == "ok" and "information" not in result.report
    assert "theta_cut" not in result.stats


def test_theta_cut_is_where_the_pool_is_expected_to_score_the_pass_fraction():
    # All items fall back to a = 1, b = 0 (level 3): the expected fraction is the logistic of θ.
    bank = [BankItem(f"Q{i}", "single", "A-01-001", 3, "Y") for i in range(8)]
    for fraction in (0.5, 0.75):
        spec = FormSpec(sections=(Section("single", 2),), forms=2, info_tolerance=10,
                        pass_fraction=fraction)
        result = solve(bank, spec)
        assert result.status == "ok"
        assert result.stats["theta_cut"] == pytest.approx(math.log(fraction / (1 - fraction)), abs=1e-5)


def test_a_tolerance_that_cannot_be_met_is_explained():
    # One highly discriminating item among four: two disjoint forms of two cannot match.
    bank = [BankItem(f"Q{i}", "single", "A-01-001", 3, "Y", a=a, b=0.0)
            for i, a in enumerate([2.0, 0.5, 0.5, 0.5])]
    spec = FormSpec(sections=(Section("single", 2),), forms=2, info_tolerance=5, theta_cut=0.0)
    result = solve(bank, spec)
    assert result.status == "infeasible"
    [reason] = result.reasons
    assert reason["rule"] == "information" and reason["available"] == 5
    assert "±5% 以内" in reason["message"] and "θ=0.000" in reason["message"]
    # A 1.0625 (2.0 and 0.5), B 0.125: 79 % from their mean.
    assert "A 1.06、B 0.12" in reason["message"] and reason["needed"] == 79
    # Allowed to share one item, both forms take a weak pair around the same item: feasible.
    shared = solve(bank, replace(spec, max_shared_items=1))
    assert shared.status == "ok" and "Q0" not in shared.forms[0].items + shared.forms[1].items


def test_checker_catches_a_form_outside_the_tolerance():
    bank = [BankItem(f"Q{i}", "single", "A-01-001", 3, "Y", a=a, b=0.0)
            for i, a in enumerate([2.0, 0.5, 0.5, 0.5])]
    spec = FormSpec(sections=(Section("single", 2),), forms=2, info_tolerance=10, theta_cut=0.0)
    forms = [AssembledForm("A", ["Q0", "Q1"]), AssembledForm("B", ["Q2", "Q3"])]
    violations = check_forms(bank, spec, forms)
    assert {v.form for v in violations} == {"A", "B"} and {v.rule for v in violations} == {"information"}
    text = str(next(v for v in violations if v.form == "B"))
    # B: 2 × 0.25 × 0.25 = 0.125; mean (1.0625 + 0.125) / 2 = 0.594; band ±10 % = 0.534–0.653
    assert text.startswith("试卷 B: information:")
    assert "0.125" in text and "0.594" in text and "0.534–0.653" in text and "±10%" in text
    assert check_forms(bank, replace(spec, info_tolerance=None), forms) == []
    # Without θ_cut the checker cannot judge and says so.
    assert any("θ" in v.message for v in check_forms(bank, replace(spec, theta_cut=None), forms))


def test_bp_and_bank_json_information_fields():
    spec = parse_blueprint({"forms": 2, "sections": [{"type": "single", "count": 2}],
                            "info_tolerance": 7.5, "pass_fraction": 0.6})
    assert (spec.info_tolerance, spec.pass_fraction, spec.theta_cut) == (7.5, 0.6, None)
    assert parse_blueprint({"forms": 2, "sections": [{"type": "single", "count": 2}],
                            "info_tolerance": 5, "theta_cut": -0.25}).theta_cut == -0.25
    items = parse_bank({"items": [{"id": 1, "type": "single", "kp": "A-01-001", "difficulty": 3,
                                   "importance": "Y", "a": 1.3, "b": -0.4},
                                  {"id": 2, "type": "single", "kp": "A-01-001", "difficulty": 3,
                                   "importance": "Y"}]})
    assert (items[0].a, items[0].b, items[1].a, items[1].b) == (1.3, -0.4, None, None)

    with pytest.raises(FormatError) as exc:
        parse_blueprint({"forms": 1, "sections": [{"type": "single", "count": 2}],
                         "info_tolerance": 80, "theta_cut": 0, "pass_fraction": 1.2})
    errors = exc.value.errors
    assert "BP.json: info_tolerance: 必须是 (0, 50] 范围内的数" in errors
    assert "BP.json: pass_fraction: 必须是 (0, 1) 范围内的数" in errors
    assert "BP.json: pass_fraction: theta_cut 与 pass_fraction 只能给出其一" in errors
    with pytest.raises(FormatError) as exc:
        parse_blueprint({"forms": 1, "sections": [{"type": "single", "count": 2}], "info_tolerance": 10})
    assert exc.value.errors == ["BP.json: info_tolerance: 匹配各套试卷的测验信息量需要至少 2 套试卷（forms ≥ 2）"]
    with pytest.raises(FormatError) as exc:
        parse_bank({"items": [{"id": 1, "type": "single", "kp": "A-01-001", "difficulty": 3,
                               "importance": "Y", "a": -1, "b": 0},
                              {"id": 2, "type": "single", "kp": "A-01-001", "difficulty": 3,
                               "importance": "Y", "a": 1.0}]})
    errors = exc.value.errors
    assert "BANK.json: items[0].a: 必须是 (0, 6] 范围内的数" in errors
    assert "BANK.json: items[1].b: 2PL 参数 a 与 b 须同时给出或同时省略" in errors
