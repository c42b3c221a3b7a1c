"""The IDOR and tenancy matrix (issue 15, point 7): every route of the URL map that takes an
object's id, asked for the *victim's* object by every role of a *foreign* organisation (tests/
access/world.py) — org admin, writer, reviewer, exam admin, proctor, the city administrator of
the other city, a supervisor assigned to nothing, and a candidate of another batch — GET and,
for state-changing routes, POST with a valid CSRF token: each answer is a refusal (403/404, 401
for the Bearer-only API, the login page for a candidate on a staff page) and shows none of the
victim's marked names. Routes whose object is published to every signed-in user on purpose are
listed in NOT_OBJECT_SCOPED with the reason; they are still requested and must not show a
victim's marked name. docs/access-matrix.md records what this covers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from examsys.accounts.models import User
from examsys.demo.loader import DEMO_PASSWORD
from tests import factories, reliability
from tests.access.world import MARK, build_access_world, table_counts
from tests.conftest import IsolatedClient, csrf_token_from

# endpoint → why it is not scoped to one organisation's objects (it is still requested by every
# foreign role and must not show a victim's marked name).
NOT_OBJECT_SCOPED = {
    "standards.detail": "national occupational standards (国家职业标准) are shared reference data that every "
                        "organisation reads; only the province edits them (STANDARD_MANAGE)",
    "standards.coverage": "a shared standard's tree with the asking user's own organisation's item counts",
    "standards.tree_export": "the shared standard's knowledge tree as Excel",
    "directory.entry": "the directory of evaluation organisations (评价机构目录) is published to every signed-in "
                       "user (一公开); changing it (directory.change) is scoped and tested",
    "plans.plan": "双随机 plans are published to every signed-in user (一公开) with their commitment and draws",
    "plans.draw_json": "a performed draw's inputs and result are published with the plan (一公开)",
}
# Published on purpose with the names of the batches drawn (which carry the victim's mark).
SHOWS_DRAWN_BATCHES = {"plans.plan", "plans.draw_json"}

# endpoint → (a valid form, the refusal it must show): routes that show a refusal on the page they
# came from (examsys.viewutil.perform: flash, 303 back) instead of answering 403. The form is valid
# so that the refusal is the access rule's, not the form's; the table counts show nothing written.
REFUSED_ON_PAGE = {
    "directory.change": ({"status": "suspended", "reason": "越权变更", "scope": "", "expires_on": ""},
                         "只能管理本市评价机构的备案信息"),
}

FOREIGN_ROLES = ("org_admin", "writer", "reviewer", "exam_admin", "proctor", "city_admin", "supervisor",
                 "candidate")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def id_rules(app) -> list:
    """Every rule with an id argument: an <int:…> converter or an object's SHA-256."""
    return sorted((r for r in app.url_map.iter_rules()
                   if any(isinstance(c, IntegerConverter) for c in r._converters.values()) or "sha256" in r.arguments),
                  key=lambda r: r.rule)


def url_for_victim(rule, ids: dict) -> str:
    values = dict(ids)
    if rule.endpoint == "spotchecks.photo":
        values["sha256"] = ids["finding_photo"]
    return rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]


def _staff_client(app, user, password: str = factories.PASSWORD) -> tuple:
    client = app.test_client()
    login_token = csrf_token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": user.username, "password": password, "csrf_token": login_token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client, token


@pytest.fixture
def access_world(app, db, frozen_clock):
    """The world, with CSRF on as in production: a state-changing request carries its session's
    token, so a refusal is the access rule's and not CSRF's (a 400 would fail the matrix)."""
    world = build_access_world(db)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    yield world
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_id_route_refuses_every_foreign_role(app, db, access_world):
    w = access_world
    app.test_client_class = IsolatedClient
    clients = {name: _staff_client(app, user) for name, user in w.foreign.items()}
    # The foreign candidate signs in to their own batch and starts their own attempt.
    cand_client = app.test_client()
    cand_token = csrf_token_from(cand_client.get("/login").get_data(as_text=True))  # an anonymous session's
    resp = cand_client.post("/api/v1/candidate/session", json=w.foreign_world.login_payload(0))
    assert resp.status_code == 201, resp.get_json()
    bearer = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    started = cand_client.post(f"/api/v1/exams/{w.foreign_world.batch.id}/attempt", headers=bearer)
    assert started.status_code in (200, 201)

    before = table_counts(db)
    covered: dict[str, set[str]] = {}
    failures = []
    pairs = 0
    for rule in id_rules(app):
        url = url_for_victim(rule, w.ids)
        api = url.startswith("/api/")
        for role in FOREIGN_ROLES:
            if role == "candidate":
                client, token, headers = cand_client, cand_token, bearer
            else:
                (client, token), headers = clients[role], {}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                kwargs = {"headers": headers}
                if method in STATE_CHANGING:
                    form = REFUSED_ON_PAGE.get(rule.endpoint, ({},))[0]
                    kwargs["json" if api else "data"] = {} if api else {**form, "csrf_token": token or ""}
                resp = client.open(url, method=method, **kwargs)
                body = resp.get_data().decode("utf-8", "replace")
                if role == "candidate" and not api:
                    refused = resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
                else:
                    refused = resp.status_code in ((401, 403, 404) if api else (403, 404))
                if rule.endpoint in NOT_OBJECT_SCOPED:
                    refused = refused or resp.status_code == 200
                if rule.endpoint in REFUSED_ON_PAGE and method in STATE_CHANGING and resp.status_code == 303:
                    refused = REFUSED_ON_PAGE[rule.endpoint][1] in client.get(
                        resp.headers["Location"]).get_data(as_text=True)
                if not refused or (MARK in body and rule.endpoint not in SHOWS_DRAWN_BATCHES):
                    failures.append((role, method, url, resp.status_code, MARK in body,
                                     re.sub(r"\s+", " ", body)[:200]))
                pairs += 1
            covered.setdefault(rule.endpoint, set()).add(role)

    endpoints = {r.endpoint for r in id_rules(app)}
    written = table_counts(db) != before
    reliability.record("access", {"check": "IDOR and tenancy matrix", "database": db.engine.dialect.name,
                                  "id_routes": len(endpoints), "foreign_roles": len(FOREIGN_ROLES),
                                  "requests": pairs, "leaks_or_not_refused": len(failures),
                                  "rows_written": written})
    assert failures == [], "\n".join(map(str, failures))
    assert not written  # nothing written but the refusals' own record
    assert set(NOT_OBJECT_SCOPED) <= endpoints  # no stale exclusion
    assert {ep for ep, roles in covered.items() if roles == set(FOREIGN_ROLES)} == endpoints
    assert len(endpoints) >= 100 and pairs >= len(endpoints) * len(FOREIGN_ROLES)
    print(f"IDOR matrix: {len(endpoints)} id routes, {len(endpoints) - len(NOT_OBJECT_SCOPED)} object-scoped, "
          f"{len(covered) * len(FOREIGN_ROLES)} (route, role) pairs, {pairs} requests")
    assert unopened_by_the_victim(app, db, w) == []


# The victim's own people: the positive control that the ids name real objects.
VICTIM_USERS = ("examadmin", "orgadmin", "writer", "reviewer", "proctor", "supervisor", "province", "examadmin2")
# GET routes no victim user opens with the world's ids, and why that is right.
NO_POSITIVE_CONTROL = {
    "satisfaction.questionnaire_qr": "a QR code exists only once published; the victim city's questionnaire is a draft",
    "delivery.batch_edit": "only a draft batch is edited; the world's batch is published",
    "delivery.marking_form": "only the marker an item score is allotted to opens it, while it waits for marking",
    "jobs.result": "a job's result exists once the job has run; the world's job is queued",
    "analysis.batch_pdf": "redirects to the statistics job's download (jobs.result) once statistics were computed",
    "analysis.key": "shows the statistics a job computed; nobody has computed the world's batch's",
}


def unopened_by_the_victim(app, db, access_world) -> list[str]:
    """The positive control, without which the matrix could pass on ids that name nothing: the
    GET pages that none of the victim's own users opens (200) with the world's ids."""
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(VICTIM_USERS)))}
    clients = {name: _staff_client(app, users[name], DEMO_PASSWORD)[0] for name in VICTIM_USERS}
    unopened = []
    for rule in id_rules(app):
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in NO_POSITIVE_CONTROL:
            continue
        url = url_for_victim(rule, access_world.ids)
        if not any(clients[name].get(url).status_code == 200 for name in VICTIM_USERS):
            unopened.append(url)
    return unopened
