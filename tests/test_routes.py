"""Route inventory: every endpoint declares its access rule; anonymous users are refused outside
the public allowlist; a (role, endpoint) matrix fixes who gets what."""

import pytest

from examsys.permissions import PUBLIC_ENDPOINTS, Role, declared_access

# Endpoints whose rule is "any logged-in staff user".
LOGIN_ONLY = {"accounts.home", "accounts.logout",
              # supervision published to every signed-in user (一公开), and the pages whose object
              # policy decides (a check, a supervision file: 404 for those who may not see it)
              "directory.index", "directory.export", "directory.entry", "indicators.index", "indicators.version",
              "plans.index", "plans.plan",
              "plans.draw_json", "spotchecks.index", "spotchecks.check", "spotchecks.finding_step",
              "spotchecks.photo", "oversight.organisation_file", "oversight.organisation_file_pdf",
              "oversight.score"}


def _url_for_rule(rule) -> str:
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        values[arg] = 1 if conv in ("IntegerConverter",) else "x"
    return rule.build(values, append_unknown=False)[1]


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_endpoint_declares_access(app):
    undeclared = [ep for ep, view in app.view_functions.items()
                  if ep != "static" and declared_access(view) is None]
    assert undeclared == []


def test_public_endpoints_are_exactly_the_allowlist(app):
    public = {ep for ep, view in app.view_functions.items()
              if (declared_access(view) or ("",))[0] == "public"}
    assert public <= PUBLIC_ENDPOINTS
    assert public | {"static"} >= PUBLIC_ENDPOINTS & set(app.view_functions)


def test_login_only_endpoints_are_known(app):
    login_only = {ep for ep, view in app.view_functions.items()
                  if (declared_access(view) or ("",))[0] == "login"}
    assert login_only == LOGIN_ONLY


def test_anonymous_is_refused_everywhere_but_public(app, client):
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url_for_rule(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method)
            checked += 1
            if url.startswith("/api/"):
                assert resp.status_code == 401, (method, url, resp.status_code)
            else:
                assert resp.status_code == 302, (method, url, resp.status_code)
                assert "/login" in resp.headers["Location"], (method, url)
    assert checked >= 10


def test_undeclared_route_fails_closed(app, client, make, login_as):
    # A route added without @require/@public/@login_only is refused even for a logged-in user.
    login_as(Role.ORG_ADMIN)
    view = app.view_functions["accounts.home"]
    app.view_functions["accounts.home"] = view.__wrapped__
    try:
        assert client.get("/").status_code == 403
    finally:
        app.view_functions["accounts.home"] = view


ALL_ROLES = list(Role)
# endpoint → roles that may GET it (all others: 403). An independent statement of the policy.
MATRIX = {
    "accounts.home": set(ALL_ROLES),
    "accounts.organisations": {Role.PROVINCIAL_ADMIN},
    "accounts.organisation_new": {Role.PROVINCIAL_ADMIN},
    "accounts.users": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN},
    "accounts.user_new": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN},
    "accounts.candidates": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.EXAM_ADMIN, Role.PROCTOR},
    "accounts.candidate_new": {Role.ORG_ADMIN, Role.EXAM_ADMIN},
    "audit.events": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.SUPERVISOR},
    "bank.items": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.WRITER, Role.REVIEWER, Role.EXAM_ADMIN},
    "bank.item_new": {Role.WRITER},
    "bank.review_queue": {Role.REVIEWER},
    "bank.import_items": {Role.WRITER},
    "bank.export_items": {Role.ORG_ADMIN, Role.REVIEWER},
    "standards.index": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.WRITER, Role.REVIEWER, Role.EXAM_ADMIN},
    "standards.worklist": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.WRITER, Role.REVIEWER, Role.EXAM_ADMIN},
    "standards.standard_new": {Role.PROVINCIAL_ADMIN},
    "assembly.blueprints": {Role.EXAM_ADMIN},
    "assembly.blueprint_new": {Role.EXAM_ADMIN},
    "assembly.papers": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.EXAM_ADMIN, Role.SUPERVISOR},
    "delivery.batches": {Role.PROVINCIAL_ADMIN, Role.ORG_ADMIN, Role.EXAM_ADMIN, Role.PROCTOR, Role.SUPERVISOR},
    "delivery.proctor_batches": {Role.PROCTOR},
    "delivery.marking_index": {Role.PROCTOR},
    "supervision.assignments": {Role.PROVINCIAL_ADMIN},
    "supervision.conflicts": {Role.PROVINCIAL_ADMIN, Role.SUPERVISOR},
    "directory.index": set(ALL_ROLES),
    "directory.new": {Role.PROVINCIAL_ADMIN, Role.CITY_ADMIN},
    "plans.index": set(ALL_ROLES),
    "spotchecks.index": set(ALL_ROLES),
    "oversight.index": {Role.PROVINCIAL_ADMIN, Role.CITY_ADMIN},
    "satisfaction.index": {Role.PROVINCIAL_ADMIN, Role.CITY_ADMIN, Role.ORG_ADMIN, Role.SUPERVISOR},
    "satisfaction.interviews": {Role.PROVINCIAL_ADMIN, Role.CITY_ADMIN, Role.ORG_ADMIN, Role.SUPERVISOR},
    "satisfaction.questionnaire_list": {Role.PROVINCIAL_ADMIN, Role.CITY_ADMIN},
}


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r.value)
def test_role_matrix(app, client, login_as, role):
    login_as(role)
    for endpoint, allowed in MATRIX.items():
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint)
        status = client.get(url).status_code
        expected = 200 if role in allowed else 403
        assert status == expected, (role.value, endpoint, status)
