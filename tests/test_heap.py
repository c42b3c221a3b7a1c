"""examsys.heap: the web worker's collector, settled at start-up and once more after its first
requests (wsgi.py)."""

from __future__ import annotations

import gc

import pytest
from flask import Flask

from examsys import heap


@pytest.fixture
def restored_gc(monkeypatch):
    thresholds = gc.get_threshold()
    monkeypatch.setattr(heap, "_count", 0)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_survivors_and_sets_the_serving_thresholds(restored_gc):
    gc.unfreeze()
    kept = [object() for _ in range(10)]  # noqa: F841 - alive across the call
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == heap.YOUNG_THRESHOLD


def test_install_settles_again_after_the_first_requests_then_unhooks(restored_gc, monkeypatch):
    monkeypatch.setattr(heap, "REFREEZE_AFTER", 3)
    settled = []
    real = heap.settle
    monkeypatch.setattr(heap, "settle", lambda: (settled.append(1), real()))
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    heap.install(app)
    assert settled == [1]  # at start-up
    hooks = app.teardown_request_funcs[None]
    assert len(hooks) == 1
    client = app.test_client()
    for _ in range(2):
        assert client.get("/").status_code == 200
    assert settled == [1] and len(hooks) == 1
    assert client.get("/").status_code == 200  # the third: settled again, hook gone
    assert settled == [1, 1]
    assert app.teardown_request_funcs[None] == []
    for _ in range(3):
        client.get("/")
    assert settled == [1, 1]

