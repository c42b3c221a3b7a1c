"""Property-based fuzzing of API v1 with Schemathesis, against our own OpenAPI document (RELIABILITY:
"Schemathesis cases" among the bad inputs tried, with 0 failures).

The schema is loaded from the app itself (GET /api/v1/openapi.json, in process, WSGI). For every
operation, Hypothesis draws Schemathesis cases — valid ones and, a quarter of the time,
schema-violating ones — and sends them to the app through the test's Flask client, so they run
inside the test's rolled-back database transaction like every other test. Each case then gets,
three times in four: the Bearer token of a candidate whose attempt is started (otherwise whatever
Schemathesis generated: no token, a bogus one); the candidate's own real ids in the path (exam,
attempt, item refs; now and then another candidate's attempt or another form's item: IDOR, must
be 404); real ids and credentials in bodies (exam_id, ticket_no/id_number, a valid answer for the
item, the survey's keys). Survey cases mostly run after the attempt was submitted, others now and
then.

Every response must: not be a 5xx; have a status documented for the operation; have the
documented content type; match the documented body schema.

Each case runs in its own SAVEPOINT, rolled back afterwards, so every case starts from the same
world (candidate logged in, attempt in progress): a generated logout, login or submit does not
leak into the next case. Deterministic (derandomize) and bounded (MAX_EXAMPLES per operation).
Rate limits are off for the run, else the login limit and autosave's per-session limit would
answer 429 (documented, but it would stop the fuzzing from reaching the views). The number of
cases per operation, with their statuses, is printed after the module ("Schemathesis cases: N")
and recorded as the `schemathesis_cases` property of each test.

The last tests pin what fuzzing turned up, all fixed: ids past INTEGER columns (the app's <int:>
converter is bounded: 404), strings no database column can hold (NUL in PostgreSQL; a lone
surrogate sent as a JSON "\\ud800" escape: refused with 422 by api.common.json_body, a login
holding one fails like a wrong one) and an event time that overflows when converted to UTC (the
receive time is used instead)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from examsys.api.openapi import PATHS
from examsys.assembly.models import PaperFormItem
from examsys.delivery.models import Attempt
from tests.conftest import TEST_DB_URL

MAX_EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PREFIX = "/api/v1"
ON_POSTGRESQL = bool(TEST_DB_URL)


def _has_inputs(definition: dict) -> bool:
    """Anything a negative case could violate (else Schemathesis has no negative case to make)."""
    return bool(definition.get("parameters") or definition.get("requestBody") or definition.get("security"))


OPERATIONS = {f"{method.upper()} {path}": _has_inputs(definition)
              for path, methods in PATHS.items() for method, definition in methods.items()}
CASES: dict[str, Counter] = {}  # operation → Counter of response statuses, for the summary


@pytest.fixture(scope="module")
def api_schema(app):
    """The OpenAPI document as the app serves it, loaded in process."""
    return schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not CASES:
        return
    total = sum(sum(c.values()) for c in CASES.values())
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"Schemathesis cases: {total} over {len(CASES)} operations")
        for label, statuses in CASES.items():
            detail = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items()))
            reporter.write_line(f"  {label}: {sum(statuses.values())} ({detail})")


class FuzzWorld:
    """What the cases may refer to: the candidate's token and real ids, and a foreign attempt."""

    def __init__(self, world, candidate_api, db):
        candidate_api.login(1)
        self.foreign_attempt = candidate_api.start()
        candidate_api.login(0)
        self.token = candidate_api.token
        self.attempt = candidate_api.start()
        self.exam_id = world.batch.id
        self.ticket_no, self.id_number = world.tickets[0], world.id_numbers[0]
        own_form = db.session.scalar(select(Attempt.form_id).where(Attempt.id == self.attempt))
        items = db.session.execute(select(PaperFormItem.id, PaperFormItem.form_id)).all()
        self.own_items = sorted(i for i, form in items if form == own_form)
        self.foreign_items = sorted(i for i, form in items if form != own_form)
        assert self.own_items and self.foreign_items
        paper = candidate_api.get(f"/attempts/{self.attempt}/paper").get_json()
        self.answers = {item["item_ref"]: _valid_answers(item) for item in paper["items"]}

    def path_values(self, name: str) -> list[int]:
        return {"exam_id": [self.exam_id],
                "attempt_id": [self.attempt, self.attempt, self.foreign_attempt],
                "item_ref": self.own_items + self.foreign_items[:1]}[name]


def _valid_answers(item: dict) -> list:
    """Answers the item accepts (each qtype's shape, see the SaveRequest schema), and null."""
    values = [o["value"] for o in item.get("options") or []]
    return {"judge": [True, False], "single": values[:2], "multi": [values[:1], values[1:3]],
            "fill": [["50"] * item.get("blanks", 1)], "short": ["安全用电"]}.get(item["qtype"], []) + [None]


def _often(value: bool = True):
    """`value` three times in four (and what a failing case shrinks towards)."""
    return st.sampled_from((value, value, value, not value))


@st.composite
def fuzz_cases(draw, operation, has_inputs: bool, fw: FuzzWorld):
    """A Schemathesis case (positive, or negative one time in four), then the real ids, token and
    attempt state described in the module docstring."""
    negative = has_inputs and draw(_often(False))
    case = draw(operation.as_strategy(GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE))
    path_parameters = case.path_parameters or {}
    for name in list(path_parameters):
        if draw(_often()):
            path_parameters[name] = draw(st.sampled_from(fw.path_values(name)))
    body = case.body
    if isinstance(body, dict):
        if "exam_id" in body and draw(_often()):
            body["exam_id"] = fw.exam_id
        item_ref = path_parameters.get("item_ref")
        if "answer" in body and item_ref in fw.answers and draw(_often()):
            body["answer"] = draw(st.sampled_from(fw.answers[item_ref]))
            body["seq"] = draw(st.integers(1, 3))
        if isinstance(body.get("answers"), dict) and draw(_often()):
            body["answers"] = {f"q{i}": draw(st.integers(1, 5)) for i in range(1, 6)}
        if "ticket_no" in body and draw(_often()):
            body["ticket_no"] = fw.ticket_no
            if draw(_often()):
                body["id_number"] = fw.id_number
    if operation.definition.raw.get("security") and draw(_often()):
        # A negative case whose point is a missing Authorization header is still sent without it.
        case.headers["Authorization"] = f"Bearer {fw.token}"
    submitted = "attempt_id" in path_parameters and draw(_often(operation.path.endswith("/survey")))
    return case, submitted


@pytest.fixture
def fuzz_world(app, db, delivery_world, candidate_api, monkeypatch):
    from examsys.extensions import limiter

    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)  # api.common.save_limit (autosave)
    monkeypatch.setattr(limiter, "enabled", False)  # Flask-Limiter's decorator limits (login, events)
    return FuzzWorld(delivery_world, candidate_api, db)


def test_every_documented_operation_is_fuzzed(api_schema):
    served = {result.ok().label for result in api_schema.get_all_operations()}
    # Schemathesis leaves out the endpoint the document itself came from; it is fuzzed all the same.
    assert served | {"GET /openapi.json"} == set(OPERATIONS)


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_operation_conforms_to_document(label, api_schema, fuzz_world, client, db, record_property):
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    fw = fuzz_world
    connection = db.session.get_bind()
    statuses = CASES.setdefault(label, Counter())
    statuses.clear()

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(drawn=fuzz_cases(operation, OPERATIONS[label], fw))
    def check(drawn):
        case, submitted = drawn
        db.session.close()
        savepoint = connection.begin_nested()
        try:
            if submitted:
                resp = client.post(f"{PREFIX}/attempts/{fw.attempt}/submit",
                                   headers={"Authorization": f"Bearer {fw.token}"})
                assert resp.status_code == 200, resp.get_json()
            # The Flask test client (a werkzeug Client) as the session: Schemathesis sends the
            # request in process through it, and it clears `g` between requests.
            response = case.call_and_validate(session=client, checks=CHECKS)
            statuses[response.status_code] += 1
        finally:
            db.session.close()
            if savepoint.is_active:
                savepoint.rollback()

    check()
    record_property("schemathesis_cases", sum(statuses.values()))
    assert statuses, "no case was generated"


# --- what fuzzing turned up --------------------------------------------------------------------


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_past_integer_columns_are_404(big, candidate_api):
    """An id no INTEGER column holds matches no route (the app's bounded <int:> converter): 404,
    not a database error (PostgreSQL int4: DataError → 503; SQLite past 2**63: OverflowError → 500)."""
    candidate_api.login(0)
    attempt = candidate_api.start()
    item = candidate_api.world.form_items[("A", "judge")].id
    for resp in (candidate_api.get(f"/attempts/{big}"), candidate_api.post(f"/attempts/{big}/submit"),
                 candidate_api.put(f"/attempts/{attempt}/responses/{big}", json={"answer": True, "seq": 1}),
                 candidate_api.put(f"/attempts/{big}/responses/{item}", json={"answer": True, "seq": 1})):
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


_SURROGATE = '"\\ud800x"'  # JSON text: a lone UTF-16 surrogate, which no UTF-8 database stores (LONE below)


@pytest.mark.parametrize("where, body", [
    pytest.param("login", '{"ticket_no": "T\\u0000", "id_number": "1"}', id="login-ticket-nul"),
    pytest.param("login", '{"ticket_no": LONE, "id_number": "1"}', id="login-ticket-surrogate"),
    pytest.param("login-code", '{"ticket_no": "TICKET", "id_number": "ID", "access_code": LONE}',
                 id="login-access-code-surrogate"),
    pytest.param("save", '{"answer": "a\\u0000b", "seq": 1}', id="save-nul"),
    pytest.param("save", '{"answer": LONE, "seq": 1}', id="save-surrogate"),
    pytest.param("events", '{"kind": "copy", "data": {"a\\u0000": "b\\u0000"}}', id="event-data-nul"),
    pytest.param("events", '{"kind": "copy", "data": {"a": LONE}}', id="event-data-surrogate"),
    pytest.param("events", '{"kind": "copy", "occurred_at": "0001-01-01T00:00:00+14:00"}',
                 id="event-time-underflow"),
    pytest.param("events", '{"kind": "copy", "occurred_at": "9999-12-31T23:59:59-14:00"}',
                 id="event-time-overflow"),
    pytest.param("survey", '{"answers": {"q1": 5, "q2": 5, "q3": 5, "q4": 5, "q5": 5}, "comment": "a\\u0000"}',
                 id="survey-comment-nul"),
    pytest.param("survey", '{"answers": {"q1": 5, "q2": 5, "q3": 5, "q4": 5, "q5": 5}, "comment": LONE}',
                 id="survey-comment-surrogate"),
])
def test_unstorable_strings(where, body, delivery_world, candidate_api, client, db):
    """Strings and times the database can't store are refused (4xx) or dropped, never a 5xx."""
    w = delivery_world
    body = body.replace("LONE", _SURROGATE)
    json_headers = {"Content-Type": "application/json"}
    if where.startswith("login"):
        if where == "login-code":
            w.batch.require_access_code = True
            db.session.commit()
            body = body.replace("TICKET", w.tickets[0]).replace("ID", w.id_numbers[0])
        resp = client.post(f"{PREFIX}/candidate/session", data=body, headers=json_headers)
        assert resp.status_code == 401, resp.get_json()
        return
    candidate_api.login(0)
    attempt = candidate_api.start()
    if where == "survey":
        candidate_api.post(f"/attempts/{attempt}/submit")
    path = {"save": f"/attempts/{attempt}/responses/{w.form_items[('A', 'short')].id}",
            "events": f"/attempts/{attempt}/events", "survey": f"/attempts/{attempt}/survey"}[where]
    send = candidate_api.put if where == "save" else candidate_api.post
    resp = send(path, data=body, headers=json_headers)
    if where == "events" and "occurred_at" in body:  # an impossible time: the receive time instead
        assert resp.status_code == 202, resp.get_json()
        return
    assert resp.status_code == 422, resp.get_json()
    assert "无法保存的字符" in resp.get_json()["error"]["message"]
