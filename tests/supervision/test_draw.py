"""The pure 双随机 draw: rates met per kind, rolling draws keep them, the same inputs give the
same draw and a changed seed a different one, never a supervisor of or conflicted with the
organisation; and the offline command reproduces it from the example plan file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from examsys.supervision import draw

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "supervision-plan.json"
SEED = "00112233445566778899aabbccddeeff"


def _plan(n_social=(7, 3, 5), n_employer=(11, 4, 9, 2)) -> dict:
    orgs, batches = [], []
    for kind, counts in (("social", n_social), ("employer", n_employer)):
        for i, count in enumerate(counts):
            code = f"{kind[:3].upper()}{i}"
            orgs.append({"code": code, "kind": kind, "city": f"C{i % 2}"})
            batches += [{"id": f"{code}-{j}", "organisation": code} for j in range(count)]
    sups = [{"id": "S1", "organisation": "SOC0", "conflicts": []},  # an organisation's own staff
            {"id": "S2", "organisation": "PROV", "conflicts": ["SOC1", "EMP0"]},
            {"id": "S3", "organisation": "PROV", "conflicts": ["SOC2"]},
            {"id": "S4", "organisation": "PROV", "conflicts": []}]
    return {"year": 2026, "organisations": orgs, "batches": batches, "supervisors": sups}


def _check_rates(result):
    for kind, row in result["coverage"]["kinds"].items():
        assert row["met"], kind
        assert row["drawn"] >= math.ceil(float(draw.DEFAULT_RATES[kind]) * row["batches"])


@pytest.mark.parametrize("seed", [SEED, "ff" * 16, "0123456789abcdef" * 4])
def test_rates_are_met_per_kind(seed):
    result = draw.run(_plan(), seed)
    _check_rates(result)
    social = result["coverage"]["kinds"]["social"]
    assert social["drawn"] == math.ceil(0.5 * social["batches"])  # the floor, not more
    # spread: each social organisation is drawn within one batch of the rate
    for org in result["coverage"]["organisations"]:
        if org["kind"] == "social":
            assert abs(org["drawn"] - 0.5 * org["batches"]) <= 1


def test_rolling_draws_keep_the_rates():
    plan = _plan()
    first = draw.run(plan, SEED)
    later = _plan(n_social=(10, 6, 5), n_employer=(15, 4, 9, 8))  # more batches filed since
    later["already_drawn"] = [p["batch"] for p in first["picks"]]
    later["previous_pool"] = [b["id"] for b in plan["batches"]]
    second = draw.run(later, "aa" * 16)
    _check_rates(second)
    assert not {p["batch"] for p in second["picks"]} & set(later["already_drawn"])
    new = {b["id"] for b in later["batches"]} - set(later["previous_pool"])
    drawn = {p["batch"] for p in second["picks"]}
    for pick in second["picks"]:  # within an organisation, its new batches come first
        if pick["batch"] not in new:
            assert {b for b in new if b.startswith(pick["organisation"] + "-")} <= drawn


def test_same_inputs_same_draw_and_another_seed_another():
    plan = _plan()
    assert draw.run(plan, SEED) == draw.run(json.loads(json.dumps(plan)), SEED)
    assert draw.run(plan, SEED)["picks"] != draw.run(plan, "01" + SEED[2:])["picks"]


@pytest.mark.parametrize("seed", [format(i, "032x") for i in range(20)])
def test_never_a_supervisor_of_or_in_conflict_with_the_organisation(seed):
    plan = _plan()
    sups = {s["id"]: s for s in plan["supervisors"]}
    for pick in draw.run(plan, seed)["picks"]:
        sup = sups[pick["supervisor"]]
        assert sup["organisation"] != pick["organisation"]
        assert pick["organisation"] not in sup["conflicts"]


def test_no_eligible_supervisor_leaves_the_pick_unassigned():
    plan = {"organisations": [{"code": "A", "kind": "social", "city": "C"}],
            "batches": [{"id": "1", "organisation": "A"}], "supervisors": [{"id": "S", "organisation": "A"}]}
    assert draw.run(plan, SEED)["picks"][0]["supervisor"] is None


def test_rank_is_the_documented_sha256():
    import hashlib
    assert draw.rank(bytes.fromhex(SEED), "batch:7") == hashlib.sha256(bytes.fromhex(SEED) + b"|batch:7").hexdigest()


@pytest.mark.parametrize("bad", ["xyz", "00"])
def test_a_bad_seed_is_refused(bad):
    with pytest.raises(draw.PlanError):
        draw.run(_plan(), bad)


def test_the_command_repeats_the_example_plan_without_a_database(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no database, no secrets, no instance
    command = Path(sys.executable).parent / "examsys"
    out = subprocess.run([str(command), "supervision", "draw", "--plan", str(EXAMPLE),
                          "--seed", SEED, "--json"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         check=True)
    result = json.loads(out.stdout)
    assert result == json.loads(json.dumps(draw.run(json.loads(EXAMPLE.read_text()), SEED)))
    _check_rates(result)
