"""bench/load.py --quick: 200 candidates through a compressed exam (start storm, autosave with
think time, deadline spike, stragglers swept) against gunicorn, then the bare endpoint's burst.
Asserts what must hold on any machine, however busy: no errors, no acknowledged save lost (from
`responses` or from the answer history), every attempt finalised, nothing stored after deadline +
grace, the process record verifying. Timing targets are the benchmark's business, not CI's.

SQLite always; PostgreSQL too when the suite runs on it (EXAMSYS_TEST_DATABASE_URL), in a schema
of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_DB_URL, worker_name

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not TEST_DB_URL, reason="PostgreSQL run only: EXAMSYS_TEST_DATABASE_URL is not set"))])
def test_quick_exam_day_keeps_every_acknowledged_save(database):
    cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--quick", "--database", database,
           "--schema", f"bench_load_smoke_{worker_name()}_{os.getpid()}"]
    if database == "postgresql":
        cmd += ["--postgresql-url", TEST_DB_URL]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    fig = result["runs"][0][database]
    assert "failed" not in fig and "skipped" not in fig, (fig, done.stderr[-3000:])
    print(done.stdout.strip().splitlines()[0])
    targets = fig["targets"]
    assert fig["errors"] == 0 and fig["burst"]["errors"] == 0, fig["error_samples"]
    assert fig["lost_acknowledged_saves"] == 0 and fig["burst"]["lost"] == 0, (fig["ledger"], fig["history_samples"])
    assert fig["saves_acknowledged"] > 200 and fig["history"]["checked"] == fig["saves_acknowledged"]
    assert fig["ready"] == fig["candidates"] == 200
    assert targets["all_finalised"], fig["attempts"]
    assert fig["attempts"].get("submitted", 0) > 150 and fig["attempts"].get("timed_out", 0) > 0, fig["attempts"]
    assert targets["nothing_after_cutoff"] and fig["late_saves"].get("after_cutoff_refused", 0) > 0, fig["late_saves"]
    assert targets["deadline_gap_within_grace"], fig["deadline_gap_s"]
    assert fig["record_verifies"]["ok"] is True, fig["record_verifies"]
