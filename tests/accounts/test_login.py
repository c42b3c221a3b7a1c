"""Login, lock-out, session rotation, logout, timeouts, CSRF and rate limits."""

from datetime import timedelta

from sqlalchemy import select

from examsys import audit, transaction
from examsys.accounts import services
from examsys.accounts.models import User, UserSession
from examsys.accounts.services import GENERIC_LOGIN_ERROR
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.errors import AuthenticationFailed
from examsys.permissions import Role
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_login_page_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert "工作人员登录" in html and 'lang="zh-CN"' in html


def test_login_success_and_home(client, make, db):
    user = make.user(roles=Role.WRITER)
    db.session.commit()
    resp = _login(client, user.username, PASSWORD)
    assert resp.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert user.display_name in html
    events = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_user_id == user.id)).all()
    assert "user.logged_in" in events


def test_wrong_password_and_unknown_user_give_the_same_message(client, make, db):
    user = make.user()
    db.session.commit()
    a = _login(client, user.username, "wrong-password-1").get_data(as_text=True)
    b = _login(client, "no-such-user", "wrong-password-1").get_data(as_text=True)
    assert GENERIC_LOGIN_ERROR in a and GENERIC_LOGIN_ERROR in b
    reasons = db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "user.login_failed")).all()
    assert {r["reason"] for r in reasons} == {"password", "unknown"}


def test_lockout_after_threshold_even_with_right_password(client, make, db, frozen_clock):
    user = make.user()
    db.session.commit()
    for _ in range(5):
        _login(client, user.username, "wrong-password-1")
    resp = _login(client, user.username, PASSWORD)
    assert resp.status_code == 200 and GENERIC_LOGIN_ERROR in resp.get_data(as_text=True)
    frozen_clock.advance(timedelta(minutes=16))
    assert _login(client, user.username, PASSWORD).status_code == 302


def test_session_rotated_at_login_and_dead_after_logout(app, client, make, db):
    user = make.user()
    db.session.commit()
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "attacker-value"
    _login(client, user.username, PASSWORD)
    with client.session_transaction() as s:
        assert "planted" not in s
        old_cookie = dict(s)
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302
    # Replaying the pre-logout cookie content must not log anyone in.
    with client.session_transaction() as s:
        s.update(old_cookie)
    assert client.get("/").status_code == 302
    sess = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert sess.end_reason == "logout"


def test_idle_timeout_ends_session(client, make, db, frozen_clock):
    user = make.user()
    db.session.commit()
    _login(client, user.username, PASSWORD)
    assert client.get("/").status_code == 200
    frozen_clock.advance(timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_absolute_timeout_ends_session(client, make, db, frozen_clock):
    user = make.user()
    db.session.commit()
    _login(client, user.username, PASSWORD)
    for _ in range(26):  # stay active, but cross the 12-hour absolute limit
        frozen_clock.advance(timedelta(minutes=29))
        client.get("/")
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, make, db):
    user = make.user()
    user.active = False
    db.session.commit()
    assert _login(client, user.username, PASSWORD).status_code == 200


def test_csrf_required_on_login(app, client, make, db):
    user = make.user()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert _login(client, user.username, PASSWORD).status_code == 400
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": token})
        assert resp.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_rate_limited(app, client, db):
    from examsys.extensions import limiter

    app.config["EXAMSYS_LOGIN_RATE"] = "10 per minute"
    limiter.reset()
    try:
        codes = [_login(client, "someone", "x-password-1").status_code for _ in range(12)]
        assert codes[:10] == [200] * 10
        assert codes[10:] == [429, 429]
    finally:
        app.config["EXAMSYS_LOGIN_RATE"] = "10000 per minute"
        limiter.reset()


def test_login_rate_limited_per_username_across_addresses(app, client, db):
    from examsys.extensions import limiter

    app.config["EXAMSYS_LOGIN_RATE"] = "10 per minute"
    limiter.reset()
    try:
        codes = [client.post("/login", data={"username": "victim", "password": "x-password-1"},
                             environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
                 for i in range(12)]
        assert codes[-1] == 429
    finally:
        app.config["EXAMSYS_LOGIN_RATE"] = "10000 per minute"
        limiter.reset()


def test_failed_login_keeps_its_count_and_event_and_nothing_else(make, db):
    """A refused login keeps the failed-login count and its audit event (written after the
    refusal undid the call); anything else written in the same call is gone."""
    user = make.user()
    db.session.commit()

    def call():
        audit.record(AuditAction.ORGANISATION_UPDATED, obj=user.organisation, data={"n": 1})
        return services.authenticate(user.username, "wrong-password-1")

    _, error = transaction.attempt(call)
    assert isinstance(error, AuthenticationFailed)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 1
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(["user.login_failed", "organisation.updated"]))).all()
    assert actions == ["user.login_failed"]


def test_failed_logins_through_the_page_are_stored_and_lock_the_account(client, make, db, frozen_clock):
    user = make.user()
    db.session.commit()
    for n in range(1, 5):
        assert _login(client, user.username, "wrong-password-1").status_code == 200
        db.session.expire_all()
        assert db.session.get(User, user.id).failed_logins == n
    _login(client, user.username, "wrong-password-1")
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert locked.locked_until is not None and locked.failed_logins == 0
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))).all()
    assert events.count("user.login_failed") == 5 and events.count("user.locked") == 1
    assert not db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
