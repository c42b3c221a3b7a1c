"""API tests reuse the delivery world (tests/delivery/world.py) and its candidate client."""

from examsys.delivery.exam import services as exam
from tests.delivery.conftest import candidate_api, delivery_world  # noqa: F401


def fast_path_calls(monkeypatch, name: str) -> list[bool]:
    """Replace the exam service's fast path `name` with a spy: the list gets, per call, whether
    it answered (True) or left the request to the general path (False)."""
    calls = []
    real = getattr(exam, name)
    monkeypatch.setattr(exam, name, lambda *a, **k: calls.append((out := real(*a, **k)) is not None) or out)
    return calls
