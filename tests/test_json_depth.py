"""A JSON body nested 50,000 levels deep (or just past the limit) gets 422 on every endpoint that
takes a body, before authentication or anything else reads it; never a 500 (RecursionError)."""

from werkzeug.routing import IntegerConverter

from examsys.jsonbody import MAX_DEPTH, deeper_than

DEEP = "[" * 50_000 + "]" * 50_000
JUST_PAST = '{"answer": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + ', "seq": 1}'
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _write_routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        methods = sorted(set(rule.methods or ()) & set(WRITE_METHODS))
        if not methods or rule.endpoint == "static":
            continue
        args = {name: 1 if isinstance(conv, IntegerConverter) else "x"
                for name, conv in rule._converters.items()}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        out.extend((url.removeprefix("http://localhost"), m) for m in methods)
    return out


def test_every_endpoint_refuses_over_deep_json(app, client):
    routes = _write_routes(app)
    assert any("/candidate/session" in url for url, _ in routes)  # sign-in
    assert any("/responses/" in url for url, _ in routes)  # autosave
    failures = {}
    for url, method in routes:
        for body in (DEEP, JUST_PAST):
            resp = client.open(url, method=method, data=body, content_type="application/json",
                               headers={"Authorization": "Bearer not-a-token"})
            if resp.status_code not in (400, 422):
                failures[(method, url, len(body))] = resp.status_code
    assert failures == {}


def test_api_answers_in_json_and_chinese(client):
    resp = client.post("/api/v1/candidate/session", data=DEEP, content_type="application/json")
    assert resp.status_code == 422
    assert "嵌套层数过多" in resp.get_json()["error"]["message"]


def test_ordinary_bodies_pass_and_depth_is_counted_by_containers():
    assert not deeper_than({"answer": [["a", "b"], ["c"]], "seq": 3}, 3)
    assert deeper_than([[[[]]]], 3) and not deeper_than([[[[]]]], 4)
    assert not deeper_than("x", 0)


def test_nul_characters_are_refused_in_every_kind_of_submitted_text(client):
    """PostgreSQL cannot store NUL in text and nobody types one: refused before any view, in
    form fields and the query alike, naming where; uploaded files are not text. A redirect
    target is not stored (a NUL one just goes home), and JSON strings are the API's to judge."""
    form = client.post("/login", data={"username": "张三\x00", "password": "x"})
    assert form.status_code == 422 and "空字符" in form.get_data(as_text=True)
    query = client.get("/bank/items?q=%00")
    assert query.status_code == 422 and "空字符" in query.get_data(as_text=True)
    assert client.get("/login?next=%00").status_code == 200
    api = client.post("/api/v1/candidate/session", data='{"ticket_no": "A\\u0000", "id_number": "1"}',
                      content_type="application/json")
    assert api.status_code == 401
