"""Fixtures of the fault tests: `cleanup` (everything a test starts is released at teardown,
pass or fail) and `faults_report(line)`: one summary line per test, printed and recorded as the
user property `faults_summary`, which tests/conftest.py shows in the terminal summary (also under
xdist, where this file is not loaded by the controller)."""

from __future__ import annotations

import pytest

from tests import reliability
from tests.faults.harness import Cleanup

REPORT_KEY = "faults_summary"


@pytest.fixture
def cleanup():
    c = Cleanup()
    try:
        yield c
    finally:
        c.run()


@pytest.fixture
def faults_report(record_property):
    def report(line: str) -> None:
        print(line, flush=True)
        record_property(REPORT_KEY, line)
        reliability.record("faults", {"summary": line})  # make reliability's report

    return report
