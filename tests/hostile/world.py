"""A live server whose every human-readable text holds XSS payloads (tests/hostile/corpus.py).

The world is the demo data, plus one batch taken by two candidates who typed payloads into every
open question through the delivery service the answer API calls, then closed and scored (so the
marking pages show those answers), plus an open batch for the candidate's exam page.

`infect(chunk)` then writes a chunk of payloads into every stored text:
  * plain text (names, notes, reasons, comments, findings …): the listed columns get their own text
    followed by the chunk, written as stored values. Output escaping is the defence for these, so
    the test writes past whatever the forms would have refused (length, characters) on purpose:
    a value that arrived by an import, an older version or the API must render inert as well;
  * rich text (item stems, options, explanations, reference answers): through `richtext.sanitise`,
    exactly as the item service stores them (`bank.items`), so the sanitiser and the renderer are
    tested together;
  * candidates' answers: replaced in the stored responses (the first chunk went through
    `save_response`, later ones are written like the plain texts).
Each call starts again from the original texts, so chunks do not accumulate.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, text
from werkzeug.serving import make_server

from examsys.extensions import db
from tests.browser.exam_fixtures import build_exam_batch, exam_app, migrate

# (table, column): the texts a person typed or imported and another person reads.
TEXT_COLUMNS: list[tuple[str, str]] = [
    ("organisations", "name"), ("users", "display_name"), ("cities", "name"),
    ("candidates", "name"), ("cert_records", "name"), ("cert_records", "occupation_name"),
    ("cert_returns", "note"), ("cert_returns", "resolution"),
    ("cert_warnings", "note"),
    ("standards", "name"), ("knowledge_ranges", "name"), ("assessment_points", "name"),
    ("items", "revision_reason"), ("item_versions", "note"), ("reviews", "comment"),
    ("paper_blueprints", "name"), ("papers", "name"), ("paper_replacements", "reason"),
    ("batches", "name"), ("batches", "venue"), ("batch_rooms", "name"), ("filing_changes", "reason"),
    ("extensions", "reason"), ("incidents", "reason"), ("conflict_declarations", "reason"),
    ("marks", "comment"), ("result_reviews", "note"), ("score_corrections", "reason"),
    ("score_corrections", "decision_comment"), ("score_review_requests", "reason"),
    ("score_review_requests", "answer"), ("key_fixes", "reason"), ("fault_reports", "reason"),
    ("spot_checks", "summary"), ("spot_findings", "text"), ("finding_steps", "text"),
    ("supervision_findings", "text"), ("supervision_forms", "conclusion"),
    ("indicator_scores", "evidence"), ("directory_changes", "reason"), ("dispatches", "note"),
    ("assessments", "reasons"), ("point_mappings", "note"),
    ("questionnaires", "title"), ("questionnaires", "intro"), ("questionnaire_questions", "text"),
    ("survey_responses", "comment"), ("survey_comment_answers", "text"),
    ("satisfaction_interviews", "interviewee"), ("satisfaction_interviews", "summary"),
    ("satisfaction_interviews", "findings"), ("training_courses", "title"),
    ("attempts", "last_user_agent"), ("user_sessions", "user_agent"), ("jobs", "error"),
]
RICH_FIELDS = ("stem", "explanation", "reference_answer")
OPEN_QTYPES = ("short", "calc")


@dataclass
class HostileWorld:
    base: str
    demo: dict
    app: object
    marking_batch: int
    open_batch: int
    candidate: dict  # ticket_no, id_number of one candidate of the open batch
    originals: dict = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)  # "table.column" with at least one stored row

    def password(self, username: str) -> str:
        return next(u["password"] for u in self.demo["users"] if u["username"] == username)


def _whole_paper(batch) -> None:
    """The test paper's snapshot and compliance report made whole from a demo paper, so that its
    page renders like any other (as tests/browser/flow_fixtures.py does)."""
    from examsys.assembly.models import Paper

    paper = db.session.get(Paper, batch.paper_id)
    demo = db.session.scalar(select(Paper).where(Paper.id != paper.id, Paper.compliance.is_not(None))
                             .order_by(Paper.id))
    paper.blueprint_snapshot = {**demo.blueprint_snapshot, **paper.blueprint_snapshot, "total_points": 27.0,
                                "pass_mark": 16.0}
    paper.compliance = demo.compliance


def _marking_batch(app, answer_text: str) -> int:
    """A batch whose candidates typed `answer_text` into every open question, closed and scored."""
    from examsys.accounts.models import User
    from examsys.assembly.models import PaperForm
    from examsys.assembly.queries import effective_versions
    from examsys.delivery.batches import services as batches
    from examsys.delivery.exam import services as attempts
    from examsys.delivery.models import Batch, RosterEntry
    from examsys.delivery.scoring import grading

    batch_id, by_name, _keys = build_exam_batch(app)
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        _whole_paper(batch)
        users = {u.username: u for u in db.session.scalars(select(User))}
        for _ticket, entry_id in list(by_name.values())[:2]:
            attempt = attempts.start_attempt(db.session.get(RosterEntry, entry_id))
            versions = effective_versions(db.session.get(PaperForm, attempt.form_id))
            for seq, (fi_id, version) in enumerate(versions.items(), start=1):
                qtype = version.qtype.value
                if qtype in OPEN_QTYPES:
                    answer = answer_text
                elif qtype == "fill":
                    answer = [answer_text[:200]] * max(1, len(version.content.get("key") or []))
                else:
                    answer = version.content.get("key")
                attempts.save_response(attempt, fi_id, answer, seq)
            attempts.submit(attempt)
        batches.close_batch(users["examadmin"], batch)
        grading.score_batch(batch)
        db.session.commit()
    return batch_id


def _snapshot(app) -> dict:
    """The original texts, so each chunk starts from them."""
    out: dict = {"columns": {}, "versions": {}, "responses": {}}
    with app.app_context():
        for table, column in TEXT_COLUMNS:
            rows = db.session.execute(text(f"SELECT rowid, {column} FROM {table}")).all()  # noqa: S608 - fixed names
            out["columns"][(table, column)] = [(r[0], r[1]) for r in rows]
        for vid, content in db.session.execute(text("SELECT id, content FROM item_versions")).all():
            out["versions"][vid] = json.loads(content) if isinstance(content, str) else content
        for rid, answer in db.session.execute(text("SELECT id, answer FROM responses")).all():
            out["responses"][rid] = json.loads(answer) if isinstance(answer, str) else answer
    return out


def infect(world: HostileWorld, chunk: list[str]) -> None:
    from examsys.bank import richtext

    plain = "".join(chunk)
    rich = "".join(f"<p>{p}</p>" for p in chunk)
    orig = world.originals
    with world.app.app_context():
        for (table, column), rows in orig["columns"].items():
            for rid, value in rows:
                db.session.execute(text(f"UPDATE {table} SET {column} = :v WHERE rowid = :id"),  # noqa: S608
                                   {"v": (value or "") + plain, "id": rid})
        for vid, content in orig["versions"].items():
            new = dict(content or {})
            for key in RICH_FIELDS:
                if key in new or key == "stem":
                    new[key] = richtext.sanitise((new.get(key) or "") + rich)
            if isinstance(new.get("options"), list):
                new["options"] = [{**o, "text": richtext.sanitise((o.get("text") or "") + rich)}
                                  for o in new["options"]]
            if isinstance(new.get("scoring_points"), list):
                new["scoring_points"] = [{**sp, "text": str(sp.get("text") or "") + plain}
                                         for sp in new["scoring_points"]]
            db.session.execute(text("UPDATE item_versions SET content = :c WHERE id = :id"),
                               {"c": json.dumps(new, ensure_ascii=False), "id": vid})
        for rid, answer in orig["responses"].items():
            if isinstance(answer, str):
                db.session.execute(text("UPDATE responses SET answer = :a WHERE id = :id"),
                                   {"a": json.dumps(plain, ensure_ascii=False), "id": rid})
        db.session.commit()


def _build(app) -> dict:
    from tests.hostile import corpus

    migrate(app)
    result = app.test_cli_runner().invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    first = "".join(p.text for p in corpus.selected()[:40])
    marking = _marking_batch(app, first)
    open_batch, by_name, _ = build_exam_batch(app)
    with app.app_context():
        from examsys.delivery.models import Batch

        _whole_paper(db.session.get(Batch, open_batch))
        db.session.commit()
    ids = {c["name"]: c["id_number"] for c in demo["candidates"]}
    # one who did not sit the marking batch (its first two candidates)
    name, (ticket, _entry) = [(n, v) for n, v in by_name.items() if n in ids][-1]
    return {"demo": demo, "marking_batch": marking, "open_batch": open_batch,
            "candidate": {"ticket_no": ticket, "id_number": ids[name]}}


@pytest.fixture(scope="module")
def hostile_world(tmp_path_factory):
    """Built once per module (a few minutes: the demo data). EXAMSYS_HOSTILE_CACHE=<dir> keeps the
    built world there and reuses it (for working on these tests; the open batch's window closes
    three hours after it was built)."""
    tmp = tmp_path_factory.mktemp("hostile-live")
    cache = os.environ.get("EXAMSYS_HOSTILE_CACHE")
    if cache and (Path(cache) / "meta.json").exists():
        shutil.copytree(cache, tmp, dirs_exist_ok=True)
        meta = json.loads((tmp / "meta.json").read_text())
        app = exam_app(tmp)
    else:
        app = exam_app(tmp)
        meta = _build(app)
        if cache:
            with app.app_context():
                db.engine.dispose()
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
            shutil.copytree(tmp, cache, dirs_exist_ok=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    world = HostileWorld(base=f"http://127.0.0.1:{server.server_port}", app=app, **meta)
    world.originals = _snapshot(app)
    world.paths = [f"{t}.{c}" for (t, c), rows in world.originals["columns"].items() if rows]
    world.paths += [f"item_versions.content.{k}" for k in (*RICH_FIELDS, "options", "scoring_points")]
    world.paths += ["responses.answer (short/calc/fill via save_response)"]
    yield world
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
