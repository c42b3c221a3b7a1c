"""The autosave shortcuts (delivery.autosave fast path, delivery.hotsave remembered reads) decide
nothing the general path would decide differently: whatever changes between two saves of the same
item — a newer login, a submit or termination, a replaced item, a newer seq stored by another
server process, the deadline — the next save answers as if there were no shortcut."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from examsys.audit import chain, history
from examsys.audit.models import AuditEvent
from examsys.delivery.exam import autosave, hotsave
from examsys.delivery.exam import services as attempts
from examsys.delivery.models import Attempt, Response
from tests.api.test_candidate_api import ref


def _save(api, attempt_id, item, answer, seq, token=None):
    return api.put(f"/attempts/{attempt_id}/responses/{item}", json={"answer": answer, "seq": seq}, token=token)


def _count_reads(monkeypatch) -> list:
    """The (attempt, item) of every fresh read (`autosave.load`) from now on."""
    reads = []
    real_load = autosave.load
    monkeypatch.setattr(autosave, "load", lambda *a, **k: reads.append(a[2:4]) or real_load(*a, **k))
    return reads


def _stored_elsewhere(db, attempt_id, seq, answer) -> None:
    """As another server process would: a newer save stored behind this process's memory."""
    db.session.execute(update(Response).where(Response.attempt_id == attempt_id).values(seq=seq, answer=answer))
    db.session.commit()


def _hot_entries(api, attempt_id):
    token_sha256 = hashlib.sha256(api.token.encode()).hexdigest()
    return [k for k in hotsave._HOT if k[:2] == (token_sha256, attempt_id)]


def test_a_stored_save_is_remembered_and_reused(delivery_world, candidate_api, monkeypatch):
    reads = _count_reads(monkeypatch)
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    assert len(_hot_entries(candidate_api, attempt_id)) == 1 and len(reads) == 1
    assert _save(candidate_api, attempt_id, item, "B", 2).status_code == 200
    assert len(reads) == 1  # the second save used the remembered read: one statement
    stale = _save(candidate_api, attempt_id, item, "C", 2)  # a replay with another answer: stale
    assert stale.status_code == 409 and stale.get_json()["answer"] == "B"
    assert _save(candidate_api, attempt_id, item, "B", 2).status_code == 200  # the same replay: duplicate


def test_a_newer_login_ends_the_remembered_session(delivery_world, candidate_api):
    candidate_api.login(0)
    old = candidate_api.token
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "judge")
    assert _save(candidate_api, attempt_id, item, True, 1).status_code == 200
    candidate_api.login(0)  # another computer: the old session ends
    resp = _save(candidate_api, attempt_id, item, False, 2, token=old)
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "session_replaced"
    assert _save(candidate_api, attempt_id, item, False, 2).status_code == 200  # the new session saves


def test_a_closed_attempt_refuses_the_next_save(delivery_world, candidate_api, db):
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "judge")
    assert _save(candidate_api, attempt_id, item, True, 1).status_code == 200
    attempts.terminate(delivery_world.admin, db.session.get(Attempt, attempt_id), reason="违纪：夹带")
    db.session.commit()
    resp = _save(candidate_api, attempt_id, item, False, 2)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "attempt_closed"
    assert db.session.scalar(select(Response.answer).where(Response.attempt_id == attempt_id)) is True
    assert _hot_entries(candidate_api, attempt_id) == []


def test_a_newer_seq_stored_elsewhere_wins(delivery_world, candidate_api, db):
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    _stored_elsewhere(db, attempt_id, 5, "D")  # this process's memory still says 1
    resp = _save(candidate_api, attempt_id, item, "B", 3)
    assert resp.status_code == 409 and resp.get_json()["seq"] == 5 and resp.get_json()["answer"] == "D"
    assert _save(candidate_api, attempt_id, item, "C", 6).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Response.answer).where(Response.attempt_id == attempt_id)) == "C"


def test_a_remembered_read_out_of_date_is_read_afresh_on_the_fast_path(delivery_world, candidate_api, db,
                                                                       monkeypatch):
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    _stored_elsewhere(db, attempt_id, 2, "D")  # this process still remembers seq 1
    reads = _count_reads(monkeypatch)
    monkeypatch.setattr(attempts, "save", lambda *a, **k: pytest.fail("took the general path"))
    assert _save(candidate_api, attempt_id, item, "B", 3).status_code == 200
    assert reads == [(attempt_id, item)]  # one fresh read, after the remembered one failed
    assert _save(candidate_api, attempt_id, item, "C", 4).status_code == 200
    assert len(reads) == 1  # remembered again
    db.session.expire_all()
    assert db.session.scalar(select(Response.answer).where(Response.attempt_id == attempt_id)) == "C"


def test_a_save_this_process_knows_nothing_of_reads_the_chain_head_with_the_rest(delivery_world, candidate_api,
                                                                                db, monkeypatch):
    """At scale a worker rarely remembers the item (nor the attempt chain's head): the one read
    brings the head, and the link follows it without a read or a retry of its own."""
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    hotsave._HOT.clear()
    history.forget_head(attempt_id)  # as a worker that has not seen this attempt yet
    appends = []
    real_append = chain.append
    monkeypatch.setattr(chain, "append", lambda *a, **k: appends.append(a[1]) or real_append(*a, **k))
    reads = _count_reads(monkeypatch)
    assert _save(candidate_api, attempt_id, item, "B", 2).status_code == 200
    assert reads == [(attempt_id, item)] and appends == []
    scope = chain.attempt_scope(attempt_id)
    events = db.session.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.data)
                                .where(AuditEvent.scope == scope).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # contiguous
    assert events[-1].action == "attempt.answer_saved" and events[-1].data["seq"] == 2
    assert history.known_head(attempt_id) == chain.head(db.session.connection(), scope)


def test_the_deadline_is_the_servers_not_the_memorys(delivery_world, candidate_api, frozen_clock):
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "judge")
    assert _save(candidate_api, attempt_id, item, True, 1).status_code == 200
    frozen_clock.advance(timedelta(minutes=60, seconds=16))  # past deadline + grace
    resp = _save(candidate_api, attempt_id, item, False, 2)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "attempt_closed"
    state = candidate_api.get(f"/attempts/{attempt_id}").get_json()
    assert state["status"] == "timed_out" and state["responses"][0]["answer"] is True


def test_a_replaced_item_is_checked_against_its_new_version(delivery_world, candidate_api, db):
    from examsys.assembly.models import PaperReplacement
    from examsys.bank.items import content_hash
    from examsys.bank.models import ItemVersion
    from examsys.delivery.exam.autosave.specs import _SPEC_CACHE

    w = delivery_world
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    item = ref(w, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    # The item is replaced by a version whose options are only A and B (recorded, as the paper
    # service does; the answer check must use the new version from the next save on).
    fi = w.form_items[("A", "single")]
    old = db.session.get(ItemVersion, fi.item_version_id)
    content = {**old.content, "options": [o for o in old.content["options"] if o["label"] in "AB"]}
    columns = {c.key: getattr(old, c.key) for c in ItemVersion.__table__.columns if c.key not in ("id", "created_at")}
    new = ItemVersion(**{**columns, "number": old.number + 1, "content": content,
                         "content_hash": content_hash(old.qtype, content), "note": "只保留 A、B"})
    db.session.add(new)
    db.session.flush()
    db.session.add(PaperReplacement(form_item_id=fi.id, new_item_version_id=new.id, reason="选项有误",
                                    replaced_by_id=w.admin.id))
    db.session.commit()
    resp = _save(candidate_api, attempt_id, item, "C", 2)
    assert resp.status_code == 422  # C no longer exists
    assert (item, new.id) in _SPEC_CACHE
    assert _save(candidate_api, attempt_id, item, "B", 3).status_code == 200


def test_autosave_is_rate_limited_per_session(app, delivery_world, candidate_api, monkeypatch):
    monkeypatch.setitem(app.config, "EXAMSYS_AUTOSAVE_RATE", "3 per minute")
    candidate_api.login(1)
    attempt_id = candidate_api.start()
    item = ref(delivery_world, "judge", form="B")
    codes = [_save(candidate_api, attempt_id, item, True, n).status_code for n in range(1, 5)]
    assert codes == [200, 200, 200, 429]
    resp = _save(candidate_api, attempt_id, item, True, 5)
    assert resp.get_json()["error"]["code"] == "rate_limited" and int(resp.headers["Retry-After"]) >= 1


def test_flask_limiter_checks_only_its_decorated_routes(app):
    from examsys.extensions import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    # nor does it add headers or clear its per-request state after every request
    assert not [h for h in app.after_request_funcs.get(None, []) if "Limiter" in repr(h)]
    assert not [h for h in app.teardown_request_funcs.get(None, []) if "Limiter" in repr(h)]


def test_a_refused_sign_in_still_says_when_to_come_back(app, client, monkeypatch):
    """With Flask-Limiter's after-request pass gone, a decorated limit still refuses with 429
    and Retry-After."""
    from examsys.ratelimit import init_limiter

    monkeypatch.setitem(app.config, "EXAMSYS_CANDIDATE_LOGIN_RATE", "2 per minute")
    codes = [client.post("/api/v1/candidate/session", json={"ticket_no": "X", "id_number": "1"})
             for _ in range(3)]
    assert all(r.status_code != 429 for r in codes[:2]) and codes[2].status_code == 429
    assert int(codes[2].headers["Retry-After"]) >= 1
    init_limiter(app)


def test_sqlite_writes_take_the_writer_turn_and_always_give_it_back(app, db, delivery_world, candidate_api,
                                                                    monkeypatch):
    """On SQLite, autosave writes and whole-request API writes run as the queued writer
    (examsys.sqlite_writer) and leave no turn behind: after success, a refusal, an error."""
    from examsys import sqlite_writer

    if db.engine.dialect.name != "sqlite":
        assert not sqlite_writer.held()
        return
    from examsys.delivery.exam import autosave

    seen = []
    real_write = autosave.write_fast

    def write_fast(*a, **k):  # the save's reads may run before its turn; its writes never do
        seen.append(sqlite_writer.held())
        return real_write(*a, **k)

    candidate_api.login(0)
    attempt_id = candidate_api.start()
    monkeypatch.setattr(autosave, "write_fast", write_fast)
    item = ref(delivery_world, "single")
    assert _save(candidate_api, attempt_id, item, "A", 1).status_code == 200
    assert seen and all(seen), "the autosave write ran outside the writer turn"
    assert not sqlite_writer.held()
    assert _save(candidate_api, attempt_id, item, "A", "x").status_code == 422  # refused in the general path
    assert not sqlite_writer.held()
    resp = candidate_api.post(f"/attempts/{attempt_id}/events", json={"events": [{"type": "blur"}]})
    assert resp.status_code < 500 and not sqlite_writer.held()
    assert candidate_api.post(f"/attempts/{attempt_id + 999}/submit").status_code == 404
    assert not sqlite_writer.held()


def test_the_process_window_counts_per_key_and_restarts_after_its_window():
    from examsys.api.common import ProcessWindow

    w = ProcessWindow()
    assert [w.hit("a", 2, 60, 100.0) for _ in range(2)] == [None, None]
    assert w.hit("a", 2, 60, 130.0) == 30.0  # used up: the window ends at 160
    assert w.hit("b", 2, 60, 130.0) is None  # another key counts on its own
    assert w.hit("a", 2, 60, 160.0) is None  # a new window


def test_the_process_window_drops_expired_keys_once_it_grows(monkeypatch):
    from examsys.api.common import ProcessWindow

    monkeypatch.setattr(ProcessWindow, "SWEEP_AT", 3)
    w = ProcessWindow()
    for k in range(3):
        w.hit(f"old{k}", 5, 1, 0.0)
    w.hit("new", 5, 1, 10.0)  # the fourth key: expired ones go
    assert set(w._windows) == {"new"}
