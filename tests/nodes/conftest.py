"""Fixtures of the two-node test: `cleanup` (every process, schema, Redis database and directory
it starts is released at teardown, pass or fail) and `nodes_report(line)`: the summary line,
printed and recorded under the fault tests' user property, which tests/conftest.py shows in the
"figures" section of the terminal summary."""

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
def nodes_report(record_property):
    def report(line: str) -> None:
        print(line, flush=True)
        record_property(REPORT_KEY, line)
        reliability.record("nodes", {"summary": line})  # make reliability's report

    return report
