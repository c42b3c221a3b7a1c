"""The hostile world, for the hostile-input tests (the browser fixture is the suite's, tests/conftest.py)."""

from tests.hostile.world import hostile_world  # noqa: F401
