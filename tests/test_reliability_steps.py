"""`make reliability` (scripts/reliability.py) fails a step that skips a test: each pytest step
must select only tests that run in its environment. The crash steps share tests/faults, whose
cases are per database: each step collects its own database's cases and no other's."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _steps():
    spec = importlib.util.spec_from_file_location("reliability_script", ROOT / "scripts" / "reliability.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return {s.name: s for s in module.steps(quick=True)}


@pytest.mark.parametrize(("step", "database", "other"), [("crash-sqlite", "sqlite", "postgresql"),
                                                          ("crash-postgresql", "postgresql", "sqlite")])
def test_each_crash_step_collects_only_its_databases_cases(step, database, other):
    argv = _steps()[step].argv
    selection = argv[argv.index("-m"):]  # the marker, the -k expression and the paths
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
                          *selection], cwd=ROOT, capture_output=True, text=True, timeout=120)
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert ids, out.stdout + out.stderr
    assert all(database in i and other not in i for i in ids), ids
