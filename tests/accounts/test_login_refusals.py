"""Every login refusal costs the same (one password hash check, same parameters), an unknown
username locks like a real one, and `next` after login only ever leads to a path on this site."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys.accounts import services, throttle
from examsys.accounts.models import LoginThrottle
from examsys.accounts.services import GENERIC_LOGIN_ERROR
from examsys.audit.models import AuditEvent
from examsys.viewutil import safe_next
from tests.factories import PASSWORD


def _login(client, username, password, next_=None):
    url = "/login" if next_ is None else "/login?next=" + next_
    return client.post(url, data={"username": username, "password": password})


@pytest.fixture
def verify_calls(monkeypatch):
    """The hashes each login attempt checked a password against, with the hasher's parameters."""
    calls = []
    real = services._verify  # the name authenticate calls

    def spy(hash_, password):
        calls.append((hash_.split("$")[1:4], password))
        return real(hash_, password)

    monkeypatch.setattr(services, "_verify", spy)
    return calls


def test_every_refusal_checks_one_hash_of_the_same_cost(client, make, db, frozen_clock, verify_calls):
    locked = make.user()
    wrong = make.user()
    db.session.commit()
    for _ in range(5):
        _login(client, locked.username, "wrong-password-1")
    db.session.refresh(locked)
    assert locked.locked_until is not None
    verify_calls.clear()
    cases = {"locked": (locked.username, PASSWORD), "unknown": ("no-such-user", PASSWORD),
             "wrong": (wrong.username, "wrong-password-1")}
    seen = {}
    for name, (username, password) in cases.items():
        verify_calls.clear()
        resp = _login(client, username, password)
        assert resp.status_code == 200 and GENERIC_LOGIN_ERROR in resp.get_data(as_text=True)
        assert len(verify_calls) == 1, name  # a locked account is checked too, not refused first
        seen[name] = verify_calls[0]
    # The same algorithm, version and cost parameters for each: the same work.
    assert seen["locked"][0] == seen["unknown"][0] == seen["wrong"][0]
    assert all(password == cases[name][1] for name, (_, password) in seen.items())


def test_unknown_username_locks_like_a_real_one(client, make, db, frozen_clock):
    for _ in range(5):
        _login(client, "ghost-user", "wrong-password-1")
    key = throttle.key_for("user", "ghost-user")
    row = db.session.get(LoginThrottle, key)
    assert row is not None and row.locked_until is not None
    _login(client, "ghost-user", "wrong-password-1")
    reasons = [d["reason"] for d in db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "user.login_failed").order_by(AuditEvent.id))]
    assert reasons == ["unknown"] * 5 + ["locked"]
    frozen_clock.advance(timedelta(minutes=16))
    assert throttle.locked_until(key) is None


@pytest.mark.parametrize("target", [
    "/%09/example.invalid", "//example.invalid", "/\\example.invalid", "\\/example.invalid",
    "https:example.invalid", "https://example.invalid/", "/%0a/example.invalid", "%20//example.invalid",
    "javascript:alert(1)", "example.invalid", "/%00/example.invalid", "",
])
def test_login_never_redirects_off_site(client, make, db, target):
    user = make.user()
    db.session.commit()
    resp = _login(client, user.username, PASSWORD, next_=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "http://localhost/")


def test_login_follows_a_local_next(client, make, db):
    user = make.user()
    db.session.commit()
    resp = _login(client, user.username, PASSWORD, next_="/bank/items%3Fq%3Dx")
    assert resp.status_code == 302 and resp.headers["Location"] == "/bank/items?q=x"


@pytest.mark.parametrize(("target", "expected"), [
    ("/\t/evil", None), ("/\n\r/evil", None), (" //evil", None), ("/\\evil", None), ("http:/x", None),
    ("/a\tb", "/ab"), ("/bank/items?q=1", "/bank/items?q=1"), (None, None),
])
def test_safe_next(target, expected):
    assert safe_next(target) == expected
