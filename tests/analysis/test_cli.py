"""`examsys analysis items`: the CSV format, the JSON document, errors, and no app or database."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from examsys.analysis.cli import analysis_cli
from examsys.cli import main


def run(args):
    return CliRunner().invoke(analysis_cli, args)


def write(tmp_path, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# Same five candidates as the hand-worked fixture of test_classical, one left q3 blank (c5, who
# scored 0 on it anyway), so only q3's omission rate changes.
SMALL_CSV = "candidate,q1,q2,q3\nc1,1,1,1\nc2,1,1,0\nc3,1,0,0\nc4,0,1,0\nc5,0,0,\n"


def test_json_matches_the_hand_computed_figures(tmp_path):
    result = run(["items", "--responses", write(tmp_path, SMALL_CSV), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["test"] == {"n": 5, "mean": 1.4, "sd": pytest.approx(1.019804, abs=1e-6),
                           "alpha": pytest.approx(0.576923, abs=1e-6), "sem": pytest.approx(0.663325, abs=1e-6)}
    assert [i["item"] for i in doc["items"]] == ["q1", "q2", "q3"]
    assert [i["p"] for i in doc["items"]] == [0.6, 0.6, 0.2]
    assert [i["omitted"] for i in doc["items"]] == [0, 0, 0.2]
    assert [i["r_pbis_corrected"] for i in doc["items"]] == pytest.approx([0.327327, 0.327327, 0.534522], abs=1e-6)
    assert [i["upper_lower"] for i in doc["items"]] == [1, 1, 1]
    assert all(set(i) == {"item", "p", "omitted", "r_pbis_corrected", "upper_lower"} for i in doc["items"])


def test_max_row_gives_maxima(tmp_path):
    text = "candidate,a,b\nmax,1,4\nx,1,4\ny,0,2\nz,1,\n"
    doc = json.loads(run(["items", "--responses", write(tmp_path, text), "--json"]).output)
    assert [i["p"] for i in doc["items"]] == pytest.approx([2 / 3, 0.5])
    assert doc["items"][1]["omitted"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("text", "message"), [
    ("id,q1\nc,1\n", "第 1 行"),
    ("candidate,q1,q1\nc,1,0\n", "重复"),
    ("candidate,q1,q2\nc,1\n", "第 2 行"),
    ("candidate,q1\nmax,2\nc,3\n", "第 3 行第 2 列"),
    ("candidate,q1\nc,x\n", "不是数字"),
    ("candidate,q1\nmax,0\n", "满分应大于 0"),
])
def test_bad_files_say_where(tmp_path, text, message):
    result = run(["items", "--responses", write(tmp_path, text), "--json"])
    assert result.exit_code == 4
    assert message in result.output


def test_cli_matches_an_independent_computation_on_generated_data(tmp_path):
    rng = np.random.default_rng(11)
    n, k = 1500, 15
    a, b = rng.lognormal(0, 0.3, k), rng.normal(0, 1, k)
    theta = rng.standard_normal(n)
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(int)
    lines = ["candidate," + ",".join(f"i{j}" for j in range(k))]
    lines += [f"c{i}," + ",".join(str(v) for v in row) for i, row in enumerate(x)]
    result = run(["items", "--responses", write(tmp_path, "\n".join(lines) + "\n"), "--json", "--irt", "2pl"])
    doc = json.loads(result.output)
    total = x.sum(axis=1)
    p = x.mean(axis=0)
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / total.var())
    assert doc["test"]["alpha"] == pytest.approx(kr20, abs=1e-6)
    assert doc["test"]["mean"] == pytest.approx(total.mean(), abs=1e-6)
    for j, row in enumerate(doc["items"]):
        assert row["p"] == pytest.approx(p[j], abs=1e-6)
        assert row["r_pbis_corrected"] == pytest.approx(stats.pearsonr(x[:, j], total - x[:, j])[0], abs=1e-6)
    est_a = [row["irt"]["a"] for row in doc["items"]]
    est_b = [row["irt"]["b"] for row in doc["items"]]
    assert np.corrcoef(est_a, a)[0, 1] > 0.9
    assert np.corrcoef(est_b, b)[0, 1] > 0.98
    assert all(0 < row["irt"]["se_a"] < 0.5 and 0 < row["irt"]["se_b"] < 0.5 for row in doc["items"])


def test_the_command_hangs_off_the_console_group_without_building_the_app(tmp_path, monkeypatch):
    import examsys

    def refuse(*_args, **_kwargs):
        raise AssertionError("the app was built")

    monkeypatch.setattr(examsys, "create_app", refuse)
    result = CliRunner().invoke(main, ["analysis", "items", "--responses", write(tmp_path, SMALL_CSV), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["test"]["n"] == 5


def test_the_module_imports_no_web_or_database_code():
    # (flask itself comes with the package root, which stays light otherwise)
    code = ("import sys, examsys.analysis.cli; print(sorted(m for m in sys.modules if m.startswith("
            "('sqlalchemy', 'flask_sqlalchemy', 'examsys.web', 'examsys.extensions', 'examsys.models'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_rasch_reports_unit_slopes_without_their_standard_error(tmp_path):
    rng = np.random.default_rng(2)
    b = np.linspace(-1.5, 1.5, 6)
    x = (rng.random((800, 6)) < 1 / (1 + np.exp(-(rng.standard_normal((800, 1)) - b)))).astype(int)
    lines = ["candidate," + ",".join(f"q{j}" for j in range(6))]
    lines += [f"c{i}," + ",".join(str(v) for v in row) for i, row in enumerate(x)]
    path = write(tmp_path, "\n".join(lines))
    doc = json.loads(run(["items", "--responses", path, "--json", "--irt", "rasch"]).output)
    assert [row["irt"]["a"] for row in doc["items"]] == [1.0] * 6
    assert all(row["irt"]["se_a"] is None and row["irt"]["se_b"] > 0 for row in doc["items"])
    assert np.corrcoef([row["irt"]["b"] for row in doc["items"]], b)[0, 1] > 0.98


def test_too_little_data_for_irt_gives_null(tmp_path):
    doc = json.loads(run(["items", "--responses", write(tmp_path, "candidate,a,b\nx,1,1\ny,1,1\n"), "--json",
                          "--irt", "2pl"]).output)
    assert [row["irt"] for row in doc["items"]] == [None, None]
