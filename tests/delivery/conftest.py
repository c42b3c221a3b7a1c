"""Shared delivery fixtures. `delivery_world` (see tests/delivery/world.py for what it holds)
freezes the clock (`frozen_clock`) so the batch is open "now"; `candidate_api` logs a candidate in
through the real API and wraps the Bearer calls."""

from __future__ import annotations

import pytest

from tests.delivery.world import CANARY, DeliveryWorld, build_world  # noqa: F401


@pytest.fixture
def delivery_world(db, frozen_clock) -> DeliveryWorld:
    world = build_world(db)
    db.session.commit()
    return world


class CandidateAPI:
    """A candidate's API client: `login(i)`, then `get/put/post(path, json=…)` with the token."""

    def __init__(self, client, world):
        self.client = client
        self.world = world
        self.token = None

    def login(self, i: int = 0, **extra):
        resp = self.client.post("/api/v1/candidate/session", json=self.world.login_payload(i, **extra))
        assert resp.status_code == 201, resp.get_json()
        self.token = resp.get_json()["token"]
        return resp

    def _h(self, token=None):
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, path, token=None, **kw):
        return self.client.get("/api/v1" + path, headers=self._h(token) | kw.pop("headers", {}), **kw)

    def post(self, path, token=None, **kw):
        return self.client.post("/api/v1" + path, headers=self._h(token) | kw.pop("headers", {}), **kw)

    def put(self, path, token=None, **kw):
        return self.client.put("/api/v1" + path, headers=self._h(token) | kw.pop("headers", {}), **kw)

    def start(self, token=None):
        resp = self.post(f"/exams/{self.world.batch.id}/attempt", token=token)
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()["attempt_id"]


@pytest.fixture
def candidate_api(client, delivery_world):
    return CandidateAPI(client, delivery_world)
