"""Grading: objective items scored by the registry via a paper (partial credit per blueprint, fill
normalisation), open items sent to marking, idempotent batch scoring.

`GradingWorld` (used by the marking and results tests too) is built straight with the ORM: a
frozen paper of five sections (judge, single, multi, fill, short), a closed batch and candidates
with submitted attempts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem, PaperStatus
from examsys.audit.models import AuditEvent
from examsys.delivery.models import (
    Attempt,
    AttemptStatus,
    Batch,
    BatchState,
    ItemScore,
    Response,
    RosterEntry,
)
from examsys.delivery.scoring import grading
from examsys.errors import Conflict
from examsys.permissions import Role
from tests.assembly.app_factories import make_item, make_standard

_tickets = itertools.count(1)

CONTENTS = {
    "judge": {"stem": "安全电压一般不超过36V。", "key": True},
    "single": {"stem": "工频为（  ）Hz。", "options": [{"label": x, "text": t} for x, t in
                                                    zip("ABCD", ["50", "60", "100", "220"], strict=True)],
               "key": "A"},
    "multi": {"stem": "常用绝缘材料有（  ）。", "options": [{"label": x, "text": t} for x, t in
                                                       zip("ABCD", ["云母", "橡胶", "铜", "陶瓷"], strict=True)],
              "key": ["A", "B", "D"]},
    "fill": {"stem": "线电压是相电压的____倍，超前____度。", "key": [["√3", "1.732"], ["30"]]},
    "short": {"stem": "简述触电急救的基本原则。", "reference_answer": "<p>迅速、就地、准确、坚持。</p>",
              "scoring_points": [{"text": "迅速脱离电源", "points": 4}, {"text": "就地准确施救", "points": 6}]},
}
SECTIONS = [("judge", 2.0), ("single", 2.0), ("multi", 4.0), ("fill", 2.0), ("short", 10.0)]
# total 20; pass mark 12


class GradingWorld:
    def __init__(self, make, db, *, partial_credit: bool = False, sections=SECTIONS, pass_mark: float = 12.0):
        self.db = db
        self.make = make
        self.org = make.org()
        self.admin = make.user(roles=Role.EXAM_ADMIN, org=self.org)
        self.admin2 = make.user(roles=Role.EXAM_ADMIN, org=self.org)
        self.markers = [make.user(roles=Role.PROCTOR, org=self.org) for _ in range(3)]
        self.standard = make_standard()
        total = sum(p for _, p in sections)
        bp = PaperBlueprint(organisation_id=self.org.id, standard_id=self.standard.id, level=4, name="细目表",
                            total_points=total, pass_mark=pass_mark, partial_credit=partial_credit,
                            sections=[{"type": t, "count": 1, "points": p} for t, p in sections],
                            created_by_id=self.admin.id)
        db.session.add(bp)
        db.session.flush()
        snapshot = {"name": "细目表", "level": 4, "duration_minutes": 90, "total_points": total,
                    "pass_mark": pass_mark, "forms": 1, "max_shared_items": 0, "partial_credit": partial_credit,
                    "sections": [{"type": t, "count": 1, "points": p} for t, p in sections],
                    "content_rules": [], "difficulty_rules": [], "importance_rules": [],
                    "exclude_recent_papers": 0, "max_exposure": None, "standard_id": self.standard.id}
        self.paper = Paper(organisation_id=self.org.id, blueprint_id=bp.id, standard_id=self.standard.id, level=4,
                           name="测试试卷", status=PaperStatus.FROZEN, seed=1, blueprint_snapshot=snapshot,
                           created_by_id=self.admin.id)
        self.form = PaperForm(label="A")
        self.paper.forms.append(self.form)
        self.form_items = {}
        for i, (qtype, points) in enumerate(sections):
            item = make_item(self.org, self.standard, self.admin, "A-01-001", qtype, content=dict(CONTENTS[qtype]))
            fi = PaperFormItem(position=i + 1, section=i, item_id=item.id, item_version_id=item.active_version_id,
                               points=points)
            self.form.items.append(fi)
            self.form_items[qtype] = fi
        db.session.add(self.paper)
        db.session.flush()
        now = clock.now()
        self.batch = Batch(organisation_id=self.org.id, standard_id=self.standard.id, level=4, name="2026年第1批",
                           venue="一号楼", window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                           paper_id=self.paper.id, state=BatchState.CLOSED, created_by_id=self.admin.id)
        db.session.add(self.batch)
        db.session.flush()

    def candidate(self, name: str, answers: dict, *, status=AttemptStatus.SUBMITTED, attempt: bool = True):
        """A roster entry; with attempt=True a finished attempt holding `answers` (qtype → answer)."""
        cand = self.make.candidate(self.org, name=name)
        entry = RosterEntry(batch_id=self.batch.id, candidate_id=cand.id, ticket_no=f"T26{next(_tickets):07d}",
                            order_seed=1, form_label="A")
        self.db.session.add(entry)
        self.db.session.flush()
        if not attempt:
            return entry, None
        now = clock.now()
        att = Attempt(batch_id=self.batch.id, roster_entry_id=entry.id, form_id=self.form.id, order_seed=1,
                      status=status, started_at=now - timedelta(hours=2), deadline_at=now - timedelta(minutes=30),
                      finished_at=now - timedelta(hours=1))
        self.db.session.add(att)
        self.db.session.flush()
        for qtype, answer in answers.items():
            if qtype not in self.form_items:
                continue
            self.db.session.add(Response(attempt_id=att.id, form_item_id=self.form_items[qtype].id, answer=answer,
                                         seq=1, saved_at=now - timedelta(hours=1)))
        self.db.session.flush()
        return entry, att


PERFECT = {"judge": True, "single": "A", "multi": ["A", "B", "D"], "fill": ["1.732", "30"],
           "short": "迅速脱离电源，就地施救。"}


@pytest.fixture
def world(make, db, frozen_clock):
    return GradingWorld(make, db)


def _by_type(world, scores):
    return {qt: next(s for s in scores if s.form_item_id == fi.id) for qt, fi in world.form_items.items()}


def test_objective_types_scored_and_open_item_goes_to_marking(world):
    _, att = world.candidate("张三", PERFECT)
    s = _by_type(world, grading.score_attempt(att))
    assert [s[t].final_score for t in ("judge", "single", "multi", "fill")] == [2.0, 2.0, 4.0, 2.0]
    assert s["short"].needs_marking and s["short"].final_score is None and s["short"].auto_score is None
    assert s["short"].marking_code and s["short"].marking_code.startswith("M")
    assert s["judge"].item_version_id == world.form_items["judge"].item_version_id
    assert s["multi"].max_points == 4.0


def test_wrong_answers_score_zero_and_multi_is_all_or_nothing_by_default(world):
    _, att = world.candidate("李四", {"judge": False, "single": "B", "multi": ["A", "B"], "fill": ["2", "60"]})
    s = _by_type(world, grading.score_attempt(att))
    assert [s[t].final_score for t in ("judge", "single", "multi", "fill")] == [0.0, 0.0, 0.0, 0.0]
    # A blank open answer scores 0 at once: nothing to mark.
    assert s["short"].final_score == 0.0 and not s["short"].needs_marking and s["short"].marking_code is None


def test_partial_credit_from_the_blueprint_snapshot(make, db, frozen_clock):
    w = GradingWorld(make, db, partial_credit=True)
    _, under = w.candidate("少选", {"multi": ["A", "B"]})
    _, wrong = w.candidate("错选", {"multi": ["A", "C"]})
    assert _by_type(w, grading.score_attempt(under))["multi"].final_score == pytest.approx(2.67)
    assert _by_type(w, grading.score_attempt(wrong))["multi"].final_score == 0.0


def test_fill_normalisation_full_width_case_spaces(world):
    _, att = world.candidate("王五", {"fill": ["１．７３２", " ３ 0 "]})
    assert _by_type(world, grading.score_attempt(att))["fill"].final_score == 2.0
    _, half = world.candidate("赵六", {"fill": ["√3", "45"]})
    assert _by_type(world, grading.score_attempt(half))["fill"].final_score == 1.0


def test_score_attempt_is_idempotent_and_audited_once(world, db):
    _, att = world.candidate("张三", PERFECT)
    first = grading.score_attempt(att)
    second = grading.score_attempt(att)
    assert [s.id for s in first] == [s.id for s in second]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempt.scored",
                                                         AuditEvent.object_id == str(att.id))).all()
    assert len(events) == 1 and events[0].data["to_mark"] == 1


def test_in_progress_attempt_refused(world):
    _, att = world.candidate("张三", PERFECT, status=AttemptStatus.IN_PROGRESS)
    with pytest.raises(Conflict):
        grading.score_attempt(att)
    with pytest.raises(Conflict):
        grading.score_batch(world.batch)


def test_score_batch_idempotent_and_marks_batch_when_nothing_to_mark(make, db, frozen_clock):
    w = GradingWorld(make, db, sections=SECTIONS[:4], pass_mark=6)
    w.candidate("甲", PERFECT)
    w.candidate("乙", {})
    w.candidate("丙", {}, attempt=False)  # absent
    out = grading.score_batch(w.batch)
    assert (out.attempts, out.newly_scored, out.to_mark) == (2, 2, 0)
    assert w.batch.state == BatchState.MARKED
    n = db.session.scalar(select(ItemScore.id).where(ItemScore.batch_id == w.batch.id).order_by(ItemScore.id.desc()))
    assert grading.score_batch(w.batch).newly_scored == 0
    assert db.session.scalar(select(ItemScore.id).where(ItemScore.batch_id == w.batch.id)
                             .order_by(ItemScore.id.desc())) == n


def test_score_batch_refused_before_close(world):
    world.batch.state = BatchState.OPEN
    with pytest.raises(Conflict):
        grading.score_batch(world.batch)


def test_batch_with_open_items_stays_closed(world):
    world.candidate("张三", PERFECT)
    out = grading.score_batch(world.batch)
    assert out.to_mark == 1 and world.batch.state == BatchState.CLOSED
