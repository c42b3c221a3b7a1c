"""A live server for the candidate exam tests, with an open batch whose frozen paper has one
question of every kind a candidate answers differently (判断, 单选, 多选, 填空, 简答, 计算), a
room, two proctors and a roster of the demo candidates.

`live_server` (conftest) yields only (base_url, demo), and its demo data may or may not contain a
batch yet, so this module starts its own server the same way and builds the batch directly in the
app context. If the lead has not yet registered the `exam` blueprint, it is registered here.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from examsys import clock, create_app
from examsys.extensions import db

# (qtype, how many) on the test paper, in section order.
PAPER_SHAPE = [("judge", 2), ("single", 3), ("multi", 2), ("fill", 2), ("short", 1), ("calc", 1)]


@dataclass
class ExamWorld:
    base: str
    demo: dict
    app: object
    batch_id: int
    # [{ticket_no, id_number, name, entry_id}] in roster order; each test uses its own.
    candidates: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # canary strings: answer keys and explanations

    def candidate(self, index: int) -> dict:
        return self.candidates[index]


def exam_app(tmp):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/exam.db",
                      "SECRET_KEY": "exam-secret", "EXAMSYS_DATA_KEY": "exam-data-key",
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                      "EXAMSYS_LOGIN_RATE": "10000 per minute",
                      "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"), "EXAMSYS_JOB_DIR": str(tmp / "jobs"),
                      "EXAMSYS_JOBS_IMMEDIATE": True})
    return app


def migrate(app) -> None:
    with app.app_context():
        flask_migrate.upgrade()


def build_exam_batch(app) -> tuple[int, list[dict], list[str]]:
    """Create the test batch; returns (batch id, roster, key canaries)."""
    from examsys.accounts.models import Candidate, Organisation, User
    from examsys.assembly import services as assembly
    from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem
    from examsys.bank.models import Item, ItemStatus
    from examsys.delivery.models import Batch, BatchRoom, BatchStaff, BatchState, RosterEntry, StaffRole

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "SKILL-01"))
        users = {u.username: u for u in db.session.scalars(select(User))}
        pb = db.session.scalar(select(PaperBlueprint).where(PaperBlueprint.organisation_id == org.id))
        paper = Paper(organisation_id=org.id, blueprint_id=pb.id, standard_id=pb.standard_id, level=pb.level,
                      name="浏览器测试试卷", seed=1, created_by_id=users["examadmin"].id,
                      blueprint_snapshot={"sections": [{"type": t, "count": n, "points": 1.0 if t in
                                                        ("judge", "single", "multi") else 5.0}
                                                       for t, n in PAPER_SHAPE]},
                      compliance={}, solve_stats={})
        form = PaperForm(label="A")
        keys: list[str] = []
        pos = 0
        for section, (qtype, count) in enumerate(PAPER_SHAPE):
            items = db.session.scalars(select(Item).where(
                Item.organisation_id == org.id, Item.qtype == qtype, Item.status == ItemStatus.APPROVED)
                .order_by(Item.id).limit(count)).all()
            assert len(items) == count, f"demo bank lacks {count} approved {qtype} items"
            for it in items:
                pos += 1
                form.items.append(PaperFormItem(position=pos, section=section, item_id=it.id,
                                                item_version_id=it.active_version_id,
                                                points=1.0 if qtype in ("judge", "single", "multi") else 5.0))
                content = it.active_version.content or {}
                for k in ("explanation", "reference_answer"):
                    if isinstance(content.get(k), str) and len(content[k]) >= 12:
                        keys.append(content[k][:40])
        paper.forms.append(form)
        db.session.add(paper)
        db.session.flush()
        assembly.freeze(users["examadmin"], paper)
        now = clock.now()
        batch = Batch(organisation_id=org.id, standard_id=pb.standard_id, level=pb.level,
                      name="电工四级理论知识考试（浏览器测试）", venue="示范考点", paper_id=paper.id,
                      window_start=now - timedelta(minutes=10), window_end=now + timedelta(hours=3),
                      state=BatchState.FILED, duration_minutes=90, created_by_id=users["examadmin"].id,
                      filed_at=now, shuffle_items=True, shuffle_options=True)
        room = BatchRoom(name="第一考场", position=1, capacity=30, access_code=secrets.token_hex(3).upper())
        batch.rooms.append(room)
        db.session.add(batch)
        db.session.flush()
        for name in ("proctor", "proctor2"):
            db.session.add(BatchStaff(batch_id=batch.id, room_id=room.id, user_id=users[name].id,
                                      role=StaffRole.PROCTOR))
        cands = db.session.scalars(select(Candidate).where(Candidate.organisation_id == org.id)
                                   .order_by(Candidate.id)).all()
        by_name = {}
        for seat, cand in enumerate(cands, 1):
            ticket = f"EXAMT{batch.id:03d}{seat:04d}"
            entry = RosterEntry(batch_id=batch.id, candidate_id=cand.id, ticket_no=ticket, room_id=room.id,
                                seat_no=seat, order_seed=random.randrange(1, 2**31 - 1))
            db.session.add(entry)
            db.session.flush()
            # the demo's own candidates come first; later ones (certificate data's) may share a name
            by_name.setdefault(cand.name, (ticket, entry.id))
        db.session.commit()
        batch_id = batch.id
    return batch_id, by_name, keys


@pytest.fixture(scope="session", name="exam_world")
def exam_world_fixture(tmp_path_factory) -> ExamWorld:
    tmp = tmp_path_factory.mktemp("exam-live")
    app = exam_app(tmp)
    migrate(app)
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    batch_id, by_name, keys = build_exam_batch(app)
    candidates = []
    for c in demo["candidates"]:
        if c["name"] in by_name:
            ticket, entry_id = by_name[c["name"]]
            candidates.append({"ticket_no": ticket, "id_number": c["id_number"], "name": c["name"],
                               "entry_id": entry_id})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ExamWorld(base=f"http://127.0.0.1:{server.server_port}", demo=demo, app=app, batch_id=batch_id,
                    candidates=candidates, keys=keys)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
