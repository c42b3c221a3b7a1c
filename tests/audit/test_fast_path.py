"""Saves through the API take the fast path (a remembered head, the driver's own INSERTs): every
acknowledged save still lands in the answer history and in the attempt's chain, and the record
verifies, including after another event moved the chain's head in between."""

from __future__ import annotations

from sqlalchemy import func, select

from examsys.audit import chain, history
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.audit.verify import verify_database
from tests.delivery.conftest import CandidateAPI, candidate_api, delivery_world  # noqa: F401

real_time = history._time


def test_fast_saves_are_recorded_and_verify(candidate_api, db, monkeypatch):  # noqa: F811 - the imported fixture
    raw = []
    monkeypatch.setattr(history, "_time", lambda dialect, moment: raw.append(1) or real_time(dialect, moment))
    candidate_api.login(0)
    aid = candidate_api.start()
    paper = candidate_api.get(f"/attempts/{aid}/paper").get_json()
    single = next(i for i in paper["items"] if i["qtype"] == "single")
    options = [o["value"] for o in single["options"]]
    for seq in range(1, 9):
        if seq == 5:  # a focus loss moves the chain's head between two saves
            assert candidate_api.post(f"/attempts/{aid}/events",
                                      json={"events": [{"kind": "focus_lost"}]}).status_code == 202
        resp = candidate_api.put(f"/attempts/{aid}/responses/{single['item_ref']}",
                                 json={"answer": options[seq % len(options)], "seq": seq})
        assert resp.status_code == 200, resp.get_json()
    assert candidate_api.post(f"/attempts/{aid}/submit").status_code == 200
    saved = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.scope == chain.attempt_scope(aid), AuditEvent.action == "attempt.answer_saved"))
    rows = list(db.session.scalars(select(AnswerHistory.seq).where(AnswerHistory.attempt_id == aid)
                                      .order_by(AnswerHistory.seq)))
    assert saved == 8 and rows == list(range(1, 9))
    assert len(raw) >= 5  # most saves took the driver's INSERTs
    report = verify_database()
    assert report.ok, report.failures
