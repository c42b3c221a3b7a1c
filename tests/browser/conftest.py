"""Browser tests: a live examsys server (own SQLite file, migrated, demo data) in a thread, driven
by Playwright through the system's Chromium (/usr/bin/chromium; installed by scripts/sysdeps.sh)."""

from __future__ import annotations

import json
import shutil
import threading

import flask_migrate
import pytest
from werkzeug.serving import make_server

from examsys import create_app
from examsys.extensions import db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """(base_url, demo) for a server on a free loopback port."""
    tmp = tmp_path_factory.mktemp("live")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/live.db",
                      "SECRET_KEY": "live-secret", "EXAMSYS_DATA_KEY": "live-data-key",
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                      "EXAMSYS_LOGIN_RATE": "10000 per minute",
                      "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"), "EXAMSYS_JOB_DIR": str(tmp / "jobs"),
                      "EXAMSYS_JOBS_IMMEDIATE": True})
    with app.app_context():
        flask_migrate.upgrade()
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", demo
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.console_errors = errors  # CSP violations show up here
    yield pg
    context.close()


def login(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
