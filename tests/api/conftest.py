"""API tests reuse the delivery world (tests/delivery/world.py) and its candidate client."""

from tests.delivery.conftest import candidate_api, delivery_world  # noqa: F401
