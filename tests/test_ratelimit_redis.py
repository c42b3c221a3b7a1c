"""With EXAMSYS_REDIS_URL set, rate limits live in Redis and so hold across app nodes."""

import socket

import pytest

from examsys import create_app
from examsys.extensions import limiter
from examsys.ratelimit import AppStorage, init_limiter


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_login_limit_shared_through_redis(app, monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMSYS_REDIS_URL", "redis://127.0.0.1:6379/15")
    overrides = {"SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "d", "TESTING": True, "WTF_CSRF_ENABLED": False,
                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db", "EXAMSYS_LOGIN_RATE": "3 per minute"}
    node_a = create_app(overrides)
    try:
        with node_a.app_context():
            from examsys.extensions import db

            assert "redis" in type(AppStorage.backend()).__name__.lower()
            limiter.reset()
            db.create_all()
        client = node_a.test_client()
        codes = [client.post("/login", data={"username": "u", "password": "p-assword-1"},
                             environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # A second node sharing the Redis store sees the same counter.
        node_b = create_app(overrides)
        resp = node_b.test_client().post("/login", data={"username": "u", "password": "p-assword-1"},
                                         environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert resp.status_code == 429
        with node_b.app_context():
            limiter.reset()
    finally:
        init_limiter(app)  # the session's app binds the shared limiter again
