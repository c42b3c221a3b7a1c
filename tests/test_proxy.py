"""Behind the README's reverse proxy (EXAMSYS_PROXY_COUNT=1) the app takes the client's address
and scheme from exactly one X-Forwarded-For/-Proto hop; without it (the default) those headers
are ignored, so a client cannot choose the address its rate limits and records are kept under.
EXAMSYS_NODE_NAME names the answering node in X-Examsys-Node, and only when set."""

from __future__ import annotations

from flask import jsonify, request

from examsys import create_app
from examsys.permissions import public

KEYS = {"SECRET_KEY": "k", "EXAMSYS_DATA_KEY": "d", "TESTING": True}


def _app(tmp_path, **overrides):
    app = create_app({**KEYS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", **overrides})

    @app.get("/_whoami")
    @public
    def whoami():
        return jsonify({"ip": request.remote_addr, "scheme": request.scheme, "url": request.url})

    return app


def test_one_trusted_proxy_gives_the_clients_address_and_scheme(tmp_path):
    client = _app(tmp_path, EXAMSYS_PROXY_COUNT=1).test_client()
    data = client.get("/_whoami", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.5",
                                           "X-Forwarded-Proto": "https", "Host": "exam.example.cn"},
                      environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_json()
    # only the hop nginx appended counts: what the client put before it is its own claim
    assert data == {"ip": "203.0.113.5", "scheme": "https", "url": "https://exam.example.cn/_whoami"}


def test_without_a_proxy_forwarded_headers_are_ignored(tmp_path):
    client = _app(tmp_path).test_client()
    resp = client.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"},
                      environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert resp.get_json()["ip"] == "192.0.2.1" and resp.get_json()["scheme"] == "http"
    assert "X-Examsys-Node" not in resp.headers


def test_the_node_names_itself_when_told(tmp_path):
    resp = _app(tmp_path, EXAMSYS_NODE_NAME="node-2").test_client().get("/healthz")
    assert resp.status_code == 200 and resp.headers["X-Examsys-Node"] == "node-2"
