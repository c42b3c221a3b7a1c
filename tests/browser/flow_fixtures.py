"""A live server with the demo data and, besides the demo's filed and published batches, one batch
stopped at each step after the exam, as the real services leave it: closed (not yet scored),
scored with marking open, marked with results computed by `examadmin` (waiting for 复核), and
reviewed by `examadmin2` (waiting for publication). For the workflow pages (issue 14)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from examsys.extensions import db
from tests.browser.exam_fixtures import build_exam_batch, exam_app, migrate

STEP_NAMES = {"closed": "待评分", "marking": "阅卷中", "computed": "待复核", "reviewed": "待发布"}


@dataclass
class FlowWorld:
    base: str
    demo: dict
    app: object
    batches: dict  # step name → batch id: filed, published, closed, marking, computed, reviewed

    def password(self, username: str) -> str:
        return next(u["password"] for u in self.demo["users"] if u["username"] == username)


def _answer(content: dict, qtype: str):
    key = content.get("key")
    if qtype == "fill":
        return [k[0] if isinstance(k, list) else k for k in (key or [])]
    if qtype in ("judge", "single", "multi"):
        return key
    return "<p>断电、验电、挂接地线后作业。</p>"


def _batch_at(app, step: str) -> int:
    """A batch of the test paper taken by two candidates, then brought to `step`."""
    from examsys.accounts.models import User
    from examsys.assembly.models import Paper, PaperForm
    from examsys.assembly.queries import effective_versions
    from examsys.delivery.batches import services as batches
    from examsys.delivery.exam import services as attempts
    from examsys.delivery.models import Batch, ItemScore, RosterEntry
    from examsys.delivery.scoring import grading, marking
    from examsys.delivery.scoring import services as results

    batch_id, by_name, _keys = build_exam_batch(app)
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        batch.name = f"电工四级理论知识考试（{STEP_NAMES[step]}）"
        # The test paper's snapshot and compliance report, made whole from the demo's paper (its
        # own sections kept) so that its page renders like any other.
        paper = db.session.get(Paper, batch.paper_id)
        demo = db.session.scalar(select(Paper).where(Paper.id != paper.id, Paper.compliance.is_not(None))
                                 .order_by(Paper.id))
        paper.blueprint_snapshot = {**demo.blueprint_snapshot, **paper.blueprint_snapshot, "total_points": 27.0,
                                    "pass_mark": 16.0}
        paper.compliance = demo.compliance
        users = {u.username: u for u in db.session.scalars(select(User))}
        for _name, (_ticket, entry_id) in list(by_name.items())[:2]:
            attempt = attempts.start_attempt(db.session.get(RosterEntry, entry_id))
            versions = effective_versions(db.session.get(PaperForm, attempt.form_id))
            for seq, (fi_id, version) in enumerate(versions.items(), start=1):
                attempts.save_response(attempt, fi_id, _answer(version.content or {}, version.qtype.value), seq)
            attempts.submit(attempt)
        batches.close_batch(users["examadmin"], batch)
        if step != "closed":
            grading.score_batch(batch)
        if step in ("computed", "reviewed"):
            for s in db.session.scalars(select(ItemScore).where(ItemScore.batch_id == batch.id,
                                                                ItemScore.needs_marking.is_(True))):
                for marker in (users["proctor"], users["proctor2"]):
                    marking.record_mark(marker, s, s.max_points)
            results.compute_results(batch, users["examadmin"])
        if step == "reviewed":
            results.review_batch(batch, users["examadmin2"], "无误")
        db.session.commit()
    return batch_id


@pytest.fixture(scope="session", name="flow_world")
def flow_world_fixture(tmp_path_factory) -> FlowWorld:
    tmp = tmp_path_factory.mktemp("flow-live")
    app = exam_app(tmp)
    migrate(app)
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    ids = {b["state"]: b["id"] for b in demo["batches"]}
    found = {"filed": ids.get("filed") or ids.get("open"), "published": ids["published"]}
    for step in ("closed", "marking", "computed", "reviewed"):
        found[step] = _batch_at(app, step)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FlowWorld(base=f"http://127.0.0.1:{server.server_port}", demo=demo, app=app, batches=found)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
