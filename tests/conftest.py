"""Test world: an app on SQLite (always) or PostgreSQL (EXAMSYS_TEST_DATABASE_URL), a database
whose every test runs in a rolled-back transaction, a client, login_as(role), a frozen clock and
factories."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import event

from examsys import clock, create_app
from examsys.extensions import db as _db
from examsys.supervision.indicators import versions as indicator_versions
from tests import factories

TEST_DB_URL = os.environ.get("EXAMSYS_TEST_DATABASE_URL")

# Property tests: the same examples on every run by default (a red CI run is a real regression,
# reproducible at once); HYPOTHESIS_PROFILE=explore searches new ones with a fresh seed each run
# (how the Moodle XML blank-position bug was found) and prints the seed of a failure.
# A shared, busy machine makes data generation slow now and then: that says nothing about the code
# under test, so neither the too-slow health check nor a per-example deadline fails a run.
_PATIENT = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True, **_PATIENT)
settings.register_profile("explore", derandomize=False, print_blob=True, **_PATIENT)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def _sqlite_url(tmp_path_factory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def pg_schema_url(base_url: str, schema: str) -> str:
    """Create `schema` in the PostgreSQL test database and return a URL whose connections use it,
    so parallel workers (and the migration test) never share tables."""
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schema(base_url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def worker_name() -> str:
    """Unique per test run and worker, so two runs against one PostgreSQL never share a schema."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or f"p{os.getpid()}"
    return f"{run}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not TEST_DB_URL:
        yield _sqlite_url(tmp_path_factory)
        return
    schema = f"examsys_test_{worker_name()}"
    yield pg_schema_url(TEST_DB_URL, schema)
    drop_pg_schema(TEST_DB_URL, schema)


@pytest.fixture
def empty_database_url(tmp_path, request):
    """A database with no tables yet, for tests that run the migrations: a schema of its own on
    PostgreSQL (named after the test module and the worker), else a fresh SQLite file."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    if not TEST_DB_URL:
        yield "sqlite:///" + str(tmp_path / f"{name}.db")
        return
    schema = f"examsys_{name}_{worker_name()}"
    yield pg_schema_url(TEST_DB_URL, schema)
    drop_pg_schema(TEST_DB_URL, schema)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "EXAMSYS_DATA_KEY": "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLWtleSE=",
        "WTF_CSRF_ENABLED": False,
        "EXAMSYS_LOGIN_RATE": "10000 per minute",  # tests that check limits lower it
        "EXAMSYS_CANDIDATE_LOGIN_RATE": "10000 per minute",
        # Per process: the database storage writes on a connection of its own, which would wait
        # on the test's open outer transaction (tests/test_ratelimit_db.py covers it).
        "RATELIMIT_STORAGE_URI": "memory://",
        "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        "EXAMSYS_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "EXAMSYS_JOB_DIR": str(tmp_path_factory.mktemp("jobs")),
        "EXAMSYS_JOBS_IMMEDIATE": True,  # a job runs right after the request that asked for it commits
        "SERVER_NAME": "localhost",
    })
    with app.app_context():
        _db.drop_all()
        _db.session.execute(_db.text("DROP TABLE IF EXISTS alembic_version"))
        _db.session.commit()
        _db.create_all()
        # Migrated databases get the default indicator set from its migration.
        indicator_versions.seed_default()
        _db.session.commit()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """Each test runs inside one outer transaction that is rolled back afterwards; the code under
    test may commit freely (its commits become SAVEPOINT releases).

    A plain SQLAlchemy Session is used on purpose: Flask-SQLAlchemy's Session.get_bind routes to
    the engine and would ignore the test's connection (commits would then be real)."""
    from flask_sqlalchemy.session import _app_ctx_id
    from sqlalchemy.orm import Session, scoped_session, sessionmaker

    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        factory = sessionmaker(bind=connection, class_=Session, join_transaction_mode="create_savepoint")
        _db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()
            # Ids start again too (SQLite): forget what this process kept of the rolled-back forms.
            from examsys.delivery.exam import papers, starting

            papers.clear_caches()
            starting.clear_caches()
            # Job ids start again with the next test's rollback: a running job's progress left in
            # the (in-memory) queue store would show on the next test's job of the same id.
            queue_state = app.extensions.get("examsys_jobs", {})
            if "huey" in queue_state:
                queue_state["huey"].storage.flush_all()


class IsolatedClient(FlaskClient):
    """Requests made while a test holds an app context reuse that context (and its `g`); clear
    `g` before each request so per-request caches (the logged-in user) behave as in production."""

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def frozen_clock():
    """Freeze examsys.clock at a fixed instant; tests move it with frozen_clock.advance()."""
    clock.freeze(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    yield clock
    clock.freeze(None)


@pytest.fixture
def make(db):
    """Factories bound to the test's transaction."""
    return factories.Factories(db)


@pytest.fixture
def login_as(client, make):
    """login_as(role or roles, org=None) → the logged-in user, through the real login form."""

    def _login(roles, org=None, **kwargs):
        user = make.user(roles=roles, org=org, **kwargs)
        _db.session.commit()
        resp = client.post("/login", data={"username": user.username,
                                           "password": factories.PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return user

    return _login


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements (for N+1 checks)."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        counter = {"n": 0}

        def _before(*_a, **_k):
            counter["n"] += 1

        event.listen(_db.engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(_db.engine, "before_cursor_execute", _before)

    return _count


# --- figures in the terminal summary --------------------------------------------------------------
# Tests record figures as user properties (they travel with xdist's reports to the controller,
# which loads this file): the fault tests' summary lines, the number of Schemathesis cases and the
# supervision analysis's measured error rates.
_figures: dict[str, list] = {"faults_summary": [], "schemathesis_cases": [], "supervision": []}


def pytest_runtest_logreport(report):
    if report.when == "call":
        for key, value in report.user_properties:
            if key in _figures:
                _figures[key].append(value)


def pytest_terminal_summary(terminalreporter):
    lines = [str(v) for v in _figures["faults_summary"] + _figures["supervision"]]
    if _figures["schemathesis_cases"]:
        lines.append(f"Schemathesis cases: {sum(_figures['schemathesis_cases'])} over "
                     f"{len(_figures['schemathesis_cases'])} operations (recorded by passing tests)")
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process, for tests/browser and tests/hostile alike: a second
    sync Playwright in the same thread fails ("Sync API inside the asyncio loop"), so the fixture
    lives here, once, rather than in each directory's conftest."""
    from pathlib import Path

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (make setup installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
