"""PostgreSQL's one-statement save as its own transaction (history.upsert_and_save(alone=True)):
with real commits (the usual `db` fixture wraps a test in one transaction, where it never
applies), a save of the common case is ONE statement in autocommit, and it writes the response,
its history row and its link together or not at all: a moved head or a flag other than the
remembered one sends the save down the general path with nothing half-written, and the record
verifies. And a save takes no lock on a row the whole room shares (its organisation, its form
item), so no other transaction holding one holds it up."""

from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from examsys import create_app
from examsys.audit import chain, history
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.audit.verify import verify_database
from examsys.delivery.exam import autosave, hotsave, saving
from examsys.delivery.models import Attempt, Response
from examsys.extensions import db as _db
from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name
from tests.delivery.world import build_world

pytestmark = pytest.mark.skipif(not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"),
                                reason="EXAMSYS_TEST_DATABASE_URL (PostgreSQL) not set")


@pytest.fixture
def real_app(frozen_clock):
    schema = f"examsys_alone_{worker_name()}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_schema_url(TEST_DB_URL, schema),
                      "SECRET_KEY": "t", "EXAMSYS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLWtleSE=",
                      "WTF_CSRF_ENABLED": False,
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        _db.create_all()
        world = build_world(_db)
        _db.session.commit()
        app.world = {"batch_id": world.batch.id, "logins": [world.login_payload(i) for i in range(2)]}
        _db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            _db.engine.dispose()
        drop_pg_schema(TEST_DB_URL, schema)


class Candidate:
    def __init__(self, app, i=0):
        self.client = app.test_client()
        resp = self.client.post("/api/v1/candidate/session", json=app.world["logins"][i])
        assert resp.status_code == 201, resp.get_json()
        self.h = {"Authorization": f"Bearer {resp.get_json()['token']}"}
        resp = self.client.post(f"/api/v1/exams/{app.world['batch_id']}/attempt", headers=self.h)
        assert resp.status_code in (200, 201), resp.get_json()
        self.aid = resp.get_json()["attempt_id"]
        paper = self.client.get(f"/api/v1/attempts/{self.aid}/paper", headers=self.h).get_json()
        item = next(i for i in paper["items"] if i["qtype"] == "single")
        self.options = [o["value"] for o in item["options"]]
        self.url = f"/api/v1/attempts/{self.aid}/responses/{item['item_ref']}"

    def save(self, seq, **extra):
        return self.client.put(self.url, headers=self.h,
                               json={"answer": self.options[seq % len(self.options)], "seq": seq, **extra})


@contextmanager
def _checkouts(app):
    """(autosave pool checkouts: each connection's autocommit flag, session pool checkouts) made
    inside the block."""
    checkouts, session_checkouts = [], []
    with app.app_context():
        pool, own = _db.engine.pool, saving.autocommit_engine().pool

    def count(dbapi_conn, *_a):
        checkouts.append(dbapi_conn.autocommit)

    def count_session(*_a):
        session_checkouts.append(1)

    event.listen(own, "checkout", count)
    event.listen(pool, "checkout", count_session)
    try:
        yield checkouts, session_checkouts
    finally:
        event.remove(own, "checkout", count)
        event.remove(pool, "checkout", count_session)


def _spy(monkeypatch):
    alone = []
    real = history._alone
    monkeypatch.setattr(history, "_alone", lambda *a: alone.append(out := real(*a)) or out)
    return alone


def _record(app, aid):
    with app.app_context():
        events = list(_db.session.execute(select(AuditEvent.seq, AuditEvent.data).where(
            AuditEvent.scope == chain.attempt_scope(aid), AuditEvent.action == "attempt.answer_saved")
            .order_by(AuditEvent.seq)))
        rows = list(_db.session.execute(select(AnswerHistory.seq, AnswerHistory.flagged).where(
            AnswerHistory.attempt_id == aid).order_by(AnswerHistory.seq)))
        stored = _db.session.scalar(select(func.max(Response.seq)).where(Response.attempt_id == aid))
        report = verify_database()
        _db.session.remove()
    return events, rows, stored, report


def test_a_common_save_is_one_statement_of_its_own(real_app, monkeypatch):
    cand = Candidate(real_app)
    alone = _spy(monkeypatch)
    for seq in range(1, 7):
        assert cand.save(seq).status_code == 200
    assert len(alone) >= 4 and all(out is not None for out in alone)  # after the first read, each save alone
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [e.data["seq"] for e in events] == list(range(1, 7)) and [r.seq for r in rows] == list(range(1, 7))
    assert stored == 6 and report.ok, report.failures


def test_a_common_save_runs_on_a_pooled_connection_of_its_own_without_the_orm_session(real_app, monkeypatch):
    """The session's connection and commit machinery cost more than the statement: a save with
    nothing for the attempt row takes one connection of the autosave pool, whose connections stay
    in autocommit, none of the session's pool and no write phase of the session, whether its
    read is remembered or made afresh."""
    cand = Candidate(real_app)
    assert cand.save(1).status_code == 200  # answered: the attempt row's count, in the session's transaction
    phases = []
    real_phase = saving.write_phase
    monkeypatch.setattr(saving, "write_phase", lambda *a, **k: phases.append(a) or real_phase(*a, **k))
    with _checkouts(real_app) as (checkouts, session_checkouts):
        for seq in range(2, 6):
            if seq == 4:
                hotsave._HOT.clear()  # a save this process knows nothing of: read afresh, on the same connection
            checkouts.clear()
            assert cand.save(seq).status_code == 200
            assert checkouts == [True], seq
    assert session_checkouts == []
    assert phases == []
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5] and stored == 5 and report.ok, report.failures


def test_a_save_this_process_knows_nothing_of_is_one_read_then_one_statement(real_app, monkeypatch):
    """A worker that has seen neither the item nor the attempt (at scale, most saves): the read
    runs outside a transaction and brings the chain's head, so the write is still the one
    statement of its own, after the head read with it."""
    cand = Candidate(real_app)
    for seq in (1, 2):
        assert cand.save(seq).status_code == 200
    hotsave._HOT.clear()
    history.forget_head(cand.aid)
    alone = _spy(monkeypatch)
    appends = []
    real_append = chain.append
    monkeypatch.setattr(chain, "append", lambda *a, **k: appends.append(a[1]) or real_append(*a, **k))
    assert cand.save(3).status_code == 200
    assert len(alone) == 1 and alone[0] is not None and appends == []
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [e.data["seq"] for e in events] == [1, 2, 3] and [r.seq for r in rows] == [1, 2, 3]
    assert stored == 3 and report.ok, report.failures


def test_a_moved_head_writes_nothing_and_the_save_follows_the_real_head(real_app, monkeypatch):
    """Another worker appended since this process's last save: the statement writes nothing and
    answers the chain's real head, and the second statement, after it, is the save."""
    cand = Candidate(real_app)
    for seq in (1, 2, 3):
        assert cand.save(seq).status_code == 200
    head = history.known_head(cand.aid)
    history.remember_head(cand.aid, (head[0] - 1, "0" * 64))  # as if another node had appended since
    alone = _spy(monkeypatch)
    resp = cand.save(4)
    assert resp.status_code == 200 and resp.get_json()["seq"] == 4
    assert len(alone) == 2 and alone[0] == history.HeadMoved(head)  # nothing written, the real head back
    assert alone[1][:2] == (False, history.known_head(cand.aid)) and alone[1].link[0] == head[0] + 1
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [e.data["seq"] for e in events] == [1, 2, 3, 4] and [r.seq for r in rows] == [1, 2, 3, 4]
    assert stored == 4 and report.ok, report.failures
    assert cand.save(5).status_code == 200 and len(alone) == 3 and alone[-1] is not None


def test_a_flag_other_than_remembered_writes_nothing_then_the_stored_flag_is_recorded(real_app, monkeypatch):
    cand = Candidate(real_app)
    for seq in (1, 2):
        assert cand.save(seq, flagged=True).status_code == 200
    with hotsave._LOCK:
        keys = [k for k in hotsave._HOT if k[1] == cand.aid]
        for k in keys:
            stamp, fast = hotsave._HOT[k]
            hotsave._HOT[k] = (stamp, dataclasses.replace(fast, stored_flagged=False))
    assert keys
    alone = _spy(monkeypatch)
    resp = cand.save(3)  # leaves the flag alone: the stored one (True) stands
    assert resp.status_code == 200 and resp.get_json()["flagged"] is True
    # The remembered flag's statement wrote nothing; the fresh read's, alone too, is the save.
    assert len(alone) == 2 and alone[0] is None and alone[1][0] is True
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [(e.data["seq"], e.data["flagged"]) for e in events] == [(1, True), (2, True), (3, True)]
    assert [(r.seq, r.flagged) for r in rows] == [(1, True), (2, True), (3, True)]
    assert stored == 3 and report.ok, report.failures


def test_a_save_after_the_submit_is_refused_with_nothing_written(real_app, monkeypatch):
    cand = Candidate(real_app)
    for seq in (1, 2):
        assert cand.save(seq).status_code == 200
    assert cand.client.post(f"/api/v1/attempts/{cand.aid}/submit", headers=cand.h).status_code == 200
    resp = cand.save(3)  # the hot entry still says open: the guarded statement re-checks
    assert resp.status_code == 409, resp.get_json()
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [r.seq for r in rows] == [1, 2] and stored == 2 and report.ok, report.failures


# A save locks no row that the rest of the room shares. Were the organisation and the form item of
# the history row and the link foreign keys, each save's checks would take KEY SHARE locks on the
# organisation's row and the form item's row -- rows every candidate of the room saves against at
# once, which PostgreSQL then tracks as MultiXacts (migration 2647915a7be3). Another transaction
# holding both rows FOR UPDATE (which conflicts with KEY SHARE) must not hold a save up.


def test_a_save_is_acknowledged_while_its_organisation_and_item_rows_are_locked(real_app):
    cand = Candidate(real_app)
    assert cand.save(1).status_code == 200  # the response row exists: later saves update it
    with real_app.app_context():
        attempt = _db.session.get(Attempt, cand.aid)
        org_id = attempt.batch.organisation_id
        item_id = _db.session.scalar(select(Response.form_item_id).where(Response.attempt_id == cand.aid))
        _db.session.remove()
        engine = _db.engine
    locker = engine.connect()  # a pooled connection of its own, in a transaction until rolled back
    done = threading.Event()
    answers = []
    try:
        locker.execute(text("SELECT id FROM organisations WHERE id = :id FOR UPDATE"), {"id": org_id})
        locker.execute(text("SELECT id FROM paper_form_items WHERE id = :id FOR UPDATE"), {"id": item_id})

        def save():
            answers.append(cand.save(2).status_code)
            done.set()

        thread = threading.Thread(target=save, daemon=True)
        thread.start()
        acknowledged_while_locked = done.wait(10)
    finally:
        locker.rollback()  # lets a blocked save go on, so the thread ends either way
        locker.close()
    thread.join(30)
    assert acknowledged_while_locked, "the save waited for the organisation's or the form item's row lock"
    assert answers == [200]
    with real_app.app_context():
        history = _db.session.scalar(select(func.count()).select_from(AnswerHistory).where(
            AnswerHistory.attempt_id == cand.aid, AnswerHistory.seq == 2))
        link = _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.scope == chain.attempt_scope(cand.aid), AuditEvent.action == "attempt.answer_saved",
            AuditEvent.organisation_id == org_id))
        _db.session.remove()
    assert history == 1
    assert link == 2  # both saves, each with its organisation named


def _attempt_and_session(app, aid):
    with app.app_context():
        row = _db.session.execute(text(
            "SELECT a.answered_count, a.last_seen_at, s.last_seen_at FROM attempts a "
            "JOIN candidate_sessions s ON s.roster_entry_id = a.roster_entry_id AND s.ended_at IS NULL "
            "WHERE a.id = :a"), {"a": aid}).one()
        _db.session.remove()
    return row[0], row[1], row[2]


def test_a_save_with_the_attempt_rows_bookkeeping_and_the_sessions_last_seen_is_still_one_statement(
        real_app, monkeypatch, frozen_clock):
    """At scale most saves have something for the attempt row (a first answer changes the answered
    count; the last-seen time is due every 15 s) and, every minute, for the session's: those
    UPDATEs are parts of the one standalone statement, on the autosave pool, without the ORM
    session's transaction."""
    cand = Candidate(real_app)
    assert cand.save(1).status_code == 200
    count0, _seen0, _session0 = _attempt_and_session(real_app, cand.aid)
    assert count0 == 1
    phases, session_checkouts = [], []
    real_phase = saving.write_phase
    monkeypatch.setattr(saving, "write_phase", lambda *a, **k: phases.append(a) or real_phase(*a, **k))
    with real_app.app_context():
        pool = _db.engine.pool

    def count_session(*_a):
        session_checkouts.append(1)

    event.listen(pool, "checkout", count_session)
    alone = _spy(monkeypatch)
    try:
        frozen_clock.advance(timedelta(seconds=61))  # the attempt's and the session's last-seen times both due
        hotsave._HOT.clear()
        assert cand.save(2).status_code == 200
        during = len(session_checkouts)
        count, seen, session_seen = _attempt_and_session(real_app, cand.aid)
        assert (count, seen, session_seen) == (1, frozen_clock.now(), frozen_clock.now())
        frozen_clock.advance(timedelta(seconds=20))  # the attempt's due again, not the session's
        before = len(session_checkouts)
        assert cand.save(3).status_code == 200
        during += len(session_checkouts) - before
        count, seen, session_seen2 = _attempt_and_session(real_app, cand.aid)
        assert (count, seen, session_seen2) == (1, frozen_clock.now(), session_seen)
    finally:
        event.remove(pool, "checkout", count_session)
    assert during == 0  # no connection of the session's pool for either save
    assert len(alone) == 2 and all(isinstance(out, history.Stored) for out in alone)
    assert alone[0].extra == 1 and alone[1].extra == 1  # the answered count, as the statement left it
    assert phases == []
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [r.seq for r in rows] == [1, 2, 3] and stored == 3 and report.ok, report.failures


def test_a_standalone_save_that_writes_nothing_leaves_the_attempt_row_and_session_alone(
        real_app, monkeypatch, frozen_clock):
    """The bookkeeping runs only if the upsert wrote: a read that another worker's save has
    overtaken before the statement (its seq moved on) writes nothing at all, the count included;
    the save then takes the general path, which counts once."""
    cand = Candidate(real_app)
    assert cand.save(1).status_code == 200
    frozen_clock.advance(timedelta(seconds=61))
    hotsave._HOT.clear()
    real_load = autosave.load
    stale = []

    def overtaken(*a, **k):
        fast = real_load(*a, **k)
        if fast is not None and not stale:  # as read before seq 1 was stored: nothing answered yet
            fast = dataclasses.replace(fast, stored_seq=None, was_answered=False, answered_count=0)
            stale.append(fast)
        return fast

    monkeypatch.setattr(autosave, "load", overtaken)
    alone = _spy(monkeypatch)
    assert cand.save(2).status_code == 200
    assert stale and alone and alone[0] is None  # the overtaken read's statement wrote nothing
    count, seen, session_seen = _attempt_and_session(real_app, cand.aid)
    assert count == 1 and seen == frozen_clock.now()  # counted once, by the general path's write
    events, rows, stored, report = _record(real_app, cand.aid)
    assert [r.seq for r in rows] == [1, 2] and stored == 2 and report.ok, report.failures


def test_the_paper_is_read_on_the_autosave_pool_without_the_orm_session(real_app):
    """The paper's fast path (examsys.delivery.exam.paperfast) reads on a connection of the
    autosave pool, in autocommit, and none of the session's pool: a start storm's paper requests
    cost no BEGIN and no COMMIT."""
    cand = Candidate(real_app)  # has loaded the paper once: the form's layout and views are kept
    with _checkouts(real_app) as (checkouts, session_checkouts):
        resp = cand.client.get(f"/api/v1/attempts/{cand.aid}/paper", headers=cand.h)
    assert resp.status_code == 200 and len(resp.get_json()["items"]) == 5
    assert checkouts == [True] and session_checkouts == []
