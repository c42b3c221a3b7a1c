"""A pooled PostgreSQL connection is pinged only after sitting idle (examsys.web), not on every
checkout; a dead idle one is replaced before a request sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from examsys import web
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL only: SQLite connections are never pinged")


@pytest.fixture
def engine():
    eng = create_engine(TEST_DB_URL, pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()


def _age(engine, seconds: float) -> None:
    """Make the pooled connection look idle for `seconds`."""
    record = engine.pool._pool.queue[0]
    record.info["examsys_idle_since"] -= seconds


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    pings = []
    monkeypatch.setattr(web, "_ping", lambda conn: pings.append(conn))
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []
    _age(engine, web.PING_IDLE_SECONDS + 1)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert len(pings) == 1


def test_an_idle_connection_killed_by_the_server_is_replaced_unseen(engine):
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = create_engine(TEST_DB_URL)
    with killer.connect() as k:
        assert k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    killer.dispose()
    _age(engine, web.PING_IDLE_SECONDS + 1)
    with engine.connect() as conn:  # the ping fails, the pool connects afresh
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
