"""Candidate sign-in locks an admission-ticket number after repeated failures, for longer after
each lock-out, whether or not the ticket exists; a success starts the count again."""

from datetime import timedelta

from sqlalchemy import select

from examsys.accounts import throttle
from examsys.accounts.models import LoginThrottle
from examsys.audit.models import AuditEvent

URL = "/api/v1/candidate/session"


def _fail(client, ticket, times=1):
    return [client.post(URL, json={"ticket_no": ticket, "id_number": "110101199003071234"}).status_code
            for _ in range(times)]


def test_ticket_locks_after_five_failures_even_for_the_right_id(delivery_world, client, db, frozen_clock):
    w = delivery_world
    assert _fail(client, w.tickets[0], 5) == [401] * 5
    resp = client.post(URL, json=w.login_payload(0))
    assert resp.status_code == 429
    body = resp.get_json()["error"]
    assert body["code"] == "rate_limited" and "请 1 分钟后再试" in body["message"]
    assert body["details"]["retry_after"] == 60 and "Retry-After" in resp.headers
    # Another ticket is not affected.
    assert client.post(URL, json=w.login_payload(1)).status_code == 201
    frozen_clock.advance(timedelta(seconds=61))
    assert client.post(URL, json=w.login_payload(0)).status_code == 201
    assert db.session.get(LoginThrottle, throttle.key_for("ticket", w.tickets[0])) is None
    reasons = [d["reason"] for d in db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "roster_entry.login_failed").order_by(AuditEvent.id))]
    assert reasons == ["id_mismatch"] * 5 + ["locked"]


def test_each_lockout_lasts_twice_the_one_before(delivery_world, client, db, frozen_clock):
    ticket = delivery_world.tickets[2]
    key = throttle.key_for("ticket", ticket)
    lengths = []
    for _ in range(4):
        assert _fail(client, ticket, 5) == [401] * 5
        until = db.session.get(LoginThrottle, key).locked_until
        db.session.expire_all()
        lengths.append(round((until - frozen_clock.now()).total_seconds() / 60))
        assert _fail(client, ticket) == [429]  # a locked ticket is not even checked
        frozen_clock.advance(until - frozen_clock.now() + timedelta(seconds=1))
    assert lengths == [1, 2, 4, 8]


def test_an_unknown_ticket_locks_the_same_way(delivery_world, client, db, frozen_clock):
    assert _fail(client, "NO-SUCH-TICKET", 6) == [401] * 5 + [429]
