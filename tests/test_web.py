"""Security headers, error pages, language switching, configuration safety."""

import pytest

from examsys import create_app
from examsys.errors import UnsafeConfiguration
from examsys.permissions import Role


def _assert_security_headers(resp):
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/static/css/app.css", "/healthz"])
def test_headers_on_every_kind_of_response(client, path):
    _assert_security_headers(client.get(path))


def test_personal_pages_are_not_cached(client, login_as):
    login_as(Role.EXAM_ADMIN)
    resp = client.get("/candidates")
    assert resp.headers["Cache-Control"] == "no-store"


def test_no_inline_script_in_pages(client, login_as):
    login_as(Role.ORG_ADMIN)
    for path in ("/login", "/", "/users", "/candidates", "/audit/"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html, path


def test_404_page_is_chinese(client):
    resp = client.get("/nowhere")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_api_errors_are_json(client):
    resp = client.get("/api/v1/nothing")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_english_catalogue(client):
    client.post("/lang/en")
    html = client.get("/login").get_data(as_text=True)
    assert "Staff sign-in" in html and 'lang="en"' in html


def test_production_refuses_debug(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMSYS_ENV", "production")
    monkeypatch.setenv("EXAMSYS_DEBUG", "1")
    with pytest.raises(UnsafeConfiguration):
        create_app({"SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})


def test_sqlite_defaults_are_durable(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgres_synchronous_commit_off_is_refused(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from sqlalchemy import create_engine

    url = db.engine.url.set(query={**db.engine.url.query, "options": "-csynchronous_commit=off"})
    engine = create_engine(url)
    with pytest.raises(Exception, match="synchronous_commit"):
        engine.connect()
    engine.dispose()


def test_secrets_generated_into_instance_not_code(tmp_path, monkeypatch):
    from examsys.config import load_secrets

    monkeypatch.delenv("EXAMSYS_SECRET_KEY", raising=False)
    monkeypatch.delenv("EXAMSYS_DATA_KEY", raising=False)
    first = load_secrets(tmp_path)
    second = load_secrets(tmp_path)
    assert first == second and len(first.secret_key) >= 40 and first.secret_key != first.data_key
    assert oct((tmp_path / "data_key").stat().st_mode)[-3:] == "600"
