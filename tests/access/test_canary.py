"""The canary scan (issue 15, point 7): every key, explanation, reference answer and scoring point
of the live batch's paper carries CANARY (tests/delivery/world.py). As a candidate of that batch,
collect everything the system can show them — the exam pages and every link they lead to
(scripts, styles), every GET route of the URL map with the candidate's own ids put in (as the
candidate: Bearer token, no staff session), every API operation of the exam, error pages (404,
405, 403 on another candidate's attempt, and a forced 500 whose exception text carries the
canary), every static file, the response headers, and the decoded Flask session cookie — and
look for the canary: never before publication. After publication the candidate's results carry
scores only, so the intended place is nowhere: the canary still never appears."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from examsys import clock
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import papers
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Attempt, ItemScore
from examsys.delivery.scoring import services as scoring
from examsys.permissions import Role
from tests import factories, reliability
from tests.delivery.world import CANARY, build_world

LINK = re.compile(r"""(?:href|src|action)\s*=\s*["']([^"'#]+)""")
# Words that would show a key or an explanation even without the canary text.
CONTENT_KEYS = ("参考答案", "scoring_points", '"key"', '"explanation"', '"reference_answer"')


class Seen:
    """Everything a candidate was sent, in one place."""

    def __init__(self):
        self.parts: list[tuple[str, str]] = []

    def add(self, where: str, resp):
        self.parts.append((where, resp.get_data().decode("utf-8", "replace")))
        if resp.is_json:  # JSON may escape non-ASCII text: look at it decoded as well
            self.parts.append((where + " [json]", json.dumps(resp.get_json(silent=True), ensure_ascii=False)))
        self.parts.append((where + " [headers]", json.dumps(dict(resp.headers), ensure_ascii=False)))
        return resp

    def leaks(self, needle: str) -> list[str]:
        return [where for where, text in self.parts if needle in text]


@pytest.fixture
def canary_world(db, frozen_clock):
    world = build_world(db)
    db.session.commit()
    return world


def _crawl(client, seen: Seen, start: list[str], headers: dict, limit: int = 200) -> set[str]:
    """Follow same-site links (GET) from `start`; returns the paths visited."""
    todo, done = list(start), set()
    while todo and len(done) < limit:
        url = todo.pop()
        path = urlsplit(url).path
        if path in done or not path.startswith("/") or path in ("/logout", "/lang/en", "/lang/zh"):
            continue
        done.add(path)
        resp = seen.add(f"GET {url}", client.get(url, headers=headers))
        if resp.mimetype in ("text/html", "text/css", "application/javascript", "text/javascript"):
            for link in LINK.findall(resp.get_data(as_text=True)):
                target = urljoin(url, link)
                if urlsplit(target).netloc in ("", "localhost"):
                    todo.append(urlsplit(target).path)
    return done


def _candidate_ids(w, attempt_id: int) -> dict:
    attempt_form = "A"
    fi = w.form_items[(attempt_form, "single")]
    item = w.items[(attempt_form, "single")]
    return {"attempt_id": attempt_id, "exam_id": w.batch.id, "batch_id": w.batch.id, "item_ref": fi.id,
            "form_item_id": fi.id, "paper_id": w.paper.id, "label": attempt_form, "item_id": item.id,
            "version_id": item.active_version_id, "candidate_id": w.entries[0].candidate_id, "room_id": w.room.id,
            "blueprint_id": w.paper.blueprint_id, "org_id": w.org.id, "user_id": w.admin.id}


def _every_get_route(app, client, seen: Seen, ids: dict, headers: dict) -> int:
    asked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {a: ids.get(a, 1 if isinstance(rule._converters[a], IntegerConverter) else "x")
                  for a in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        seen.add(f"GET {url} (URL map)", client.get(url, headers=headers))
        asked += 1
    return asked


def _session_cookie(app, client) -> str:
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    if cookie is None:
        return ""
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return json.dumps(data, ensure_ascii=False, default=str)


def test_the_canary_never_reaches_a_candidate(app, client, db, canary_world, monkeypatch):
    w = canary_world
    seen = Seen()
    login = seen.add("login", client.post("/api/v1/candidate/session", json=w.login_payload(0)))
    assert login.status_code == 201
    bearer = {"Authorization": f"Bearer {login.get_json()['token']}"}
    api = "/api/v1"
    start = seen.add("start", client.post(f"{api}/exams/{w.batch.id}/attempt", headers=bearer))
    aid = start.get_json()["attempt_id"]
    paper = seen.add("paper", client.get(f"{api}/attempts/{aid}/paper", headers=bearer)).get_json()
    for n, item in enumerate(paper["items"], start=1):
        answer = {"judge": True, "single": "B", "multi": ["A", "C"], "fill": ["50", "220"],
                  "short": "答"}[item["qtype"]]
        for body in ({"answer": answer, "seq": n}, {"answer": answer, "seq": n}, {"answer": "?!", "seq": 0},
                     {"answer": {"x": 1}, "seq": n + 1}):
            seen.add("save", client.put(f"{api}/attempts/{aid}/responses/{item['item_ref']}", json=body,
                                        headers=bearer))
    seen.add("events", client.post(f"{api}/attempts/{aid}/events", headers=bearer,
                                   json={"events": [{"kind": "blur", "at": clock.now().isoformat()}]}))
    seen.add("state", client.get(f"{api}/attempts/{aid}", headers=bearer))

    # The exam pages and all they link to; every GET route with the candidate's own ids.
    pages = _crawl(client, seen, ["/exam/", "/exam/app", "/"], bearer)
    ids = _candidate_ids(w, aid)
    asked = _every_get_route(app, client, seen, ids, bearer)
    # Every static file, linked or not.
    static = Path(app.static_folder)
    files = [p for p in static.rglob("*") if p.is_file()]
    for path in files:
        seen.add(f"static {path.name}", client.get("/static/" + path.relative_to(static).as_posix()))
    # Error pages: 404 (page and API), 405, another candidate's attempt, and a forced 500.
    seen.add("404", client.get("/no-such-page", headers=bearer))
    seen.add("404 api", client.get(f"{api}/no-such-thing", headers=bearer))
    seen.add("405", client.delete(f"{api}/attempts/{aid}/paper", headers=bearer))
    other = seen.add("other login", client.post(f"{api}/candidate/session", json=w.login_payload(1)))
    other_bearer = {"Authorization": f"Bearer {other.get_json()['token']}"}
    other_aid = client.post(f"{api}/exams/{w.batch.id}/attempt", headers=other_bearer).get_json()["attempt_id"]
    refused = seen.add("foreign attempt", client.get(f"{api}/attempts/{other_aid}/paper", headers=bearer))
    assert refused.status_code in (403, 404)

    def boom(*_args, **_kwargs):
        raise RuntimeError(f"explanation {CANARY}")

    monkeypatch.setattr(papers, "paper_of", boom)  # what both the fast and the general path build it with
    failed = seen.add("500", client.get(f"{api}/attempts/{aid}/paper", headers=bearer))
    assert failed.status_code == 500
    monkeypatch.undo()

    seen.add("submit", client.post(f"{api}/attempts/{aid}/submit", headers=bearer))
    seen.add("after submit", client.get(f"{api}/attempts/{aid}/paper", headers=bearer))
    seen.add("results before publication", client.get(f"{api}/candidate/results", headers=bearer))
    seen.parts.append(("session cookie", _session_cookie(app, client)))

    reliability.record("access", {"check": "canary scan as a candidate", "database": db.engine.dialect.name,
                                  "requests": asked, "scripts_and_styles": len(files), "parts_scanned": len(seen.parts),
                                  "canary_leaks": len(seen.leaks(CANARY)),
                                  "key_leaks": sum(len(seen.leaks(word)) for word in CONTENT_KEYS)})
    assert seen.leaks(CANARY) == []
    for word in CONTENT_KEYS:
        assert seen.leaks(word) == [], word
    # the exam's scripts and styles were followed from its pages
    assert {"/exam/", "/exam/app", "/static/js/exam/app.js", "/static/css/exam.css"} <= pages
    assert asked >= 80 and len(files) >= 5
    assert seen.leaks("单选题") and seen.leaks("简答题")  # the paper itself did reach the scan

    # After publication: the candidate's results carry scores, never the key.
    clock.advance(timedelta(hours=4))
    exam.sweep()
    batches.close_batch(w.admin, w.batch)
    factory = factories.Factories(db)
    markers = [factory.user(roles=Role.PROCTOR, org=w.org) for _ in range(2)]
    scoring.score_batch(w.batch)
    for score in db.session.scalars(select(ItemScore).where(ItemScore.batch_id == w.batch.id,
                                                            ItemScore.needs_marking.is_(True))):
        for marker in markers:
            scoring.record_mark(marker, score, 1)
    admin2 = factory.user(roles=Role.EXAM_ADMIN, org=w.org)
    scoring.compute_results(w.batch, w.admin)
    scoring.review_batch(w.batch, admin2)
    scoring.publish(w.batch, w.admin)
    db.session.commit()
    assert db.session.get(Attempt, aid).status.value == "submitted"

    after = Seen()
    relogin = after.add("login after publication", client.post(f"{api}/candidate/session", json=w.login_payload(0)))
    token = relogin.get_json().get("token") if relogin.status_code == 201 else None
    headers = {"Authorization": f"Bearer {token}"} if token else bearer
    results = after.add("results", client.get(f"{api}/candidate/results", headers=headers))
    assert results.status_code == 200 and "total" in results.get_data(as_text=True)
    _every_get_route(app, client, after, ids, headers)
    _crawl(client, after, ["/exam/", "/exam/app"], headers)
    after.parts.append(("session cookie", _session_cookie(app, client)))
    assert after.leaks(CANARY) == []
