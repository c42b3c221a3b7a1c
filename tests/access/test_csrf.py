"""CSRF on every state-changing route (issue 15, point 7). The test app turns CSRF off
(tests/conftest.py: WTF_CSRF_ENABLED False); here it is on, as in production.

- Every POST/PUT/PATCH/DELETE route of the cookie-authenticated pages, asked by a signed-in user
  who holds the route's declared permission (so only the token is missing), without a token, with
  a forged token and with a token of another session → 400, and no table gains or loses a row.
- The JSON API authenticates only by a Bearer token (examsys/api/blueprint.py exempts it from
  CSRF for that reason): every state-changing API route asked with the staff user's cookies and
  no Bearer token → 401, and nothing is written.
- The control: the same user's real token is accepted (logging out works)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from examsys.accounts.models import User
from examsys.demo.loader import DEMO_PASSWORD
from examsys.permissions import declared_access
from tests import reliability
from tests.access.test_idor_matrix import url_for_victim
from tests.access.world import build_access_world, table_counts
from tests.conftest import IsolatedClient, csrf_token_from

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Demo users, tried in this order: the first who holds every permission a route declares asks.
USERS = ("examadmin", "writer", "reviewer", "orgadmin", "proctor", "supervisor", "province", "cityadmin")


@pytest.fixture
def csrf_world(app, db, frozen_clock):
    world = build_access_world(db)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    app.test_client_class = IsolatedClient
    yield world
    app.config["WTF_CSRF_ENABLED"] = False


def _signed_in(app, username: str):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, username
    return client, csrf_token_from(client.get("/").get_data(as_text=True))


def _state_changing(app):
    return sorted((r for r in app.url_map.iter_rules() if r.methods & STATE_CHANGING and r.endpoint != "static"),
                  key=lambda r: r.rule)


def _url(rule, ids) -> str:
    if rule.arguments <= set(ids) | {"sha256"}:
        return url_for_victim(rule, ids)
    values = {a: (1 if isinstance(rule._converters[a], IntegerConverter) else "en") for a in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_state_changing_route_needs_the_token(app, db, csrf_world):
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(USERS)))}
    clients = {name: _signed_in(app, name) for name in USERS}
    _, other_sessions_token = _signed_in(app, "examadmin2")
    before = table_counts(db)
    failures, asked = [], 0
    for rule in _state_changing(app):
        url = _url(rule, csrf_world.ids)
        access = declared_access(app.view_functions[rule.endpoint]) or ("", ())
        needs = set(access[1]) if access[0] == "permission" else set()
        name = next(n for n in USERS if needs <= users[n].permissions)
        client, _token = clients[name]
        for method in sorted(rule.methods & STATE_CHANGING):
            if url.startswith("/api/"):
                resp = client.open(url, method=method, json={})
                asked += 1
                if resp.status_code != 401:
                    failures.append((name, method, url, resp.status_code, "API answered a cookie"))
                continue
            for token in (None, "forged-token", other_sessions_token):
                data = {} if token is None else {"csrf_token": token}
                resp = client.open(url, method=method, data=data)
                asked += 1
                if resp.status_code != 400:
                    failures.append((name, method, url, resp.status_code, token))
    written = table_counts(db) != before
    reliability.record("access", {"check": "CSRF on every state-changing route", "database": db.engine.dialect.name,
                                  "requests": asked, "accepted_without_a_valid_token": len(failures),
                                  "rows_written": written})
    assert failures == [], "\n".join(map(str, failures))
    assert not written
    assert asked >= 150

    # The control: with its own token the same session is served.
    client, token = clients["examadmin"]
    assert client.post("/logout", data={"csrf_token": token}).status_code in (302, 303)
