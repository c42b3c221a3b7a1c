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


def _single_choice(api: CandidateAPI) -> tuple[int, str, list]:
    """Candidate 0 signed in and started: (attempt id, the single-choice item's save URL, its
    option values)."""
    api.login(0)
    aid = api.start()
    paper = api.get(f"/attempts/{aid}/paper").get_json()
    single = next(i for i in paper["items"] if i["qtype"] == "single")
    return aid, f"/attempts/{aid}/responses/{single['item_ref']}", [o["value"] for o in single["options"]]


def test_fast_saves_are_recorded_and_verify(candidate_api, db, monkeypatch):  # noqa: F811 - the imported fixture
    raw = []
    monkeypatch.setattr(history, "_time", lambda dialect, moment: raw.append(1) or real_time(dialect, moment))
    real_combined = history.upsert_and_save  # PostgreSQL: the upsert, history row and link in one statement
    monkeypatch.setattr(history, "upsert_and_save", lambda *a, **k: raw.append(1) or real_combined(*a, **k))
    aid, url, options = _single_choice(candidate_api)
    for seq in range(1, 9):
        if seq == 5:  # a focus loss moves the chain's head between two saves
            assert candidate_api.post(f"/attempts/{aid}/events",
                                      json={"events": [{"kind": "focus_lost"}]}).status_code == 202
        resp = candidate_api.put(url, json={"answer": options[seq % len(options)], "seq": seq})
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


def test_a_head_moved_by_another_worker_costs_no_rollback(candidate_api, db, monkeypatch):  # noqa: F811
    """Under several workers a candidate's saves alternate between them, so the head this
    process remembers is often stale: the save still takes the fast path and appends after the
    chain's real head in the same transaction, without rolling back and redoing the save."""
    aid, url, options = _single_choice(candidate_api)
    for seq in (1, 2):
        assert candidate_api.put(url, json={"answer": options[seq % len(options)], "seq": seq}).status_code == 200
    first = history.known_head(aid)
    assert first is not None
    assert candidate_api.put(url, json={"answer": options[0], "seq": 3}).status_code == 200
    history.remember_head(aid, (first[0] - 1, "0" * 64))  # as if another worker had appended since
    rollbacks, raw = [], []
    real_rollback = db.session.rollback
    monkeypatch.setattr(db.session, "rollback", lambda: rollbacks.append(1) or real_rollback())
    monkeypatch.setattr(history, "_time", lambda dialect, moment: raw.append(1) or real_time(dialect, moment))
    real_combined = history.upsert_and_save
    monkeypatch.setattr(history, "upsert_and_save", lambda *a, **k: raw.append(1) or real_combined(*a, **k))
    assert candidate_api.put(url, json={"answer": options[1], "seq": 4}).status_code == 200
    assert raw and not rollbacks
    seqs = list(db.session.scalars(select(AuditEvent.seq).where(AuditEvent.scope == chain.attempt_scope(aid))
                                   .order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
    assert history.known_head(aid) == (seqs[-1], db.session.scalar(
        select(AuditEvent.entry_hash).where(AuditEvent.scope == chain.attempt_scope(aid), AuditEvent.seq == seqs[-1])))
    assert verify_database().ok


def test_a_flag_other_than_remembered_is_recorded_as_stored(candidate_api, db):  # noqa: F811
    """A save that leaves the flag alone records the flag as stored, even when what this process
    remembered of it is wrong (PostgreSQL's one-statement save computes the link for the
    remembered flag; the link is then appended for the stored one instead)."""
    import dataclasses

    from examsys.delivery.exam import hotsave

    aid, url, options = _single_choice(candidate_api)
    for seq in (1, 2):
        assert candidate_api.put(url, json={"answer": options[0], "seq": seq, "flagged": True}).status_code == 200
    with hotsave._LOCK:
        keys = [k for k in hotsave._HOT if k[1] == aid]
        for k in keys:
            stamp, fast = hotsave._HOT[k]
            hotsave._HOT[k] = (stamp, dataclasses.replace(fast, stored_flagged=False))
    assert keys, "the fast path remembered the item"
    resp = candidate_api.put(url, json={"answer": options[1], "seq": 3})
    assert resp.status_code == 200 and resp.get_json()["flagged"] is True
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.scope == chain.attempt_scope(aid), AuditEvent.action == "attempt.answer_saved")
        .order_by(AuditEvent.seq.desc())).first()
    assert event.data["seq"] == 3 and event.data["flagged"] is True
    assert db.session.scalar(select(AnswerHistory.flagged).where(
        AnswerHistory.attempt_id == aid, AnswerHistory.seq == 3)) is True
    assert verify_database().ok


def test_sqlite_works_out_the_link_before_the_writer_turn(candidate_api, db, monkeypatch):  # noqa: F811
    """On SQLite every writer queues behind the one holding the writer turn, so a save's hashing
    and serialising happen before it takes the turn: only its statements and commit run in it."""
    import pytest

    from examsys import sqlite_writer

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writer turn is SQLite's")
    in_turn = []
    real_hash = chain.entry_hash
    monkeypatch.setattr(chain, "entry_hash", lambda *a, **k: in_turn.append(sqlite_writer.held()) or real_hash(*a, **k))
    _aid, url, options = _single_choice(candidate_api)
    for seq in range(1, 6):
        resp = candidate_api.put(url, json={"answer": options[seq % len(options)], "seq": seq})
        assert resp.status_code == 200, resp.get_json()
    assert in_turn.count(False) >= 3  # the saves after the first (whose head was not yet known)
    assert in_turn[-3:] == [False, False, False]
    assert verify_database().ok
