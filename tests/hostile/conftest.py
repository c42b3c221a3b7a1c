"""The browser fixtures of tests/browser and the hostile world, for the hostile-input tests."""

from tests.browser.conftest import browser  # noqa: F401
from tests.hostile.world import hostile_world  # noqa: F401
