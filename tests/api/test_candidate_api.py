"""API v1 end to end: the candidate flow, errors, ownership (IDOR → 404), acknowledge-after-commit
(RELIABILITY 7), Safe Exam Browser (32), survey, results, and the OpenAPI document."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.delivery.models import IntegrityEvent, Response, SurveyResponse


def ref(world, qtype, form="A"):
    return world.form_items[(form, qtype)].id


@pytest.fixture
def attempt_id(candidate_api):
    candidate_api.login(0)
    return candidate_api.start()


def test_full_flow(delivery_world, candidate_api, db):
    w = delivery_world
    resp = candidate_api.login(0)
    body = resp.get_json()
    assert body["candidate"]["ticket_no"] == w.tickets[0] and "*" in body["candidate"]["id_number_masked"]
    exams = candidate_api.get("/candidate/exams").get_json()["exams"]
    assert exams[0]["exam_id"] == w.batch.id and exams[0]["state"] == "available"
    first = candidate_api.post(f"/exams/{w.batch.id}/attempt")
    assert first.status_code == 201
    att = first.get_json()
    assert att["remaining_seconds"] == 3600
    again = candidate_api.post(f"/exams/{w.batch.id}/attempt")
    assert again.status_code == 200 and again.get_json()["attempt_id"] == att["attempt_id"]
    aid = att["attempt_id"]
    paper = candidate_api.get(f"/attempts/{aid}/paper").get_json()
    assert [i["qtype"] for i in paper["items"]] == ["judge", "single", "multi", "fill", "short"]
    single = next(i for i in paper["items"] if i["qtype"] == "single")
    assert [o["label"] for o in single["options"]] == list("ABCD")
    assert sorted(o["value"] for o in single["options"]) == list("ABCD")
    fill = next(i for i in paper["items"] if i["qtype"] == "fill")
    assert fill["blanks"] == 2
    put = candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}",
                            json={"answer": single["options"][0]["value"], "seq": 1})
    assert put.status_code == 200 and put.get_json()["seq"] == 1
    assert put.headers["Cache-Control"] == "no-store"
    # replay of the same seq: 200, stored once; an older seq: 409 with the stored state
    assert candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}",
                             json={"answer": single["options"][0]["value"], "seq": 1}).status_code == 200
    stale = candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}", json={"answer": None, "seq": 1})
    assert stale.status_code == 409
    sb = stale.get_json()
    assert sb["error"]["code"] == "stale_seq" and sb["seq"] == 1 and sb["answer"] == single["options"][0]["value"]
    state = candidate_api.get(f"/attempts/{aid}").get_json()
    assert state["status"] == "in_progress" and len(state["responses"]) == 1
    assert state["responses"][0]["item_ref"] == single["item_ref"]
    ev = candidate_api.post(f"/attempts/{aid}/events", json={"events": [
        {"kind": "page_hidden", "data": {"ms": 1200}}, {"kind": "paste"}]})
    assert ev.status_code == 202 and ev.get_json()["accepted"] == 2
    bad = candidate_api.post(f"/attempts/{aid}/events", json={"kind": "keylogger"})
    assert bad.status_code == 422
    early = candidate_api.post(f"/attempts/{aid}/survey", json={"answers": {f"q{i}": 5 for i in range(1, 6)}})
    assert early.status_code == 409
    sub = candidate_api.post(f"/attempts/{aid}/submit")
    assert sub.status_code == 200 and sub.get_json()["status"] == "submitted"
    assert candidate_api.post(f"/attempts/{aid}/submit").get_json()["status"] == "submitted"
    closed = candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}", json={"answer": "A", "seq": 9})
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "attempt_closed"
    sv = candidate_api.post(f"/attempts/{aid}/survey", json={"answers": {f"q{i}": 4 for i in range(1, 6)},
                                                             "comment": "很好"})
    assert sv.status_code == 201 and sv.get_json()["satisfied"] is True
    assert candidate_api.post(f"/attempts/{aid}/survey",
                              json={"answers": {f"q{i}": 4 for i in range(1, 6)}}).status_code == 409
    assert db.session.scalar(select(SurveyResponse.satisfied)) is True
    assert candidate_api.get("/candidate/results").get_json() == {"results": []}
    assert candidate_api.get("/candidate/survey").status_code == 200


def test_order_differs_between_candidates_and_is_stable(delivery_world, candidate_api):
    candidate_api.login(0)
    a = candidate_api.start()
    p1 = candidate_api.get(f"/attempts/{a}/paper").get_json()
    assert candidate_api.get(f"/attempts/{a}/paper").get_json() == p1
    candidate_api.login(2)  # also form A, another seed
    b = candidate_api.start()
    p2 = candidate_api.get(f"/attempts/{b}/paper").get_json()
    assert {i["item_ref"] for i in p1["items"]} == {i["item_ref"] for i in p2["items"]}
    opts = lambda p: [[o["value"] for o in i.get("options", [])] for i in p["items"]]  # noqa: E731
    assert opts(p1) != opts(p2)


def test_idor_other_candidates_attempt_is_404(delivery_world, candidate_api):
    candidate_api.login(0)
    mine = candidate_api.start()
    candidate_api.login(1)
    other_token = candidate_api.token
    theirs = candidate_api.start()
    ref_b = ref(delivery_world, "judge", "B")
    for method, path, kw in [("get", f"/attempts/{mine}", {}), ("get", f"/attempts/{mine}/paper", {}),
                             ("put", f"/attempts/{mine}/responses/{ref_b}", {"json": {"answer": True, "seq": 1}}),
                             ("post", f"/attempts/{mine}/submit", {}),
                             ("post", f"/attempts/{mine}/events", {"json": {"kind": "copy"}}),
                             ("post", f"/attempts/{mine}/survey", {"json": {"answers": {}}}),
                             ("get", f"/attempts/{mine + 999}", {})]:
        resp = getattr(candidate_api, method)(path, token=other_token, **kw)
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert resp.get_json()["error"]["code"] == "not_found"
    # an item of another form through my own attempt: 404 too
    candidate_api.token = other_token
    assert candidate_api.put(f"/attempts/{theirs}/responses/{ref(delivery_world, 'judge', 'A')}",
                             json={"answer": True, "seq": 1}).status_code == 404
    assert candidate_api.post(f"/exams/{delivery_world.batch.id + 1}/attempt").status_code == 404


def test_anonymous_and_bad_tokens_get_401_json(delivery_world, client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        resp = client.get("/api/v1/candidate/exams", headers=headers)
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == "unauthenticated"
        assert resp.headers["Cache-Control"] == "no-store"


def test_validation_errors_are_chinese_json(delivery_world, candidate_api, attempt_id):
    r = ref(delivery_world, "single")
    resp = candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": "Z"})
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "validation_error" and any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])
    assert candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", data="x").status_code == 422


def test_save_after_deadline_plus_grace_refused_over_api(delivery_world, candidate_api, attempt_id,
                                                         frozen_clock, db):
    r = ref(delivery_world, "judge")
    frozen_clock.advance(timedelta(minutes=60, seconds=15))
    ok = candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": True, "seq": 1})
    assert ok.status_code == 200
    frozen_clock.advance(timedelta(seconds=1))
    resp = candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": False, "seq": 2})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "attempt_closed"
    state = candidate_api.get(f"/attempts/{attempt_id}").get_json()
    assert state["status"] == "timed_out" and state["remaining_seconds"] == 0
    assert state["responses"][0]["answer"] is True and state["responses"][0]["seq"] == 1


# --- RELIABILITY 7: acknowledge only after commit -----------------------------------------------


def test_commit_failure_is_never_acknowledged_and_retry_succeeds(app, delivery_world, candidate_api,
                                                                 attempt_id, db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    r = ref(delivery_world, "short")
    real_commit = db.session.commit
    calls = {"n": 0}

    def failing_commit():
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error (injected)"))
        return real_commit()

    monkeypatch.setattr(db.session, "commit", failing_commit)
    resp = candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": "我的答案", "seq": 1})
    assert resp.status_code >= 500 and resp.get_json()["error"]["code"] == "retry_later"
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert db.session.scalar(select(Response).where(Response.attempt_id == attempt_id)) is None
    retry = candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": "我的答案", "seq": 1})
    assert retry.status_code == 200
    assert db.session.scalar(select(Response.answer).where(Response.attempt_id == attempt_id)) == "我的答案"


def test_any_commit_exception_gives_5xx(delivery_world, candidate_api, attempt_id, db, monkeypatch):
    def boom():
        raise RuntimeError("injected")

    monkeypatch.setattr(db.session, "commit", boom)
    resp = candidate_api.put(f"/attempts/{attempt_id}/responses/{ref(delivery_world, 'judge')}",
                             json={"answer": True, "seq": 1})
    assert resp.status_code == 500


# --- RELIABILITY 32: Safe Exam Browser ------------------------------------------------------------


def test_safe_exam_browser_header(delivery_world, candidate_api, db):
    w = delivery_world
    key = "a" * 64
    w.batch.seb_config_key = key
    db.session.commit()
    candidate_api.login(0)
    url = f"http://localhost/api/v1/exams/{w.batch.id}/attempt"
    assert candidate_api.post(f"/exams/{w.batch.id}/attempt").status_code == 403
    wrong = {"X-SafeExamBrowser-ConfigKeyHash": hashlib.sha256((url + "b" * 64).encode()).hexdigest()}
    assert candidate_api.post(f"/exams/{w.batch.id}/attempt", headers=wrong).status_code == 403
    good = {"X-SafeExamBrowser-ConfigKeyHash": hashlib.sha256((url + key).encode()).hexdigest()}
    resp = candidate_api.post(f"/exams/{w.batch.id}/attempt", headers=good)
    assert resp.status_code == 201
    aid = resp.get_json()["attempt_id"]
    # a header for one URL replayed on another is refused and logged
    replay = candidate_api.get(f"/attempts/{aid}", headers=good)
    assert replay.status_code == 403 and replay.get_json()["error"]["code"] == "seb_required"
    assert db.session.scalar(select(IntegrityEvent.kind).where(IntegrityEvent.attempt_id == aid)) == "seb_check_failed"
    url2 = f"http://localhost/api/v1/attempts/{aid}"
    ok = {"X-SafeExamBrowser-ConfigKeyHash": hashlib.sha256((url2 + key).encode()).hexdigest()}
    assert candidate_api.get(f"/attempts/{aid}", headers=ok).status_code == 200


def test_server_integrity_facts(delivery_world, candidate_api, attempt_id, frozen_clock, db):
    r = ref(delivery_world, "judge")
    candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": True, "seq": 1})
    frozen_clock.advance(timedelta(minutes=6))
    candidate_api.put(f"/attempts/{attempt_id}/responses/{r}", json={"answer": False, "seq": 2},
                      headers={"User-Agent": "OtherBrowser/1.0"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    kinds = set(db.session.scalars(select(IntegrityEvent.kind).where(IntegrityEvent.attempt_id == attempt_id)))
    assert {"long_silence", "ip_change", "user_agent_change"} <= kinds


def test_clock_is_server_side(delivery_world, candidate_api, attempt_id, frozen_clock):
    frozen_clock.advance(timedelta(hours=11))  # hours after the deadline: 0, never wraps
    state = candidate_api.get(f"/attempts/{attempt_id}").get_json()
    assert state["remaining_seconds"] == 0 and state["server_time"].startswith(
        clock.now().strftime("%Y-%m-%d"))
