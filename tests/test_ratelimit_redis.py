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


def _node(tmp_path, redis_url: str):
    import os

    saved = os.environ.get("EXAMSYS_REDIS_URL")
    os.environ["EXAMSYS_REDIS_URL"] = redis_url
    try:
        return create_app({"SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "d", "TESTING": True,
                           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})
    finally:
        if saved is None:
            os.environ.pop("EXAMSYS_REDIS_URL")
        else:
            os.environ["EXAMSYS_REDIS_URL"] = saved


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_autosave_limit_counts_across_nodes_through_redis(app, tmp_path):
    """Autosave's limit, which skips Flask-Limiter to stay cheap, still holds as configured when
    a candidate's saves alternate between two nodes (and, per node, between worker processes)."""
    import uuid

    from examsys.api.common import _LOCAL_WINDOWS, save_limit
    from examsys.errors import RateLimited

    nodes = [_node(tmp_path, "redis://127.0.0.1:6379/15") for _ in range(2)]
    key = f"cand-session:{uuid.uuid4().hex}"
    try:
        outcomes = []
        for k in range(5):
            with nodes[k % 2].test_request_context("/api/v1/attempts/1/responses/1", method="PUT"):
                try:
                    save_limit("3 per minute", key)
                    outcomes.append("ok")
                except RateLimited as exc:
                    outcomes.append(("429", exc.details["retry_after"]))
        assert outcomes[:3] == ["ok"] * 3
        assert all(o[0] == "429" and 55 <= o[1] <= 60 for o in outcomes[3:]), outcomes
        assert key not in _LOCAL_WINDOWS._windows  # nothing counted in the process
    finally:
        init_limiter(app)


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_autosave_limit_leases_its_hits_and_never_lets_more_through(app, tmp_path):
    """Two worker processes (two lease tables) spend one key's window: together they never let
    more than the rate through, waste at most a lease each, ask Redis once per lease and not at
    all for a window they found full."""
    import time
    import uuid

    from examsys.api.common import SharedLeases
    from examsys.ratelimit import EXTENSION_KEY

    node = _node(tmp_path, "redis://127.0.0.1:6379/15")
    storage = node.extensions[EXTENSION_KEY]
    key = f"examsys-save/120/60/cand-session:{uuid.uuid4().hex}"  # 120 a minute: leases of 2
    workers, calls = [SharedLeases(), SharedLeases()], []
    for w in workers:
        real = w._script
        w._script = lambda client, real=real: calls.append(1) or real(client)
    try:
        outcomes = [workers[k % 2].hit(storage, key, 120, 60, time.monotonic()) for k in range(300)]
        allowed = [k for k, wait in enumerate(outcomes) if wait is None]
        assert 118 <= len(allowed) <= 120
        assert all(0 < wait <= 60 for wait in outcomes if wait is not None)
        assert len(calls) <= len(allowed) // 2 + 4  # one round trip a lease, none once found full
        assert int(storage.get_connection().get(storage.prefixed_key(key))) <= 124  # the shared count
    finally:
        storage.get_connection().delete(storage.prefixed_key(key))
        init_limiter(app)


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_autosave_limit_lets_a_light_key_through_without_asking_redis(app, tmp_path):
    """600 a minute (leases of 10): each process lets a key's first 2 hits of its window through
    without a round trip to Redis (a candidate saving every 10-30 s sends each worker about that
    many), and a runaway key is still stopped: at most 2 x 2 free hits per process above the
    shared count's 600."""
    import time
    import uuid

    from examsys.api.common import SharedLeases
    from examsys.ratelimit import EXTENSION_KEY

    node = _node(tmp_path, "redis://127.0.0.1:6379/15")
    storage = node.extensions[EXTENSION_KEY]
    key = f"examsys-save/600/60/cand-session:{uuid.uuid4().hex}"
    workers, calls = [SharedLeases(), SharedLeases()], []
    for w in workers:
        real = w._script
        w._script = lambda client, real=real: calls.append(1) or real(client)
    try:
        now = time.monotonic()
        light = [workers[k % 2].hit(storage, key, 600, 60, now) for k in range(4)]
        assert light == [None] * 4 and calls == []  # two hits on each worker: Redis never asked
        outcomes = light + [workers[k % 2].hit(storage, key, 600, 60, now) for k in range(2000)]
        allowed = sum(wait is None for wait in outcomes)
        assert 600 - 2 * 9 <= allowed <= 600 + 2 * 2 * 2
        assert len(calls) <= allowed // 10 + 4  # then one round trip a lease, none once found full
        assert all(0 < wait <= 60 for wait in outcomes if wait is not None)
        later = now + 61  # the next window: free hits again, then leases
        assert workers[0].hit(storage, key, 600, 60, later) is None and len(calls) <= allowed // 10 + 4
    finally:
        storage.get_connection().delete(storage.prefixed_key(key))
        init_limiter(app)


def test_autosave_limit_falls_back_to_the_process_when_redis_fails(app, tmp_path, caplog):
    """Redis down mid-exam: saves go on, limited per process, and the fall-back is logged."""
    import uuid

    from examsys.api.common import save_limit
    from examsys.errors import RateLimited

    node = _node(tmp_path, "redis://127.0.0.1:9/0")  # nothing listens on the discard port
    key = f"cand-session:{uuid.uuid4().hex}"
    try:
        with node.test_request_context("/api/v1/attempts/1/responses/1", method="PUT"):
            save_limit("2 per minute", key)
            save_limit("2 per minute", key)
            with pytest.raises(RateLimited):
                save_limit("2 per minute", key)
        assert "counting in this process" in caplog.text
    finally:
        init_limiter(app)
