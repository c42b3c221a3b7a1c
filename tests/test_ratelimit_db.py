"""Without Redis, rate limits live in the database (examsys.ratelimit) and so hold as configured
across workers and nodes: two app instances on one database share each counter."""

import time

import pytest
from sqlalchemy import func, select

from examsys import create_app
from examsys.extensions import db
from examsys.ratelimit import AppStorage, DatabaseStorage, RateLimitHit, init_limiter
from tests.conftest import TEST_DB_URL, drop_pg_schema, pg_schema_url, worker_name

BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DB_URL else [])


@pytest.fixture(params=BACKENDS)
def shared_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shared.db"
        return
    schema = f"examsys_ratelimit_{worker_name()}"
    yield pg_schema_url(TEST_DB_URL, schema)
    drop_pg_schema(TEST_DB_URL, schema)


@pytest.fixture
def two_workers(app, shared_url, tmp_path, monkeypatch):
    """Two app instances (two workers, or two nodes) on one database, with the default storage."""
    monkeypatch.delenv("EXAMSYS_REDIS_URL", raising=False)
    overrides = {"SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "d", "TESTING": True, "WTF_CSRF_ENABLED": False,
                 "SQLALCHEMY_DATABASE_URI": shared_url, "EXAMSYS_LOGIN_RATE": "3 per minute",
                 "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                 "EXAMSYS_UPLOAD_DIR": str(tmp_path / "uploads")}
    nodes = [create_app(overrides), create_app(overrides)]
    try:
        with nodes[0].app_context():
            db.create_all()
        yield nodes
    finally:
        for node in nodes:
            with node.app_context():
                if node is nodes[0]:
                    db.drop_all()
                db.engine.dispose()
        init_limiter(app)  # the session's app binds the shared limiter again


def _login(node, address="192.0.2.7", username="someone"):
    return node.test_client().post("/login", data={"username": username, "password": "a-wrong-password"},
                                   environ_base={"REMOTE_ADDR": address}).status_code


def test_default_storage_is_the_database(two_workers):
    for node in two_workers:
        assert node.config["RATELIMIT_STORAGE_URI"] == "examsys-db://"
        with node.app_context():
            assert isinstance(AppStorage.backend(), DatabaseStorage)


def test_login_limit_holds_across_two_workers(two_workers):
    a, b = two_workers
    # Alternating between the workers: each would allow 3 on its own, together they allow 3.
    assert [_login(a), _login(b), _login(a), _login(b)] == [200, 200, 200, 429]
    assert _login(a) == 429
    with a.app_context():
        assert db.session.scalar(select(func.count()).select_from(RateLimitHit)) > 0
    # The per-username limit holds across addresses and workers too.
    assert [_login(node, address=f"198.51.100.{i}", username="victim")
            for i, node in enumerate([a, b, a, b])][-1] == 429


def test_storage_moving_and_fixed_window(two_workers):
    a, b = two_workers
    storage = DatabaseStorage()
    with a.app_context():
        assert [storage.acquire_entry("k", 2, 60) for _ in range(3)] == [True, True, False]
        start, count = storage.get_moving_window("k", 2, 60)
        assert count == 2 and time.time() - 5 < start <= time.time()
        assert storage.acquire_entry("short", 1, 1) and not storage.acquire_entry("short", 1, 1)
    with b.app_context():  # the other worker sees the same counts
        assert storage.get_moving_window("k", 2, 60)[1] == 2
        assert [storage.incr("f", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.get("f") == 3 and storage.get_expiry("f") > time.time() + 50
    time.sleep(1.1)
    with a.app_context():
        assert storage.acquire_entry("short", 1, 1)  # its window has passed
        storage.clear("k")
        assert storage.get_moving_window("k", 2, 60)[1] == 0
        assert storage.check() and storage.reset() >= 1 and storage.get("f") == 0
