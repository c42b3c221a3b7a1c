"""The examsys CLI: demo data (idempotent, JSON shape), and what lands in the database file."""

import json
from pathlib import Path

import flask_migrate

from examsys import create_app
from examsys.cli import main
from examsys.extensions import db


def _file_app(tmp_path: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db",
                       "SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "demo-data-key",
                       "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                       # every demo login is tried, more than the default rate allows
                       "EXAMSYS_LOGIN_RATE": "10000 per minute"})


def test_demo_is_idempotent_and_prints_json(tmp_path):
    app = _file_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--json"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "--json"])
    assert json.loads(first.output) == json.loads(second.output)
    data = json.loads(first.output)
    kinds = {o["kind"] for o in data["organisations"]}
    assert kinds == {"authority", "social", "employer"}
    roles = {r for u in data["users"] for r in u["roles"]}
    assert roles == {"provincial_admin", "org_admin", "writer", "reviewer", "exam_admin",
                     "proctor", "supervisor", "city_admin"}
    for u in data["users"]:
        assert set(u) >= {"username", "password", "roles", "organisation"}
    with app.app_context():
        from sqlalchemy import func, select

        from examsys.accounts.models import User

        assert db.session.scalar(select(func.count()).select_from(User)) == len(data["users"])
        db.engine.dispose()

    # Every demo login works.
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    # More demo users than one address may log in as per minute: this checks the logins, not the limit.
    app.config["EXAMSYS_LOGIN_RATE"] = "100 per minute"
    for u in data["users"]:
        resp = client.post("/login", data={"username": u["username"], "password": u["password"]})
        assert resp.status_code == 302, u["username"]
        client.post("/logout")

    # The database file holds no candidate's ID number in any form a grep would find.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("demo.db*"))
    for cand in data["candidates"]:
        assert cand["id_number"].encode() not in raw
        assert cand["id_number"].encode("utf-16-le") not in raw


def test_help_lists_commands():
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for cmd in ("db", "demo", "create-admin", "run"):
        assert cmd in result.output


def test_create_admin_asks_for_a_password(tmp_path, monkeypatch):
    app = _file_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
    answers = iter(["strong-pass-2026", "strong-pass-2026"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "chief", "--name", "厅管理员"])
    assert result.exit_code == 0, result.output
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "chief", "password": "strong-pass-2026"}).status_code == 302
    assert client.get("/organisations").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_create_admin_refuses_weak_password(tmp_path, monkeypatch):
    app = _file_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "weak", "--name", "X"])
    assert result.exit_code != 0 and "密码至少须有 12 个字符" in result.output
    with app.app_context():
        db.engine.dispose()
