"""The OpenAPI document (valid 3.1, covers every API route) and the canary scan (RELIABILITY 16):
keys, explanations, reference answers and scoring points never reach a candidate."""

import base64
import json
import re
import zlib

from openapi_spec_validator import validate

from tests.delivery.world import CANARY


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule[len("/api/v1"):])


def test_openapi_document_is_valid_and_public(client, db):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app, client, db):
    doc = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = _openapi_path(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = doc["paths"].get(path, {}).get(method.lower())
            if op is None:
                missing.append((method, path))
            elif path != "/openapi.json":
                assert any(code.startswith(("4", "5")) for code in op["responses"]), (method, path)
    assert missing == []


def _decode_flask_cookie(value: str) -> str:
    payload = value.split(".")[0] if not value.startswith(".") else value[1:].split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if value.startswith("."):
        data = zlib.decompress(data)
    return data.decode("utf-8", "replace")


def test_canary_never_reaches_a_candidate(app, client, delivery_world, candidate_api, db):
    w = delivery_world
    seen = []

    def grab(resp):
        seen.append(resp.get_data(as_text=True))
        seen.append(json.dumps(dict(resp.headers), ensure_ascii=False))
        return resp

    grab(candidate_api.login(0))
    aid = candidate_api.start()
    doc = grab(client.get("/api/v1/openapi.json")).get_json()
    paper = grab(candidate_api.get(f"/attempts/{aid}/paper")).get_json()
    assert len(paper["items"]) == 5
    for item in paper["items"]:
        answer = {"judge": True, "single": item.get("options", [{}])[0].get("value"),
                  "multi": [item.get("options", [{}])[0].get("value")], "fill": ["50", "220"],
                  "short": "答"}[item["qtype"]]
        grab(candidate_api.put(f"/attempts/{aid}/responses/{item['item_ref']}", json={"answer": answer, "seq": 1}))
        grab(candidate_api.put(f"/attempts/{aid}/responses/{item['item_ref']}", json={"answer": answer, "seq": 1}))
        grab(candidate_api.put(f"/attempts/{aid}/responses/{item['item_ref']}", json={"answer": "?!", "seq": 0}))
    # every documented route, as this candidate, with and without bodies
    for path, ops in doc["paths"].items():
        url = path.replace("{attempt_id}", str(aid)).replace("{exam_id}", str(w.batch.id)).replace(
            "{item_ref}", str(paper["items"][0]["item_ref"]))
        for method in ops:
            if path == "/candidate/session" and method == "delete":
                continue
            grab(candidate_api.client.open("/api/v1" + url, method=method.upper(),
                                           headers={"Authorization": f"Bearer {candidate_api.token}"}))
            grab(candidate_api.client.open("/api/v1" + url, method=method.upper(), json={"answer": None},
                                           headers={"Authorization": f"Bearer {candidate_api.token}"}))
    grab(candidate_api.post(f"/attempts/{aid}/submit"))
    grab(candidate_api.get(f"/attempts/{aid}"))
    grab(candidate_api.get(f"/attempts/{aid}/paper"))
    grab(candidate_api.get("/candidate/results"))
    grab(client.get("/api/v1/does-not-exist"))
    # the session cookie, if any was set, decoded
    for cookie in client._cookies.values() if hasattr(client, "_cookies") else []:
        if cookie.key == app.config.get("SESSION_COOKIE_NAME", "session"):
            seen.append(_decode_flask_cookie(cookie.value))
    blob = "\n".join(seen)
    assert CANARY not in blob
    assert "参考答案" not in blob and "scoring_points" not in blob and '"key"' not in blob
    assert "explanation" not in blob.replace("explanations", "")
