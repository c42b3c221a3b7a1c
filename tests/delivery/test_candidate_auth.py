"""Candidate login and sessions (RELIABILITY 14, 28)."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from examsys.audit.models import AuditEvent
from examsys.delivery.exam import candidate_auth
from examsys.delivery.models import BatchState, CandidateSession, IntegrityEvent
from examsys.errors import AuthenticationFailed, SessionReplaced

URL = "/api/v1/candidate/session"


def test_login_and_authenticate(delivery_world, db):
    w = delivery_world
    token, signed_in = candidate_auth.login(w.tickets[0], w.id_numbers[0], ip="1.2.3.4", user_agent="UA")
    assert signed_in.entry_id == w.entries[0].id and signed_in.exam_id == w.batch.id
    assert signed_in.organisation_id == w.batch.organisation_id and signed_in.room == w.entries[0].room.name
    session = candidate_auth.authenticate(token)
    assert session.token_hash == candidate_auth.token_hash(token) and token not in session.token_hash
    assert (session.roster_entry_id, session.ip, session.user_agent, session.ended_at) == (
        w.entries[0].id, "1.2.3.4", "UA", None)
    assert session.created_at == session.last_seen_at and session.created_at.tzinfo is not None
    opened = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "candidate_session.opened")).all()
    assert [(e.object_type, e.object_id, e.scope) for e in opened] == [
        ("candidate_session", str(session.id), f"entry/{w.entries[0].id}")]


@pytest.mark.parametrize("case", ["unknown", "wrong_id", "bad_id", "other_candidates_id", "planned"])
def test_every_failure_has_one_message(delivery_world, db, case):
    w = delivery_world
    ticket, idn = w.tickets[0], w.id_numbers[0]
    if case == "unknown":
        ticket = "NOPE"
    elif case == "wrong_id":
        idn = w.id_numbers[0][:-2] + "00"
    elif case == "bad_id":
        idn = "123"
    elif case == "other_candidates_id":
        idn = w.id_numbers[1]
    else:
        w.batch.state = BatchState.PLANNED
    with pytest.raises(AuthenticationFailed) as exc:
        candidate_auth.login(ticket, idn, ip=None, user_agent=None)
    assert exc.value.message == candidate_auth.LOGIN_FAILED


def test_access_code_when_required(delivery_world, db):
    w = delivery_world
    w.batch.require_access_code = True
    with pytest.raises(AuthenticationFailed):
        candidate_auth.login(w.tickets[0], w.id_numbers[0], None, ip=None, user_agent=None)
    with pytest.raises(AuthenticationFailed):
        candidate_auth.login(w.tickets[0], w.id_numbers[0], "WRONG1", ip=None, user_agent=None)
    candidate_auth.login(w.tickets[0], w.id_numbers[0], "room01", ip=None, user_agent=None)


def test_second_login_replaces_first_both_logged(delivery_world, db, candidate_api):
    w = delivery_world
    candidate_api.login(0)
    old = candidate_api.token
    attempt_id = candidate_api.start()
    candidate_api.login(0)
    new = candidate_api.token
    with pytest.raises(SessionReplaced):
        candidate_auth.authenticate(old)
    # the stale tab's submit is refused with session_replaced and logged once
    for _ in range(2):
        resp = candidate_api.post(f"/attempts/{attempt_id}/submit", token=old)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "session_replaced"
    assert candidate_api.get(f"/attempts/{attempt_id}", token=new).get_json()["status"] == "in_progress"
    kinds = db.session.scalars(select(IntegrityEvent.kind).where(IntegrityEvent.attempt_id == attempt_id)).all()
    assert kinds.count("concurrent_login") == 1 and kinds.count("stale_session") == 1
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("candidate_session.opened") == 2 and actions.count("candidate_session.replaced") == 1
    assert db.session.scalar(select(func.count(CandidateSession.id)).where(
        CandidateSession.ended_at.is_(None), CandidateSession.roster_entry_id == w.entries[0].id)) == 1


def test_login_api_generic_401_and_no_enumeration(delivery_world, client):
    w = delivery_world
    a = client.post(URL, json={"ticket_no": "NOPE", "id_number": w.id_numbers[0]})
    b = client.post(URL, json={"ticket_no": w.tickets[0], "id_number": w.id_numbers[1]})
    c = client.post(URL, data="not json")
    assert a.status_code == b.status_code == c.status_code == 401
    assert a.get_json() == b.get_json() == c.get_json()
    assert a.get_json()["error"]["message"] == candidate_auth.LOGIN_FAILED


@pytest.mark.parametrize("limited", ["ticket", "address"])
def test_login_rate_limited_per_ticket_and_ip(app, delivery_world, client, limited):
    from examsys.extensions import limiter

    w = delivery_world
    old = app.config["EXAMSYS_LOGIN_RATE"], app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"]
    app.config["EXAMSYS_LOGIN_RATE"], app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"] = (
        ("3 per minute", "100 per minute") if limited == "ticket" else ("100 per minute", "2 per minute"))
    limiter.reset()
    try:
        if limited == "ticket":
            codes = [client.post(URL, json={"ticket_no": w.tickets[2], "id_number": "x"}).status_code
                     for _ in range(4)]
            assert codes == [401, 401, 401, 429]
            assert client.post(URL, json=w.login_payload(1)).status_code == 201  # another ticket, same address
        else:
            signed_in = [client.post(URL, json=w.login_payload(n)) for n in (0, 1)]
            assert [r.status_code for r in signed_in] == [201, 201]
            assert not [k for k, _ in signed_in[0].headers.items() if k.startswith("X-RateLimit")]  # not worked out
            resp = client.post(URL, json=w.login_payload(2))
            assert resp.status_code == 429  # the address's own limit
            assert resp.get_json()["error"]["code"] == "rate_limited"
            assert 1 <= int(resp.headers["Retry-After"]) <= 60  # when the minute's window lets one in
    finally:
        app.config["EXAMSYS_LOGIN_RATE"], app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"] = old
        limiter.reset()


def test_a_room_behind_one_address_signs_in_under_the_default_limits(app, delivery_world, client):
    """A test centre's candidates reach the server from one NAT address: with the shipped limits
    a room of them signs in within a minute (the staff login rate, 10 a minute, would refuse the
    eleventh)."""
    from examsys.config import build_config
    from examsys.extensions import limiter

    shipped = build_config(Path(app.instance_path), {})
    old = app.config["EXAMSYS_LOGIN_RATE"], app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"]
    app.config["EXAMSYS_LOGIN_RATE"] = shipped["EXAMSYS_LOGIN_RATE"]
    app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"] = shipped["EXAMSYS_CANDIDATE_LOGIN_RATE"]
    limiter.reset()
    try:
        codes = [client.post(URL, json={"ticket_no": f"T{n:05d}", "id_number": "x"}).status_code for n in range(40)]
        assert 429 not in codes
    finally:
        app.config["EXAMSYS_LOGIN_RATE"], app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"] = old
        limiter.reset()


def test_autosave_is_not_throttled(delivery_world, candidate_api):
    candidate_api.login(0)
    attempt_id = candidate_api.start()
    ref = delivery_world.form_items[("A", "judge")].id
    for seq in range(1, 121):  # two minutes of one save per second, in a burst
        resp = candidate_api.put(f"/attempts/{attempt_id}/responses/{ref}", json={"answer": seq % 2 == 0, "seq": seq})
        assert resp.status_code == 200, resp.get_json()


def test_sign_in_and_start_link_their_events_without_reading_a_chain_head(delivery_world, db, candidate_api):
    """A storm of sign-ins and starts: the sign-in read brings the entry chain's head and a new
    attempt's chain begins empty, so neither request reads a head on its own; a second sign-in
    (which replaces the first, two events) and the chains still verify."""
    from sqlalchemy import event

    from examsys.audit.verify import verify_database

    candidate_api.login(1)
    candidate_api.start()  # the batch's first start opens it (an event of the batch's chain)
    statements = []

    def seen(_conn, _cursor, sql, *_a):
        statements.append(" ".join(sql.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        candidate_api.login(0)
        candidate_api.start()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    head_reads = [s for s in statements if s.startswith("SELECT audit_events.seq, audit_events.entry_hash")]
    assert statements and head_reads == []
    candidate_api.login(0)  # replaces the live session: its events follow the head as read
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.scope.like("entry/%"))).all()
    assert actions.count("candidate_session.opened") == 3 and actions.count("candidate_session.replaced") == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "attempt.started")) == 2
    report = verify_database()
    assert report.ok, report.failures
