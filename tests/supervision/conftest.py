"""Supervision tests: the delivery world (an organisation's filed, open batch with three
candidates) plus the authority — a provincial admin and a certified supervisor assigned to the
batch — and one candidate's attempt made through the real API (sign-in, saves, a focus loss,
submit), so the timelines have a record to show."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from examsys.accounts.models import CertificateKind, OrgKind
from examsys.permissions import Role
from examsys.supervision import services as supervision
from tests.delivery.conftest import CandidateAPI, candidate_api, delivery_world  # noqa: F401
from tests.factories import PASSWORD
from tests.supervision.province import build_province


@dataclass
class Authority:
    province: object
    admin: object
    supervisor: object
    assignment: object


@pytest.fixture
def authority(delivery_world, make, db) -> Authority:  # noqa: F811  (the imported fixture)
    province = make.org(OrgKind.AUTHORITY)
    admin = make.user(roles=Role.PROVINCIAL_ADMIN, org=province)
    supervisor = make.user(roles=Role.SUPERVISOR, org=province, certificates=(CertificateKind.SUPERVISOR,))
    row = supervision.assign(admin, delivery_world.batch, supervisor)
    paper = delivery_world.paper  # the world's paper snapshot holds only its sections; the page shows more
    paper.blueprint_snapshot = {**paper.blueprint_snapshot, "duration_minutes": 60, "total_points": 20,
                                "pass_mark": 12}
    paper.compliance = {"shared_items": {"max": 0, "pairs": []}, "points": {"A": 10.0, "B": 10.0}}
    db.session.commit()
    return Authority(province, admin, supervisor, row)


@pytest.fixture
def sat(candidate_api, delivery_world, authority):  # noqa: F811  (the imported fixtures)
    """Candidate 0 signs in, starts, answers the single-choice item twice (A then the option shown
    as C), loses focus once and submits. Returns (attempt id, the single item's ref, the paper)."""
    candidate_api.login(0)
    aid = candidate_api.start()
    paper = candidate_api.get(f"/attempts/{aid}/paper").get_json()
    single = next(i for i in paper["items"] if i["qtype"] == "single")
    for seq, option in ((1, single["options"][0]), (2, single["options"][2])):
        resp = candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}",
                                 json={"answer": option["value"], "seq": seq})
        assert resp.status_code == 200, resp.get_json()
    assert candidate_api.post(f"/attempts/{aid}/events", json={"events": [{"kind": "focus_lost"}]}).status_code == 202
    assert candidate_api.post(f"/attempts/{aid}/submit").status_code == 200
    return aid, single["item_ref"], paper


def login(client, user) -> None:
    client.post("/logout")
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


__all__ = ["CandidateAPI", "login"]


@pytest.fixture
def province(make, db, frozen_clock):
    world = build_province(make)
    db.session.commit()
    return world
