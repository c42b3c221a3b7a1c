"""Published results and score review applications through API v1 (issue 5 point 9): nothing
before publication, then the result with its 公示 dates, one review application at a time, the
scope rules (a wholly machine-scored paper only when its score is 0 or absent), ownership (another
exam → 404) and the application window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.delivery.batches import services as batches
from examsys.delivery.models import BatchState, ItemScore, ScoreReviewRequest
from examsys.delivery.scoring import grading, marking
from examsys.delivery.scoring import services as results
from examsys.permissions import Role
from tests.delivery.conftest import CandidateAPI
from tests.delivery.world import build_world

ANSWERS = {"judge": True, "single": "B", "multi": ["A", "C"], "fill": ["50", "220"],
           "short": "<p>断电操作，穿戴绝缘防护用品。</p>"}


def sit(api: CandidateAPI, i: int, qtypes) -> None:
    """Candidate i logs in, answers `qtypes` (form round-robin: 0 → A, 1 → B) and submits."""
    api.login(i)
    aid = api.start()
    form = "A" if i % 2 == 0 else "B"
    for seq, qtype in enumerate(qtypes, start=1):
        ref = api.world.form_items[(form, qtype)].id
        resp = api.put(f"/attempts/{aid}/responses/{ref}", json={"answer": ANSWERS[qtype], "seq": seq})
        assert resp.status_code == 200, resp.get_json()
    assert api.post(f"/attempts/{aid}/submit").status_code == 200


def publish(world, make, db) -> None:
    """Close, score, double-mark the open items, compute, 复核 by a second person, publish."""
    admin2 = make.user(roles=(Role.EXAM_ADMIN,), org=world.org)
    markers = [make.user(roles=(Role.PROCTOR,), org=world.org) for _ in range(2)]
    batch = world.batch
    batches.close_batch(world.admin, batch)
    grading.score_batch(batch)
    for s in db.session.scalars(select(ItemScore).where(ItemScore.batch_id == batch.id,
                                                        ItemScore.needs_marking.is_(True))):
        for m in markers:
            marking.record_mark(m, s, 2)
    results.compute_results(batch, world.admin)
    results.review_batch(batch, admin2, "无误")
    results.publish(batch, world.admin)
    db.session.commit()
    assert batch.state == BatchState.PUBLISHED


@pytest.fixture
def apis(client, delivery_world):
    return [CandidateAPI(client, delivery_world) for _ in range(3)]


def review(api, scope="adding", reason="总分与各部分得分之和不符", exam_id=None):
    return api.post("/candidate/results/review",
                    json={"exam_id": api.world.batch.id if exam_id is None else exam_id,
                          "scope": scope, "reason": reason})


def test_nothing_before_publication(delivery_world, apis):
    sit(apis[0], 0, ANSWERS)
    assert apis[0].get("/candidate/results").get_json() == {"results": []}
    refused = review(apis[0])
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "成绩尚未公布，不能申请复核"


def test_published_result_and_review(delivery_world, apis, make, db):
    w = delivery_world
    sit(apis[0], 0, ANSWERS)  # a marked paper (the short answer is marked by two people)
    sit(apis[1], 1, ["judge"])  # short answer blank: a wholly machine-scored paper, 2 points
    publish(w, make, db)

    body = apis[0].get("/candidate/results").get_json()
    (res,) = body["results"]
    assert res["exam_id"] == w.batch.id and res["status"] == "scored"
    # The world's paper snapshot carries no pass mark: the default 60 applies, so 10 fails.
    assert (res["total"], res["pass_mark"], res["passed"]) == (10.0, 60.0, False)
    assert res["can_apply"] is True and res["reviews"] == []
    assert [s["score"] for s in res["sections"]] == [2.0, 2.0, 2.0, 2.0, 2.0]
    assert res["notice_ends_at"] and res["review_apply_until"]
    assert w.canary not in str(body)

    # Scope problems: 422, nothing stored.
    for scope, reason, field in [("bogus", "x", "scope"), ("adding", "  ", "reason"),
                                 ("zero_or_absent", "x", "scope"), (None, "x", "scope")]:
        bad = review(apis[0], scope=scope, reason=reason)
        assert bad.status_code == 422, (scope, bad.get_json())
        assert bad.get_json()["error"]["field"] == field
    assert review(apis[0], exam_id=w.batch.id + 999).status_code == 404

    ok = review(apis[0], scope="adding")
    assert ok.status_code == 201
    req = ok.get_json()
    assert req["scope"] == "adding" and req["status"] == "open" and req["due_at"] > req["applied_at"]
    again = review(apis[0], scope="recording")
    assert again.status_code == 409 and again.get_json()["error"]["message"] == "已有一份复核申请正在处理"
    listed = apis[0].get("/candidate/results").get_json()["results"][0]["reviews"]
    assert [(r["scope"], r["status"], r["due_at"], r["answer"]) for r in listed] == \
        [("adding", "open", req["due_at"], None)]
    assert db.session.scalar(select(ScoreReviewRequest.reason).where(ScoreReviewRequest.id == req["id"])) == \
        "总分与各部分得分之和不符"

    # A wholly machine-scored paper with a score: no review; the same for an absent candidate is fine.
    machine = review(apis[1], scope="adding")
    assert machine.status_code == 422
    assert machine.get_json()["error"]["message"] == "机评试卷仅在成绩为零分或无成绩时受理复核"
    apis[2].login(2)
    (absent,) = apis[2].get("/candidate/results").get_json()["results"]
    assert absent["status"] == "absent" and absent["passed"] is False
    assert review(apis[2], scope="zero_or_absent", reason="我参加了考试").status_code == 201

    # Answered requests show the answer.
    stored = db.session.get(ScoreReviewRequest, req["id"])
    results.answer_review_request(w.admin, stored, outcome="unchanged", answer="经复核，成绩无误")
    db.session.commit()
    (shown,) = apis[0].get("/candidate/results").get_json()["results"][0]["reviews"]
    assert shown["status"] == "answered" and shown["answer"] == "经复核，成绩无误"


def test_another_candidates_exam_is_404(delivery_world, apis, make, db, client):
    other = build_world(db)
    db.session.commit()
    sit(apis[0], 0, ANSWERS)
    publish(delivery_world, make, db)
    resp = review(apis[0], exam_id=other.batch.id)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_window_closes(delivery_world, apis, make, db):
    sit(apis[0], 0, ANSWERS)
    publish(delivery_world, make, db)
    clock.advance(timedelta(days=30))  # past 10 working days; the old token has expired too
    apis[0].login(0)
    (res,) = apis[0].get("/candidate/results").get_json()["results"]
    assert res["can_apply"] is False
    late = review(apis[0])
    assert late.status_code == 409 and late.get_json()["error"]["message"] == "成绩复核申请期限已过"
